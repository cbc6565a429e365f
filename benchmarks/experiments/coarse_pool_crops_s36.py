"""Experiment (#16, session 36 H1): crops of EndoNuke DEV keypoints that the coarse seed grid pooled at the full
distance (session 35's candidate, ``COARSE_MERGE_SHRINK`` 0) loses against the analysis grid and that the pooling
at half a block less (0.5, session 36's candidate) finds again.

Inputs: three ``pale_nuclei_endonuke_s34.py --part dev --save`` files (analysis grid, coarse at shrink 0, coarse at
shrink 0.5). For the images with the most such keypoints, each image is analysed with the three settings
(``analyze_region``, H-DAB, Ki67 only) and a montage is written: per keypoint a ``--crop-um`` crop three times, the
keypoints as green dots and the counted cells as crosses (blue: analysis grid, red: shrink 0, magenta: shrink 0.5).

    PYTHONPATH=. python coarse_pool_crops_s36.py DEV_head.npz DEV_s0.npz DEV_cand.npz OUT.png \\
        --endonuke ../shared/train/endonuke
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coarse_lost_crops_s35 import _mark
from keep_gate_endonuke_s33 import val_images

COLOURS = ((0, 0, 255), (255, 0, 0), (255, 0, 255))


def _cells(rgb: np.ndarray, mpp: float, seed_scale_um: float, shrink: float) -> np.ndarray:
    import mmnst_path.detect.nuclei as nuclei_mod
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "nuclei": {"seed_scale_um": seed_scale_um}})
    old = nuclei_mod.COARSE_MERGE_SHRINK
    nuclei_mod.COARSE_MERGE_SHRINK = shrink
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze_region(rgb, cfg, mpp=mpp)
    finally:
        nuclei_mod.COARSE_MERGE_SHRINK = old
    return np.c_[res.cells.row, res.cells.col]


def main() -> None:
    from PIL import Image

    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("fine", type=Path)
    ap.add_argument("shrink0", type=Path)
    ap.add_argument("cand", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--per-image", type=int, default=5)
    ap.add_argument("--crop-um", type=float, default=30.0)
    args = ap.parse_args()
    a, b, c = (dict(np.load(p)) for p in (args.fine, args.shrink0, args.cand))
    back = a["hit"] & ~b["hit"] & c["hit"]
    count = {int(i): int(back[a["img"] == i].sum()) for i in np.unique(a["img"])}
    worst = sorted(count, key=lambda i: -count[i])[: args.images]
    paths = val_images(args.endonuke, "dev")
    tiles = []
    for i in worst:
        path, mpp = paths[i]
        rgb = np.asarray(Image.open(path).convert("RGB"))
        dets = [_cells(rgb, mpp, 0.0, 0.5), _cells(rgb, mpp, 1.0, 0.0), _cells(rgb, mpp, 1.0, 0.5)]
        m = a["img"] == i
        gt = np.c_[a["row"][m], a["col"][m]]
        half = int(args.crop_um / mpp / 2)
        print(f"image {i} {path.name}: {count[i]} keypoints lost at shrink 0 and found at 0.5;"
              f" cells {', '.join(str(len(d)) for d in dets)} (analysis grid, shrink 0, shrink 0.5)")
        for r, col in gt[back[m]][: args.per_image]:
            r0, c0 = int(r) - half, int(col) - half
            row = []
            for det, colour in zip(dets, COLOURS, strict=True):
                img = np.full((2 * half, 2 * half, 3), 255, np.uint8)
                rs = slice(max(r0, 0), min(r0 + 2 * half, rgb.shape[0]))
                cs = slice(max(c0, 0), min(c0 + 2 * half, rgb.shape[1]))
                img[rs.start - r0: rs.stop - r0, cs.start - c0: cs.stop - c0] = rgb[rs, cs]
                _mark(img, gt - [r0, c0], (0, 200, 0), cross=False)
                _mark(img, det - [r0, c0], colour, cross=True)
                row.append(np.kron(img, np.ones((3, 3, 1), np.uint8)))
                row.append(np.zeros((row[-1].shape[0], 6, 3), np.uint8))
            tiles.append(np.concatenate(row[:-1], axis=1))
    width = max(t.shape[1] for t in tiles)
    rows = [np.pad(t, ((0, 6), (0, width - t.shape[1]), (0, 0))) for t in tiles]
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)


if __name__ == "__main__":
    main()
