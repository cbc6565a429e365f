"""Session 36 H13 (dev only, diagnosis): what tells a small packed epithelial nucleus from a lymphocyte?

Per detected nucleus (the project's detector, ``nuclei_from_stains`` at 0.5 µm/px, matched one-to-one to the
annotated keypoints as the nucleus model's training matches them) this computes the 20 features of
``classify.nucleus_features`` and candidate features of the pathologist's cues, each at a physical scale:

==================  ==========================================================================================
``h_mean``          mean hematoxylin OD inside the outline
``h_cv``            hematoxylin OD std / mean inside the outline (chromatin unevenness)
``gran_1um``        std inside the outline of hematoxylin minus its Gaussian blur at 1 µm, / mean (granularity)
``gran_05um``       the same with a 0.5 µm blur (finest texture the 0.5 µm/px pixels hold)
``maxima_um2``      local maxima of hematoxylin (0.5 µm blur, 1.5 µm window, above the nucleus mean) per µm²
``dark_abs``        share of the outline's pixels with hematoxylin OD > 0.6 (darkness saturation, absolute)
``dark_rel``        share above 1.3 x the tile's median nuclear hematoxylin OD (darkness, relative to the tile)
``roundness``       4 pi area / perimeter² (skimage perimeter)
``solidity``        area / convex-hull area
``major_um``        ellipse major axis (moments) µm; ``minor_um`` its minor axis; ``axis_ratio`` minor / major
``edge_grad``       mean hematoxylin gradient magnitude (0.5 µm blur, per µm) on the outline's pixels / h_mean
``edge_step``       (mean hematoxylin of the outline's inner 1 µm - of the 1 µm ring outside) / h_mean
``rim_rel_bg``      total OD of the 1-3 µm ring outside the outline (other nuclei left out) minus the tile's
                    glass OD (1st percentile), / (the tile's median non-nuclear tissue OD minus glass OD)
``rim_h_rel``       hematoxylin of that ring / the tile's median non-nuclear tissue hematoxylin
``rim_ring_cv``     std / mean of the ring's total OD (cytoplasm evenly around vs one-sided)
``lumen_um``        distance from the outline (centroid minus equivalent radius) to the nearest near-white
                    region (total OD < 0.25 x the tile's median tissue OD, >= 10 µm²), µm
``axis_to_nn``      mean over the 2 nearest detections of cos² between the long axis and the direction to them
                    (1: neighbours lie along the long axis, 0: beside it, as in a palisade)
``axis_par``        eccentricity-weighted mean cos 2Δθ between the long axis and the neighbours' within 20 µm
``nbr_area_cv``     coefficient of variation of the areas of the detections within 20 µm (self included)
==================  ==========================================================================================

``extract``: EndoNuke DEV (the ``mixed`` training split, never the held-out 20 % or ``staining_ds``), BRCA-M2C
train + val (never its test split) restained once as H-DAB IHC (chromogen core 1.5 µm) and as-is H&E (hematoxylin
of the H&E preset), the generated infiltrate family seeds 640-663 (H8's dev seeds). EndoNuke rows carry H7's
stage-1 out-of-fold P(tumour) (1.2.0 recipe) when ``--h7`` is given (joined on identical detections).
``analyse``: per-feature AUCs (epithelium vs lymphocyte across sources, and the domain controls), grouped-CV
forests 20 vs 20 + new, and a crop sheet.

Usage::

    PYTHONPATH=. python benchmarks/experiments/epi_vs_lymph_s36.py extract --out /tmp/s36_h13/rows.npz \
        --h7 /tmp/s36_h7/det.npz
    PYTHONPATH=. python benchmarks/experiments/epi_vs_lymph_s36.py analyse --rows /tmp/s36_h13/rows.npz \
        --png /work/notes/s36/h13_crops.png
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_nucleus_model as tnm  # noqa: E402
from _nucleus_restain import MATCH_UM, MPP, restain_as_ihc  # noqa: E402
from _training_data import held_out, read_rgb  # noqa: E402

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features  # noqa: E402
from mmnst_path.classify.train import match_points  # noqa: E402

TU, LY, ST = 0, 1, 2
OTHER = 3  # EndoNuke "other nuclei"
SRC = ("endonuke", "brca_ihc", "brca_he", "gen_infiltrate")
NEW = ("h_mean", "h_cv", "gran_1um", "gran_05um", "maxima_um2", "dark_abs", "dark_rel", "roundness", "solidity",
       "major_um", "minor_um", "axis_ratio", "edge_grad", "edge_step", "rim_rel_bg", "rim_h_rel", "rim_ring_cv",
       "lumen_um", "axis_to_nn", "axis_par", "nbr_area_cv")
RING_UM = (1.0, 3.0)
NBR_UM = 20.0
DARK_OD = 0.6
CROP_PX = 24


def new_features(rgb: np.ndarray, labels: np.ndarray, hem: np.ndarray, mpp: float) -> np.ndarray:
    """The candidate features of the module docstring for labels 1..n of ``labels`` (n, len(NEW))."""
    from scipy.spatial import cKDTree
    from skimage.measure import regionprops

    od = -np.log10((rgb.astype(np.float64) + 1.0) / 256.0).sum(axis=2)
    nuc = labels > 0
    tissue = od[~nuc]
    glass = float(np.percentile(od, 1))
    t_med = float(np.median(tissue[tissue > glass + 0.1])) if np.any(tissue > glass + 0.1) else float(np.median(od))
    h_tissue = float(np.median(hem[~nuc & (od > glass + 0.1)])) if np.any(~nuc & (od > glass + 0.1)) else 1e-3
    h_nuc_med = float(np.median(hem[nuc])) if nuc.any() else 1.0
    white = od < 0.25 * t_med
    lab_w, n_w = ndi.label(white)
    if n_w:
        sizes = ndi.sum(white, lab_w, np.arange(1, n_w + 1)) * mpp * mpp
        white = np.isin(lab_w, 1 + np.flatnonzero(sizes >= 10.0))
    dist_white = ndi.distance_transform_edt(~white) * mpp if white.any() else np.full(labels.shape, 999.0)
    h05 = ndi.gaussian_filter(hem, 0.5 / mpp)
    h1 = ndi.gaussian_filter(hem, 1.0 / mpp)
    gy, gx = np.gradient(h05)
    grad = np.hypot(gy, gx) / mpp
    win = max(3, round(1.5 / mpp) | 1)
    peaks = (h05 == ndi.maximum_filter(h05, size=win))
    props = regionprops(labels)
    n = int(labels.max())
    out = np.full((n, len(NEW)), np.nan)
    cen = np.zeros((n, 2))
    area = np.zeros(n)
    theta = np.zeros(n)
    ecc = np.zeros(n)
    pad = int(np.ceil(RING_UM[1] / mpp)) + 1
    r_in, r_out = RING_UM[0] / mpp, RING_UM[1] / mpp
    m_img, n_img = labels.shape
    for p in props:
        i = p.label - 1
        r0, c0, r1, c1 = p.bbox
        sl = (slice(max(r0 - pad, 0), min(r1 + pad, m_img)), slice(max(c0 - pad, 0), min(c1 + pad, n_img)))
        lab = labels[sl]
        mask = lab == p.label
        h = hem[sl][mask]
        hm = float(h.mean()) if h.size else np.nan
        hm_safe = hm if hm > 1e-6 else 1e-6
        d_out = ndi.distance_transform_edt(~mask)
        d_in = ndi.distance_transform_edt(mask)
        ring = (d_out >= r_in) & (d_out <= r_out) & (lab == 0)
        outer = (d_out > 0) & (d_out <= 1.0 / mpp) & (lab == 0)
        inner = mask & (d_in <= 1.0 / mpp)
        edge = mask & (d_in <= 1.0)
        a_um = float(mask.sum()) * mpp * mpp
        er = ndi.binary_erosion(mask)
        n_max = int(np.sum(peaks[sl] & er & (h05[sl] > hm)))
        per = float(p.perimeter) * mpp
        ro = od[sl][ring]
        out[i] = (
            hm,
            float(h.std()) / hm_safe,
            float((hem[sl] - h1[sl])[mask].std()) / hm_safe,
            float((hem[sl] - h05[sl])[mask].std()) / hm_safe,
            n_max / a_um,
            float(np.mean(h > DARK_OD)),
            float(np.mean(h > 1.3 * h_nuc_med)),
            4 * np.pi * a_um / per**2 if per > 0 else np.nan,
            float(p.solidity),
            float(p.axis_major_length) * mpp,
            float(p.axis_minor_length) * mpp,
            float(p.axis_minor_length) / max(float(p.axis_major_length), 1e-6),
            float(grad[sl][edge].mean()) / hm_safe,
            (float(hem[sl][inner].mean()) - float(hem[sl][outer].mean())) / hm_safe if outer.any() else np.nan,
            (float(ro.mean()) - glass) / max(t_med - glass, 1e-6) if ro.size else np.nan,
            float(hem[sl][ring].mean()) / max(h_tissue, 1e-6) if ro.size else np.nan,
            float(ro.std()) / max(float(ro.mean()), 1e-6) if ro.size else np.nan,
            0.0, 0.0, 0.0, 0.0,
        )
        cen[i] = p.centroid
        area[i] = a_um
        theta[i] = p.orientation  # radians from the row axis (skimage convention)
        ecc[i] = p.eccentricity
        rc, cc = round(p.centroid[0]), round(p.centroid[1])
        out[i, NEW.index("lumen_um")] = float(dist_white[rc, cc]) - np.sqrt(a_um / np.pi)
    tree = cKDTree(cen * mpp)
    axis = np.c_[np.cos(theta), np.sin(theta)]  # (row, col) unit vector of the long axis
    k = min(3, n)
    dd, ii = tree.query(cen * mpp, k=k)
    dd, ii = np.atleast_2d(dd), np.atleast_2d(ii)
    for i in range(n):
        nn = ii[i, 1:]
        if len(nn):
            v = cen[nn] - cen[i]
            v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            out[i, NEW.index("axis_to_nn")] = float(np.mean((v @ axis[i]) ** 2))
        near = [j for j in tree.query_ball_point(cen[i] * mpp, NBR_UM) if j != i]
        if near:
            w = ecc[near] * ecc[i]
            c2 = np.cos(2 * (theta[near] - theta[i]))
            out[i, NEW.index("axis_par")] = float(np.sum(w * c2) / max(np.sum(w), 1e-9))
            a = area[[i, *near]]
            out[i, NEW.index("nbr_area_cv")] = float(a.std() / a.mean())
        else:
            out[i, NEW.index("axis_par")] = np.nan
            out[i, NEW.index("nbr_area_cv")] = np.nan
    return out


def image_rows(rgb: np.ndarray, points_rc: np.ndarray, point_cls: np.ndarray, preset: str, *, he: bool = False):
    """Detections of one image: positions, 20 features, new features, matched label (-1 none, -2 ignored),
    and a 48 px RGB crop around each."""
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains

    settings = NucleusFeatureSettings()
    matrix = get_preset(preset)
    conc = separate_stains(rgb, matrix, stains=(matrix.names[0], matrix.names[1]))
    hem, chrom = conc[..., 0], conc[..., 1]
    if he:
        chrom = np.zeros_like(hem)  # as-is H&E: no chromogen, eosin is not a positive signal
    nuclei = nuclei_from_stains(hem, chrom, mpp=MPP, return_labels=True)
    if len(nuclei) == 0:
        return None
    feats = nucleus_features(nuclei.labels, hem, chrom, mpp=MPP, settings=settings)
    new = new_features(rgb, nuclei.labels, hem, MPP)
    det = np.c_[nuclei.row, nuclei.col].astype(np.float64)
    label = np.full(len(det), -1, np.intp)
    d, a = match_points(det, points_rc, MATCH_UM / MPP)
    edge = tnm.EDGE_UM / MPP
    m, n = rgb.shape[:2]
    inside = (det[d, 0] >= edge) & (det[d, 0] < m - edge) & (det[d, 1] >= edge) & (det[d, 1] < n - edge)
    label[d] = np.where(inside & (point_cls[a] >= 0), point_cls[a], -2)
    padded = np.pad(rgb, ((CROP_PX, CROP_PX), (CROP_PX, CROP_PX), (0, 0)), mode="edge")
    crops = np.zeros((len(det), 2 * CROP_PX, 2 * CROP_PX, 3), np.uint8)
    for j, (r, c) in enumerate(np.round(det).astype(int)):
        if label[j] >= 0:
            crops[j] = padded[r:r + 2 * CROP_PX, c:c + 2 * CROP_PX]
    return det, feats.astype(np.float32), new.astype(np.float32), label, crops


def extract(args: argparse.Namespace) -> None:
    out: dict[str, list] = {k: [] for k in ("pos", "x", "z", "y", "g", "src", "crop")}
    group = 0
    t0 = time.time()

    def add(res, src):
        nonlocal group
        if res is None:
            return
        det, x, z, y, crop = res
        keep = y >= 0  # labelled rows only
        out["pos"].append(det[keep])
        out["x"].append(x[keep])
        out["z"].append(z[keep])
        out["y"].append(y[keep])
        out["g"].append(np.full(int(keep.sum()), group, np.intp))
        out["src"].append(np.full(int(keep.sum()), src, np.intp))
        out["crop"].append(crop[keep])
        group += 1

    # EndoNuke DEV, in H7's order (so its stage-1 out-of-fold probabilities join on identical detections)
    en_map = {0: ST, 1: TU, 2: OTHER}  # EndoNuke "other nuclei" kept as a same-source control
    h7 = np.load(args.h7) if args.h7 else None
    p1_all = np.load(args.h7.with_name(args.h7.stem + "_stage1_f3.npz"))["p1"] if args.h7 else None
    h7_groups = np.unique(h7["g"][h7["src"] == 1]) if h7 is not None else []
    p1_rows: list[np.ndarray] = []
    k_en = 0
    for txt in sorted((args.train / "endonuke" / "mixed").glob("*.txt")):
        img = txt.with_suffix(".png")
        if not img.is_file() or held_out(img.name, 0.2):
            continue  # EndoNuke VAL: never read
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0:
            continue
        cls = np.array([en_map[int(k)] for k in pts[:, 2]])
        res = image_rows(read_rgb(img), pts[:, [1, 0]], cls, "H-DAB")
        if res is not None and h7 is not None:
            sel = h7["g"] == h7_groups[k_en]
            det_all = h7["pos"][sel]
            if det_all.shape != res[0].shape or not np.allclose(det_all, res[0]):
                raise RuntimeError(f"EndoNuke {img.name}: detections differ from H7's")
            p1_rows.append(p1_all[sel][res[3] >= 0, 0])
        if res is not None:
            k_en += 1
        add(res, 0)
    print(f"endonuke dev: {time.time() - t0:.0f} s", file=sys.stderr)
    meta = args.train / "brca_m2c" / "_meta"
    test = {s.strip() for s in (meta / "brca_ds_test.txt").read_text().split() if s.strip()}
    mapping = {1: LY, 2: TU, 3: ST}
    rng = np.random.default_rng(0)
    for txt in sorted((args.train / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt")):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        if img.stem in test or img.name in test:
            continue  # BRCA-M2C test split: never read
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0 or not img.is_file():
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        rgb = read_rgb(img)
        ihc = restain_as_ihc(rgb, pts[:, :2], cls, rng, None, 0.0, 1.5, "dab")
        add(image_rows(ihc, pts[:, :2], cls, "H-DAB"), 1)
        add(image_rows(rgb, pts[:, :2], cls, "H&E", he=True), 2)
    print(f"brca train+val: {time.time() - t0:.0f} s", file=sys.stderr)
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    for seed in range(640, 664):
        tile = ki67_cells_tile(seed, tumour="nest", lymphocytes="infiltrate")
        cells = tile.truth["cells"]
        cls = np.array([tnm.CLASSES.index(tnm.GENERATED_CLASS[str(t)]) for t in cells["cell_type"]], np.intp)
        add(image_rows(tile.rgb, np.c_[cells["row"], cells["col"]], cls, "H-DAB"), 3)
    print(f"generated: {time.time() - t0:.0f} s", file=sys.stderr)
    cat = {k: np.concatenate(v) for k, v in out.items()}
    n_en = int((cat["src"] == 0).sum())
    cat["p1_tumour"] = np.full(len(cat["y"]), np.nan)
    if p1_rows:
        cat["p1_tumour"][:n_en] = np.concatenate(p1_rows)
    names = [f.name for f in nucleus_feature_specs(NucleusFeatureSettings())]
    np.savez_compressed(args.out, **cat, names=np.array(names), new=np.array(NEW))


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a positive row's value > a negative row's) (Mann-Whitney, ties half), NaNs dropped."""
    from scipy.stats import rankdata

    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)]
    if not len(pos) or not len(neg):
        return np.nan
    r = rankdata(np.r_[pos, neg])
    return float((r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def analyse(args: argparse.Namespace) -> None:
    z = dict(np.load(args.rows))
    names = [str(s) for s in z["names"]] + [str(s) for s in z["new"]]
    x = np.c_[z["x"], z["z"]].astype(np.float64)
    y, src, g = z["y"], z["src"], z["g"]
    area = z["x"][:, 0]
    small = (area >= 25) & (area <= 65)  # the confusable size band (µm²), both sides
    en, bi, bh, ge = (src == k for k in range(4))
    p1 = z["p1_tumour"]
    sets = {
        "E_epi": en & (y == TU), "E_epi_misread": en & (y == TU) & (p1 < 0.2), "E_str": en & (y == ST),
        "E_oth": en & (y == OTHER),
        "B_ly": bi & (y == LY), "B_tu": bi & (y == TU), "B_st": bi & (y == ST),
        "H_ly": bh & (y == LY), "H_tu": bh & (y == TU), "H_st": bh & (y == ST),
        "G_ly": ge & (y == LY), "G_tu": ge & (y == TU), "G_st": ge & (y == ST),
    }
    print("rows:", {k: int(v.sum()) for k, v in sets.items()},
          "small band:", {k: int((v & small).sum()) for k, v in sets.items()})
    pairs = [  # (label, epithelium-like positive, lymphocyte-like negative)
        ("EepiS_vs_BlyS", "E_epi", "B_ly", True), ("EmisS_vs_BlyS", "E_epi_misread", "B_ly", True),
        ("EepiS_vs_GlyS", "E_epi", "G_ly", True), ("BtuS_vs_BlyS", "B_tu", "B_ly", True),
        ("GtuS_vs_GlyS", "G_tu", "G_ly", True), ("HtuS_vs_HlyS", "H_tu", "H_ly", True),
        ("EepiS_vs_EothS", "E_epi", "E_oth", True),
        ("Estr_vs_Bstr", "E_str", "B_st", False), ("Eepi_vs_Btu", "E_epi", "B_tu", False),
    ]
    table = np.array([[auc(x[sets[a] & (small if s else True), j], x[sets[b] & (small if s else True), j])
                       for (_, a, b, s) in pairs] for j in range(len(names))])
    print("\nper-feature AUC (S = both sides restricted to 25-65 µm²); > 0.5: epithelium-like side larger")
    print("| feature | " + " | ".join(p[0] for p in pairs) + " | biology score |")
    print("|---|" + "---:|" * (len(pairs) + 1))
    # biology score: separates epithelium from lymphocytes within a source (BRCA IHC and generated), in the
    # same direction as across sources, and does not separate the two sources' stroma
    score = []
    for j, n in enumerate(names):
        t = table[j]
        within = [t[3] - 0.5, t[4] - 0.5]
        agree = np.sign(t[0] - 0.5) == np.sign(within[0]) == np.sign(within[1])
        s = min(abs(within[0]), abs(within[1])) * agree - max(0.0, abs(t[7] - 0.5) - 0.1)
        score.append(s)
        print(f"| {n} | " + " | ".join(f"{v:.4f}" for v in t) + f" | {s:.4f} |")
    order = np.argsort(score)[::-1]
    print("\nby biology score:", [(names[j], round(score[j], 4)) for j in order[:12]])
    chrom = z["x"][:, names.index("od_mean")] - z["z"][:, list(z["new"]).index("h_mean")]
    print("median chromogen OD (od_mean - h_mean) / share > 0.3:",
          {k: (round(float(np.median(chrom[v])), 4), round(float(np.mean(chrom[v] > 0.3)), 4)) for k, v in sets.items()})
    tile_ranks(x, g, sets, small, names, pairs)
    np.save(args.rows.with_name("auc_table.npy"), table)
    forests(x, y, src, g, sets, small, names)
    xr = np.c_[x, np.stack([rank_in_tile(x[:, names.index(n)], g) for n in RANK_SAFE], axis=1)]
    transfer(xr, g, sets, small, names + [f"r_{n}" for n in RANK_SAFE])
    if args.png:
        sheet(z, sets, small, names, table, args.png)


RANKED = ("h_mean", "h_cv", "gran_05um", "gran_1um", "edge_grad", "edge_step", "dark_abs", "rim_rel_bg", "lumen_um",
          "maxima_um2", "od_mean", "od_fine")


#: tile-ranked features that separate tumour from lymphocytes within each source in one direction and not
#: EndoNuke's stroma from BRCA-M2C's (|AUC - 0.5| <= 0.1)
RANK_SAFE = ("h_cv", "edge_grad", "h_mean", "od_fine")


def rank_in_tile(v: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Percentile rank (0-1) of each value among the labelled detections of its image."""
    from scipy.stats import rankdata

    r = np.full(len(v), np.nan)
    for gg in np.unique(g):
        m = g == gg
        r[m] = (rankdata(v[m]) - 0.5) / m.sum()
    return r


def tile_ranks(x, g, sets, small, names, pairs) -> None:
    """AUCs of features turned into their percentile rank among the image's labelled detections: a per-tile
    offset of the source (scanner, stain, noise) drops out; what is left compares a nucleus with its tile."""
    print("\nper-feature AUC of the within-image percentile rank (same pairs as above)")
    print("| feature (rank in tile) | " + " | ".join(p[0] for p in pairs) + " |")
    print("|---|" + "---:|" * len(pairs))
    for n in RANKED:
        r = rank_in_tile(x[:, names.index(n)], g)
        t = [auc(r[sets[a] & (small if s else True)], r[sets[b] & (small if s else True)]) for (_, a, b, s) in pairs]
        print(f"| r_{n} | " + " | ".join(f"{u:.4f}" for u in t) + " |")


def forests(x, y, src, g, sets, small, names) -> None:
    """Grouped (image) CV AUC of a forest on the 20 features vs the 20 + new, per task, and the new
    features' share of impurity importance."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    tasks = {
        "EndoNuke epi vs BRCA-IHC lymph (small band)": (sets["E_epi"] & small, sets["B_ly"] & small),
        "EndoNuke epi vs generated lymph (small band)": (sets["E_epi"] & small, sets["G_ly"] & small),
        "BRCA-IHC tumour vs lymph (small band, one source)": (sets["B_tu"] & small, sets["B_ly"] & small),
        "BRCA-H&E tumour vs lymph (small band, one source)": (sets["H_tu"] & small, sets["H_ly"] & small),
        "generated tumour vs lymph (small band, one source)": (sets["G_tu"] & small, sets["G_ly"] & small),
        "control: EndoNuke stroma vs BRCA-IHC stroma (source)": (sets["E_str"], sets["B_st"]),
    }
    print("\n| task | n pos / neg | AUC 20 features | AUC 20 + new | top new features (importance share) |")
    print("|---|---|---:|---:|---|")
    xx = np.nan_to_num(x, nan=-1.0)
    for name, (pos, neg) in tasks.items():
        idx = np.flatnonzero(pos | neg)
        lab = pos[idx].astype(int)
        res = []
        imp = np.zeros(x.shape[1])
        for cols in (slice(0, 20), slice(0, x.shape[1])):
            sc = np.zeros(len(idx))
            for tr, te in GroupKFold(n_splits=3).split(idx, lab, g[idx]):
                rf = RandomForestClassifier(n_estimators=80, max_depth=12, min_samples_leaf=8,
                                            class_weight="balanced_subsample", random_state=0,
                                            n_jobs=1).fit(xx[idx[tr], cols], lab[tr])
                sc[te] = rf.predict_proba(xx[idx[te], cols])[:, 1]
                if cols.stop == x.shape[1]:
                    imp += rf.feature_importances_
            res.append(roc_auc_score(lab, sc))
        imp /= imp.sum()
        top = np.argsort(imp[20:])[::-1][:5] + 20
        print(f"| {name} | {int(lab.sum())} / {int((1 - lab).sum())} | {res[0]:.4f} | {res[1]:.4f} | "
              + ", ".join(f"{names[j]} {imp[j]:.3f}" for j in top) + f" (new total {imp[20:].sum():.3f}) |")


BIO = ("dark_rel", "dark_abs", "h_cv", "edge_grad", "edge_step", "rim_rel_bg", "nbr_area_cv")
#: new features that separate tumour from lymphocytes within BRCA-M2C and within the generated tiles but not
#: EndoNuke's stroma from BRCA-M2C's (|AUC - 0.5| <= 0.1 there): the only source-safe biology candidate found
SAFE = ("dark_rel",)


def transfer(x, g, sets, small, names) -> None:
    """The deployment question: a lymphocyte-vs-tumour forest fitted on one source's truth (BRCA-M2C restained,
    small band; optionally + generated) with the 20 features, + the within-source biology candidates
    (:data:`BIO`), or + all new; its threshold set out of fold (image folds) where it calls 70 % of BRCA
    lymphocytes; then the share of EndoNuke DEV epithelium it calls lymphocyte (small band, the misread set,
    all sizes) and of EndoNuke stroma."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GroupKFold

    xx = np.nan_to_num(x, nan=-1.0)
    col = {n: i for i, n in enumerate(names)}
    designs = {"20": list(range(20)), "20 + BIO": list(range(20)) + [col[n] for n in BIO],
               "20 + SAFE": list(range(20)) + [col[n] for n in SAFE],
               "20 + SAFE + tile ranks": list(range(20)) + [col[n] for n in SAFE]
               + [col[f"r_{n}"] for n in RANK_SAFE],
               "20 + all new": list(range(20 + len(NEW)))}
    print("\n| fitted on | features | OOF BRCA tumour called lymph % (at 70 % lymph) | EndoNuke epi small called lymph % "
          "| EndoNuke epi misread % | EndoNuke epi all % | EndoNuke stroma % | EndoNuke other % |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for fit_name, pos_key, neg_key in (("BRCA-IHC", ["B_tu"], ["B_ly"]),
                                       ("BRCA-IHC + generated", ["B_tu", "G_tu"], ["B_ly", "G_ly"])):
        tu = np.zeros(len(x), bool)
        ly = np.zeros(len(x), bool)
        for k in pos_key:
            tu |= sets[k] & small
        for k in neg_key:
            ly |= sets[k] & small
        idx = np.flatnonzero(tu | ly)
        lab = ly[idx].astype(int)
        for dname, cols in designs.items():
            sc = np.zeros(len(idx))
            for tr, te in GroupKFold(n_splits=3).split(idx, lab, g[idx]):
                rf = RandomForestClassifier(n_estimators=80, max_depth=12, min_samples_leaf=8,
                                            class_weight="balanced_subsample", random_state=0,
                                            n_jobs=1).fit(xx[idx[tr]][:, cols], lab[tr])
                sc[te] = rf.predict_proba(xx[idx[te]][:, cols])[:, 1]
            brca = np.isin(idx, np.flatnonzero(sets["B_tu"] | sets["B_ly"]))
            t = float(np.quantile(sc[brca & (lab == 1)], 0.30))
            fp = 100 * float(np.mean(sc[brca & (lab == 0)] >= t))
            rf = RandomForestClassifier(n_estimators=80, max_depth=12, min_samples_leaf=8,
                                        class_weight="balanced_subsample", random_state=0,
                                        n_jobs=1).fit(xx[idx][:, cols], lab)

            def called(m, rf=rf, cols=cols, t=t):
                return 100 * float(np.mean(rf.predict_proba(xx[m][:, cols])[:, 1] >= t))

            print(f"| {fit_name} | {dname} | {fp:.4f} | {called(sets['E_epi'] & small):.4f} | "
                  f"{called(sets['E_epi_misread']):.4f} | {called(sets['E_epi']):.4f} | {called(sets['E_str']):.4f} | "
                  f"{called(sets['E_oth']):.4f} |")


def sheet(z, sets, small, names, table, png: Path) -> None:
    """12 misread small EndoNuke epithelial nuclei, 12 small BRCA-IHC lymphocytes and 12 generated ones
    (and 12 EndoNuke "other nuclei"), each 24 µm crop x3 with the top features written under it."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(13)
    show = ["area_um2", "dark_rel", "h_mean", "gran_05um", "minor_um", "rim_rel_bg", "edge_step", "nbr_area_cv"]
    abbrev = ["area", "dark_rel", "h_mean", "gran05", "minor", "rim_bg", "edge_st", "nb_cv"]
    col = {n: i for i, n in enumerate(names)}
    x = np.c_[z["x"], z["z"]]
    rows = [("EndoNuke DEV epithelium, 25-65 um2, misread (H7 stage-1 OOF P(tumour) < 0.2)", sets["E_epi_misread"] & small),
            ("BRCA-M2C train+val lymphocyte, 25-65 um2, restained H-DAB", sets["B_ly"] & small),
            ("generated infiltrate lymphocyte (seeds 640-663), 25-65 um2", sets["G_ly"] & small),
            ("EndoNuke DEV 'other nuclei' (any size)", sets["E_oth"])]
    cw, th, tw = 2 * CROP_PX * 3, 14, 10 * len(show) + 4
    w, h = 12 * (cw + 6) + 6, len(rows) * (cw + tw + th + 10) + 6
    img = Image.new("RGB", (w, h), "white")
    dr = ImageDraw.Draw(img)
    y0 = 4
    for title, m in rows:
        ids = np.flatnonzero(m)
        ids = rng.choice(ids, min(12, len(ids)), replace=False)
        dr.text((6, y0), title, fill="black")
        y0 += th
        for k, i in enumerate(ids):
            x0 = 6 + k * (cw + 6)
            crop = Image.fromarray(z["crop"][i]).resize((cw, cw), Image.NEAREST)
            img.paste(crop, (x0, y0))
            c = x0 + cw // 2
            dr.line([(c - 4, y0 + cw // 2), (c + 4, y0 + cw // 2)], fill=(0, 255, 0))
            dr.line([(c, y0 + cw // 2 - 4), (c, y0 + cw // 2 + 4)], fill=(0, 255, 0))
            for t, (sname, ab) in enumerate(zip(show, abbrev, strict=True)):
                dr.text((x0, y0 + cw + 2 + 10 * t), f"{ab} {x[i, col[sname]]:.2f}", fill="black")
        y0 += cw + tw + 10
    img.save(png)
    print("wrote", png)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    e.add_argument("--h7", type=Path, default=None, help="H7's det.npz (its _stage1_f3.npz beside it)")
    e.add_argument("--out", type=Path, required=True)
    a = sub.add_parser("analyse")
    a.add_argument("--rows", type=Path, required=True)
    a.add_argument("--png", type=Path, default=None)
    args = ap.parse_args()
    {"extract": extract, "analyse": analyse}[args.cmd](args)


if __name__ == "__main__":
    main()
