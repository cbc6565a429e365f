"""Picture of azure B tiles: tile | drawn truth | HEAD (the rules) | candidate (the azure model), session 41 H7.

Overlays: yellow = mask on the drawn truth, magenta = mask outside it, green = drawn melanin missed (the truth
panel: the drawn melanin in yellow). ``TILES``: ``family:level:seed`` items.

    PYTHONPATH=. python benchmarks/experiments/azure_model_picture_s41.py OUT.png dusty:0.06:4342 spindle:0.4:4345
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image, ImageDraw

from mmnst_path.classify._pigment_azure import azure_pigment_masks
from mmnst_path.classify.pigment import resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_masks
from mmnst_path.stain import get_preset
from mmnst_path.synthetic_azure import azure_b_tile


def overlay(rgb: np.ndarray, mask: np.ndarray, truth: np.ndarray) -> np.ndarray:
    out = (0.6 * rgb + 0.4 * 255).astype(np.uint8)
    out[mask & truth] = (255, 220, 0)
    out[mask & ~truth] = (255, 0, 255)
    out[truth & ~mask] = (0, 200, 0)
    return out


def main() -> None:
    out_path, items = sys.argv[1], sys.argv[2:]
    m, p, model = get_preset("AzureB-DAB"), PigmentParams(), resolve_pigment_model("azure")
    rows = []
    for item in items:
        fam, level, seed = item.split(":")
        tile = azure_b_tile(int(seed), fam, size=384, positive_fraction=float(level), drawn_melanin=True)
        truth = tile.masks["melanin_drawn"] & tile.masks["tissue"]
        rules = pigment_masks(tile.rgb, mpp=tile.mpp, stains=m, params=p)[0] & tile.masks["tissue"]
        cand = azure_pigment_masks(tile.rgb, mpp=tile.mpp, model=model, stains=m, params=p)[0] & tile.masks["tissue"]
        panels = [tile.rgb, overlay(tile.rgb, truth, truth), overlay(tile.rgb, rules, truth),
                  overlay(tile.rgb, cand, truth)]
        row = Image.fromarray(np.concatenate([np.pad(x, ((0, 0), (0, 6), (0, 0)), constant_values=255)
                                              for x in panels], axis=1))
        d = ImageDraw.Draw(row)
        dice = [2 * (x & truth).sum() / max(1, x.sum() + truth.sum()) for x in (rules, cand)]
        d.text((4, 4), f"{fam} {level} {seed}", fill=(0, 0, 0))
        d.text((394 + 4, 4), f"drawn {100 * truth.sum() / tile.masks['tissue'].sum():.1f}%", fill=(0, 0, 0))
        d.text((2 * 390 + 4, 4), f"HEAD rules Dice {dice[0]:.2f}", fill=(0, 0, 0))
        d.text((3 * 390 + 4, 4), f"azure model Dice {dice[1]:.2f}", fill=(0, 0, 0))
        rows.append(np.asarray(row))
    Image.fromarray(np.concatenate(rows, axis=0)).save(out_path)


if __name__ == "__main__":
    main()
