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

__all__ = ["gaussian_nearest_axis0", "gaussian_nearest_axis1", "ring_rows_to"]


@njit(cache=True, nogil=True, boundscheck=False)
def ring_rows_to(img, ring, done, stop):  # pragma: no cover - compiled
    """Convert image rows ``done .. stop - 1`` of ``img`` to float64 into the ring buffer ``ring``
    (row q at ``ring[q % len(ring)]``, exact) and return ``stop``: the row conversion of the ring
    Gaussians here and in :mod:`mmnst_path.detect._numba`."""
    size = ring.shape[0]
    n = img.shape[1]
    for q in range(done, stop):
        src = img[q]
        dst = ring[q % size]
        for j in range(n):
            dst[j] = np.float64(src[j])
    return max(done, stop)


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_nearest_axis0(img, w, out):  # pragma: no cover - compiled
    """Correlate the columns of ``img`` (M, N) float32 with the symmetric half-kernel ``w``
    (``w[0]`` centre, ``w[k]`` at offsets +-k, float64), rows outside the image repeating the edge
    row, into ``out`` (M, N) float32. Each image row is converted to float64 once, into a ring of
    the ``2 r + 1`` rows around the output row (exact, so the same sums as converting per tap)."""
    m, n = img.shape
    r = w.shape[0] - 1
    size = 2 * r + 1
    ring = np.empty((size, n), np.float64)  # image row q at ring[q % size]
    acc = np.empty(n, np.float64)
    w0 = w[0]
    done = 0  # image rows converted so far
    for i in range(m):
        # the clamped rows of output i lie in i - r .. i + r
        done = ring_rows_to(img, ring, done, min(i + r + 1, m))
        c = ring[i % size]
        for j in range(n):
            acc[j] = c[j] * w0
        for k in range(r, 0, -1):
            up = ring[max(i - k, 0) % size]
            down = ring[min(i + k, m - 1) % size]
            wk = w[k]
            for j in range(n):
                acc[j] += (up[j] + down[j]) * wk
        dst = out[i]
        for j in range(n):
            dst[j] = np.float32(acc[j])


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_nearest_axis1(img, w, out):  # pragma: no cover - compiled
    """Correlate the rows of ``img`` (M, N) float32 with the symmetric half-kernel ``w`` into
    ``out`` (M, N) float32, columns outside the image repeating the edge column (each row
    converted to float64 once, into a padded line)."""
    m, n = img.shape
    r = w.shape[0] - 1
    buf = np.empty(n + 2 * r, np.float64)
    acc = np.empty(n, np.float64)
    w0 = w[0]
    for i in range(m):
        src = img[i]
        for j in range(n):
            buf[j + r] = np.float64(src[j])
        for j in range(r):
            buf[j] = np.float64(src[0])
            buf[n + r + j] = np.float64(src[n - 1])
        mid = buf[r : r + n]
        for j in range(n):
            acc[j] = mid[j] * w0
        for k in range(r, 0, -1):
            wk = w[k]
            lo = buf[r - k : r - k + n]
            hi = buf[r + k : r + k + n]
            for j in range(n):
                acc[j] += (lo[j] + hi[j]) * wk
        dst = out[i]
        for j in range(n):
            dst[j] = np.float32(acc[j])
