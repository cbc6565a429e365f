"""Per-body pixel sums of the brown-body model's image features in one pass (issue #14 / #16).

:func:`mmnst_path.classify._pigment_bodies.body_image_features` describes each brown body (a
DAB-positive nucleus or dense melanin) by means and spreads of per-pixel values: the OD norm and
vector, the brown and hematoxylin concentrations, the brown share, the neutrality, the dark local
maxima and the pixel coordinates. With ``np.bincount`` that is 17 passes over the bodies' pixels,
each with its own gathered and converted temporaries (about 3 ms on a BCData tile, whose DAB
nuclei cover ~15 % of it). :func:`body_pixel_sums` adds the same values to the same bins in the
same (raster) order in one compiled pass, so every sum is the same float64 number (``bincount``
adds the weights of a bin in input order; tests/classify/test_pigment_body_sums.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..detect._morphology import compiled_kernel

__all__: list[str] = []

#: the sums' columns, in order (the weights ``body_image_features`` gives ``np.bincount``)
SUMS = ("total", "total2", "od_r", "od_g", "od_b", "brown", "hematoxylin", "share", "share2", "grey", "grey2",
        "maxima", "row", "col", "row2", "col2", "rowcol")

_KERNEL: dict[str, Any] = {}


def _kernel() -> Any:
    """The compiled kernel, or None without numba (or with the scipy backend chosen)."""
    return compiled_kernel(_KERNEL, _sums_py)


def _sums_py(labels, od, brown, hematoxylin, maxima, sqrt3, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Add to ``out[l]`` ((L, 17) float64, columns :data:`SUMS`) the values of every pixel of
    ``labels`` (M, N) with label ``l > 0``, in raster order; ``maxima`` holds 1.0 / 0.0 per
    labelled pixel in that order. Each value is computed with the float64 operations of
    ``body_image_features``."""
    m, n = labels.shape
    s = 0
    for i in range(m):
        for j in range(n):
            lab = labels[i, j]
            if lab <= 0:
                continue
            f0 = np.float64(od[i, j, 0])
            f1 = np.float64(od[i, j, 1])
            f2 = np.float64(od[i, j, 2])
            tot = np.sqrt((f0 * f0 + f1 * f1) + f2 * f2)
            b = np.float64(brown[i, j])
            h = np.float64(hematoxylin[i, j])
            bp = max(b, 0.0)
            hp = max(h, 0.0)
            share = bp / max(bp + hp, 1e-3)
            grey = (f0 + f1 + f2) / max(tot, 1e-6) / sqrt3
            rr = np.float64(i)
            cc = np.float64(j)
            o = out[lab]
            o[0] += tot
            o[1] += tot * tot
            o[2] += f0
            o[3] += f1
            o[4] += f2
            o[5] += b
            o[6] += h
            o[7] += share
            o[8] += share * share
            o[9] += grey
            o[10] += grey * grey
            o[11] += maxima[s]
            o[12] += rr
            o[13] += cc
            o[14] += rr * rr
            o[15] += cc * cc
            o[16] += rr * cc
            s += 1


def body_pixel_sums(labels: np.ndarray, n: int, idx: np.ndarray, od: np.ndarray, brown: np.ndarray,
                    hematoxylin: np.ndarray, maxima: np.ndarray) -> np.ndarray:
    """(n, 17) float64: per body 1..n the sums over its pixels of the values :data:`SUMS`
    (``total``: the norm of the float64 OD vector; ``share``: brown / (brown + hematoxylin), each
    clipped at 0; ``grey``: the OD's component sum / its norm / sqrt(3); ``maxima`` (K,) 1.0 at
    the labelled pixels that are dark local maxima, in raster order; row and column indices).
    ``idx``: the raveled indices of the labelled pixels (raster order). With numba in one pass;
    else with ``np.bincount`` per column (the reference: the same sums, tested). ``n`` must be
    ``labels.max()`` (the labeller's count): the compiled pass does not check the label bounds."""
    out = np.zeros((n + 1, len(SUMS)), np.float64)
    kern = _kernel()
    if kern is not None:
        # (brown and hematoxylin may be strided planes of the unmixing: read in place)
        kern(np.ascontiguousarray(labels), np.ascontiguousarray(od), brown, hematoxylin,
             np.ascontiguousarray(maxima, dtype=np.float64), math.sqrt(3.0), out)
        return out[1:]
    lab = labels.ravel()[idx]
    flat = od.reshape(-1, 3)[idx].astype(np.float64)
    total = np.sqrt((flat * flat).sum(axis=1))
    b = brown.ravel()[idx].astype(np.float64)
    h = hematoxylin.ravel()[idx].astype(np.float64)
    bp, hp = np.maximum(b, 0.0), np.maximum(h, 0.0)
    share = bp / np.maximum(bp + hp, 1e-3)
    grey = flat.sum(axis=1) / np.maximum(total, 1e-6) / math.sqrt(3.0)
    rr = (idx // labels.shape[1]).astype(np.float64)
    cc = (idx % labels.shape[1]).astype(np.float64)
    cols = (total, total * total, flat[:, 0], flat[:, 1], flat[:, 2], b, h, share, share * share, grey, grey * grey,
            maxima.astype(np.float64), rr, cc, rr * rr, cc * cc, rr * cc)
    for c, w in enumerate(cols):
        out[:, c] = np.bincount(lab, weights=w, minlength=n + 1)[: n + 1]
    return out[1:]
