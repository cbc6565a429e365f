"""Session 37 H1 (dev only): the Ki67 cell model with within-image hematoxylin cues, screened out of fold.

Candidate columns (``NucleusFeatureSettings(local_cues_um=40.0)``, hematoxylin plane only, relative to the
nuclei within 40 µm): ``dark_rel``, ``rank_h_mean``, ``rank_h_cv``, ``rank_edge_grad`` (session 36 H13's
within-source cues made tile-invariant). Designs: the 20 columns of 1.2.0 (base), + dark_rel, + the three
ranks, + all four.

``extract``: every labelled detection of the dev images with all 24 columns (H7's ``detections``): BRCA-M2C
official train + val re-rendered once as IHC (chromogen by image, core 1.5 µm; its test split never read),
EndoNuke ``mixed`` training split (its held-out 20 % and ``staining_ds`` never read), generated nest seeds
10000-10059 (the 1.2.0 training tiles).

``screen``: image folds across the three sources (seed 37); per design the 1.2.0 forest (60 trees, depth 14,
leaf 8, balanced_subsample) fitted on the other folds (EndoNuke rows with intensity borrowed from the fold's
BRCA rows, as 1.2.0), predicting the held-out fold. Reports BRCA lymphocytes kept as tumour, tumour excluded,
stromal kept, EndoNuke DEV epithelium excluded, stroma kept, over a sweep of the decision threshold; and the
**source control** beside it: per new column the AUC of EndoNuke stroma vs BRCA stroma (0.5 = no source
signal) next to its within-source AUC (BRCA tumour vs lymphocyte; EndoNuke epithelium vs stroma), and per design
a grouped-fold forest telling EndoNuke stroma from BRCA stroma (how much more "source" the design carries).

Usage::

    PYTHONPATH=. python benchmarks/experiments/local_cues_keep_dev_s37.py extract --out /tmp/s37_h1/rows.npz
    PYTHONPATH=. python benchmarks/experiments/local_cues_keep_dev_s37.py screen --rows /tmp/s37_h1/rows.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))

import autocontext_keep_dev_s36 as h7  # noqa: E402
import train_nucleus_model as tnm  # noqa: E402
from _nucleus_restain import CHROMOGEN_PRESETS, restain_as_ihc  # noqa: E402
from _training_data import held_out, read_rgb  # noqa: E402

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs  # noqa: E402

TU, LY, ST = h7.TU, h7.LY, h7.ST
SRC_BRCA, SRC_ENDO, SRC_GEN = h7.SRC_BRCA, h7.SRC_ENDO, h7.SRC_GEN
NEW = ("dark_rel", "rank_h_mean", "rank_h_cv", "rank_edge_grad")
DESIGNS = {"base (1.2.0 columns)": (), "+dark_rel": ("dark_rel",),
           "+ranks": ("rank_h_mean", "rank_h_cv", "rank_edge_grad"), "+all four": NEW}


#: radii (µm) of the ``radii`` extraction: the four cues relative to the nuclei within each (1e4 = the whole image)
RADII_SWEEP = (40.0, 80.0, 160.0, 1e4)


def detections_radii(rgb: np.ndarray, points_rc: np.ndarray, point_cls: np.ndarray, preset: str,
                     settings: NucleusFeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H7's ``detections`` (same detector, features, matching and edge rule) with the four cues appended again
    for every radius of :data:`RADII_SWEEP`."""
    from mmnst_path.classify import nucleus_features
    from mmnst_path.classify.nucleus_features import _local_cues
    from mmnst_path.classify.train import match_points
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains

    matrix = get_preset(preset)
    conc = separate_stains(rgb, matrix, stains=(matrix.names[0], matrix.names[1]))
    hem, chrom = conc[..., 0], conc[..., 1]
    nuclei = nuclei_from_stains(hem, chrom, mpp=h7.MPP, return_labels=True)
    width = len(nucleus_feature_specs(settings)) + 4 * len(RADII_SWEEP)
    if len(nuclei) == 0:
        return np.zeros((0, 2)), np.zeros((0, width), np.float32), np.zeros(0, np.intp)
    feats = nucleus_features(nuclei.labels, hem, chrom, mpp=h7.MPP, settings=settings)
    det = np.c_[nuclei.row, nuclei.col].astype(np.float64)
    h = np.maximum(hem, 0).astype(np.float32)
    extra = [_local_cues(nuclei.labels, h, det * h7.MPP, len(det), r) for r in RADII_SWEEP]
    label = np.full(len(det), -1, np.intp)
    d, a = match_points(det, points_rc, h7.MATCH_UM / h7.MPP)
    edge = tnm.EDGE_UM / h7.MPP
    m, n = rgb.shape[:2]
    inside = (det[d, 0] >= edge) & (det[d, 0] < m - edge) & (det[d, 1] >= edge) & (det[d, 1] < n - edge)
    label[d] = np.where(inside & (point_cls[a] >= 0), point_cls[a], -2)
    return det, np.concatenate([feats, *extra], axis=1).astype(np.float32), label


def extract(args: argparse.Namespace) -> None:
    settings = NucleusFeatureSettings(local_cues_um=40.0)
    det_fn = detections_radii if args.radii else h7.detections
    out: dict[str, list] = {"x": [], "y": [], "g": [], "src": []}
    group = 0

    def add(det, x, y, src):
        nonlocal group
        keep = y >= 0
        out["x"].append(x[keep])
        out["y"].append(y[keep])
        out["g"].append(np.full(int(keep.sum()), group, np.intp))
        out["src"].append(np.full(int(keep.sum()), src, np.intp))
        group += 1

    t0 = time.time()
    meta = args.train / "brca_m2c" / "_meta"
    test = {s.strip() for s in (meta / "brca_ds_test.txt").read_text().split() if s.strip()}
    mapping = {1: LY, 2: TU, 3: ST}
    rng = np.random.default_rng(0)
    for i_img, txt in enumerate(sorted((args.train / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt"))):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        if img.stem in test or img.name in test:
            continue  # BRCA-M2C test split: a gate, never read here
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0 or not img.is_file():
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        chrom = h7.CHROMOGENS[i_img % len(h7.CHROMOGENS)]
        ihc = restain_as_ihc(read_rgb(img), pts[:, :2], cls, rng, None, 0.0, h7.DAB_CORE_UM, chrom)
        add(*det_fn(ihc, pts[:, :2], cls, CHROMOGEN_PRESETS[chrom], settings), SRC_BRCA)
    print(f"brca train+val done in {time.time() - t0:.0f} s", file=sys.stderr)
    en_map = {0: ST, 1: TU, 2: -1}
    for txt in sorted((args.train / "endonuke" / "mixed").glob("*.txt")):
        img = txt.with_suffix(".png")
        if not img.is_file() or held_out(img.name, 0.2):
            continue  # EndoNuke VAL (held-out 20 % of mixed, and staining_ds): a gate, never read here
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0:
            continue
        cls = np.array([en_map[int(k)] for k in pts[:, 2]])
        add(*det_fn(read_rgb(img), pts[:, [1, 0]], cls, "H-DAB", settings), SRC_ENDO)
    print(f"endonuke dev done in {time.time() - t0:.0f} s", file=sys.stderr)
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    for seed in range(10_000, 10_000 + args.generated):
        tile = ki67_cells_tile(seed, tumour="nest")
        cells = tile.truth["cells"]
        cls = np.array([tnm.CLASSES.index(tnm.GENERATED_CLASS[str(t)]) for t in cells["cell_type"]], np.intp)
        add(*det_fn(tile.rgb, np.c_[cells["row"], cells["col"]], cls, "H-DAB", settings), SRC_GEN)
    print(f"generated done in {time.time() - t0:.0f} s", file=sys.stderr)
    names = [f.name for f in nucleus_feature_specs(settings)]
    if args.radii:
        names += [f"{c}@{r:g}" for r in RADII_SWEEP for c in NEW]
    np.savez(args.out, **{k: np.concatenate(v) for k, v in out.items()}, names=np.array(names))


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a random ``pos`` value > a random ``neg`` value), ties half (Mann-Whitney)."""
    from scipy.stats import rankdata

    r = rankdata(np.r_[pos, neg])
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def folds_of(g: np.ndarray, src: np.ndarray, k: int, seed: int = 37) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold_of = {}
    for s in (SRC_BRCA, SRC_ENDO, SRC_GEN):  # each source's images spread over the folds
        for i, gg in enumerate(rng.permutation(np.unique(g[src == s]))):
            fold_of[int(gg)] = i % k
    return np.array([fold_of[int(gg)] for gg in g])


def screen(args: argparse.Namespace) -> None:
    z = dict(np.load(args.rows))
    names = [str(n) for n in z["names"]]
    x, y, g, src = z["x"], z["y"], z["g"], z["src"]
    fold = folds_of(g, src, args.folds)
    b, e = src == SRC_BRCA, src == SRC_ENDO
    print(f"rows: BRCA lymphocytes {int((b & (y == LY)).sum())}, tumour {int((b & (y == TU)).sum())}, stromal "
          f"{int((b & (y == ST)).sum())}; EndoNuke DEV epithelium {int((e & (y == TU)).sum())}, stroma "
          f"{int((e & (y == ST)).sum())}; generated {int((src == SRC_GEN).sum())}")
    print("\nsource control per new column (AUC; > 0.5 = the first group larger)")
    print("| column | E stroma v B stroma (source) | B tumour v B lymph | E epi v E stroma | E epi v B lymph | "
          "G tumour v G lymph |")
    print("|---|---:|---:|---:|---:|---:|")
    gen = src == SRC_GEN
    for n in [c for c in names if c.split("@")[0] in NEW]:
        v = x[:, names.index(n)]
        print(f"| {n} | {auc(v[e & (y == ST)], v[b & (y == ST)]):.4f} | {auc(v[b & (y == TU)], v[b & (y == LY)]):.4f}"
              f" | {auc(v[e & (y == TU)], v[e & (y == ST)]):.4f} | {auc(v[e & (y == TU)], v[b & (y == LY)]):.4f} | "
              f"{auc(v[gen & (y == TU)], v[gen & (y == LY)]):.4f} |")
    base_cols = [i for i, n in enumerate(names) if n not in NEW and "@" not in n]
    designs = dict(DESIGNS) if not args.radii_only else {"base (1.2.0 columns)": ()}
    for r in RADII_SWEEP:  # the radius sweep, when the rows carry it
        if f"dark_rel@{r:g}" in names:
            designs[f"+all four @{r:g} µm"] = tuple(f"{c}@{r:g}" for c in NEW)
            designs[f"+ranks @{r:g} µm"] = tuple(f"{c}@{r:g}" for c in NEW[1:])
    keys = ["brca_lymph_kept", "brca_tumour_excl", "brca_stromal_kept", "endo_epi_excl", "endo_stroma_kept"]
    print("\n| design (out of fold) | t | " + " | ".join(keys) + " | source AUC (E str v B str) |")
    print("|---|---:|" + "---:|" * (len(keys) + 1))
    stroma = (e | b) & (y == ST)
    for dname, extra in designs.items():
        cols = base_cols + [names.index(n) for n in extra]
        xd = x[:, cols]
        dn = [names[i] for i in cols]
        p = np.zeros(len(y))
        p_src = np.zeros(len(y))
        t0 = time.time()
        for f in range(args.folds):
            tr, te = fold != f, fold == f
            xtr = xd[tr].copy()
            etr, btr = e[tr], b[tr]
            rng = np.random.default_rng(f)
            xtr[etr] = tnm.borrowed_intensity(xtr[etr], y[tr][etr], xtr[btr], y[tr][btr], dn, rng)
            p[te] = h7.forest(xtr, y[tr]).predict_proba(xd[te])[:, TU]
            s_tr, s_te = stroma & tr, stroma & te
            p_src[s_te] = h7.forest(xd[s_tr], e[s_tr].astype(int)).predict_proba(xd[s_te])[:, 1]
        src_auc = auc(p_src[stroma & e], p_src[stroma & b])
        print(f"  {dname}: {time.time() - t0:.0f} s", file=sys.stderr)
        tag = "".join(ch for ch in dname if ch.isalnum())
        np.save(args.rows.with_name(args.rows.stem + f"_p_{tag}.npy"), p)
        for t in args.thresholds:
            r = h7.rates(p, y, src, t)
            print(f"| {dname} | {t:g} | " + " | ".join(f"{r[k]:.6f}" for k in keys) + f" | {src_auc:.4f} |",
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract")
    ex.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    ex.add_argument("--generated", type=int, default=60)
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--radii", action="store_true", help="also the four cues at every radius of RADII_SWEEP")
    s = sub.add_parser("screen")
    s.add_argument("--rows", type=Path, required=True)
    s.add_argument("--folds", type=int, default=3)
    s.add_argument("--radii-only", action="store_true", help="only the base and the radius-sweep designs")
    s.add_argument("--thresholds", type=float, nargs="+", default=[0.15, 0.2, 0.25, 0.3, 0.35])
    args = ap.parse_args()
    {"extract": extract, "screen": screen}[args.cmd](args)


if __name__ == "__main__":
    main()
