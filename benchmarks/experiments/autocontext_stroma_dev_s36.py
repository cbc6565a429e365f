"""Session 36 H9 (dev only): a context stage aimed at stroma for the Ki67 cell model, screened out of fold.

Reuses session 36 H7's ``autocontext_keep_dev_s36.py`` (its detections, stage-1 folds, context features).
The second stage may only move a first-stage ``tumour`` call to ``stromal``: a forest fitted on the labelled
tumour / stromal rows of the other folds on the nucleus's own stage-1 probabilities, H7's context features
(count and mean probabilities of the detections within 15 / 30 / 60 µm, area / OD ranks), the nucleus's shape
(area, major / minor axis, eccentricity) and orientation features (the coherence of the nucleus's axis with
its neighbours' within 30 µm, and the neighbourhood's axial order within 30 / 60 µm, each neighbour weighted
by its elongation). A tumour call (P1(tumour) >= 0.2) becomes stromal when P2(stromal) >= s.

``extract``: H7's extraction (same images, same splits, never BRCA-M2C test, EndoNuke VAL or ``staining_ds``)
plus each detection's axis orientation. ``screen``: stage 1 out of fold (H7's folds), stage 2 out of fold on
the same folds, the dev screen on both image halves (per-source random halves, seed 9) for a sweep of s.

Usage::

    PYTHONPATH=. python benchmarks/experiments/autocontext_stroma_dev_s36.py extract --out /tmp/s36_h9/det.npz
    PYTHONPATH=. python benchmarks/experiments/autocontext_stroma_dev_s36.py screen --det /tmp/s36_h9/det.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

import autocontext_keep_dev_s36 as ac

SHAPE = ("area_um2", "major_um", "minor_um", "eccentricity", "od_mean")
ORIENT_UM = (30.0, 60.0)


def orientations(labels: np.ndarray, n: int) -> np.ndarray:
    """Axis angle (radians, in [-pi/2, pi/2)) of labels 1..n from their second central moments."""
    idx = np.arange(1, n + 1)
    rr, cc = np.indices(labels.shape, dtype=np.float64)
    cnt = np.maximum(ndimage.sum(np.ones_like(rr), labels, idx), 1)
    mr, mc = ndimage.sum(rr, labels, idx) / cnt, ndimage.sum(cc, labels, idx) / cnt
    srr = ndimage.sum(rr * rr, labels, idx) / cnt - mr ** 2
    scc = ndimage.sum(cc * cc, labels, idx) / cnt - mc ** 2
    src = ndimage.sum(rr * cc, labels, idx) / cnt - mr * mc
    return 0.5 * np.arctan2(2 * src, scc - srr), np.c_[mr, mc]


def detections_with_angle(rgb, points_rc, point_cls, preset, settings):
    """H7's :func:`ac.detections` plus each detection's axis angle (appended as a last column of features)."""
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains

    det, feats, label = ORIG(rgb, points_rc, point_cls, preset, settings)
    if len(det) == 0:
        return det, np.zeros((0, feats.shape[1] + 1), np.float32), label
    matrix = get_preset(preset)
    conc = separate_stains(rgb, matrix, stains=(matrix.names[0], matrix.names[1]))
    nuclei = nuclei_from_stains(conc[..., 0], conc[..., 1], mpp=ac.MPP, return_labels=True)
    theta, cen = orientations(nuclei.labels, len(nuclei))
    if not np.allclose(cen, det, atol=1.5):
        raise RuntimeError("label order does not match the detections")
    return det, np.c_[feats, theta].astype(np.float32), label


ORIG = ac.detections


def extract(args: argparse.Namespace) -> None:
    ac.detections = detections_with_angle
    ac.extract(args)
    z = dict(np.load(args.out))
    theta = z["x"][:, -1].copy()
    z["x"] = z["x"][:, :-1]
    np.savez(args.out, **z, theta=theta)


def orientation_features(pos, theta, ecc, groups) -> np.ndarray:
    """Per detection: for 30 µm the mean cos(2 dtheta) to its neighbours weighted by their eccentricity, then
    for 30 / 60 µm the neighbourhood's axial order |sum w e^{2i theta}| / sum w (w = eccentricity, self
    included)."""
    from scipy.spatial import cKDTree

    out = np.zeros((len(pos), 1 + len(ORIENT_UM)), np.float32)
    z = ecc * np.exp(2j * theta)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        tree = cKDTree(pos[idx])
        for k, r in enumerate(ORIENT_UM):
            for j, lst in enumerate(tree.query_ball_point(pos[idx], r / ac.MPP)):
                nb = idx[np.array(lst, np.intp)]
                out[idx[j], 1 + k] = abs(z[nb].sum()) / max(ecc[nb].sum(), 1e-6)
                if k == 0:
                    others = nb[nb != idx[j]]
                    w = ecc[others]
                    out[idx[j], 0] = (float((w * np.cos(2 * (theta[others] - theta[idx[j]]))).sum() / w.sum())
                                      if len(others) and w.sum() > 0 else 0.0)
    return out


def screen_rates(keep: np.ndarray, y: np.ndarray, src: np.ndarray, sel: np.ndarray) -> dict[str, float]:
    b, e = (src == ac.SRC_BRCA) & sel, (src == ac.SRC_ENDO) & sel
    return {"brca_tumour_excl": 100 * float((~keep[b & (y == ac.TU)]).mean()),
            "brca_lymph_kept": 100 * float(keep[b & (y == ac.LY)].mean()),
            "endo_epi_excl": 100 * float((~keep[e & (y == ac.TU)]).mean()),
            "endo_stroma_kept": 100 * float(keep[e & (y == ac.ST)].mean())}


def passes(r: dict, base: dict) -> bool:
    return (r["endo_stroma_kept"] <= base["endo_stroma_kept"] - 8.0
            and r["endo_epi_excl"] <= base["endo_epi_excl"] + 1.5
            and r["brca_tumour_excl"] <= base["brca_tumour_excl"] + 1.5)


def screen(args: argparse.Namespace) -> None:
    z = dict(np.load(args.det))
    names = list(z["names"])
    pos, x, y, g, src, theta = z["pos"], z["x"], z["y"], z["g"], z["src"], z["theta"]
    rng = np.random.default_rng(36)  # H7's folds
    fold_of = {}
    for s in (ac.SRC_BRCA, ac.SRC_ENDO, ac.SRC_GEN):
        for i, gg in enumerate(rng.permutation(np.unique(g[src == s]))):
            fold_of[int(gg)] = i % args.folds
    fold = np.array([fold_of[int(gg)] for gg in g])
    hrng = np.random.default_rng(9)  # image halves, per source
    half_of = {}
    for s in (ac.SRC_BRCA, ac.SRC_ENDO, ac.SRC_GEN):
        for i, gg in enumerate(hrng.permutation(np.unique(g[src == s]))):
            half_of[int(gg)] = i % 2
    half = np.array([half_of[int(gg)] for gg in g])
    lab = y >= 0
    x_train = x.copy()
    e_lab, b_lab = lab & (src == ac.SRC_ENDO), lab & (src == ac.SRC_BRCA)
    x_train[e_lab] = ac.tnm.borrowed_intensity(x[e_lab], y[e_lab], x[b_lab], y[b_lab], names,
                                               np.random.default_rng(0))
    cache = args.det.with_name(args.det.stem + f"_stage1_f{args.folds}.npz")
    if cache.is_file():
        p1 = np.load(cache)["p1"]
    else:
        p1 = np.zeros((len(y), 3))
        for f in range(args.folds):
            t0 = time.time()
            tr, te = lab & (fold != f), fold == f
            p1[te] = ac.forest(x_train[tr], y[tr]).predict_proba(x[te])
            print(f"stage 1 fold {f}: {time.time() - t0:.0f} s", file=sys.stderr)
        np.savez(cache, p1=p1)
    ctx = ac.context_features(pos, p1, x[:, names.index("area_um2")], x[:, names.index("od_mean")], g)
    ecc = x[:, names.index("eccentricity")].astype(np.float64)
    ori = orientation_features(pos, theta, ecc, g)
    shape_cols = [names.index(n) for n in SHAPE]
    # shape columns: the training rows' od_mean borrowed as stage 1's were (EndoNuke intensity is not IHC's)
    designs = {"S1: context + shape + orientation": (np.c_[ctx, x_train[:, shape_cols], ori],
                                                     np.c_[ctx, x[:, shape_cols], ori]),
               "S2: context + orientation (no shape)": (np.c_[ctx, ori], np.c_[ctx, ori]),
               "S3: context + shape + orientation, leaf 32": (np.c_[ctx, x_train[:, shape_cols], ori],
                                                              np.c_[ctx, x[:, shape_cols], ori])}
    tumour1 = p1[:, ac.TU] >= ac.T_MIN
    sel_all = np.ones(len(y), bool)
    base = {h: screen_rates(tumour1, y, src, half == h if h >= 0 else sel_all) for h in (-1, 0, 1)}
    keys = list(base[-1])
    print("labelled rows: " + ", ".join(f"src {s} class {c}: {int((lab & (src == s) & (y == c)).sum())}"
                                        for s in (0, 1) for c in (0, 1, 2)))
    print("| design | s | part | " + " | ".join(keys) + " | screen |")
    print("|---|---:|---|" + "---:|" * len(keys) + "---|")
    for h, part in ((-1, "all"), (0, "half 0"), (1, "half 1")):
        print(f"| stage 1 (1.2.0 recipe) | - | {part} | " + " | ".join(f"{base[h][k]:.6f}" for k in keys) + " | |")
    tst = lab & np.isin(y, (ac.TU, ac.ST))
    for name, (xtr2, xte2) in designs.items():
        leaf = 32 if "leaf 32" in name else 8
        p2 = np.zeros(len(y))
        for f in range(args.folds):
            t0 = time.time()
            tr, te = tst & (fold != f), (fold == f) & tumour1
            rf = ac.forest(xtr2[tr], (y[tr] == ac.ST).astype(np.intp), leaf=leaf)
            p2[te] = rf.predict_proba(xte2[te])[:, 1]
            print(f"{name} fold {f}: {time.time() - t0:.0f} s", file=sys.stderr)
        np.savez(args.det.with_name(args.det.stem + f"_stage2_{name[:2]}.npz"), p2=p2, p1=p1, y=y, src=src, g=g,
                 half=half)
        for s in args.thresholds:
            keep = tumour1 & ~(p2 >= s)
            rs = {h: screen_rates(keep, y, src, half == h if h >= 0 else sel_all) for h in (-1, 0, 1)}
            for h, part in ((-1, "all"), (0, "half 0"), (1, "half 1")):
                ok = passes(rs[h], base[h])
                print(f"| {name} | {s:g} | {part} | " + " | ".join(f"{rs[h][k]:.6f}" for k in keys)
                      + f" | {'pass' if ok else 'fail'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    e.add_argument("--generated", type=int, default=60)
    e.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("screen")
    s.add_argument("--det", type=Path, required=True)
    s.add_argument("--folds", type=int, default=3)
    s.add_argument("--thresholds", type=float, nargs="+", default=[0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85])
    args = ap.parse_args()
    {"extract": extract, "screen": screen}[args.cmd](args)


if __name__ == "__main__":
    main()
