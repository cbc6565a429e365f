"""Dev check of a "solid dark blob" guard (session 43 H1, #14; dev data only; not chosen): the drawn-melanin model
kept off thick dark blobs (mean RGB OD >= T, opened by a disk of r µm) the stage did not mark, on top of the
all-bodies guard; scored from dab_melanin_body_cache_s43.py's cache (generated glob, EndoNuke glob).

    PYTHONPATH=. python benchmarks/experiments/dab_melanin_solid_dev_s43.py "gen_71*" "en*"
"""

import math
import sys

import numpy as np

sys.path.insert(0, "benchmarks/experiments")
from pathlib import Path

from dab_melanin_body_dev_s43 import guarded
from mmnst_path.classify._pigment_dab_melanin import _disk
from PIL import Image
from scipy import ndimage as ndi

from mmnst_path.synthetic import pigment_family_tile

C = Path("/tmp/s43_h1/cache")


def solid(rgb, mpp, T, r):
    od = -np.log10(np.clip(rgb.astype(np.float32) + 1, 1, 256) / 256.0).mean(axis=2)
    d = od >= T
    k = max(1, round(r / mpp))
    return ndi.binary_opening(d, structure=_disk(k))


gen = []
for f in sorted(C.glob(sys.argv[1] + ".npz")):
    _, seed, fam = f.stem.split("_", 2)
    t = pigment_family_tile(int(seed), fam, chromogen="dab", size=384, drawn_melanin=True)
    gen.append((fam, dict(np.load(f)), t.rgb))
real = []
for f in sorted(C.glob(sys.argv[2] + ".npz")):
    real.append(
        (
            f.stem,
            dict(np.load(f)),
            np.asarray(
                Image.open("/work/shared/train/endonuke/mixed/" + f.stem.split("_")[-1] + ".png").convert(
                    "RGB"
                )
            )
            if "_mixed_" in f.stem
            else None,
        )
    )
base = {}
for T in [0.5, 0.65, 0.8]:
    for r in [1.0, 1.5, 2.5]:
        dice = []
        err = []
        for fam, d, rgb in gen:
            if fam == "none":
                continue
            m = guarded(d, t=0.25, body_all=True)
            st = d["stage"]
            if m.any():
                s = solid(rgb, float(d["mpp"]), T, r)
                m = m & ~(s & ~st)
            m = m & d["tissue"]
            tr = d["truth"]
            n = float(d["tissue"].sum())
            S = int(m.sum()) + int(tr.sum())
            dice.append(2 * int((m & tr).sum()) / S if S and tr.any() else math.nan)
            err.append(100 * (int(m.sum()) - int(tr.sum())) / n)
        add = []
        for _stem, d, rgb in real:
            m = guarded(d, t=0.25, body_all=True)
            st = d["stage"]
            if rgb is not None and m.any():
                s = solid(rgb, float(d["mpp"]), T, r)
                m = m & ~(s & ~st)
            add.append(100 * float((m & ~st).mean()))
        a = np.array(add)
        top = np.argsort(-a)[:3]
        print(
            f"T {T} r {r}: Dice {np.nanmean(dice):.4f} |err| {np.mean(np.abs(err)):.4f} EN add mean {a.mean():.5f} max {a.max():.4f} >0.05: {(a > 0.05).sum()} top",
            [(real[i][0][6:], round(a[i], 3)) for i in top],
            flush=True,
        )
