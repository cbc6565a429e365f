"""Session 36 H7 (dev only): an auto-context second stage for the Ki67 cell model, screened out of fold.

The first stage is the 1.2.0 recipe's forest on the 20 nucleus features (rows as H2's
``lymph_keep_dev_s36.py`` extracts them: BRCA-M2C official train + val split re-rendered as IHC, chromogen
core 1.5 µm; EndoNuke's training split with borrowed intensity; 60 generated ``ki67_cells_tile`` tiles).
The second stage reads the first stage's out-of-fold probabilities of the nucleus **and of every detected
nucleus around it** (mean P(lymphocyte), P(tumour), P(stromal) and the count of detections within 15 / 30 /
60 µm; the share of neighbours within 30 µm smaller / paler than the nucleus), optionally with the 20 features.

``extract``: every detection of every dev image (position, features, the annotated class it matches within
the training's match radius, -1 none, -2 ignored: "other" or within 6 µm of an edge) with its image and source.
Read: BRCA-M2C train + val (never its test split), EndoNuke ``mixed`` training split (never the held-out 20 %
or ``staining_ds``: the gate), generated seeds 10000-10059.

``screen``: image folds across all three sources; stage 1 out of fold on every detection, stage 2 out of fold
on the same folds (fitted on the other folds' labelled rows and their stage-1 out-of-fold probabilities).
Reports BRCA-M2C lymphocytes kept as tumour / tumour excluded / stromal kept and EndoNuke DEV epithelium
excluded / stroma kept, stage 1 vs stage 2, under the 1.2.0 decision (tumour unless P(tumour) < 0.2) and a
threshold sweep of the stage-2 decision.

Usage::

    PYTHONPATH=. python benchmarks/experiments/autocontext_keep_dev_s36.py extract --out /tmp/s36_h7/det.npz
    PYTHONPATH=. python benchmarks/experiments/autocontext_keep_dev_s36.py screen --det /tmp/s36_h7/det.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_nucleus_model as tnm  # noqa: E402
from _nucleus_restain import CHROMOGEN_PRESETS, MATCH_UM, MPP, restain_as_ihc  # noqa: E402
from _training_data import held_out, read_rgb  # noqa: E402

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features  # noqa: E402
from mmnst_path.classify.train import match_points  # noqa: E402

CHROMOGENS = ("dab", "aec", "fast_red")
DAB_CORE_UM = 1.5
T_MIN = 0.2
TU, LY, ST = 0, 1, 2
SRC_BRCA, SRC_ENDO, SRC_GEN = 0, 1, 2
RADII_UM = (15.0, 30.0, 60.0)
RANK_UM = 30.0


def detections(rgb: np.ndarray, points_rc: np.ndarray, point_cls: np.ndarray, preset: str,
               settings: NucleusFeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every detection of one IHC image at 0.5 µm/px: (n, 2) position px, (n, F) features, (n,) label.

    The label is the annotated class matched one-to-one within the training's match radius, -1 for a
    detection no annotation matches, -2 for one matched to an ignored point (class < 0) or within
    ``tnm.EDGE_UM`` of an edge (the rows the nucleus model's training leaves out).
    """
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains

    matrix = get_preset(preset)
    conc = separate_stains(rgb, matrix, stains=(matrix.names[0], matrix.names[1]))
    hem, chrom = conc[..., 0], conc[..., 1]
    nuclei = nuclei_from_stains(hem, chrom, mpp=MPP, return_labels=True)
    width = len(nucleus_feature_specs(settings))
    if len(nuclei) == 0:
        return np.zeros((0, 2)), np.zeros((0, width), np.float32), np.zeros(0, np.intp)
    feats = nucleus_features(nuclei.labels, hem, chrom, mpp=MPP, settings=settings)
    det = np.c_[nuclei.row, nuclei.col].astype(np.float64)
    label = np.full(len(det), -1, np.intp)
    d, a = match_points(det, points_rc, MATCH_UM / MPP)
    edge = tnm.EDGE_UM / MPP
    m, n = rgb.shape[:2]
    inside = (det[d, 0] >= edge) & (det[d, 0] < m - edge) & (det[d, 1] >= edge) & (det[d, 1] < n - edge)
    label[d] = np.where(inside & (point_cls[a] >= 0), point_cls[a], -2)
    return det, feats.astype(np.float32), label


def extract(args: argparse.Namespace) -> None:
    settings = NucleusFeatureSettings()
    out: dict[str, list] = {"pos": [], "x": [], "y": [], "g": [], "src": []}
    group = 0

    def add(det, x, y, src):
        nonlocal group
        out["pos"].append(det)
        out["x"].append(x)
        out["y"].append(y)
        out["g"].append(np.full(len(y), group, np.intp))
        out["src"].append(np.full(len(y), src, np.intp))
        group += 1

    t0 = time.time()
    meta = args.train / "brca_m2c" / "_meta"
    test = {s.strip() for s in (meta / "brca_ds_test.txt").read_text().split() if s.strip()}
    mapping = {1: LY, 2: TU, 3: ST}
    rng = np.random.default_rng(0)
    for i_img, txt in enumerate(sorted((args.train / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt"))):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        if img.stem in test or img.name in test:
            continue  # BRCA-M2C test split: gate 2, never read here
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0 or not img.is_file():
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        chrom = CHROMOGENS[i_img % len(CHROMOGENS)]
        ihc = restain_as_ihc(read_rgb(img), pts[:, :2], cls, rng, None, 0.0, DAB_CORE_UM, chrom)
        add(*detections(ihc, pts[:, :2], cls, CHROMOGEN_PRESETS[chrom], settings), SRC_BRCA)
    print(f"brca train+val done in {time.time() - t0:.0f} s", file=sys.stderr)
    en_map = {0: ST, 1: TU, 2: -1}
    for txt in sorted((args.train / "endonuke" / "mixed").glob("*.txt")):
        img = txt.with_suffix(".png")
        if not img.is_file() or held_out(img.name, 0.2):
            continue  # EndoNuke VAL (held-out 20 % of mixed, and staining_ds): gate 1, never read here
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0:
            continue
        cls = np.array([en_map[int(k)] for k in pts[:, 2]])
        add(*detections(read_rgb(img), pts[:, [1, 0]], cls, "H-DAB", settings), SRC_ENDO)
    print(f"endonuke dev done in {time.time() - t0:.0f} s", file=sys.stderr)
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    for seed in range(10_000, 10_000 + args.generated):
        tile = ki67_cells_tile(seed, tumour="nest")
        cells = tile.truth["cells"]
        cls = np.array([tnm.CLASSES.index(tnm.GENERATED_CLASS[str(t)]) for t in cells["cell_type"]], np.intp)
        add(*detections(tile.rgb, np.c_[cells["row"], cells["col"]], cls, "H-DAB", settings), SRC_GEN)
    print(f"generated done in {time.time() - t0:.0f} s", file=sys.stderr)
    names = [f.name for f in nucleus_feature_specs(settings)]
    np.savez(args.out, **{k: np.concatenate(v) for k, v in out.items()}, names=np.array(names))


def context_features(pos: np.ndarray, proba: np.ndarray, area: np.ndarray, od: np.ndarray,
                     groups: np.ndarray) -> np.ndarray:
    """Per detection: its own probabilities, then for each radius of :data:`RADII_UM` the count of other
    detections within it and their mean P(tumour), P(lymphocyte), P(stromal) (the nucleus's own where none),
    then the share of neighbours within :data:`RANK_UM` with a smaller area / a lower od_mean."""
    from scipy.spatial import cKDTree

    k = proba.shape[1]
    out = np.zeros((len(pos), k + len(RADII_UM) * (1 + k) + 2), np.float32)
    out[:, :k] = proba
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        tree = cKDTree(pos[idx])
        col = k
        for r in RADII_UM:
            nb = tree.query_ball_point(pos[idx], r / MPP)
            for j, lst in enumerate(nb):
                others = [i for i in lst if i != j]
                out[idx[j], col] = len(others)
                out[idx[j], col + 1:col + 1 + k] = proba[idx[others]].mean(0) if others else proba[idx[j]]
            col += 1 + k
        nb = tree.query_ball_point(pos[idx], RANK_UM / MPP)
        for j, lst in enumerate(nb):
            others = np.array([i for i in lst if i != j], np.intp)
            if len(others):
                out[idx[j], col] = np.mean(area[idx[others]] < area[idx[j]])
                out[idx[j], col + 1] = np.mean(od[idx[others]] < od[idx[j]])
            else:
                out[idx[j], col:col + 2] = 0.5
    return out


def forest(x: np.ndarray, y: np.ndarray, leaf: int = 8):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=60, max_depth=14, min_samples_leaf=leaf,
                                  class_weight="balanced_subsample", random_state=0, n_jobs=1).fit(x, y)


def rates(p_tumour: np.ndarray, y: np.ndarray, src: np.ndarray, t: float = T_MIN) -> dict[str, float]:
    keep = p_tumour >= t
    b, e = src == SRC_BRCA, src == SRC_ENDO
    return {"brca_lymph_kept": 100 * float(keep[b & (y == LY)].mean()),
            "brca_tumour_excl": 100 * float((~keep[b & (y == TU)]).mean()),
            "brca_stromal_kept": 100 * float(keep[b & (y == ST)].mean()),
            "endo_epi_excl": 100 * float((~keep[e & (y == TU)]).mean()),
            "endo_stroma_kept": 100 * float(keep[e & (y == ST)].mean())}


def screen(args: argparse.Namespace) -> None:
    z = dict(np.load(args.det))
    names = list(z["names"])
    pos, x, y, g, src = z["pos"], z["x"], z["y"], z["g"], z["src"]
    rng = np.random.default_rng(36)
    fold_of = {}
    for s in (SRC_BRCA, SRC_ENDO, SRC_GEN):  # each source's images spread over the folds
        for i, gg in enumerate(rng.permutation(np.unique(g[src == s]))):
            fold_of[int(gg)] = i % args.folds
    fold = np.array([fold_of[int(gg)] for gg in g])
    lab = y >= 0
    # EndoNuke training rows with their intensity columns borrowed from BRCA-M2C rows of the same class (1.2.0)
    x_train = x.copy()
    e_lab, b_lab = lab & (src == SRC_ENDO), lab & (src == SRC_BRCA)
    x_train[e_lab] = tnm.borrowed_intensity(x[e_lab], y[e_lab], x[b_lab], y[b_lab], names, np.random.default_rng(0))
    cache = args.det.with_name(args.det.stem + f"_stage1_f{args.folds}.npz")
    if cache.is_file():
        p1 = np.load(cache)["p1"]
    else:
        p1 = np.zeros((len(y), 3))
        for f in range(args.folds):
            t0 = time.time()
            tr, te = lab & (fold != f), fold == f
            p1[te] = forest(x_train[tr], y[tr]).predict_proba(x[te])
            print(f"stage 1 fold {f}: {time.time() - t0:.0f} s", file=sys.stderr)
        np.savez(cache, p1=p1)
    ctx = context_features(pos, p1, x[:, names.index("area_um2")], x[:, names.index("od_mean")], g)
    ctx_names = ["p_tu", "p_ly", "p_st"] + [f"{a}_{r:g}um" for r in RADII_UM for a in ("n", "m_tu", "m_ly", "m_st")] \
        + ["rank_area", "rank_od"]
    variants = {"A: probabilities + context": (ctx, ctx),
                "B: A without the rank columns": (ctx[:, :-2], ctx[:, :-2]),
                "C: A + the 20 features": (np.c_[x_train, ctx], np.c_[x, ctx])}
    base = rates(p1[:, TU], y, src)
    print(f"labelled rows: BRCA lymphocytes {int((lab & (src == 0) & (y == LY)).sum())}, tumour "
          f"{int((lab & (src == 0) & (y == TU)).sum())}, stromal {int((lab & (src == 0) & (y == ST)).sum())}; "
          f"EndoNuke DEV epithelium {int((lab & (src == 1) & (y == TU)).sum())}, stroma "
          f"{int((lab & (src == 1) & (y == ST)).sum())}; all detections {len(y)}")
    keys = list(base)
    print("| model (out of fold, decision P(tumour) >= t) | t | " + " | ".join(keys) + " |")
    print("|---|---:|" + "---:|" * len(keys))
    print(f"| stage 1 (1.2.0 recipe) | {T_MIN} | " + " | ".join(f"{base[k]:.6f}" for k in keys) + " |")
    for name, (xtr2, xte2) in variants.items():
        p2 = np.zeros((len(y), 3))
        for f in range(args.folds):
            t0 = time.time()
            tr, te = lab & (fold != f), lab & (fold == f)
            rf = forest(xtr2[tr], y[tr])
            p2[te] = rf.predict_proba(xte2[te])
            print(f"{name} fold {f}: {time.time() - t0:.0f} s", file=sys.stderr)
        if name.startswith("A"):
            imp = sorted(zip(rf.feature_importances_, ctx_names, strict=True), reverse=True)[:8]
            print("  A importances (last fold):", ", ".join(f"{n} {v:.3f}" for v, n in imp), file=sys.stderr)
        for t in args.thresholds:
            r = rates(p2[:, TU], y, src, t)
            print(f"| {name} | {t:g} | " + " | ".join(f"{r[k]:.6f}" for k in keys) + " |")
        np.savez(args.det.with_name(args.det.stem + f"_stage2_{name[0]}.npz"), p2=p2, p1=p1, y=y, src=src, g=g)


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
    s.add_argument("--thresholds", type=float, nargs="+", default=[0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5])
    args = ap.parse_args()
    {"extract": extract, "screen": screen}[args.cmd](args)


if __name__ == "__main__":
    main()
