"""Optional numba kernels for :mod:`mmnst_path.detect._morphology` (imported only when used).

``gaussian_axis0`` / ``gaussian_axis1`` are one pass of ``scipy.ndimage.correlate1d`` with a
symmetric kernel and ``mode="reflect"`` on a float32 image, computed exactly as scipy computes
it: each line in float64, ``x[i] * w[0]`` first, then ``(x[i - k] + x[i + k]) * w[k]`` added for
``k = r .. 1`` (outermost pair first), rounded to float32 once. The additions of one output
pixel happen in the same order, so the result is bit-identical; the speed comes from running
the inner loop along contiguous memory (vectorised across pixels) instead of copying every line
into a buffer. Compiled on first call and cached on disk (``cache=True``); single-threaded
(tile workers are the parallelism).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gaussian_axis0", "gaussian_axis1"]


@njit(cache=True, nogil=True, boundscheck=False)
def _reflect(i, n):  # pragma: no cover - compiled
    """scipy's ``reflect`` (half-sample symmetric) index: ... 1 0 | 0 1 ... n-1 | n-1 n-2 ..."""
    period = 2 * n
    i = i % period
    if i < 0:
        i += period
    if i >= n:
        i = period - 1 - i
    return i


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_axis0(img, w, out):  # pragma: no cover - compiled
    """Correlate the columns of ``img`` (M, N) float32 with the symmetric half-kernel ``w``
    (``w[0]`` centre, ``w[k]`` at offsets ±k, float64) into ``out`` (M, N) float32."""
    m, n = img.shape
    r = w.shape[0] - 1
    acc = np.empty(n, np.float64)
    for i in range(m):
        w0 = w[0]
        for j in range(n):
            acc[j] = np.float64(img[i, j]) * w0
        for k in range(r, 0, -1):
            a = _reflect(i - k, m)
            b = _reflect(i + k, m)
            wk = w[k]
            for j in range(n):
                acc[j] += (np.float64(img[a, j]) + np.float64(img[b, j])) * wk
        for j in range(n):
            out[i, j] = np.float32(acc[j])


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_axis1(img, w, out):  # pragma: no cover - compiled
    """Correlate the rows of ``img`` (M, N) float32 with the symmetric half-kernel ``w`` into
    ``out`` (M, N) float32 (see :func:`gaussian_axis0`)."""
    m, n = img.shape
    r = w.shape[0] - 1
    buf = np.empty(n + 2 * r, np.float32)  # float32 like acc's inputs (and no alias with acc)
    acc = np.empty(n, np.float64)
    for i in range(m):
        for j in range(n):
            buf[j + r] = img[i, j]
        for j in range(r):  # the reflected borders only
            buf[j] = img[i, _reflect(j - r, n)]
            buf[n + r + j] = img[i, _reflect(n + j, n)]
        w0 = w[0]
        mid = buf[r : r + n]
        for j in range(n):
            acc[j] = np.float64(mid[j]) * w0
        for k in range(r, 0, -1):
            wk = w[k]
            lo = buf[r - k : r - k + n]  # views indexed by the loop variable: vectorised
            hi = buf[r + k : r + k + n]
            for j in range(n):
                acc[j] += (np.float64(lo[j]) + np.float64(hi[j])) * wk
        for j in range(n):
            out[i, j] = np.float32(acc[j])
