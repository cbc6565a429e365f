"""Session 34 H6: nucleus detection recall and precision on EndoNuke, per keypoint stratum.

EndoNuke (CC BY 4.0, Naumov et al. 2022; real ER/PR IHC of endometrium, ``shared/train/endonuke``),
split as the nucleus model's (``scripts/_training_data.held_out(name, 0.2)``): DEV = the ``mixed``
images (0.5 µm/px) with ``held_out`` False; VAL = those with it True plus every ``staining_ds`` image
(0.25 µm/px). Each image goes through the public ``analyze_region`` (stains H-DAB, Ki67 only, default
configuration but the ``--nuclei`` overrides); the recorded cells are matched one-to-one (Hungarian,
minimum total distance) to the keypoints within ``--match-um`` (4 µm).

Recall is the share of keypoints matched, precision the share of cells matched (cells inside the
image less than ``--match-um`` from its edge count). Keypoints are stratified by the hematoxylin and
DAB means over a disc of 2.5 µm at the point (log10 OD of the H-DAB preset's unmixing, at the image's
own resolution): ``pale`` = the third of the part's keypoints with the least hematoxylin; ``stained``
= DAB disc mean >= 0.15 OD; ``near_stained`` = another stained keypoint within 8 µm. Self-contained
(only ``mmnst_path`` is imported), so the same file runs under any commit's package (``PYTHONPATH``).

    PYTHONPATH=<checkout> python pale_nuclei_endonuke_s34.py --endonuke ../shared/train/endonuke --part dev
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keep_gate_endonuke_s33 import match
from keep_gate_endonuke_s33 import val_images as images  # part "dev" or "val": the split above

STAINED_OD = 0.15
NEAR_UM = 8.0
DISC_UM = 2.5


def disc_means(plane: np.ndarray, pts: np.ndarray, radius_px: float) -> np.ndarray:
    """Mean of ``plane`` over the disc of ``radius_px`` around each (row, col) point (clipped to the image)."""
    r = int(np.ceil(radius_px))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    inside = yy * yy + xx * xx <= radius_px * radius_px
    out = np.empty(len(pts))
    for k, (pr, pc) in enumerate(np.rint(pts).astype(int)):
        rr = pr + yy[inside]
        cc = pc + xx[inside]
        ok = (rr >= 0) & (rr < plane.shape[0]) & (cc >= 0) & (cc < plane.shape[1])
        out[k] = float(plane[rr[ok], cc[ok]].mean()) if ok.any() else 0.0
    return out


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run(root: Path, part: str, nuclei: dict, match_um: float, every: int = 1, raw: bool = False) -> dict[str, np.ndarray]:
    """Per-keypoint and per-cell arrays of the part (see :func:`main`); ``raw``: the detector alone
    (``detect_nuclei`` on the image brought to 0.5 µm/px, white point 255) instead of ``analyze_region``."""
    from PIL import Image

    from mmnst_path.detect.nuclei import NucleusParams, detect_nuclei, stain_planes
    from mmnst_path.io._resample import resize_area
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "nuclei": nuclei})
    cols: dict[str, list] = {k: [] for k in ("img", "hem", "dab", "near", "hit", "cls", "dist", "row", "col")}
    cells_n = cells_hit = 0
    for k_img, (path, mpp) in enumerate(images(root, part)):
        if k_img % every:
            continue
        pts = np.loadtxt(path.with_suffix(".txt"), ndmin=2)
        if pts.size == 0:
            continue
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        gt = pts[:, [1, 0]].astype(float)
        if raw:
            f = mpp / 0.5
            small = rgb if f == 1.0 else resize_area(rgb, (round(rgb.shape[0] * f), round(rgb.shape[1] * f)))
            nu = detect_nuclei(small, mpp=0.5, params=NucleusParams.from_mapping(nuclei))
            det = (np.c_[nu.row, nu.col] + 0.5) / f - 0.5
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = analyze_region(rgb, cfg, mpp=mpp)
            det = np.c_[res.cells.row, res.cells.col]
        i, j = match(det, gt, match_um / mpp)
        hem, dab = stain_planes(rgb)
        h = disc_means(np.maximum(hem, 0), gt, DISC_UM / mpp)
        d = disc_means(np.maximum(dab, 0), gt, DISC_UM / mpp)
        stained = d >= STAINED_OD
        dd = np.sqrt(((gt[:, None, :] - gt[None, :, :]) ** 2).sum(-1)) * mpp
        np.fill_diagonal(dd, np.inf)
        near = (dd[:, stained] <= NEAR_UM).any(axis=1) if stained.any() else np.zeros(len(gt), bool)
        hit = np.zeros(len(gt), bool)
        hit[j] = True
        if len(det):
            dist = np.sqrt(((gt[:, None, :] - det[None, :, :]) ** 2).sum(-1)).min(axis=1) * mpp
        else:
            dist = np.full(len(gt), np.inf)
        margin = match_um / mpp
        inner = ((det[:, 0] >= margin) & (det[:, 0] < rgb.shape[0] - margin)
                 & (det[:, 1] >= margin) & (det[:, 1] < rgb.shape[1] - margin)) if len(det) else np.zeros(0, bool)
        matched_det = np.zeros(len(det), bool)
        matched_det[i] = True
        cells_n += int(inner.sum())
        cells_hit += int((inner & matched_det).sum())
        for key, val in (("img", np.full(len(gt), k_img)), ("hem", h), ("dab", d), ("near", near), ("hit", hit),
                         ("cls", pts[:, 2].astype(int)), ("dist", dist), ("row", gt[:, 0]), ("col", gt[:, 1])):
            cols[key].append(val)
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out["cells"] = np.array([cells_n, cells_hit])
    return out


def summary(d: dict[str, np.ndarray], pale_cut: float | None = None) -> dict[str, float]:
    """Recall overall and per stratum, precision (unrounded)."""
    hit = d["hit"]
    cut = float(np.quantile(d["hem"], 1 / 3)) if pale_cut is None else pale_cut
    pale = d["hem"] <= cut
    stained = d["dab"] >= STAINED_OD
    out = {"n_points": float(len(hit)), "recall": float(hit.mean()),
           "precision": float(d["cells"][1] / max(d["cells"][0], 1)), "pale_cut_od": cut}
    for name, m in (("pale", pale), ("not_pale", ~pale), ("stained", stained), ("unstained", ~stained),
                    ("unstained_near_stained", ~stained & d["near"]), ("unstained_not_near", ~stained & ~d["near"]),
                    ("pale_unstained", pale & ~stained), ("epithelium", d["cls"] == 1), ("stroma", d["cls"] == 0)):
        out[f"recall_{name}"] = float(hit[m].mean()) if m.any() else float("nan")
        out[f"n_{name}"] = float(m.sum())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--part", choices=("dev", "val"), default="dev")
    ap.add_argument("--match-um", type=float, default=4.0)
    ap.add_argument("--nuclei", action="append", default=[], metavar="KEY=VALUE",
                    help="a [nuclei] parameter (JSON value, else a string), repeatable")
    ap.add_argument("--raw", action="store_true", help="the detector alone (diagnosis), not analyze_region")
    ap.add_argument("--every", type=int, default=1, help="only every n-th image of the part (a quick look)")
    ap.add_argument("--save", type=Path, help="write the per-keypoint arrays here (.npz)")
    args = ap.parse_args(argv)
    nuclei = {key.strip(): _value(text) for key, _, text in (item.partition("=") for item in args.nuclei)}
    d = run(args.endonuke, args.part, nuclei, args.match_um, args.every, args.raw)
    if args.save:
        np.savez(args.save, **d)
    print(json.dumps({"part": args.part, "nuclei": nuclei, **summary(d)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
