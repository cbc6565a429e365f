"""Experiment (#16, session 35 H1): crops of EndoNuke DEV keypoints that the coarse seed grid (``[nuclei]
seed_scale_um`` 1.0) loses or gains against the analysis grid (0), from two ``pale_nuclei_endonuke_s34.py --save``
files of the same part. For the images with the largest net loss, each image is analysed again with both settings
(``analyze_region``, H-DAB, Ki67 only) and a montage is written: per lost keypoint a crop of ``--crop-um`` µm, the
keypoints as green dots, the analysis grid's counted cells as blue crosses (left) and the coarse grid's as red
crosses (right).

The two ``--save`` files: ``pale_nuclei_endonuke_s34.py --part dev --save DEV0.npz`` (no ``--nuclei``: the analysis
grid) and ``... --nuclei seed_scale_um=1.0 --save DEV1.npz``.

    PYTHONPATH=. python coarse_lost_crops_s35.py DEV0.npz DEV1.npz OUT.png --endonuke ../shared/train/endonuke
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keep_gate_endonuke_s33 import val_images


def _cells(rgb: np.ndarray, mpp: float, seed_scale_um: float) -> np.ndarray:
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    mapping: dict[str, object] = {"stains": "H-DAB", "measures": ["ki67"]}
    if seed_scale_um:  # 0: the analysis grid (the key left out: a package without coarse_default_s35.patch refuses 0)
        mapping["nuclei"] = {"seed_scale_um": seed_scale_um}
    cfg = AnalysisConfig.from_mapping(mapping)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(rgb, cfg, mpp=mpp)
    return np.c_[res.cells.row, res.cells.col]


def _mark(img: np.ndarray, pts: np.ndarray, colour: tuple[int, int, int], cross: bool) -> None:
    for r, c in np.rint(pts).astype(int):
        offs = [(d, 0) for d in range(-3, 4)] + [(0, d) for d in range(-3, 4)] if cross else \
            [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
        for dr, dc in offs:
            if 0 <= r + dr < img.shape[0] and 0 <= c + dc < img.shape[1]:
                img[r + dr, c + dc] = colour


def main() -> None:
    from PIL import Image

    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("dev0", type=Path)
    ap.add_argument("dev1", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--images", type=int, default=3, help="images with the largest net loss")
    ap.add_argument("--per-image", type=int, default=6)
    ap.add_argument("--crop-um", type=float, default=30.0)
    args = ap.parse_args()
    a, b = dict(np.load(args.dev0)), dict(np.load(args.dev1))
    lost = a["hit"] & ~b["hit"]
    gained = ~a["hit"] & b["hit"]
    net = {int(i): int(lost[a["img"] == i].sum() - gained[a["img"] == i].sum()) for i in np.unique(a["img"])}
    worst = sorted(net, key=lambda i: -net[i])[: args.images]
    paths = val_images(args.endonuke, "dev")
    tiles = []
    for i in worst:
        path, mpp = paths[i]
        rgb = np.asarray(Image.open(path).convert("RGB"))
        d0, d1 = _cells(rgb, mpp, 0.0), _cells(rgb, mpp, 1.0)
        m = a["img"] == i
        gt = np.c_[a["row"][m], a["col"][m]]
        half = int(args.crop_um / mpp / 2)
        print(f"image {i} {path.name}: net lost {net[i]}, cells {len(d0)} -> {len(d1)}")
        for r, c in gt[lost[m]][: args.per_image]:
            r0, c0 = int(r) - half, int(c) - half
            pair = []
            for det, colour in ((d0, (0, 0, 255)), (d1, (255, 0, 0))):
                img = np.full((2 * half, 2 * half, 3), 255, np.uint8)
                rs, cs = slice(max(r0, 0), min(r0 + 2 * half, rgb.shape[0])), slice(max(c0, 0), min(c0 + 2 * half, rgb.shape[1]))
                img[rs.start - r0: rs.stop - r0, cs.start - c0: cs.stop - c0] = rgb[rs, cs]
                _mark(img, gt - [r0, c0], (0, 200, 0), cross=False)
                _mark(img, det - [r0, c0], colour, cross=True)
                pair.append(np.kron(img, np.ones((3, 3, 1), np.uint8)))
            tiles.append(np.concatenate([pair[0], np.full((pair[0].shape[0], 6, 3), 0, np.uint8), pair[1]], axis=1))
    width = max(t.shape[1] for t in tiles)
    rows = [np.pad(t, ((0, 6), (0, width - t.shape[1]), (0, 0))) for t in tiles]
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)


if __name__ == "__main__":
    main()
