"""Overlays of red-chromogen pigment family tiles under two pixel models against the drawn melanin (session 39, #14).

Per tile ``CHROMOGEN:FAMILY:SEED``: the tile | model A's mask | model B's mask, each mask drawn over a grey copy of
the tile: yellow where the mask meets the drawn truth, magenta mask outside it (false or rim), green drawn melanin
the mask misses. Masks as ``eval_pigment_families`` scores them (``classify_pigment`` with the preset).

    PYTHONPATH=. python benchmarks/experiments/red_drawn_pics_s39.py --a default --b /tmp/drawn.mmnst \
        --tiles aec:perinuclear:3121 fast_red:spindle:3122 --out /tmp/pics.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.synthetic import pigment_family_tile

PRESET = {"aec": "H-AEC", "fast_red": "H-FastRed"}


def overlay(rgb: np.ndarray, mask: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Grey tile with the mask against the truth: yellow hit, magenta outside the truth, green missed."""
    grey = np.repeat(rgb.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    out = grey.copy()
    out[mask & truth] = (255, 220, 0)
    out[mask & ~truth] = (255, 0, 255)
    out[truth & ~mask] = (0, 200, 0)
    return out


def panel(spec: str, models: list, size: int) -> np.ndarray:
    """One row: tile | A | B, with a caption of each mask's Dice and share against the drawn truth."""
    ch, fam, seed = spec.split(":")
    tile = pigment_family_tile(int(seed), fam, chromogen=ch, size=size, drawn_melanin=True)
    truth, tissue = tile.masks["melanin_drawn"], tile.masks["tissue"]
    cells = [tile.rgb]
    notes = [f"{spec} drawn {tile.truth['melanin_drawn_pct']:.1f}%"]
    for label, model in models:
        mel = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=PRESET[ch])[0] & tissue
        s = int(mel.sum()) + int(truth.sum())
        d = 2.0 * int((mel & truth).sum()) / s if s else float("nan")
        cells.append(overlay(tile.rgb, mel, truth))
        notes.append(f"{label}: Dice {d:.2f}, mask {100.0 * mel.sum() / tissue.sum():.1f}%")
    row = Image.fromarray(np.concatenate(cells, axis=1))
    draw = ImageDraw.Draw(row)
    for i, text in enumerate(notes):
        draw.rectangle((i * size, 0, i * size + 7 * len(text), 12), fill=(0, 0, 0))
        draw.text((i * size + 2, 0), text, fill=(255, 255, 255))
    return np.asarray(row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", default="default", help="model A ('default' or a file)")
    ap.add_argument("--b", required=True, help="model B (a file)")
    ap.add_argument("--tiles", nargs="+", required=True, metavar="CHROMOGEN:FAMILY:SEED")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    models = [("A " + Path(args.a).stem, resolve_pigment_model(args.a)), ("B " + Path(args.b).stem,
                                                                        resolve_pigment_model(args.b))]
    rows = [panel(spec, models, args.size) for spec in args.tiles]
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
