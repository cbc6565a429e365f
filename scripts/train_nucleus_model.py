"""Train the shipped default nucleus (cell) classifier from permissively licensed data.

Usage::

    .venv/bin/python scripts/train_nucleus_model.py [--train ../shared/train] [--out mmnst_path/models/nucleus_default.mmnst]

Training data (both redistributable with attribution; see ``../shared/train/README.md``):

- EndoNuke (Naumov et al., Data 2022; CC BY 4.0, hosting repo Apache-2.0): ER/PR IHC (DAB +
  hematoxylin) endometrium, keypoints stroma / epithelium / other. ``mixed/`` trains (80 % of the
  tiles by a fixed hash of their name), the other 20 % and ``staining_ds/`` validate. No scale is
  stated; nucleus sizes and spacing give about 0.5 µm/px (epithelial nuclei 12-16 px long).
- BRCA-M2C (Abousamra et al., ICCV 2021; BSD-3-Clause): H&E breast cancer at 20x (~0.5 µm/px),
  points lymphocyte / tumour / stromal; official train + val split trains, test validates.

Each image is analysed as the pipeline analyses a tile: the project's own nucleus detector on
the hematoxylin (+ DAB) planes, then :func:`mmnst_path.classify.nucleus_features`. A detection
takes the class of the annotated point it matches (one-to-one, within 4 µm); unmatched
detections are not used. The research-only Ki67 sets in ``../shared/data`` are never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features  # noqa: E402
from mmnst_path.classify.train import class_report, match_points, train_model  # noqa: E402

CLASSES = ("tumour", "lymphocyte", "stromal", "other")
MATCH_UM = 4.0
EDGE_UM = 6.0
MPP = 0.5

ATTRIBUTION = [
    {"dataset": "EndoNuke", "licence": "CC BY 4.0 (data); Apache-2.0 (hosting repository ispras/endonet)",
     "citation": "Naumov A, et al. EndoNuke: Nuclei Detection Dataset for Estrogen and Progesterone Stained IHC "
                 "Endometrium Scans. Data 2022, 7(6), 75. doi:10.3390/data7060075",
     "use": "IHC nuclei, epithelium -> tumour, stroma -> stromal, other -> other"},
    {"dataset": "BRCA-M2C", "licence": "BSD-3-Clause, Copyright (c) 2022, TopoXLab",
     "citation": "Abousamra S, et al. Multi-Class Cell Detection Using Spatial Context Representation. ICCV 2021",
     "use": "H&E nuclei, tumour / lymphocyte / stromal"},
]


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _held_out(name: str, fraction: float = 0.2) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


def image_rows(rgb: np.ndarray, points_rc: np.ndarray, point_cls: np.ndarray, *, ihc: bool,
               settings: NucleusFeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the detected nuclei of one annotated image at 0.5 µm/px."""
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains

    if ihc:
        conc = separate_stains(rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
        hem, chrom = conc[..., 0], conc[..., 1]
    else:
        hem = separate_stains(rgb, get_preset("H&E"), stains=("hematoxylin",))[..., 0]
        chrom = None
    nuclei = nuclei_from_stains(hem, np.zeros_like(hem) if chrom is None else chrom, mpp=MPP, return_labels=True)
    if len(nuclei) == 0:
        return np.zeros((0, len(nucleus_feature_specs(settings))), np.float32), np.zeros(0, np.intp)
    feats = nucleus_features(nuclei.labels, hem, chrom, mpp=MPP, settings=settings)
    det = np.c_[nuclei.row, nuclei.col]
    d, a = match_points(det, points_rc, MATCH_UM / MPP)
    edge = EDGE_UM / MPP
    m, n = rgb.shape[:2]
    inside = (det[d, 0] >= edge) & (det[d, 0] < m - edge) & (det[d, 1] >= edge) & (det[d, 1] < n - edge)
    return feats[d[inside]], point_cls[a[inside]]


def endonuke(root: Path, settings: NucleusFeatureSettings) -> dict[str, list]:
    out: dict[str, list] = {"train": [], "val": [], "val_staining": []}
    mapping = {0: CLASSES.index("stromal"), 1: CLASSES.index("tumour"), 2: CLASSES.index("other")}
    scale = {"mixed": 1.0, "staining_ds": 0.5}  # staining_ds is ~0.25 µm/px (nuclei twice as large)
    for sub in ("mixed", "staining_ds"):
        for txt in sorted((root / "endonuke" / sub).glob("*.txt")):
            img = txt.with_suffix(".png")
            if not img.is_file():
                continue
            pts = np.loadtxt(txt, ndmin=2)
            if pts.size == 0:
                continue
            cls = np.array([mapping[int(k)] for k in pts[:, 2]])
            rgb = _read_rgb(img)
            f = scale[sub]
            if f != 1.0:
                from mmnst_path.io._resample import resize_area

                rgb = resize_area(rgb, (round(rgb.shape[0] * f), round(rgb.shape[1] * f)))
            rows = image_rows(rgb, (pts[:, [1, 0]] + 0.5) * f - 0.5, cls, ihc=True, settings=settings)
            key = "val_staining" if sub == "staining_ds" else ("val" if _held_out(img.name) else "train")
            out[key].append(rows)
    return out


def brca(root: Path, settings: NucleusFeatureSettings) -> dict[str, list]:
    meta = root / "brca_m2c" / "_meta"
    test = {line.strip() for line in (meta / "brca_ds_test.txt").read_text().split() if line.strip()}
    mapping = {1: CLASSES.index("lymphocyte"), 2: CLASSES.index("tumour"), 3: CLASSES.index("stromal")}
    out: dict[str, list] = {"train": [], "val": []}
    for txt in sorted((root / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt")):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0 or not img.is_file():
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        rows = image_rows(_read_rgb(img), pts[:, :2], cls, ihc=False, settings=settings)
        is_test = img.stem in test or img.name in test
        out["val" if is_test else "train"].append(rows)
    return out


def _stack(parts: list) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.intp)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=HERE.parent.parent / "shared" / "train")
    ap.add_argument("--out", type=Path, default=HERE.parent / "mmnst_path" / "models" / "nucleus_default.mmnst")
    ap.add_argument("--trees", type=int, default=60)
    args = ap.parse_args(argv)
    settings = NucleusFeatureSettings()
    t0 = time.time()
    en, br = endonuke(args.train, settings), brca(args.train, settings)
    print(f"features in {time.time() - t0:.0f} s", file=sys.stderr)
    x_tr, y_tr = _stack(en["train"] + br["train"])
    splits = {"endonuke_held_out": _stack(en["val"]), "endonuke_staining_ds": _stack(en["val_staining"]),
              "brca_m2c_test": _stack(br["val"])}
    x_va, y_va = _stack(en["val"] + en["val_staining"] + br["val"])
    card = {
        "name": "mmnst_path default nucleus classifier",
        "version": "1.0.0",
        "licence": "BSD-3-Clause (the model); training data licences below",
        "intended_use": "Ki67 (hematoxylin-DAB) and H&E brightfield sections analysed at 0.5 µm/px: tells "
                        "tumour/epithelial nuclei from lymphocytes and stromal nuclei so the Ki67 index counts "
                        "tumour cells only. Positivity is never decided by this model.",
        "limitations": "No macrophage class (no redistributable labelled data); EndoNuke's scale is estimated "
                       "(0.5 µm/px); epithelium of normal endometrium stands in for tumour epithelium in IHC.",
        "training_data": ATTRIBUTION,
        "label_matching": f"detections of the project's detector matched one-to-one to annotated points within "
                          f"{MATCH_UM} µm; nuclei within {EDGE_UM} µm of a tile edge left out",
    }
    model = train_model(x_tr, y_tr, kind="nucleus", classes=CLASSES, features=nucleus_feature_specs(settings),
                        settings={"features": settings.to_mapping(), "analysis_mpp_um": MPP}, card=card,
                        validation=(x_va, y_va), n_estimators=args.trees)
    per_split = {}
    for name, (xs, ys) in splits.items():
        if len(ys):
            per_split[name] = class_report(ys, model.predict(xs), CLASSES)
    model.card["validation"]["per_split"] = per_split
    from dataclasses import replace

    model = replace(model)  # card dict updated in place; the content id covers it at save time
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"trained on {len(y_tr)} nuclei {model.card['training_counts']}", file=sys.stderr)
    for name, rep in per_split.items():
        pc = rep["per_class"]
        print(f"{name}: acc {rep['accuracy']:.3f} " + " ".join(
            f"{c}:P{pc[c]['precision']:.2f}/R{pc[c]['recall']:.2f}(n={pc[c]['support']})" for c in CLASSES
            if pc[c]["support"]), file=sys.stderr)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {model.model_id})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
