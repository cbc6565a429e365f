"""Session 37 H11 (dev only): session 37 H1's within-image hematoxylin cues made positivity-blind, screened out of fold.

Candidate columns (``NucleusFeatureSettings(local_cues_um=R, local_cues_positive_od=0.35)``): ``dark_rel`` and the
ranks of mean hematoxylin, hematoxylin CV and outline gradient, each nucleus compared with its DAB-negative
neighbours only (mean chromogen OD < 0.35); a positive nucleus takes its nearest negative neighbour's columns
(the first design, the negative neighbours' mean columns, marked the positives: commit 6a7343a).
BRCA-M2C re-renderings with DAB leaking into the hematoxylin (``restain_as_ihc(dab_leak=0.3)``).

``extract``: every labelled detection of the dev images (H1's / H7's sources and matching): BRCA-M2C official
train + val re-rendered once (chromogen by image, core 1.5 µm, leak 0.3; its test split never read), EndoNuke
``mixed`` training split (its held-out 20 % and ``staining_ds`` never read), generated nest seeds 10000-10059
(the 1.2.0 training tiles). Rows carry the 20 columns of 1.2.0, the four blind cues at each radius of
:data:`RADII` and the nucleus' mean chromogen OD (for the positivity check, never a feature).

``screen``: H1's out-of-fold screen (3 image folds, seed 37, the 1.2.0 forest, EndoNuke intensity borrowed) over
thresholds, with the three screen conditions of H11's rule (EndoNuke DEV epithelium excluded <= base + 1.0,
BRCA lymphocytes kept <= base - 5, EndoNuke DEV stroma kept <= base + 1.0; base = the 20 columns at t 0.2), the
source control, and the DAB-positive share of the newly excluded cells against the dev positives' share.

Usage::

    PYTHONPATH=. python benchmarks/experiments/blind_cues_keep_dev_s37.py extract --out /tmp/s37_h11/rows.npz
    PYTHONPATH=. python benchmarks/experiments/blind_cues_keep_dev_s37.py screen --rows /tmp/s37_h11/rows.npz
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
import local_cues_keep_dev_s37 as h1  # noqa: E402
import train_nucleus_model as tnm  # noqa: E402
from _nucleus_restain import CHROMOGEN_PRESETS, restain_as_ihc  # noqa: E402
from _training_data import held_out, read_rgb  # noqa: E402

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs  # noqa: E402

TU, LY, ST = h7.TU, h7.LY, h7.ST
SRC_BRCA, SRC_ENDO, SRC_GEN = h7.SRC_BRCA, h7.SRC_ENDO, h7.SRC_GEN
NEW = h1.NEW
RADII = (80.0, 160.0)
POSITIVE_OD = 0.35  # Ki67Params.positive_threshold_od
DAB_LEAK = 0.3


def detections(rgb: np.ndarray, points_rc: np.ndarray, point_cls: np.ndarray, preset: str,
               settings: NucleusFeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H7's ``detections`` with the blind cues at every radius of :data:`RADII` and the mean chromogen appended."""
    from mmnst_path.classify import nucleus_features
    from mmnst_path.classify.nucleus_features import _local_cues
    from mmnst_path.classify.train import match_points
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains

    matrix = get_preset(preset)
    conc = separate_stains(rgb, matrix, stains=(matrix.names[0], matrix.names[1]))
    hem, chrom = conc[..., 0], conc[..., 1]
    nuclei = nuclei_from_stains(hem, chrom, mpp=h7.MPP, return_labels=True)
    width = len(nucleus_feature_specs(settings)) + 4 * len(RADII) + 1
    if len(nuclei) == 0:
        return np.zeros((0, 2)), np.zeros((0, width), np.float32), np.zeros(0, np.intp)
    feats = nucleus_features(nuclei.labels, hem, chrom, mpp=h7.MPP, settings=settings)
    det = np.c_[nuclei.row, nuclei.col].astype(np.float64)
    h = np.maximum(hem, 0).astype(np.float32)
    c = np.maximum(chrom, 0).astype(np.float32)
    n = len(det)
    extra = [_local_cues(nuclei.labels, h, det * h7.MPP, n, r, chromogen=c, positive_od=POSITIVE_OD) for r in RADII]
    lab = nuclei.labels.ravel()
    c_mean = (np.bincount(lab, c.ravel().astype(np.float64), minlength=n + 1)[1:]
              / np.maximum(np.bincount(lab, minlength=n + 1)[1:], 1))
    label = np.full(n, -1, np.intp)
    d, a = match_points(det, points_rc, h7.MATCH_UM / h7.MPP)
    edge = tnm.EDGE_UM / h7.MPP
    m, w = rgb.shape[:2]
    inside = (det[d, 0] >= edge) & (det[d, 0] < m - edge) & (det[d, 1] >= edge) & (det[d, 1] < w - edge)
    label[d] = np.where(inside & (point_cls[a] >= 0), point_cls[a], -2)
    return det, np.concatenate([feats, *extra, c_mean[:, None]], axis=1).astype(np.float32), label


def extract(args: argparse.Namespace) -> None:
    settings = NucleusFeatureSettings()
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
        ihc = restain_as_ihc(read_rgb(img), pts[:, :2], cls, rng, None, 0.0, h7.DAB_CORE_UM, chrom,
                             dab_leak=args.dab_leak)
        add(*detections(ihc, pts[:, :2], cls, CHROMOGEN_PRESETS[chrom], settings), SRC_BRCA)
    print(f"brca train+val done in {time.time() - t0:.0f} s", file=sys.stderr)
    en_map = {0: ST, 1: TU, 2: -1}
    for txt in sorted((args.train / "endonuke" / "mixed").glob("*.txt")):
        img = txt.with_suffix(".png")
        if not img.is_file() or held_out(img.name, 0.2):
            continue  # EndoNuke VAL: a gate, never read here
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
    names += [f"{c}@{r:g}" for r in RADII for c in NEW] + ["chrom_mean"]
    np.savez(args.out, **{k: np.concatenate(v) for k, v in out.items()}, names=np.array(names))


def screen(args: argparse.Namespace) -> None:
    z = dict(np.load(args.rows))
    names = [str(n) for n in z["names"]]
    x, y, g, src = z["x"], z["y"], z["g"], z["src"]
    dab_pos = x[:, names.index("chrom_mean")] >= POSITIVE_OD
    fold = h1.folds_of(g, src, args.folds)
    b, e = src == SRC_BRCA, src == SRC_ENDO
    print(f"rows: BRCA lymphocytes {int((b & (y == LY)).sum())}, tumour {int((b & (y == TU)).sum())}, stromal "
          f"{int((b & (y == ST)).sum())}; EndoNuke DEV epithelium {int((e & (y == TU)).sum())}, stroma "
          f"{int((e & (y == ST)).sum())}; generated {int((src == SRC_GEN).sum())}; DAB+ share BRCA "
          f"{dab_pos[b].mean():.4f}, EndoNuke {dab_pos[e].mean():.4f}")
    print("\nsource control per new column (AUC; > 0.5 = the first group larger); and DAB+ v DAB- within class")
    print("| column | E stroma v B stroma (source) | B tumour v B lymph | E epi v E stroma | "
          "B DAB+ v DAB- (tumour) | E DAB+ v DAB- (epi) |")
    print("|---|---:|---:|---:|---:|---:|")
    for n in [c for c in names if c.split("@")[0] in NEW]:
        v = x[:, names.index(n)]
        bt, et = b & (y == TU), e & (y == TU)
        print(f"| {n} | {h1.auc(v[e & (y == ST)], v[b & (y == ST)]):.4f} | "
              f"{h1.auc(v[bt], v[b & (y == LY)]):.4f} | {h1.auc(v[et], v[e & (y == ST)]):.4f} | "
              f"{h1.auc(v[bt & dab_pos], v[bt & ~dab_pos]):.4f} | {h1.auc(v[et & dab_pos], v[et & ~dab_pos]):.4f} |")
    base_cols = [i for i, n in enumerate(names) if "@" not in n and n != "chrom_mean"]
    designs: dict[str, tuple[str, ...]] = {"base (1.2.0 columns)": ()}
    for r in RADII:
        designs[f"+all four @{r:g} µm"] = tuple(f"{c}@{r:g}" for c in NEW)
        designs[f"+ranks @{r:g} µm"] = tuple(f"{c}@{r:g}" for c in NEW[1:])
    keys = ["brca_lymph_kept", "brca_tumour_excl", "brca_stromal_kept", "endo_epi_excl", "endo_stroma_kept"]
    print("\n| design (out of fold) | t | " + " | ".join(keys) + " | pass | source AUC (E str v B str) |")
    print("|---|---:|" + "---:|" * (len(keys) + 2))
    stroma = (e | b) & (y == ST)
    base_r = None
    p_base = None
    for dname, extra in designs.items():
        cols = base_cols + [names.index(n) for n in extra]
        xd = x[:, cols]
        dn = [names[i] for i in cols]
        p = np.zeros(len(y))
        p_src = np.zeros(len(y))
        for f in range(args.folds):
            tr, te = fold != f, fold == f
            xtr = xd[tr].copy()
            etr, btr = e[tr], b[tr]
            rng = np.random.default_rng(f)
            xtr[etr] = tnm.borrowed_intensity(xtr[etr], y[tr][etr], xtr[btr], y[tr][btr], dn, rng)
            p[te] = h7.forest(xtr, y[tr]).predict_proba(xd[te])[:, TU]
            s_tr, s_te = stroma & tr, stroma & te
            p_src[s_te] = h7.forest(xd[s_tr], e[s_tr].astype(int)).predict_proba(xd[s_te])[:, 1]
        src_auc = h1.auc(p_src[stroma & e], p_src[stroma & b])
        tag = "".join(ch for ch in dname if ch.isalnum())
        np.save(args.rows.with_name(args.rows.stem + f"_p_{tag}.npy"), p)
        if base_r is None:
            base_r, p_base = h7.rates(p, y, src, 0.2), p
            print(f"base at t 0.2: {base_r}", file=sys.stderr)
        for t in args.thresholds:
            r = h7.rates(p, y, src, t)
            ok = (r["endo_epi_excl"] <= base_r["endo_epi_excl"] + 1.0
                  and r["brca_lymph_kept"] <= base_r["brca_lymph_kept"] - 5.0
                  and r["endo_stroma_kept"] <= base_r["endo_stroma_kept"] + 1.0)
            line = f"| {dname} | {t:g} | " + " | ".join(f"{r[k]:.6f}" for k in keys)
            print(line + f" | {'PASS' if ok else '-'} | {src_auc:.4f} |", flush=True)
            if ok and extra:
                new_ex = (p < t) & (p_base >= 0.2)
                for s_name, s in (("BRCA", b), ("EndoNuke", e)):
                    k = new_ex & s
                    print(f"    newly excluded {s_name}: {int(k.sum())}, DAB+ share {dab_pos[k].mean():.4f} "
                          f"(dev DAB+ share {dab_pos[s].mean():.4f})", flush=True)
                    for c_name, c in (("tumour", TU), ("lymphocyte", LY), ("stromal", ST)):
                        kc, sc = k & (y == c), s & (y == c)
                        if sc.any() and kc.any():
                            print(f"      {c_name}: {int(kc.sum())}, DAB+ share {dab_pos[kc].mean():.4f} "
                                  f"(dev {dab_pos[sc].mean():.4f})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract")
    ex.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    ex.add_argument("--generated", type=int, default=60)
    ex.add_argument("--dab-leak", type=float, default=DAB_LEAK)
    ex.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("screen")
    s.add_argument("--rows", type=Path, required=True)
    s.add_argument("--folds", type=int, default=3)
    s.add_argument("--thresholds", type=float, nargs="+",
                   default=[0.15, 0.18, 0.2, 0.22, 0.24, 0.26, 0.28, 0.3, 0.35])
    args = ap.parse_args()
    {"extract": extract, "screen": screen}[args.cmd](args)


if __name__ == "__main__":
    main()
