"""Picture of the candidate's false pigment on real BCData tiles (session 42 H1, #14, gate 3's mechanism).

Each tile as the pipeline reads it (area-resampled to 0.5 µm/px, ``eval_pigment_dab.real``'s way): tile | HEAD's
melanin mask (the pigment stage's, ``melanin_model = "none"``) | the candidate's (the drawn-melanin model within
its reach of the stage's mask); masks in magenta (every pixel is false: the Ki67 sets hold no melanin).

    PYTHONPATH=. python benchmarks/experiments/dab_melanin_model_real_picture_s42.py OUT.png 5.png 2.png
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.io._resample import resize_area
from mmnst_path.stain import get_preset

BCDATA = Path("/work/shared/data/ki67/bcdata")


def main() -> None:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("tiles", nargs="+")
    args = ap.parse_args()
    model, stains = resolve_pigment_model("default"), get_preset("H-DAB")
    rows = []
    for name in args.tiles:
        rgb = np.asarray(Image.open(BCDATA / name).convert("RGB"))
        k = 0.25 / 0.5
        rgb = resize_area(rgb, (max(1, round(rgb.shape[0] * k)), max(1, round(rgb.shape[1] * k))))
        head, _ = classify_pigment(rgb, mpp=0.5, model=model, stains=stains,
                                   params=replace(PigmentParams(), melanin_model="none"))
        cand, _ = classify_pigment(rgb, mpp=0.5, model=model, stains=stains, params=PigmentParams())
        panels = [rgb]
        for m in (head, cand):
            p = rgb.copy()
            p[m] = (255, 0, 255)
            panels.append(p)
        rows.append(np.concatenate(panels, 1))
        print(f"{name}: HEAD {100 * head.mean():.6f} % candidate {100 * cand.mean():.6f} % of pixels")
    Image.fromarray(np.concatenate(rows, 0)).resize((rows[0].shape[1] * 2, len(rows) * rows[0].shape[0] * 2),
                                                   Image.NEAREST).save(args.out)


if __name__ == "__main__":
    main()
