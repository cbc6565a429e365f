"""Session 43 H3 (#13): dev picture, he_mimic_tile dev seeds read by two tissue models.

    PYTHONPATH=. python benchmarks/experiments/tissue_weights_pics_s43.py --seeds 7301 7306 --models A.mmnst B.mmnst \
        --out FILE.png

Each row: the tile | truth (green stroma, light blue mucin, red tumour, dark red blood, orange keratin, yellow fat,
magenta necrosis) | one column per model with the pipeline's final necrosis mask
(:func:`mmnst_path.quantify.necrosis.measure_necrosis`) in white over the truth colours, the % of tissue in the title
strip. Dev seeds only (7300-7389), never a gate renderer.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

COLOURS = {"stroma": (0, 160, 0), "mucin": (80, 160, 255), "tumour": (200, 0, 0), "blood": (110, 0, 0),
           "keratin": (255, 140, 0), "fat": (230, 210, 0), "necrosis": (255, 0, 255)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--models", type=Path, nargs="+", required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    from PIL import Image, ImageDraw

    from mmnst_path.quantify.necrosis import NecrosisParams, mask_to_tile, measure_necrosis, necrosis_metrics
    from mmnst_path.synthetic_tissue import he_mimic_tile

    side, strip = 300, 16
    cols = 2 + len(args.models)
    canvas = Image.new("RGB", (cols * (side + 4), len(args.seeds) * (side + strip + 4)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, s in enumerate(args.seeds):
        mpp, size = (1.0, 384) if s % 2 else (0.5, 640)
        t = he_mimic_tile(s, size=size, mpp=mpp)
        lab = np.full(t.rgb.shape, 255, np.uint8)
        for c, col in COLOURS.items():
            if c in t.masks:
                lab[t.masks[c]] = col
        y0 = i * (side + strip + 4)
        panels = [t.rgb, lab]
        titles = [f"seed {s} {mpp:g} um/px", f"truth necrosis {t.truth['necrosis_fraction_pct']:.1f} %"]
        for m in args.models:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                counts, mask, mask_mpp = measure_necrosis(t.rgb, mpp=mpp, params=NecrosisParams(tissue_model=str(m)))
            big = mask_to_tile(mask, t.rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp).astype(bool)
            over = lab.copy()
            over[big] = (over[big] * 0.3 + 255 * 0.7).astype(np.uint8)
            panels.append(over)
            titles.append(f"{m.stem}: {necrosis_metrics(counts)['necrosis_fraction_pct']:.1f} %")
        for j, (p, title) in enumerate(zip(panels, titles, strict=True)):
            canvas.paste(Image.fromarray(p).resize((side, side), Image.NEAREST), (j * (side + 4), y0 + strip))
            draw.text((j * (side + 4) + 2, y0 + 2), title, fill=(0, 0, 0))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
