"""Pictures of red-chromogen tiles read with the touched-nucleus colour veto off (HEAD) and on (session 41 H6, #14).

Per tile ``CHROMOGEN:FAMILY:SEED`` (``pigment_family_tile``, 384 px, plain): the tile | the cells read with
``[ki67] red_touched_min_chromogen_od = 0`` (HEAD 9f177d8's default) | read with the library's default. Each detected
nucleus is a dot at its centroid: red ``positive``, blue ``negative``, yellow ``pigment``; a white ring marks the
nuclei whose class differs between the two, a black cross the detected nuclei lying in a true nucleus hidden under
melanin (>= 75 % covered). The caption gives the index and its error against the truth.

    PYTHONPATH=. python benchmarks/experiments/aec_ki67_pics_s41.py --tiles aec:confluent:4423 --out /tmp/pics.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

from red_ki67_error_split import split

COLOURS = {"positive": (230, 0, 0), "negative": (0, 60, 255), "pigment": (255, 210, 0)}


def draw(rgb: np.ndarray, arrays: dict, changed: np.ndarray, caption: str) -> Image.Image:
    im = Image.fromarray(np.repeat(rgb.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8))
    d = ImageDraw.Draw(im)
    hidden = arrays["hidden"][arrays["labels"][arrays["r"], arrays["c"]]]
    for r, c, cls, ch, hid in zip(arrays["r"], arrays["c"], arrays["cls"], changed, hidden, strict=True):
        if cls in COLOURS:
            d.ellipse((c - 3, r - 3, c + 3, r + 3), fill=COLOURS[cls])
        if ch:
            d.ellipse((c - 7, r - 7, c + 7, r + 7), outline=(255, 255, 255), width=2)
        if hid:
            d.line((c - 4, r - 4, c + 4, r + 4), fill=(0, 0, 0))
            d.line((c - 4, r + 4, c + 4, r - 4), fill=(0, 0, 0))
    d.rectangle((0, 0, im.width, 14), fill=(0, 0, 0))
    d.text((3, 1), caption, fill=(255, 255, 255))
    return im


def row(spec: str) -> Image.Image:
    ch, fam, seed = spec.split(":")
    kw = {"near_um": 2.0, "match_um": 1.0}
    ra, aa = split(ch, fam, int(seed), settings={"ki67": {"red_touched_min_chromogen_od": 0.0}}, **kw)
    rb, ab = split(ch, fam, int(seed), **kw)
    changed = aa["cls"] != ab["cls"]
    tile = Image.fromarray(aa["rgb"])
    d = ImageDraw.Draw(tile)
    d.rectangle((0, 0, tile.width, 14), fill=(0, 0, 0))
    d.text((3, 1), f"{spec} truth {ra['true']:.2f} %", fill=(255, 255, 255))
    panels = [tile, draw(aa["rgb"], aa, changed, f"veto off (HEAD): {ra['measured']:.2f} ({ra['error']:+.2f})"),
              draw(ab["rgb"], ab, changed, f"veto 0.05: {rb['measured']:.2f} ({rb['error']:+.2f}), {int(changed.sum())} changed")]
    out = Image.new("RGB", (sum(p.width for p in panels) + 8, panels[0].height), (255, 255, 255))
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + 4
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", nargs="+", required=True, help="CHROMOGEN:FAMILY:SEED")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = [row(s) for s in args.tiles]
    out = Image.new("RGB", (max(r.width for r in rows), sum(r.height + 4 for r in rows)), (255, 255, 255))
    y = 0
    for r in rows:
        out.paste(r, (0, y))
        y += r.height + 4
    out.save(args.out)


if __name__ == "__main__":
    main()
