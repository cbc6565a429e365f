"""Train the shipped hematoxylin-chromogen (IHC) default tissue classifier from redistributable data.

Usage::

    .venv/bin/python scripts/train_tissue_ihc_model.py [--train ../shared/train]
        [--out mmnst_path/models/tissue_ihc_default.mmnst]

Classes: ``tumour`` (cohesive epithelium / tumour cell nests), ``stroma`` (fibrous and cellular
stroma with its spindle and inflammatory cells), ``background`` (glass, lumina). The features are
those of the H&E model (:mod:`mmnst_path.classify.tissue_features`) with the chromogen (DAB)
plane in place of eosin (``settings["stains"] = "H-DAB"``).

Training data (redistributable with attribution, see ``../shared/train/README.md``):

- EndoNuke (Naumov et al., Data 2022, CC BY 4.0; hosted by ispras/endonet, Apache-2.0): 282
  ER/PR-stained endometrium tiles of 200 x 200 px with nucleus keypoints labelled stroma (0),
  epithelium (1) or other (2). The scale is not stated; stromal nuclei measure ~11 px across
  (about 5.5 µm), so the tiles are read at 0.5 µm/px. Region labels are derived from the
  keypoints: ``tumour`` within ``EPI_UM`` of an epithelial nucleus and at least ``MARGIN_UM``
  closer to it than to any stromal one; ``stroma`` tissue within ``STROMA_UM`` of a stromal
  nucleus and ``MARGIN_UM`` closer to it, or tissue farther than ``FAR_UM`` from every
  epithelial nucleus; ``background`` glass (total OD < 0.15 after a 1.5 µm smoothing) farther
  than 4 µm from every nucleus; the rest is unlabelled. A quarter of the tiles (by a hash of the
  name) and the 10 ``staining_ds`` tiles (EndoNet's test subset) are held out for validation.
  ER/PR stain most epithelial and stromal nuclei brown, while a Ki67 slide is mostly blue: the
  augmentation moves a random share (all of it in 40 % of the copies, else 30-100 %) of the nuclear
  DAB of a copy into hematoxylin (x0.2-0.8, pale like Ki67-negative nuclei) and scales the
  non-nuclear DAB by 0.1-1, so that the model learns architecture, not positivity; the ER/PR
  originals themselves do not train.
- BRCA-M2C (Abousamra et al., ICCV 2021, BSD-3-Clause, TCGA breast carcinoma H&E, 0.5 µm/px):
  120 patches with tumour / stromal / lymphocyte nucleus points, labelled like EndoNuke (tumour
  points as epithelium, stromal and lymphocyte points as stroma) and re-rendered as IHC
  (:func:`ihc_from_he`: hematoxylin kept, eosin dropped but a trace, a random share of the nuclei,
  the same for every cell type, DAB-positive), ``BRCA_COPIES`` renderings each; the official test split is held out. This is
  the carcinoma architecture (nests of large pale nuclei, lymphocyte-rich stroma) that EndoNuke's
  cellular endometrial stroma lacks.
- Generated IHC tiles (:func:`mmnst_path.synthetic_tissue.ihc_tissue_tile`, this project,
  BSD-3-Clause): tumour nests in stroma with glass, DAB (and some AEC / Fast Red) at 0.25-1 µm/px;
  seeds ``SYNTH_TRAIN`` train, ``SYNTH_VALID`` validate.

Every copy is also augmented in stain amounts, stain vectors (rotated up to 8°), white balance,
blur, noise, JPEG and the claimed pixel size. The research-only Ki67 sets in
``../shared/data/ki67`` are never read (``benchmarks/accuracy.py --count-in tumour`` validates on them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

HERE = Path(__file__).resolve().parent
sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(HERE.parent))  # after PYTHONPATH's trees

from mmnst_path.classify.tissue_features import (  # noqa: E402
    TissueFeatureSettings,
    base_maps,
    block_mean,
    features_from_base,
    grid_factors,
    tissue_feature_specs,
)
from mmnst_path.classify.train import train_model  # noqa: E402

sys.path.insert(0, str(HERE))
from _tissue_common import SplitRows, add_evaluation, forest_options, print_saved, report_line  # noqa: E402
from _training_data import BRCA_M2C, held_out, read_rgb, render_variant  # noqa: E402

CLASSES = ("tumour", "stroma", "background")
ENDONUKE_MPP = 0.5
BRCA_MPP = 0.5
BRCA_COPIES = 2  # IHC renderings of every BRCA-M2C patch (each with its own positivity draw)
EPI_UM, STROMA_UM, FAR_UM, MARGIN_UM = 8.0, 12.0, 25.0, 4.0
NUCLEUS_UM = 3.5  # radius treated as nuclear when moving DAB into hematoxylin
SYNTH_TRAIN = tuple(range(200, 236))
SYNTH_VALID = tuple(range(300, 308))
LIMITATIONS = (
    "Region labels are derived from nucleus points (EndoNuke endometrium ER/PR; BRCA-M2C breast carcinoma H&E "
    "re-rendered as IHC), not painted; no necrosis, fat, mucin or blood class. On the research-only Ki67 sets "
    "(BCData, SHIDC, DeepLIIF) the tumour region misses many pale tumour nests and follows DAB-positive nuclei, "
    "and on SHIDC it does not separate lymphocyte-rich stroma from tumour: counting in it raised the index MAE on "
    "every set (benchmarks/README.md, 'Tissue classes (#13)'), so [ki67] count_in stays 'all' by default.")
ATTRIBUTION = [
    {"dataset": "EndoNuke", "licence": "CC BY 4.0 (dataset); hosting repository ispras/endonet Apache-2.0",
     "citation": "Naumov A, Ushakov E, Ivanov A, et al. EndoNuke: Nuclei Detection Dataset for Estrogen and "
                 "Progesterone Stained IHC Endometrium Scans. Data 2022, 7(6), 75, doi:10.3390/data7060075",
     "use": "mixed/ tiles (ER/PR IHC, read at 0.5 µm/px): region labels derived from the epithelium / stroma "
            "nucleus keypoints; a quarter of the tiles (hash of the name) and staining_ds/ held out"},
    {**BRCA_M2C,
     "use": "120 patches at 0.5 µm/px re-rendered as hematoxylin-DAB (eosin dropped, random nuclei DAB-positive); "
            "region labels from the tumour / stromal / lymphocyte points (lymphocytes = stroma); the official "
            "test split (30) held out"},
    {"dataset": "mmnst_path.synthetic_tissue.ihc_tissue_tile (generated by this project)", "licence": "BSD-3-Clause",
     "use": f"seeds {SYNTH_TRAIN[0]}-{SYNTH_TRAIN[-1]} train, {SYNTH_VALID[0]}-{SYNTH_VALID[-1]} validate"},
]


def point_labels(rgb: np.ndarray, rows: np.ndarray, cols: np.ndarray, kinds: np.ndarray, mpp: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(class-index image, -1 unlabelled; nuclear pixel mask) from nucleus points of kind
    ``"epithelium"`` (tumour), ``"stroma"`` or ``"other"`` (see the module docstring)."""
    from mmnst_path.stain import od_from_rgb

    shape = rgb.shape[:2]

    def dist_um(kind: str) -> np.ndarray:
        sel = kinds == kind
        if not sel.any():
            return np.full(shape, np.inf)
        seeds = np.ones(shape, bool)
        seeds[np.clip(np.rint(rows[sel]).astype(int), 0, shape[0] - 1),
              np.clip(np.rint(cols[sel]).astype(int), 0, shape[1] - 1)] = False
        return ndi.distance_transform_edt(seeds) * mpp

    d_s, d_e, d_o = dist_um("stroma"), dist_um("epithelium"), dist_um("other")
    d_any = np.minimum(np.minimum(d_s, d_e), d_o)
    glass = ndi.gaussian_filter(od_from_rgb(rgb).sum(-1), 1.5 / mpp) < 0.15
    lab = np.full(shape, -1, np.int64)
    lab[~glass & (((d_s <= STROMA_UM) & (d_e >= d_s + MARGIN_UM)) | (d_e > FAR_UM))] = CLASSES.index("stroma")
    lab[~glass & (d_e <= EPI_UM) & (d_s >= d_e + MARGIN_UM)] = CLASSES.index("tumour")
    lab[glass & (d_any > 4.0)] = CLASSES.index("background")
    return lab, d_any <= NUCLEUS_UM


def endonuke_labels(rgb: np.ndarray, points: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`point_labels` of an EndoNuke tile: lines ``x y class`` (0 stroma, 1 epithelium, 2 other)."""
    kinds = np.array(["stroma", "epithelium", "other"])[points[:, 2].astype(int)]
    return point_labels(rgb, points[:, 1], points[:, 0], kinds, mpp)


def brca_labels(rgb: np.ndarray, points: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`point_labels` of a BRCA-M2C patch (lines ``y x class``: 1 lymphocyte, 2 tumour, 3 stromal; the
    lymphocytes count as stroma)."""
    kinds = np.array(["", "stroma", "epithelium", "stroma"])[points[:, 2].astype(int)]
    return point_labels(rgb, points[:, 0], points[:, 1], kinds, mpp)


def ihc_from_he(rgb: np.ndarray, nuclear: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An H&E patch re-rendered as hematoxylin-DAB IHC: eosin dropped (a trace kept as counterstain
    background), a random share of the nuclei (one rate for every cell type) turned DAB-positive,
    some non-nuclear DAB background."""
    from mmnst_path.stain import load_stains, od_from_rgb

    he = load_stains("H&E")
    conc = od_from_rgb(rgb).reshape(-1, 3).astype(np.float64) @ np.linalg.inv(np.asarray(he.vectors, np.float64))
    h = np.maximum(conc[:, 0], 0.0)
    e = np.maximum(conc[:, 1], 0.0)
    tissue = conc[:, :2].sum(-1) > 0.1
    ref = float(np.median(h[tissue])) if tissue.any() else 0.0
    # the nucleus: the point's disc where hematoxylin is above the tissue median (its real outline)
    nuclear = nuclear & (h.reshape(nuclear.shape) > ref)
    # IHC counterstain is paler than H&E hematoxylin outside the nuclei: part of the tissue level removed
    h = np.maximum(h - rng.uniform(0.3, 0.8) * ref, 0.0) * rng.uniform(0.6, 1.1)
    labels, n = ndi.label(nuclear)
    # one positivity rate for every nucleus (tumour, stromal, lymphocyte): positivity must not mark tumour
    pos = np.r_[False, rng.random(n) < rng.uniform(0.0, 0.8)][labels.ravel()]
    dab = e * rng.uniform(0.0, 0.12)
    dab[pos] += h[pos] * rng.uniform(0.8, 2.5)
    h[pos] *= 0.3
    h += e * rng.uniform(0.0, 0.15)
    dab_v = np.asarray(load_stains("H-DAB").vectors, np.float64)
    od = (h[:, None] * dab_v[0] + dab[:, None] * dab_v[1]).reshape(rgb.shape)
    return np.clip(np.rint(250.0 * np.power(10.0, -od)), 0, 255).astype(np.uint8)


def augment(rgb: np.ndarray, mpp: float, nuclear: np.ndarray | None, rng: np.random.Generator,
            stains: str = "H-DAB") -> tuple[np.ndarray, float]:
    """A stain / scanner / compression variant of an IHC image and the pixel size to claim for it.

    With ``nuclear`` (bool mask) a random share of the chromogen there becomes hematoxylin
    (positive nuclei turn negative) and the chromogen elsewhere is scaled by 0.1-1.
    """
    from mmnst_path.stain import load_stains, od_from_rgb

    v = np.asarray(load_stains(stains).vectors, np.float64)
    conc = od_from_rgb(rgb).reshape(-1, 3).astype(np.float64) @ np.linalg.inv(v)
    if nuclear is not None:
        nuc = nuclear.reshape(-1)
        dab = np.maximum(conc[:, 1], 0.0)
        move = 1.0 if rng.random() < 0.4 else rng.uniform(0.3, 1.0)
        conc[nuc, 0] += move * dab[nuc] * rng.uniform(0.2, 0.8)
        conc[nuc, 1] -= move * dab[nuc]
        conc[~nuc, 1] *= rng.uniform(0.1, 1.0)
    conc[:, :2] *= rng.uniform(0.6, 1.5, size=2)
    return render_variant(conc, v, rgb.shape, mpp, rng)


def tile_rows(rgb: np.ndarray, mpp: float, lab: np.ndarray, stains: str, settings: TissueFeatureSettings,
              rng: np.random.Generator, n: int, min_share: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` feature rows of the output blocks that one class covers >= ``min_share`` of."""
    f, k, j = grid_factors(mpp, settings)
    big = f * k * j
    m, n_ = rgb.shape[:2]
    mp, np_ = -(-m // big) * big, -(-n_ // big) * big
    rgb_p = np.pad(rgb, ((0, mp - m), (0, np_ - n_), (0, 0)), mode="reflect")
    base, gm = base_maps(rgb_p, mpp=mpp, stains=stains, settings=settings)
    feats = block_mean(features_from_base(base, gm, k, settings), j)
    shape = feats.shape[:2]
    lab_p = np.pad(lab, ((0, mp - m), (0, np_ - n_)), constant_values=-1)
    cls = np.full(shape, -1, np.int64)
    for c in range(len(CLASSES)):
        share = block_mean((lab_p == c).astype(np.float32), big)[: shape[0], : shape[1]]
        cls[share >= min_share] = c
    sel = np.flatnonzero(cls.ravel() >= 0)
    if sel.size > n:
        sel = rng.choice(sel, size=n, replace=False)
    return feats.reshape(-1, feats.shape[-1])[sel], cls.ravel()[sel]


def sources(train: Path) -> Iterator[tuple[str, str, np.ndarray, float, np.ndarray, np.ndarray | None, str, bool]]:
    """(source, name, rgb, mpp, labels, nuclear mask, stains, held_out) of every image."""
    from mmnst_path.synthetic_tissue import ihc_tissue_tile

    root = train / "endonuke"
    for sub, always_held in (("mixed", False), ("staining_ds", True)):
        for p in sorted((root / sub).glob("*.png")):
            pts = np.loadtxt(p.with_suffix(".txt"), ndmin=2)
            rgb = read_rgb(p)
            lab, nuclear = endonuke_labels(rgb, pts, ENDONUKE_MPP)
            src = "endonuke" if sub == "mixed" else "endonuke_staining_ds"
            yield src, p.name, rgb, ENDONUKE_MPP, lab, nuclear, "H-DAB", always_held or held_out(p.name, 0.25)
    brca = train / "brca_m2c"
    test_names = set((brca / "_meta" / "brca_ds_test.txt").read_text().split())
    rng = np.random.default_rng(7)
    for p in sorted((brca / "mixed").glob("*.png")):
        pts = np.loadtxt(p.with_name(p.stem + "_gt_class_coords.txt"), ndmin=2)
        he = read_rgb(p)
        lab, nuclear = brca_labels(he, pts, BRCA_MPP)
        for copy in range(BRCA_COPIES):
            yield ("brca_m2c", f"{p.name}#{copy}", ihc_from_he(he, nuclear, rng), BRCA_MPP, lab,
                   None, "H-DAB", p.name in test_names)
    for seeds, held in ((SYNTH_TRAIN, False), (SYNTH_VALID, True)):
        for seed in seeds:
            mpp = (0.25, 0.5, 0.5, 1.0)[seed % 4]
            chromogen = ("dab", "dab", "dab", "dab", "aec", "fast_red")[seed % 6]
            t = ihc_tissue_tile(seed, size=round(192 / mpp), mpp=mpp, chromogen=chromogen)
            lab = np.full(t.rgb.shape[:2], CLASSES.index("background"), np.int64)
            lab[t.masks["stroma"]] = CLASSES.index("stroma")
            lab[t.masks["tumour"]] = CLASSES.index("tumour")
            yield "generated", f"seed{seed}", t.rgb, mpp, lab, None, t.stains, held


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=HERE.parent.parent / "shared" / "train")
    ap.add_argument("--out", type=Path, default=HERE.parent / "mmnst_path" / "models" / "tissue_ihc_default.mmnst")
    ap.add_argument("--aug", type=int, default=4, help="augmented copies of every training image")
    ap.add_argument("--rows", type=int, default=400, help="feature rows per image and copy")
    forest_options(ap)
    ap.add_argument("--nuclear-cap", type=float, default=0.35,
                    help="TissueFeatureSettings.nuclear_cap_od: the nuclear stain (H + DAB) is capped at this OD, so "
                         "positive and negative nuclei look alike to the features (0 = no cap)")
    ap.add_argument("--add-evaluation", type=Path, default=None, metavar="JSON",
                    help="do not train: merge this JSON (e.g. Ki67 index MAE with count_in all / tumour from "
                         "benchmarks/accuracy.py) into the card of the model at --out as card['evaluation'], refresh "
                         "card['limitations'] and save it again")
    args = ap.parse_args(argv)
    if args.add_evaluation is not None:
        return add_evaluation(args.out, args.add_evaluation, limitations=LIMITATIONS)
    # positivity-blind features: DAB counted as hematoxylin, the nuclear stain capped
    settings = TissueFeatureSettings(chromogen_as_hematoxylin=True, nuclear_cap_od=args.nuclear_cap)
    rng = np.random.default_rng(13)
    t0 = time.time()
    split = SplitRows()
    for src, _name, rgb, mpp, lab, nuclear, stains, held in sources(args.train):
        # EndoNuke (ER/PR) originals are mostly positive: training sees only their recoloured copies
        first = [] if nuclear is not None and not held else [(rgb, mpp)]
        n_aug = 1 if held else (args.aug // 2 if src == "brca_m2c" else args.aug)  # BRCA: 2 renderings already
        copies = first + [augment(rgb, mpp, nuclear, rng, stains) for _ in range(n_aug)]
        for img, m in copies:
            x, y = tile_rows(img, m, lab, stains, settings, rng, args.rows)
            split.add(src, x, y, held)
    print(f"features in {time.time() - t0:.0f} s", file=sys.stderr)
    x_tr, y_tr = np.concatenate(split.tr_x), np.concatenate(split.tr_y)
    x_va, y_va = np.concatenate(split.va_x), np.concatenate(split.va_y)
    card = {
        "name": "mmnst_path default tissue classifier (hematoxylin-chromogen IHC)",
        "version": "1.0.0",
        "licence": "BSD-3-Clause (the model); training data licences and attribution below",
        "intended_use": "Hematoxylin-DAB (also AEC / Fast Red, less tested) IHC brightfield sections at "
                        f"0.25-2 µm/px: tumour / stroma / background on a {settings.output_um:g} µm grid, to count "
                        "Ki67 nuclei in the tumour region ([ki67] count_in = \"tumour\").",
        "classes_meaning": {
            "tumour": "cohesive epithelium / tumour cell nests",
            "stroma": "fibrous and cellular stroma with its spindle and inflammatory cells",
            "background": "glass, lumina"},
        "limitations": LIMITATIONS,
        "training_data": ATTRIBUTION,
        "augmentation": "EndoNuke: all (p 0.4) or 30-100 % of the nuclear DAB moved to hematoxylin x0.2-0.8, "
                        "non-nuclear DAB x0.1-1, originals not trained; all: "
                        "stain amounts x0.6-1.5, stain vectors rotated <= 8 deg, white balance x0.88-1, blur "
                        "0-0.7 µm, noise, JPEG q45-95 (p 0.7), claimed pixel size x0.85-1.18",
    }
    model = train_model(x_tr, y_tr, kind="tissue", classes=CLASSES, features=tissue_feature_specs(settings),
                        settings={"features": settings.to_mapping(), "stains": "H-DAB"},
                        card=card, validation=(x_va, y_va), n_estimators=args.trees, max_depth=args.depth,
                        min_samples_leaf=args.leaf)
    model.card["validation"]["per_source"] = split.per_source_reports(model, CLASSES)
    model.card["validation"]["note"] = (
        "held out: a quarter of the EndoNuke mixed/ tiles (hash of the name), the 10 staining_ds tiles and generated "
        f"seeds {SYNTH_VALID[0]}-{SYNTH_VALID[-1]} (original + one augmented copy each); Ki67 index with count_in "
        "'tumour' on the research-only Ki67 sets: benchmarks/accuracy.py --count-in tumour")
    model = replace(model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"trained on {len(y_tr)} blocks {model.card['training_counts']}", file=sys.stderr)
    for src, rep in [("all", model.card["validation"]["held_out"]), *model.card["validation"]["per_source"].items()]:
        print(f"held out {src}: {report_line(rep)}", file=sys.stderr)
    print_saved(args.out, model, t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
