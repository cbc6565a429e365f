"""Optional numba kernel for :mod:`mmnst_path.io._resample` (imported only when used).

``area_taps`` is the non-integer-factor pass of area resampling computed exactly as the numpy
path computes it: per output element, ``float32(x[idx[i, 0]]) * w[i, 0]``, then for ``k >= 1``
the float32 product ``float32(x[idx[i, k]]) * w[i, k]`` added to it in float32 (no fused
multiply-add: numba compiles without fast-math, so the products are rounded before the sum).
Same operations in the same order, so bit-identical; the speed comes from not materialising a
gathered copy and a product array per tap. Compiled on first call, cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["area_taps"]


@njit(cache=True, nogil=True, boundscheck=False)
def area_taps(moved, index, weight, out):  # pragma: no cover - compiled
    """``out[i, a, b] = sum_k float32(moved[index[i, k], a, b]) * weight[i, k]`` in float32, the
    terms added in the order ``k = 0, 1, ...`` (``moved`` (L, A, B) any real dtype and strides,
    ``index`` (n, K) intp, ``weight`` (n, K) float32, ``out`` (n, A, B) float32)."""
    n, taps = index.shape
    _, na, nb = moved.shape
    for i in range(n):
        j0 = index[i, 0]
        w0 = weight[i, 0]
        for a in range(na):
            for b in range(nb):
                out[i, a, b] = np.float32(moved[j0, a, b]) * w0
        for k in range(1, taps):
            j = index[i, k]
            wk = weight[i, k]
            for a in range(na):
                for b in range(nb):
                    out[i, a, b] += np.float32(np.float32(moved[j, a, b]) * wk)
