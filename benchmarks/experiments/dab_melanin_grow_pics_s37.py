"""Session 37 H6 pictures: HEAD vs the 1-µm growth on dev tiles (truth colours) and on the README pigmented sample.

    PYTHONPATH=. python benchmarks/experiments/dab_melanin_grow_pics_s37.py DEV.png SAMPLE.png
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
from PIL import Image

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.stain import load_stains
from mmnst_path.synthetic import pigment_family_tile

st, m = load_stains("H-DAB"), resolve_pigment_model("dab")
off, on = replace(PigmentParams(), model_grow_um=0.0), replace(PigmentParams(), model_grow_um=1.0)


def paint(rgb, found, truth):
    ov = rgb.copy()
    ov[truth & found] = (0, 200, 0)
    ov[truth & ~found] = (255, 0, 255)
    ov[found & ~truth] = (0, 200, 255)
    return ov


rows = []
for fam, seed in [("dusty", 801), ("spindle", 800), ("sparse", 800)]:
    t = pigment_family_tile(seed, fam, chromogen="dab", size=384)
    a, _ = classify_pigment(t.rgb, mpp=t.mpp, model=m, stains=st, params=off)
    b, _ = classify_pigment(t.rgb, mpp=t.mpp, model=m, stains=st, params=on)
    tr, ti = t.masks["melanin"], t.masks["tissue"]
    rows.append(np.concatenate([t.rgb[96:288, 96:288], paint(t.rgb, a & ti, tr)[96:288, 96:288],
                                paint(t.rgb, b & ti, tr)[96:288, 96:288]], axis=1))
Image.fromarray(np.kron(np.concatenate(rows, axis=0), np.ones((2, 2, 1), np.uint8))).save(sys.argv[1])
rgb = np.asarray(Image.open("sample_tiles/ki67_pigmented.tif").convert("RGB"))
a, _ = classify_pigment(rgb, mpp=0.5, model=m, stains=st, params=off)
b, _ = classify_pigment(rgb, mpp=0.5, model=m, stains=st, params=on)
print("sample mask % of tile", 100 * a.mean(), 100 * b.mean())
ov = rgb.copy()
ov[b & ~a] = (255, 0, 255)
ov[a] = (0, 220, 255)
Image.fromarray(np.kron(np.concatenate([rgb[300:500, 300:500], ov[300:500, 300:500]], axis=1),
                        np.ones((2, 2, 1), np.uint8))).save(sys.argv[2])
