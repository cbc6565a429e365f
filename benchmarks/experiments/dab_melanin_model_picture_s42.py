"""Picture of the worst gate tiles of session 42 H1 (#14 DAB melanin model): tile | drawn truth | HEAD | candidate.

The tiles with the lowest candidate Dice in the candidate's gate CSV (``eval_pigment_families.py``), regenerated;
HEAD's melanin mask is the pigment stage's (``melanin_model = "none"``, the same code path as HEAD a826bce), the
candidate's the drawn-melanin model's. Masks: yellow = on the drawn truth, magenta = outside it (false), green =
truth missed.

    PYTHONPATH=. python benchmarks/experiments/dab_melanin_model_picture_s42.py CAND.csv OUT.png --worst 3
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.stain import get_preset
from mmnst_path.synthetic import pigment_family_tile


def overlay(rgb: np.ndarray, mask: np.ndarray, truth: np.ndarray) -> np.ndarray:
    out = (rgb.astype(np.float32) * 0.55 + 255 * 0.45).astype(np.uint8)
    out[mask & truth] = (230, 200, 0)
    out[mask & ~truth] = (220, 0, 220)
    out[~mask & truth] = (0, 170, 0)
    return out


def main() -> None:
    from PIL import Image, ImageDraw

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--worst", type=int, default=3)
    ap.add_argument("--size", type=int, default=384)
    args = ap.parse_args()
    with args.csv.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["family"] != "none" and not math.isnan(float(r["dice"]))]
    rows.sort(key=lambda r: float(r["dice"]))
    model = resolve_pigment_model("default")
    stains = get_preset("H-DAB")
    panels = []
    for r in rows[: args.worst]:
        tile = pigment_family_tile(int(r["seed"]), r["family"], chromogen="dab", size=args.size, drawn_melanin=True)
        truth = tile.masks["melanin_drawn"]
        head, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains,
                                   params=replace(PigmentParams(), melanin_model="none"))
        cand, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains, params=PigmentParams())
        truth_img = tile.rgb.copy()
        truth_img[truth] = (230, 200, 0)
        row = np.concatenate([tile.rgb, truth_img, overlay(tile.rgb, head, truth), overlay(tile.rgb, cand, truth)], 1)
        img = Image.fromarray(row)
        ImageDraw.Draw(img).text((4, 4), f"{r['family']} {r['seed']}: Dice cand {float(r['dice']):.3f} | tile | drawn "
                                 "truth | HEAD | candidate", fill=(0, 0, 0))
        panels.append(np.asarray(img))
    Image.fromarray(np.concatenate(panels, 0)).save(args.out)
    print(f"wrote {args.out}: {[(r['family'], r['seed'], r['dice']) for r in rows[: args.worst]]}")


if __name__ == "__main__":
    main()
