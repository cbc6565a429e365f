"""Session 44 H3 (#13): picture of the debris-detail columns (library, ``debris_detail=True``) on dev tiles.

    PYTHONPATH=.:benchmarks:scripts python benchmarks/experiments/tissue_debris_pics_s44.py OUT.png

Rows: held-out renderer dev seeds 14240 (``none``) and 14200 (``random``), the osteosarcoma Non-Viable-Tumor tile
A12-16067 and Non-Tumor A17-7799 (both trained on by 1.1.0). Columns: the tile | the truth (held-out: necrosis
magenta, collagen green, loose pale green, keratin orange, mucin light blue, blood dark red, fat yellow, tumour red)
or blank | dot_density_s6 | h_ridge_share_s18 | e_coherence_s18 (grey scale, fixed ranges per column: 0-0.03, 0.4-1,
0-0.8), each map at 8 µm blocks resized to the tile.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features

DD = replace(TissueFeatureSettings(), debris_detail=True)
COLS = (("dot_density_s6", 0.0, 0.03), ("h_ridge_share_s18", 0.4, 1.0), ("e_coherence_s18", 0.0, 0.8))
PALETTE = {"glass": (255, 255, 255), "tumour": (220, 40, 40), "collagen": (40, 170, 60), "loose": (170, 230, 170),
           "necrosis": (230, 0, 230), "keratin": (255, 150, 0), "mucin": (140, 200, 255), "blood": (120, 0, 0),
           "fat": (255, 240, 0)}
SIDE = 320


def _tile(rgb: np.ndarray, truth: np.ndarray | None, classes: tuple[str, ...], mpp: float) -> list[np.ndarray]:
    f, _ = tissue_features(rgb, mpp=mpp, settings=DD)
    names = [s.name for s in tissue_feature_specs(DD)]
    out = [np.asarray(Image.fromarray(rgb).resize((SIDE, SIDE)))]
    if truth is not None:
        col = np.zeros((*truth.shape, 3), np.uint8)
        for i, c in enumerate(classes):
            col[truth == i] = PALETTE[c]
        out.append(np.asarray(Image.fromarray(col).resize((SIDE, SIDE), Image.NEAREST)))
    else:
        out.append(np.full((SIDE, SIDE, 3), 255, np.uint8))
    for n, lo, hi in COLS:
        v = np.clip((f[..., names.index(n)] - lo) / (hi - lo), 0, 1)
        g = (255 * v).astype(np.uint8)
        out.append(np.repeat(np.asarray(Image.fromarray(g).resize((SIDE, SIDE), Image.NEAREST))[..., None], 3, -1))
    return out


def main(out: Path) -> None:
    sys.path.insert(0, "benchmarks")
    from _training_data import read_rgb
    from heldout_render_he import CLASSES, render_he

    rows = []
    for seed, nec in ((14240, "none"), (14200, "random")):
        t = render_he(seed, size=640, necrosis=nec)
        rows.append(_tile(t.rgb, t.classes, CLASSES, t.mpp))
    for name in ("Non-Viable-Tumor___Case-3-A12-16067-9053_104.jpg", "Non-Tumor___Case-3-A17-7799-34542_102.jpg"):
        rgb = read_rgb(Path("/work/shared/data/necrosis") / name)
        rows.append(_tile(rgb[:640, :640], None, CLASSES, 1.0))
    gap = 6
    h = len(rows) * (SIDE + gap)
    w = len(rows[0]) * (SIDE + gap)
    canvas = np.full((h, w, 3), 255, np.uint8)
    for i, r in enumerate(rows):
        for j, a in enumerate(r):
            canvas[i * (SIDE + gap): i * (SIDE + gap) + SIDE, j * (SIDE + gap): j * (SIDE + gap) + SIDE] = a[:SIDE, :SIDE]
    Image.fromarray(canvas).save(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
