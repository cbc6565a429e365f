"""Optional numba kernels for :mod:`mmnst_path.tiling.tissue` (imported only when used).

``gaussian_nearest_axis0`` / ``gaussian_nearest_axis1`` are one pass of
``scipy.ndimage.correlate1d`` with a symmetric kernel and ``mode="nearest"`` on a float32 image,
computed as scipy computes it (the kernels of :mod:`mmnst_path.detect._numba` with the border
clamped instead of reflected; ``tiling`` sits below ``detect`` and cannot import them): each line
in float64, ``x[i] * w[0]`` first, then ``(x[i - k] + x[i + k]) * w[k]`` added for ``k = r .. 1``,
rounded to float32 once. Same additions in the same order, so bit-identical (tested against
scipy); the inner loops run along contiguous memory. Compiled on first call, cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gaussian_nearest_axis0", "gaussian_nearest_axis1"]


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_nearest_axis0(img, w, out):  # pragma: no cover - compiled
    """Correlate the columns of ``img`` (M, N) float32 with the symmetric half-kernel ``w``
    (``w[0]`` centre, ``w[k]`` at offsets +-k, float64), rows outside the image repeating the edge
    row, into ``out`` (M, N) float32."""
    m, n = img.shape
    r = w.shape[0] - 1
    acc = np.empty(n, np.float64)
    w0 = w[0]
    for i in range(m):
        src = img[i]
        for j in range(n):
            acc[j] = np.float64(src[j]) * w0
        for k in range(r, 0, -1):
            up = img[max(i - k, 0)]
            down = img[min(i + k, m - 1)]
            wk = w[k]
            for j in range(n):
                acc[j] += (np.float64(up[j]) + np.float64(down[j])) * wk
        dst = out[i]
        for j in range(n):
            dst[j] = np.float32(acc[j])


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_nearest_axis1(img, w, out):  # pragma: no cover - compiled
    """Correlate the rows of ``img`` (M, N) float32 with the symmetric half-kernel ``w`` into
    ``out`` (M, N) float32, columns outside the image repeating the edge column."""
    m, n = img.shape
    r = w.shape[0] - 1
    buf = np.empty(n + 2 * r, np.float32)
    acc = np.empty(n, np.float64)
    w0 = w[0]
    for i in range(m):
        src = img[i]
        for j in range(n):
            buf[j + r] = src[j]
        for j in range(r):
            buf[j] = src[0]
            buf[n + r + j] = src[n - 1]
        mid = buf[r : r + n]
        for j in range(n):
            acc[j] = np.float64(mid[j]) * w0
        for k in range(r, 0, -1):
            wk = w[k]
            lo = buf[r - k : r - k + n]
            hi = buf[r + k : r + k + n]
            for j in range(n):
                acc[j] += (np.float64(lo[j]) + np.float64(hi[j])) * wk
        dst = out[i]
        for j in range(n):
            dst[j] = np.float32(acc[j])
