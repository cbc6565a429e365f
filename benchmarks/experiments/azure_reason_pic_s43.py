"""Session 43 H11 (#14, walk defect 11): where the blue (azure B) and green-blue bands of the AzureB-DAB reason lie on
the walk tile ``azure_b_tile(42005, "whole_cell", size=512)``, measured against pure white (as the guess does with no
glass seen) and against the tile's own tinted white. Writes the picture given as the first argument."""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image, ImageDraw

from mmnst_path.stain import guess as G
from mmnst_path.stain import od_from_rgb
from mmnst_path.synthetic_azure import azure_b_tile


def bands(rgb: np.ndarray, white: tuple[float, float, float], tissue: np.ndarray) -> np.ndarray:
    """Tissue grey, the blue band blue, the green-blue band green."""
    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, th = G.od_residual(od)
    keep = tissue & (norm > G.MIN_OD)
    out = np.full(rgb.shape, 255, np.uint8)
    out[keep] = (200, 200, 200)
    blue = keep & (m >= G.AZURE_COUNTER_MIN_OD) & (th > G.AZURE_COUNTER_DEG[0]) & (th < G.AZURE_COUNTER_DEG[1])
    teal = keep & (m >= G.TEAL_MIN_OD) & (th > G.TEAL_DEG[0]) & (th < G.TEAL_DEG[1])
    out[blue] = (30, 60, 220)
    out[teal] = (0, 170, 140)
    return out


def main(path: str) -> None:
    t = azure_b_tile(42005, "whole_cell", size=512)
    tissue = t.masks["tissue"]
    own = tuple(float(c) for c in np.median(t.rgb[~tissue], axis=0))
    truth = np.full(t.rgb.shape, 235, np.uint8)
    truth[t.masks["nuclei"] > 0] = (90, 120, 230)
    truth[t.masks["melanin"]] = (60, 40, 20)
    panels = [("tile (centre 256 px)", t.rgb), ("truth: nuclei blue, melanin brown", truth),
              ("bands vs pure white (the guess)", bands(t.rgb, (255.0, 255.0, 255.0), tissue)),
              (f"bands vs own white {tuple(round(c) for c in own)}", bands(t.rgb, own, tissue))]
    side, top = 256, 24
    img = Image.new("RGB", (4 * side + 30, side + top + 22), "white")
    draw = ImageDraw.Draw(img)
    for i, (title, arr) in enumerate(panels):
        x = i * (side + 10)
        img.paste(Image.fromarray(np.ascontiguousarray(arr[128:384, 128:384])), (x, top))
        draw.text((x + 2, 6), title, fill="black")
    draw.text((4, side + top + 6), "blue band +100..+160 deg (azure B) blue; green-blue band +35..+100 deg green; "
              "other tissue grey", fill="black")
    img.save(path)


if __name__ == "__main__":
    main(sys.argv[1])
