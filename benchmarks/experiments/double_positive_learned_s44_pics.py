"""Session 44 H7 picture: a Ki67 / SOX10 tile's true double-positive nuclei as HEAD's call (threshold, the model
switched off) and the learned call read them.

    PYTHONPATH=. python benchmarks/experiments/double_positive_learned_s44_pics.py 42203 fast_red 512 out.png

Left HEAD, right the learned call. Ring per detected nucleus matched to a drawn SOX10+ Ki67+ nucleus: green = read
positive and melanocytic (counted right), red = read negative, yellow = positive but not melanocytic, blue = not in
the index (pigment / excluded). Small magenta dot: a drawn SOX10+ Ki67- nucleus read positive and melanocytic."""

from __future__ import annotations

import sys

from PIL import Image, ImageDraw

import mmnst_path.quantify._ki67_double_model as dm
from mmnst_path.quantify import Ki67Params, measure_ki67
from mmnst_path.synthetic_double import double_stain_tile, match_cells


def calls(tile, stains: str, learned: bool):
    if not learned:
        real, resolve = dm.apply_double_model, dm.resolve_double_model
        dm.apply_double_model = lambda cells, rows, model, **k: cells
        dm.resolve_double_model = lambda name="default": None
    try:
        return measure_ki67(tile.rgb, mpp=tile.mpp, stains=stains, params=Ki67Params(melanocyte_marker="nuclear")).cells
    finally:
        if not learned:
            dm.apply_double_model, dm.resolve_double_model = real, resolve


def panel(tile, cells) -> tuple[Image.Image, dict[str, int]]:
    img = Image.fromarray(tile.rgb).resize((tile.rgb.shape[1] * 2, tile.rgb.shape[0] * 2), Image.NEAREST)
    d = ImageDraw.Draw(img)
    idx = match_cells(tile, cells.row, cells.col)
    n = {"right": 0, "negative": 0, "not melanocytic": 0, "not in index": 0, "false double": 0}
    for i, j in enumerate(idx):
        if j < 0:
            continue
        mel, pos = tile.cells[j, 3] > 0, tile.cells[j, 4] > 0
        r, c, cls, m = 2 * cells.row[i], 2 * cells.col[i], cells.cls[i], bool(cells.melanocytic[i])
        if mel and pos:
            key = ("not in index" if cls not in ("positive", "negative") else "negative" if cls == "negative"
                   else "right" if m else "not melanocytic")
            colour = {"right": (0, 200, 0), "negative": (255, 0, 0), "not melanocytic": (255, 220, 0),
                      "not in index": (0, 80, 255)}[key]
            n[key] += 1
            d.ellipse([c - 11, r - 11, c + 11, r + 11], outline=colour, width=3)
        elif mel and cls == "positive" and m:
            n["false double"] += 1
            d.ellipse([c - 4, r - 4, c + 4, r + 4], fill=(255, 0, 255))
    return img, n


def main() -> None:
    seed, chromogen, size, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    tile = double_stain_tile(seed, marker="nuclear", chromogen=chromogen, size=size)
    stains = "H-DAB-AEC" if chromogen == "aec" else "H-DAB-FastRed"
    left, nl = panel(tile, calls(tile, stains, False))
    right, nr = panel(tile, calls(tile, stains, True))
    both = Image.new("RGB", (left.width * 2 + 10, left.height), "white")
    both.paste(left, (0, 0))
    both.paste(right, (left.width + 10, 0))
    both.save(out)
    print(f"drawn SOX10+ Ki67+ {int(((tile.cells[:, 3] > 0) & (tile.cells[:, 4] > 0)).sum())}; HEAD {nl}; learned {nr}")


if __name__ == "__main__":
    main()
