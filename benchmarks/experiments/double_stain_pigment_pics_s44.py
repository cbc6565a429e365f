"""Session 44 H10 (#14): picture of a SOX10 double-stain tile, left HEAD's behaviour (pigment nuclei kept out),
right the candidate (pigment nuclei read as melanocytes freed). Rings on detected nuclei matched to drawn
melanocytes: green counted with the right Ki67 call, red counted with the wrong one, blue ``pigment`` (out of the
index), yellow otherwise out (excluded / read not melanocytic); cyan tint: the pigment mask; magenta: drawn melanin.

    PYTHONPATH=. python benchmarks/experiments/double_stain_pigment_pics_s44.py 14622 aec OUT.png
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from PIL import Image, ImageDraw

import mmnst_path.quantify._ki67_double_model as DM
from mmnst_path.classify.pigment import classify_pigment
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._reach import pigment_model_of
from mmnst_path.quantify.ki67 import measure_ki67, without_marker
from mmnst_path.synthetic_double import double_stain_tile, match_cells

PRESET = {"fast_red": "H-DAB-FastRed", "aec": "H-DAB-AEC"}


def main() -> None:
    warnings.simplefilter("ignore")
    seed, ch, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    t = double_stain_tile(seed, marker="nuclear", chromogen=ch, size=384)
    cfg = AnalysisConfig.from_mapping({"stains": PRESET[ch], "measures": ["ki67"],
                                       "ki67": {"melanocyte_marker": "nuclear"}})
    matrix = cfg.stain_matrix()
    clean, sub = without_marker(t.rgb, matrix)
    mask, _ = classify_pigment(clean, mpp=t.mpp, model=pigment_model_of(cfg, matrix), stains=sub, params=cfg.pigment)
    panels = []
    keep = DM.FREE_MELANOCYTE_P
    for p in (2.0, keep):
        DM.FREE_MELANOCYTE_P = p
        c = measure_ki67(t.rgb, mpp=t.mpp, stains=matrix, nuclei_params=cfg.nuclei, params=cfg.ki67,
                         pigment_mask=mask).cells
        img = t.rgb.astype(np.float64)
        img[mask] = 0.6 * img[mask] + 0.4 * np.array([0, 200, 200])
        img[t.masks["melanin"]] = [200, 0, 200]
        im = Image.fromarray(img.astype(np.uint8)).resize((3 * 384, 3 * 384), Image.NEAREST)
        d = ImageDraw.Draw(im)
        m = match_cells(t, c.row, c.col)
        counts = {"green": 0, "red": 0, "blue": 0, "yellow": 0}
        for i in np.flatnonzero(m >= 0):
            tc = t.cells[m[i]]
            if tc[3] <= 0:
                continue
            cls = str(c.cls[i])
            if cls == "pigment":
                col = "blue"
            elif cls in ("positive", "negative") and bool(c.melanocytic[i]):
                col = "green" if (cls == "positive") == (tc[4] > 0) else "red"
            else:
                col = "yellow"
            counts[col] += 1
            r = 3 * tc[2] + 3
            d.ellipse([3 * c.col[i] - r, 3 * c.row[i] - r, 3 * c.col[i] + r, 3 * c.row[i] + r], outline=col, width=3)
        d.rectangle([0, 0, 700, 28], fill="white")
        d.text((4, 4), f"{'HEAD' if p > 1 else 'candidate'}: {counts}", fill="black")
        panels.append(np.asarray(im))
        print(p, counts)
    DM.FREE_MELANOCYTE_P = keep
    Image.fromarray(np.concatenate(panels, 1)).save(out)


if __name__ == "__main__":
    main()
