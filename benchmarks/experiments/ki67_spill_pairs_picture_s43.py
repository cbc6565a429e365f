"""Picture of a generated touching-pairs tile read with and without the spill-resistant DAB (session 43 H10).

Usage::

    PYTHONPATH=. python benchmarks/experiments/ki67_spill_pairs_picture_s43.py OUT.png [--seed 11601] [--pairs 0.5]

Left: ``spill_reach_um`` 0 (HEAD's whole-nucleus mean), right: the default. Each detection within 2 µm of a true
paired negative is marked: red square = read positive, cyan = read negative (``measure_ki67``, no cell model).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=11601)
    parser.add_argument("--pairs", type=float, default=0.5)
    args = parser.parse_args(argv)
    tile = ki67_cells_tile(args.seed, size=384, pairs=args.pairs)
    t = tile.truth["cells"]
    neg = (t["cell_type"] == "tumour") & t["paired"] & (t["grade"] == "negative")
    gt = np.c_[t["row"], t["col"]][neg]
    panels = []
    for reach in (0.0, Ki67Params().spill_reach_um):
        cells = measure_ki67(tile.rgb, mpp=tile.mpp, params=Ki67Params(cell_model="none", spill_reach_um=reach)).cells
        pts = np.c_[cells.row, cells.col]
        img = tile.rgb.copy()
        n_pos = 0
        for g in gt:
            d = np.hypot(pts[:, 0] - g[0], pts[:, 1] - g[1])
            i = int(np.argmin(d))
            if d[i] * tile.mpp > 2.0:
                continue
            pos = cells.cls[i] == "positive"
            n_pos += int(pos)
            colour = (255, 0, 0) if pos else (0, 200, 255)
            r, c = int(pts[i, 0]), int(pts[i, 1])
            for dr in range(-5, 6):
                for dc in (-5, 5):
                    if 0 <= r + dr < img.shape[0] and 0 <= c + dc < img.shape[1]:
                        img[r + dr, c + dc] = colour
                    if 0 <= r + dc < img.shape[0] and 0 <= c + dr < img.shape[1]:
                        img[r + dc, c + dr] = colour
        print(f"reach {reach}: {n_pos} of {len(gt)} paired negatives read positive")
        panels.append(img)
    sheet = np.concatenate([panels[0], np.full((384, 8, 3), 255, np.uint8), panels[1]], axis=1)
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
