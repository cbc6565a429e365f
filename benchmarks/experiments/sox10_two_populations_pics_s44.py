"""Session 44 H1: a picture of the two populations the SOX10 call reads, on a generated pale-marker Ki67 / SOX10 tile
(dev seed): the tissue thumbnail the guess is made on (1 µm/px), enlarged x3, with the pink nuclear bodies (the
marker's nuclei, red outline) and the brown nuclear bodies of DAB's colour (Ki67, green outline); other brown bodies
(melanin) in yellow. Beside it the full tile (0.5 µm/px).

    PYTHONPATH=.:benchmarks .venv/bin/python benchmarks/experiments/sox10_two_populations_pics_s44.py 140011 OUT.png
"""

from __future__ import annotations

import sys

import eval_stain_guess as E
import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage.measure import regionprops
from skimage.segmentation import find_boundaries
from sox10_two_populations_dev_s44 import sox10_tile

from mmnst_path.stain import od_from_rgb
from mmnst_path.stain import places as P
from mmnst_path.stain.guess import (
    AEC_DEG,
    CHROMOGEN_MIN_OD,
    CHROMOGEN_MIN_SHARE,
    MIN_OD,
    PINK_MIN_OD,
    RED_DEG,
    guess_stains_detail,
    od_residual,
)


def _bodies(mask: np.ndarray, mpp: float, keep=None) -> np.ndarray:
    r = max(1, round(P.BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    opened = ndi.binary_opening(mask, structure=yy * yy + xx * xx <= r * r)
    lab, _ = ndi.label(mask)
    out = np.zeros(mask.shape, int)
    for rp in regionprops(lab):
        a = rp.area * mpp * mpp
        if not (P.BODY_AREA_UM2[0] <= a <= P.BODY_AREA_UM2[1]) or rp.area < P.BODY_FILL * rp.area_filled:
            continue
        ys, xs = rp.coords[:, 0], rp.coords[:, 1]
        if (rp.solidity >= P.BODY_SOLIDITY and rp.eccentricity <= P.BODY_MAX_ECC
                and float(opened[ys, xs].mean()) >= P.BODY_OPEN_KEEP and (keep is None or keep(ys, xs))):
            out[ys, xs] = rp.label
    return out


def main(variant_seed: int, out: str) -> None:
    seed, v = divmod(variant_seed, 10)
    lab, t = sox10_tile(seed, v)
    thumb, mask, mpp = E.thumbnail(t.rgb, t.mpp)
    g = guess_stains_detail(thumb, mask, mpp=mpp)
    od = od_from_rgb(thumb, background=g.white_point).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, theta = od_residual(od)
    keep = np.asarray(mask, bool) & (norm > MIN_OD)
    chrom = keep & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    pink = _bodies(keep & (m >= PINK_MIN_OD) & (theta < RED_DEG), mpp)
    brown_mask = chrom & (theta >= AEC_DEG) & (theta < 30.0)

    def dab(ys, xs):
        d = float(np.median(theta[ys, xs]))
        return P.DAB_BROWN_DEG[0] <= d <= P.DAB_BROWN_DEG[1] and m[ys, xs].mean() >= P.DAB_BODY_SHARE * norm[ys, xs].mean()

    dabb = _bodies(brown_mask, mpp, dab)
    mel = _bodies(brown_mask, mpp, lambda ys, xs: not dab(ys, xs))
    big = np.kron(thumb, np.ones((3, 3, 1), np.uint8))
    for lab_img, col in ((pink, (220, 0, 0)), (dabb, (0, 200, 0)), (mel, (230, 200, 0))):
        edge = find_boundaries(np.kron(lab_img, np.ones((3, 3), int)), mode="outer")
        big[edge] = col
    full = np.asarray(Image.fromarray(t.rgb).resize((big.shape[1], big.shape[0])))
    Image.fromarray(np.concatenate([big, np.full((big.shape[0], 8, 3), 255, np.uint8), full], axis=1)).save(out)
    print(f"{lab}: {g.name} ({g.marker or '-'}, flagged {g.ambiguous}); truth {t.truth['melanocytes']} melanocytes, "
          f"{t.truth['positive']} Ki67+ cells, marker OD {t.truth['marker_od']:.2f}; pink bodies {int(pink.max() and len(np.unique(pink)) - 1)}, "
          f"DAB-coloured {len(np.unique(dabb)) - 1}, other brown {len(np.unique(mel)) - 1}; {g.reason}")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
