"""Optional numba kernels for :mod:`mmnst_path.tiling.tissue` (imported only when used).

``gaussian_nearest_axis0`` / ``gaussian_nearest_axis1`` are one pass of
``scipy.ndimage.correlate1d`` with a symmetric kernel and ``mode="nearest"`` on a float32 image,
computed as scipy computes it (the kernels of :mod:`mmnst_path.detect._numba` with the border
clamped instead of reflected; ``tiling`` sits below ``detect`` and cannot import them): each line
in float64, ``x[i] * w[0]`` first, then ``(x[i - k] + x[i + k]) * w[k]`` added for ``k = r .. 1``,
rounded to float32 once. Same additions in the same order, so bit-identical (tested against
scipy); the inner loops run along contiguous memory, four taps a pass over the line (the same
additions in the same order, each rounded: one load and store of the partial sums per four taps
instead of per tap). ``window_counts`` is the tissue mask's square-window pixel count (exact
integers). Compiled on first call, cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gaussian_nearest_axis0", "gaussian_nearest_axis1", "ring_rows_to", "window_counts"]


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
        k = r
        while k >= 4:  # taps k .. k - 3 in one pass, added in that order
            u1, d1 = ring[max(i - k, 0) % size], ring[min(i + k, m - 1) % size]
            u2, d2 = ring[max(i - k + 1, 0) % size], ring[min(i + k - 1, m - 1) % size]
            u3, d3 = ring[max(i - k + 2, 0) % size], ring[min(i + k - 2, m - 1) % size]
            u4, d4 = ring[max(i - k + 3, 0) % size], ring[min(i + k - 3, m - 1) % size]
            w1, w2, w3, w4 = w[k], w[k - 1], w[k - 2], w[k - 3]
            for j in range(n):
                acc[j] = (((acc[j] + (u1[j] + d1[j]) * w1) + (u2[j] + d2[j]) * w2) + (u3[j] + d3[j]) * w3) + (u4[j] + d4[j]) * w4
            k -= 4
        while k >= 1:
            up = ring[max(i - k, 0) % size]
            down = ring[min(i + k, m - 1) % size]
            wk = w[k]
            for j in range(n):
                acc[j] += (up[j] + down[j]) * wk
            k -= 1
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
        k = r
        while k >= 4:  # taps k .. k - 3 in one pass, added in that order
            w1, w2, w3, w4 = w[k], w[k - 1], w[k - 2], w[k - 3]
            l1, h1 = buf[r - k : r - k + n], buf[r + k : r + k + n]
            l2, h2 = buf[r - k + 1 : r - k + 1 + n], buf[r + k - 1 : r + k - 1 + n]
            l3, h3 = buf[r - k + 2 : r - k + 2 + n], buf[r + k - 2 : r + k - 2 + n]
            l4, h4 = buf[r - k + 3 : r - k + 3 + n], buf[r + k - 3 : r + k - 3 + n]
            for j in range(n):
                acc[j] = (((acc[j] + (l1[j] + h1[j]) * w1) + (l2[j] + h2[j]) * w2) + (l3[j] + h3[j]) * w3) + (l4[j] + h4[j]) * w4
            k -= 4
        while k >= 1:
            wk = w[k]
            lo = buf[r - k : r - k + n]
            hi = buf[r + k : r + k + n]
            for j in range(n):
                acc[j] += (lo[j] + hi[j]) * wk
            k -= 1
        dst = out[i]
        for j in range(n):
            dst[j] = np.float32(acc[j])


@njit(cache=True, nogil=True, boundscheck=False)
def window_counts(mask, half, border, out):  # pragma: no cover - compiled
    """``out[i, j]`` (int32) = the True pixels of ``mask`` (M, N) bool in the ``(2 half + 1)²``
    square around ``(i, j)``, a pixel outside the image counting ``border`` (0 or 1): window
    sums along each row (prefix sums of the row padded with ``border``), then a running sum of
    ``2 half + 1`` of them down the columns (a row outside counts ``border * (2 half + 1)``)."""
    m, n = mask.shape
    k = 2 * half + 1
    rows = np.empty((m, n), np.int32)
    pre = np.empty(n + k + 1, np.int32)
    for i in range(m):
        src = mask[i]
        pre[0] = 0
        for q in range(half):  # the columns left of the image
            pre[q + 1] = pre[q] + border
        for c in range(n):
            pre[c + half + 1] = pre[c + half] + np.int32(src[c])
        for q in range(n + half, n + k):  # and right of it
            pre[q + 1] = pre[q] + border
        dst = rows[i]
        for j in range(n):
            dst[j] = pre[j + k] - pre[j]
    outside = np.int32(border * k)
    acc = np.empty(n, np.int32)
    for j in range(n):
        acc[j] = outside * (half + max(half + 1 - m, 0))
    for q in range(min(half + 1, m)):
        src = rows[q]
        for j in range(n):
            acc[j] += src[j]
    for i in range(m):
        dst = out[i]
        for j in range(n):
            dst[j] = acc[j]
        add, drop = i + half + 1, i - half
        if add < m and drop >= 0:
            a, d = rows[add], rows[drop]
            for j in range(n):
                acc[j] += a[j] - d[j]
        elif add < m:
            a = rows[add]
            for j in range(n):
                acc[j] += a[j] - outside
        elif drop >= 0:
            d = rows[drop]
            for j in range(n):
                acc[j] += outside - d[j]
