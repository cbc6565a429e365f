"""Session 33 H5, rule gate 1: on EndoNuke's validation part, the share of stroma nuclei the Ki67 index
keeps and of epithelial nuclei it excludes.

EndoNuke (CC BY 4.0, Naumov et al. 2022; real ER/PR IHC of endometrium): the validation part is the
nucleus model's own (``mixed`` images with SHA-256(name) in the first 20 %, at 0.5 µm/px, and every
``staining_ds`` image at 0.25 µm/px); never fitted or chosen on. Each image goes through the public
``analyze_region`` (stains H-DAB, Ki67 only, default configuration otherwise); the recorded cells
are matched one-to-one (Hungarian, minimum total distance) to the keypoints within ``--match-um``
(4 µm). Among matched cells the index decided on (positive, negative or excluded; ``pigment`` left
out): stroma kept = counted (positive / negative) / decided; epithelium excluded = excluded /
decided. Self-contained (no import from the repository but ``mmnst_path``), so the same file runs
under any commit's package (``PYTHONPATH``).

    PYTHONPATH=<checkout> python keep_gate_endonuke_s33.py --endonuke ../shared/train/endonuke
"""

from __future__ import annotations

import argparse
import hashlib
import warnings
from pathlib import Path

import numpy as np


def val_images(root: Path, part: str = "val") -> list[tuple[Path, float]]:
    """(image, µm/px) of the validation part, or with ``part="dev"`` the other ``mixed`` images."""
    def held(name: str) -> bool:
        return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < 0.2

    mixed = sorted((root / "mixed").glob("*.png"))
    if part == "dev":
        return [(p, 0.5) for p in mixed if not held(p.name)]
    return [(p, 0.5) for p in mixed if held(p.name)] + [(p, 0.25) for p in sorted((root / "staining_ds").glob("*.png"))]


def match(det: np.ndarray, gt: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import linear_sum_assignment

    if len(det) == 0 or len(gt) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    dist = np.sqrt(((det[:, None, :] - gt[None, :, :]) ** 2).sum(-1))
    cost = np.where(dist <= radius, dist, 1e9)
    i, j = linear_sum_assignment(cost)
    ok = cost[i, j] <= radius
    return i[ok], j[ok]


def _value(text: str) -> object:
    """A ``--ki67`` value: JSON (numbers, true / false), else the string."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--match-um", type=float, default=4.0)
    ap.add_argument("--part", choices=("val", "dev"), default="val",
                    help="val: the gate's images; dev: the other mixed images (the keep stage's training part)")
    ap.add_argument("--ki67", action="append", default=[], metavar="KEY=VALUE",
                    help="a [ki67] parameter (JSON value, else a string), repeatable (diagnosis only)")
    args = ap.parse_args(argv)
    ki67 = {key.strip(): _value(text) for key, _, text in (item.partition("=") for item in args.ki67)}
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "ki67": ki67})
    tally = dict.fromkeys(("stroma_decided", "stroma_kept", "epi_decided", "epi_excluded", "images", "cells", "sheet_nuclei"), 0)
    for path, mpp in val_images(args.endonuke, args.part):
        pts = np.loadtxt(path.with_suffix(".txt"), ndmin=2)
        if pts.size == 0:
            continue
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze_region(rgb, cfg, mpp=mpp)
        cells = res.cells
        cls = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, dtype=np.intp)].astype(str)
        det = np.c_[cells.row, cells.col]
        i, j = match(det, pts[:, [1, 0]].astype(float), args.match_um / mpp)
        lab = pts[j, 2].astype(int)
        c = cls[i]
        decided = np.isin(c, ("positive", "negative", "excluded"))
        counted = np.isin(c, ("positive", "negative"))
        tally["stroma_decided"] += int((decided & (lab == 0)).sum())
        tally["stroma_kept"] += int((counted & (lab == 0)).sum())
        tally["epi_decided"] += int((decided & (lab == 1)).sum())
        tally["epi_excluded"] += int((decided & ~counted & (lab == 1)).sum())
        tally["images"] += 1
        tally["sheet_nuclei"] += int(res.metrics.get("ki67_spindle_sheet_nuclei", 0) or 0)
        tally["cells"] += len(cls)
    kept = 100.0 * tally["stroma_kept"] / tally["stroma_decided"]
    excl = 100.0 * tally["epi_excluded"] / tally["epi_decided"]
    print(f"EndoNuke {args.part}, match {args.match_um:g} um: {tally}")
    print(f"stroma kept % {kept:.6f}")
    print(f"epithelium excluded % {excl:.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
