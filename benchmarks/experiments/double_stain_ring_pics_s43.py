"""Dev picture (session 43 H2, #14): the brown nuclear bodies the MART-1 ring rule counts, outlined on the tissue
thumbnail the stain guess reads (green: light, 90th-percentile OD norm <= ``DAB_LIGHT_MAX_OD``; magenta: darker),
for dev H&E tiles the rule named double and dev MART-1 Fast Red tiles it names from an H&E colour guess.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_ring_pics_s43.py --out /work/notes/s43/h2_dev_ring.png
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import eval_stain_guess as esg  # noqa: E402

from mmnst_path import synthetic  # noqa: E402
from mmnst_path.stain import od_from_rgb  # noqa: E402
from mmnst_path.stain import places as pl  # noqa: E402
from mmnst_path.stain.guess import (  # noqa: E402
    AEC_DEG,
    CHROMOGEN_MIN_OD,
    CHROMOGEN_MIN_SHARE,
    MIN_OD,
    guess_stains_detail,
    od_residual,
)
from mmnst_path.synthetic_double import double_stain_tile  # noqa: E402


def brown_body_labels(rgb: np.ndarray, tissue: np.ndarray, mpp: float, white) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the light and the darker brown nuclear bodies (the body tests of ``places._count``)."""
    from scipy import ndimage as ndi
    from skimage.measure import regionprops

    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, theta = od_residual(od)
    objs = (tissue & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
            & (theta >= AEC_DEG) & (theta < 30.0))
    r = max(1, round(pl.BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    opened = ndi.binary_opening(objs, structure=yy * yy + xx * xx <= r * r)
    lab, _ = ndi.label(objs)
    light, dark = np.zeros(lab.shape, bool), np.zeros(lab.shape, bool)
    for rp in regionprops(lab):
        a = rp.area * mpp * mpp
        if not (pl.BODY_AREA_UM2[0] <= a <= pl.BODY_AREA_UM2[1]) or rp.area < pl.BODY_FILL * rp.area_filled:
            continue
        ys, xs = rp.coords[:, 0], rp.coords[:, 1]
        if rp.solidity >= pl.BODY_SOLIDITY and rp.eccentricity <= pl.BODY_MAX_ECC and opened[ys, xs].mean() >= pl.BODY_OPEN_KEEP:
            is_light = np.percentile(norm[ys, xs], pl.DAB_LIGHT_PCT) <= pl.DAB_LIGHT_MAX_OD
            (light if is_light else dark)[ys, xs] = True
    return light, dark


TILES = {
    "H&E dusty wide hard 7251": lambda: synthetic.pigment_family_tile(7251, "dusty", chromogen="eosin", appearance="wide",
                                                                      hard_negatives=True),
    "H&E coarse wide 7210": lambda: synthetic.pigment_family_tile(7210, "coarse", chromogen="eosin", appearance="wide"),
    "MART-1 Fast Red 720806": lambda: double_stain_tile(720806, marker="cytoplasmic", chromogen="fast_red", size=384),
    "MART-1 Fast Red 721300": lambda: double_stain_tile(721300, marker="cytoplasmic", chromogen="fast_red", size=384),
}


def main(argv: list[str] | None = None) -> int:
    from PIL import Image, ImageDraw
    from scipy import ndimage as ndi

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    panels = []
    for name, make in TILES.items():
        t = make()
        thumb, mask, tmpp = esg.thumbnail(t.rgb, t.mpp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = guess_stains_detail(thumb, mask, mpp=tmpp)
        light, dark = brown_body_labels(np.asarray(thumb), np.asarray(mask, bool), float(tmpp), g.white_point)
        img = np.asarray(thumb).copy()
        for sel, col in ((light, (0, 255, 0)), (dark, (255, 0, 255))):
            img[ndi.binary_dilation(sel, iterations=2) & ~sel] = col
        im = Image.fromarray(img).resize((2 * img.shape[1], 2 * img.shape[0]), Image.NEAREST)
        panel = Image.new("RGB", (im.width, im.height + 30), "white")
        panel.paste(im, (0, 30))
        p = g.places
        ImageDraw.Draw(panel).text((2, 2), f"{name} -> {g.name} (p_he {g.he_probability:.2f})\n"
                                           f"brown {p.brown_bodies_mm2:.0f} light {p.brown_light_bodies_mm2:.0f} /mm2, "
                                           f"ring {p.red_ring_share:.2f}", fill="black")
        panels.append(panel)
        print(name, g.name, g.he_probability, p)
    w, h = max(p.width for p in panels), max(p.height for p in panels)
    sheet = Image.new("RGB", (2 * w, 2 * h), "white")
    for i, p in enumerate(panels):
        sheet.paste(p, ((i % 2) * w, (i // 2) * h))
    sheet.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
