"""The brown pixels of the pixel model's body table in one compiled pass (issue #14 / #16).

:func:`mmnst_path.classify._pigment_bodies._brown_mask` tests, band by band, the pixels of total
OD >= :data:`~mmnst_path.classify._pigment_bodies._BODY_OD` for a hue within
:data:`~mmnst_path.classify._pigment_bodies._BROWN_CONE_DEG` of DAB: index arrays, a gathered
copy of their fine-scale OD, an ``einsum`` dot product and a division, about 0.8 ms a 536² tile.
:func:`brown_mask` gives each pixel the same float32 operations in one pass over the planes: the
dot product ``(f0 * b0 + f1 * b1) + f2 * b2`` (the order ``np.einsum("kc,c->k", ...)`` adds the
three products in, checked on 4e7 random vectors), the division by ``max(total, 1e-6)`` and the
comparisons with the thresholds as float32 values (NumPy compares a float32 array with a Python
float in float32), so the mask is the same (tests/classify/test_pigment_brown.py).

:func:`blue_share_planes` likewise gives the input of the ``hue_sd`` pixel feature (the blue share
of the fine-scale OD, clipped to [0, 1], and its square) in one pass instead of six whole-window
numpy passes, with the same float32 operations (``np.clip`` keeps -0.0 and NaN as the compare
below does).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..detect._morphology import compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}
_SHARE: dict[str, Any] = {}


def _kernel() -> Any:
    """The compiled kernel, or None without numba (or with the scipy backend chosen)."""
    return compiled_kernel(_KERNEL, _brown_py)


def _brown_py(total, fine, ref, od_min, limit, eps, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[i, j]``: ``total[i, j] >= od_min`` and the cosine of ``fine[i, j]`` (3,) to the unit
    vector ``ref``, ``dot / max(total, eps)``, ``>= limit``; all float32."""
    m, n = total.shape
    r0 = ref[0]
    r1 = ref[1]
    r2 = ref[2]
    for i in range(m):
        trow = total[i]
        frow = fine[i]
        orow = out[i]
        for j in range(n):
            t = trow[j]
            if t >= od_min:
                dot = (frow[j, 0] * r0 + frow[j, 1] * r1) + frow[j, 2] * r2
                orow[j] = dot / max(t, eps) >= limit


def brown_mask(total: np.ndarray, fine: np.ndarray, ref: np.ndarray, od_min: float, cone_deg: float) -> np.ndarray | None:
    """(M, N) bool: ``total`` (M, N) float32 >= ``od_min`` and the float32 cosine of ``fine`` (M, N, 3)
    float32 to ``ref`` (3,) float32 >= ``cos(cone_deg)``, as
    :func:`~mmnst_path.classify._pigment_bodies._brown_mask` computes them. None without numba (or
    with the scipy backend) or for other dtypes or shapes (the caller's bands then)."""
    kern = _kernel()
    if (kern is None or total.dtype != np.float32 or fine.dtype != np.float32 or ref.dtype != np.float32
            or total.ndim != 2 or fine.shape != (*total.shape, 3)):
        return None
    out = np.zeros(total.shape, dtype=bool)
    kern(np.ascontiguousarray(total), np.ascontiguousarray(fine), ref, np.float32(od_min),
         np.float32(math.cos(math.radians(cone_deg))), np.float32(1e-6), out)
    return out


def _share_py(fine, total, eps, img, sq):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``img``: ``clip(fine[..., 2] / max(total, eps), 0, 1)``, ``sq``: ``img * img``, float32."""
    m, n = total.shape
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for i in range(m):
        for j in range(n):
            v = fine[i, j, 2] / max(total[i, j], eps)
            if v < zero:
                v = zero
            elif v > one:
                v = one
            img[i, j] = v
            sq[i, j] = v * v


def blue_share_planes(fine: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(img, img * img), C-contiguous (M, N) float32, with ``img`` =
    ``np.clip(fine[..., 2] / np.maximum(total, 1e-3), 0.0, 1.0).astype(np.float32)`` (``fine``
    (M, N, 3), ``total`` (M, N), float32, any strides). None without numba (or with the scipy
    backend) or for other dtypes or shapes."""
    kern = compiled_kernel(_SHARE, _share_py)
    if (kern is None or total.dtype != np.float32 or fine.dtype != np.float32 or total.ndim != 2
            or fine.shape != (*total.shape, 3)):
        return None
    img = np.empty(total.shape, np.float32)
    sq = np.empty(total.shape, np.float32)
    kern(fine, total, np.float32(1e-3), img, sq)
    return img, sq
