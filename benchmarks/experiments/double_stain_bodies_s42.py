"""Dev picture and per-body features (session 42 H2, #14): the DAB-holding nuclear bodies of named generated tiles,
outlined on the tissue thumbnail the stain guess reads, with each body's features (mean / 90th percentile OD norm,
OD-off-hematoxylin share, within-body OD spread, red / blue OD ratio).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_bodies_s42.py --out /work/notes/s42/h2_bodies.png \\
        "H&E:7207:2" "H-DAB-FastRed:7201:0"

Each tile is ``PROTOCOL:SEED:INDEX`` of ``benchmarks/eval_stain_guess.py``'s ``protocol_tile``.
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

from mmnst_path.stain import od_from_rgb  # noqa: E402
from mmnst_path.stain import places as pl  # noqa: E402
from mmnst_path.stain.guess import (  # noqa: E402
    CHROMOGEN_MIN_OD,
    CHROMOGEN_MIN_SHARE,
    MIN_OD,
    guess_stains_detail,
    od_residual,
)


def dab_bodies(rgb: np.ndarray, tissue: np.ndarray, mpp: float, white: tuple[float, float, float]):
    """Label image of the DAB-holding nuclear bodies (the body tests of ``places._count``, class "any") and one
    feature dict per body."""
    from scipy import ndimage as ndi
    from skimage.measure import regionprops

    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, theta = od_residual(od)
    chrom = tissue & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm) & (theta < 30.0)
    r = max(1, round(pl.BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    opened = ndi.binary_opening(chrom, structure=yy * yy + xx * xx <= r * r)
    lab, _ = ndi.label(chrom)
    out = np.zeros(lab.shape, int)
    feats = []
    for rp in regionprops(lab):
        a = rp.area * mpp * mpp
        if not (pl.BODY_AREA_UM2[0] <= a <= pl.BODY_AREA_UM2[1]) or rp.area < pl.BODY_FILL * rp.area_filled:
            continue
        ys, xs = rp.coords[:, 0], rp.coords[:, 1]
        if not (rp.solidity >= pl.BODY_SOLIDITY and rp.eccentricity <= pl.BODY_MAX_ECC
                and float(opened[ys, xs].mean()) >= pl.BODY_OPEN_KEEP):
            continue
        deg = float(np.median(theta[ys, xs]))
        share = float(m[ys, xs].mean()) / float(norm[ys, xs].mean())
        if not (share >= pl.DAB_BODY_SHARE and deg >= pl.DAB_BODY_MIN_DEG):
            continue
        out[ys, xs] = len(feats) + 1
        o = od[ys, xs]
        feats.append({"area_um2": a, "od": float(norm[ys, xs].mean()), "od90": float(np.percentile(norm[ys, xs], 90)),
                      "share": share, "spread": float(norm[ys, xs].std() / norm[ys, xs].mean()),
                      "r_over_b": float(o[:, 0].mean() / max(o[:, 2].mean(), 1e-6)), "deg": deg})
    return out, feats


def main(argv: list[str] | None = None) -> int:
    from PIL import Image, ImageDraw
    from skimage.segmentation import find_boundaries

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tiles", nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    panels = []
    for spec in args.tiles:
        proto, seed, idx = spec.split(":")
        lab, rgb, mpp = esg.protocol_tile(proto, int(seed), int(idx))
        thumb, mask, tmpp = esg.thumbnail(rgb, mpp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = guess_stains_detail(thumb, mask, mpp=tmpp)
        bl, feats = dab_bodies(np.asarray(thumb), np.asarray(mask, bool), float(tmpp), g.white_point)
        img = np.asarray(thumb).copy()
        img[find_boundaries(bl, mode="outer")] = (0, 255, 0)
        im = Image.fromarray(img).resize((2 * img.shape[1], 2 * img.shape[0]), Image.NEAREST)
        panel = Image.new("RGB", (im.width, im.height + 16), "white")
        panel.paste(im, (0, 16))
        ImageDraw.Draw(panel).text((2, 2), f"{proto} {lab} -> {g.name}", fill="black")
        panels.append(panel)
        print(f"{proto} | {lab} | {g.name} | p_he {g.he_probability:.2f}")
        for i, f in enumerate(feats):
            print("   ", i + 1, " ".join(f"{k} {v:.3f}" for k, v in f.items()))
    cols = min(len(panels), 4)
    rows = (len(panels) + cols - 1) // cols
    w, h = max(p.width for p in panels), max(p.height for p in panels)
    sheet = Image.new("RGB", (cols * w, rows * h), "white")
    for i, p in enumerate(panels):
        sheet.paste(p, ((i % cols) * w, (i // cols) * h))
    sheet.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
