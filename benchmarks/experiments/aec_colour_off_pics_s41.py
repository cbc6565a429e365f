"""Pictures of AEC tiles whose melanin lies within 8° of AEC, read as HEAD e834edc reads them (no colour test, the
fill rule reads every covered nucleus) and by the candidate (colour unknown: no covered nucleus rescued); session 41
H9, #14.

Per tile ``CHROMOGEN:FAMILY:SEED`` (``pigment_family_tile``, 384 px, plain): the tile | HEAD | candidate. Dots at
each detected nucleus: red ``positive``, blue ``negative``, yellow ``pigment``; white ring = class changed; black
cross = a detected nucleus in a true nucleus hidden under melanin. HEAD is reproduced in the candidate tree by turning
its all-NaN colour (the colour-off tile) back into None (no test), which is exactly HEAD's code path.

    PYTHONPATH=. python benchmarks/experiments/aec_colour_off_pics_s41.py --tiles aec:confluent:4460 --out /tmp/p.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aec_ki67_pics_s41 import draw
from red_ki67_error_split import split

import mmnst_path.quantify.ki67 as ki67_mod

_CANDIDATE = ki67_mod._covered_chromogen


def _head(*args, **kwargs):
    out = _CANDIDATE(*args, **kwargs)
    return None if out is not None and out.size and np.isnan(out).all() else out


def row(spec: str) -> Image.Image:
    ch, fam, seed = spec.split(":")
    kw = {"near_um": 2.0, "match_um": 1.0}
    ki67_mod._covered_chromogen = _head
    ra, aa = split(ch, fam, int(seed), **kw)
    ki67_mod._covered_chromogen = _CANDIDATE
    rb, ab = split(ch, fam, int(seed), **kw)
    changed = aa["cls"] != ab["cls"]
    tile = Image.fromarray(aa["rgb"])
    d = ImageDraw.Draw(tile)
    d.rectangle((0, 0, tile.width, 14), fill=(0, 0, 0))
    d.text((3, 1), f"{spec} truth {ra['true']:.2f} %", fill=(255, 255, 255))
    panels = [tile, draw(aa["rgb"], aa, changed, f"HEAD: {ra['measured']:.2f} ({ra['error']:+.2f})"),
              draw(ab["rgb"], ab, changed, f"candidate: {rb['measured']:.2f} ({rb['error']:+.2f}), "
                                           f"{int(changed.sum())} changed")]
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
