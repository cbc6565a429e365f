"""Compiled Gaussian, box-mean and norm passes (numba) of :mod:`mmnst_path.detect._morphology`
and the nucleus detector, re-exported by :mod:`mmnst_path.detect._numba` (imported only when used).

``gaussian_axis0`` / ``gaussian_axis1`` are one pass of ``scipy.ndimage.correlate1d`` with a
symmetric kernel and ``mode="reflect"`` on a float32 image, computed exactly as scipy computes
it: each line in float64, ``x[i] * w[0]`` first, then ``(x[i - k] + x[i + k]) * w[k]`` added for
``k = r .. 1`` (outermost pair first), rounded to float32 once. The additions of one output
pixel happen in the same order, so the result is bit-identical; the speed comes from running
the inner loop along contiguous memory (vectorised across pixels) instead of copying every line
into a buffer. ``gaussian32`` is the float32 separable Gaussian of the nucleus detector,
``gaussian_at`` the float64 passes at given pixels only, ``uniform_axis0`` / ``uniform_axis1``
scipy's box mean and ``norm3`` the float32 norm of 3-vectors; ``_reflect`` is scipy's reflected
index, also used by :mod:`._numba_extremes`. Compiled on first call and cached on disk
(``cache=True``); single-threaded (tile workers are the parallelism).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..tiling._numba import ring_rows_to

__all__ = [
    "gaussian32",
    "gaussian_at",
    "gaussian_axis0",
    "gaussian_axis1",
    "norm3",
    "uniform_axis0",
    "uniform_axis1",
]


# Also called from _numba_extremes.py: numba's on-disk cache does not notice an edit here from that file,
# so touch _numba_extremes.py (or clear its cache) when this function changes.
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
    (``w[0]`` centre, ``w[k]`` at offsets ±k, float64) into ``out`` (M, N) float32.

    Each image row is converted to float64 once, into a ring of the ``2 r + 1`` rows around the
    output row (the conversion is exact, so every sum is the one of converting at each use), and
    the inner loops add float64 rows: about 1.2-1.35x faster than converting per tap."""
    m, n = img.shape
    r = w.shape[0] - 1
    size = 2 * r + 1
    ring = np.empty((size, n), np.float64)  # image row q at ring[q % size]
    acc = np.empty(n, np.float64)
    w0 = w[0]
    done = 0  # image rows converted so far
    for i in range(m):
        # every row a reflected index of this output reads lies in i - r .. i + r (or the image
        # holds at most 2 r + 1 rows, all of them in the ring)
        done = ring_rows_to(img, ring, done, min(i + r + 1, m))
        c = ring[i % size]
        for j in range(n):
            acc[j] = c[j] * w0
        for k in range(r, 0, -1):
            a = ring[_reflect(i - k, m) % size]
            b = ring[_reflect(i + k, m) % size]
            wk = w[k]
            for j in range(n):
                acc[j] += (a[j] + b[j]) * wk
        o = out[i]
        for j in range(n):
            o[j] = np.float32(acc[j])


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_axis1(img, w, out):  # pragma: no cover - compiled
    """Correlate the rows of ``img`` (M, N) float32 with the symmetric half-kernel ``w`` into
    ``out`` (M, N) float32 (see :func:`gaussian_axis0`; each row converted to float64 once, into
    a line padded by its reflected ends)."""
    m, n = img.shape
    r = w.shape[0] - 1
    buf = np.empty(n + 2 * r, np.float64)
    acc = np.empty(n, np.float64)
    w0 = w[0]
    for i in range(m):
        src = img[i]
        for j in range(n):
            buf[j + r] = np.float64(src[j])
        for j in range(r):  # the reflected borders only
            buf[j] = np.float64(src[_reflect(j - r, n)])
            buf[n + r + j] = np.float64(src[_reflect(n + j, n)])
        mid = buf[r : r + n]
        for j in range(n):
            acc[j] = mid[j] * w0
        for k in range(r, 0, -1):
            wk = w[k]
            lo = buf[r - k : r - k + n]  # views indexed by the loop variable: vectorised
            hi = buf[r + k : r + k + n]
            for j in range(n):
                acc[j] += (lo[j] + hi[j]) * wk
        o = out[i]
        for j in range(n):
            o[j] = np.float32(acc[j])


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian32(img, w, out):  # pragma: no cover - compiled
    """Separable Gaussian of ``img`` (M, N) float32 in float32 arithmetic into ``out``: the
    correlation along the columns then along the rows with the symmetric half-kernel ``w``
    (r + 1,) float32, reflected borders (scipy ``"reflect"``). Per axis and output pixel ``x *
    w[0]`` then ``+ (x[-k] + x[+k]) * w[k]`` for ``k = r .. 1``, every operation rounded to
    float32 (no fused multiply-add; the numpy path of
    :func:`mmnst_path.detect.nuclei._gaussian32` makes the same operations, bit for bit).

    Row by row: the column pass of output row ``i`` goes into a line padded by its reflected
    ends and the row pass reads it there (no intermediate plane). Twice as many lanes per vector
    as float64 and no conversions: 1.5-2.5x faster than :func:`gaussian_axis0` +
    :func:`gaussian_axis1`; four taps a pass over the line (the same float32 additions, in the
    same order, each rounded: one load and store of the partial sums per four taps; then two,
    then one; about 1.15x over two taps a pass on r = 15-17)."""
    m, n = img.shape
    r = w.shape[0] - 1
    line = np.empty(n + 2 * r, np.float32)
    acc = np.empty(n, np.float32)
    w0 = w[0]
    mid = line[r : r + n]
    for i in range(m):
        src = img[i]
        for j in range(n):
            mid[j] = src[j] * w0
        k = r
        while k >= 4:  # taps k .. k - 3, added in that order
            a1, b1 = img[_reflect(i - k, m)], img[_reflect(i + k, m)]
            a2, b2 = img[_reflect(i - k + 1, m)], img[_reflect(i + k - 1, m)]
            a3, b3 = img[_reflect(i - k + 2, m)], img[_reflect(i + k - 2, m)]
            a4, b4 = img[_reflect(i - k + 3, m)], img[_reflect(i + k - 3, m)]
            w1, w2, w3, w4 = w[k], w[k - 1], w[k - 2], w[k - 3]
            for j in range(n):
                v = mid[j] + (a1[j] + b1[j]) * w1
                v = v + (a2[j] + b2[j]) * w2
                v = v + (a3[j] + b3[j]) * w3
                mid[j] = v + (a4[j] + b4[j]) * w4
            k -= 4
        if k >= 2:  # then two taps, then one (never more passes than two taps a pass)
            a1, b1 = img[_reflect(i - k, m)], img[_reflect(i + k, m)]
            a2, b2 = img[_reflect(i - k + 1, m)], img[_reflect(i + k - 1, m)]
            w1, w2 = w[k], w[k - 1]
            for j in range(n):
                v = mid[j] + (a1[j] + b1[j]) * w1
                mid[j] = v + (a2[j] + b2[j]) * w2
            k -= 2
        if k == 1:
            a, b = img[_reflect(i - 1, m)], img[_reflect(i + 1, m)]
            wk = w[1]
            for j in range(n):
                mid[j] += (a[j] + b[j]) * wk
        for j in range(r):  # the reflected ends of the line
            line[j] = line[_reflect(j - r, n) + r]
            line[n + r + j] = line[_reflect(n + j, n) + r]
        for j in range(n):
            acc[j] = mid[j] * w0
        k = r
        while k >= 4:
            w1, w2, w3, w4 = w[k], w[k - 1], w[k - 2], w[k - 3]
            lo1, hi1 = line[r - k : r - k + n], line[r + k : r + k + n]  # views: vectorised
            lo2, hi2 = line[r - k + 1 : r - k + 1 + n], line[r + k - 1 : r + k - 1 + n]
            lo3, hi3 = line[r - k + 2 : r - k + 2 + n], line[r + k - 2 : r + k - 2 + n]
            lo4, hi4 = line[r - k + 3 : r - k + 3 + n], line[r + k - 3 : r + k - 3 + n]
            for j in range(n):
                v = acc[j] + (lo1[j] + hi1[j]) * w1
                v = v + (lo2[j] + hi2[j]) * w2
                v = v + (lo3[j] + hi3[j]) * w3
                acc[j] = v + (lo4[j] + hi4[j]) * w4
            k -= 4
        if k >= 2:
            w1, w2 = w[k], w[k - 1]
            lo1, hi1 = line[r - k : r - k + n], line[r + k : r + k + n]
            lo2, hi2 = line[r - k + 1 : r - k + 1 + n], line[r + k - 1 : r + k - 1 + n]
            for j in range(n):
                v = acc[j] + (lo1[j] + hi1[j]) * w1
                acc[j] = v + (lo2[j] + hi2[j]) * w2
            k -= 2
        if k == 1:
            lo, hi = line[r - 1 : r - 1 + n], line[r + 1 : r + 1 + n]
            wk = w[1]
            for j in range(n):
                acc[j] += (lo[j] + hi[j]) * wk
        dst = out[i]
        for j in range(n):
            dst[j] = acc[j]


@njit(cache=True, nogil=True, boundscheck=False)
def gaussian_at(img, w, rows, cols, out):  # pragma: no cover - compiled
    """:func:`gaussian_axis0` then :func:`gaussian_axis1` of ``img`` (M, N) float32, at the pixels
    ``(rows[p], cols[p])`` only (row-major order, as ``np.nonzero`` gives them) into ``out`` (K,).

    Per run of a row's pixels (the pixels of a row, cut where two neighbours lie more than 2 r
    columns apart: their row passes read no column in common), the column pass is computed over
    the columns the run's row pass reads (its span grown by the kernel radius, clipped to the
    image: a column reflected at the left edge is < r <= the span's end, one reflected at the
    right edge is >= n - r > its start), rounded to float32 into a line padded by the reflected
    values, and the row pass at the run's pixels only (all of them one tap at a time): the same
    float64 operations in the same order for every value, so bit-identical to the whole-image
    passes; the columns in the gaps between runs are not filtered.
    """
    m, n = img.shape
    r = w.shape[0] - 1
    k_pts = rows.shape[0]
    acc = np.empty(n, np.float64)
    line = np.empty(n + 2 * r, np.float32)  # line[j + r]: the column pass at column j (reflected)
    vals = np.empty(n, np.float64)  # a row holds at most n pixels
    w0 = w[0]
    p = 0
    while p < k_pts:
        i = rows[p]
        q = p + 1
        while q < k_pts and rows[q] == i and cols[q] - cols[q - 1] <= 2 * r:
            q += 1
        lo = max(cols[p] - r, 0)
        hi = min(cols[q - 1] + r + 1, n)
        span = hi - lo
        # views indexed by a loop variable from 0: no negative-index handling, vectorised
        acc_v = acc[:span]
        src = img[i, lo:hi]
        for j in range(span):
            acc_v[j] = np.float64(src[j]) * w0
        for k in range(r, 0, -1):
            up = img[_reflect(i - k, m), lo:hi]
            down = img[_reflect(i + k, m), lo:hi]
            wk = w[k]
            for j in range(span):
                acc_v[j] += (np.float64(up[j]) + np.float64(down[j])) * wk
        dst = line[lo + r : hi + r]
        for j in range(span):
            dst[j] = np.float32(acc_v[j])
        if cols[p] - r < 0:  # the reflected columns left of the image
            for j in range(-r, 0):
                line[j + r] = line[_reflect(j, n) + r]
        if cols[q - 1] + r >= n:
            for j in range(n, n + r):
                line[j + r] = line[_reflect(j, n) + r]
        at = cols[p:q]
        vals_v = vals[: q - p]
        for s in range(q - p):
            vals_v[s] = np.float64(line[at[s] + r]) * w0
        for k in range(r, 0, -1):
            wk = w[k]
            left = line[r - k :]  # left[c] = line[c + r - k]: the column k left of c
            right = line[r + k :]
            for s in range(q - p):
                vals_v[s] += (np.float64(left[at[s]]) + np.float64(right[at[s]])) * wk
        out_v = out[p:q]
        for s in range(q - p):
            out_v[s] = np.float32(vals_v[s])
        p = q


@njit(cache=True, nogil=True, boundscheck=False)
def uniform_axis1(img, h, out):  # pragma: no cover - compiled
    """Mean over ``2 h + 1`` samples along the rows of ``img`` (M, N) float32 into ``out``,
    reflected at the ends: ``scipy.ndimage.uniform_filter1d(img, 2 h + 1, axis=1)`` computed as
    scipy computes it (a float64 running sum, ``+ entering - leaving``, divided by the size for
    every output, rounded to float32): bit-identical."""
    m, n = img.shape
    size = 2 * h + 1
    buf = np.empty(n + size - 1, np.float64)
    for i in range(m):
        for j in range(n + size - 1):
            buf[j] = img[i, _reflect(j - h, n)]
        tmp = 0.0
        for j in range(size):
            tmp += buf[j]
        out[i, 0] = np.float32(tmp / size)
        for j in range(1, n):
            tmp += buf[j + size - 1] - buf[j - 1]
            out[i, j] = np.float32(tmp / size)


@njit(cache=True, nogil=True, boundscheck=False)
def uniform_axis0(img, h, out):  # pragma: no cover - compiled
    """:func:`uniform_axis1` along the columns (whole rows at a time: vectorised)."""
    m, n = img.shape
    size = 2 * h + 1
    tmp = np.zeros(n, np.float64)
    for j in range(size):
        src = img[_reflect(j - h, m)]
        for c in range(n):
            tmp[c] += np.float64(src[c])
    for c in range(n):
        out[0, c] = np.float32(tmp[c] / size)
    for i in range(1, m):
        enter = img[_reflect(i + h, m)]
        leave = img[_reflect(i - h - 1, m)]
        oi = out[i]
        for c in range(n):
            tmp[c] += np.float64(enter[c]) - np.float64(leave[c])
            oi[c] = np.float32(tmp[c] / size)


@njit(cache=True, nogil=True, boundscheck=False)
def norm3(v, out):  # pragma: no cover - compiled
    """Euclidean norm of the last axis of ``v`` (M, N, 3) float32 into ``out`` (M, N) float32:
    ``sqrt((v0 * v0 + v1 * v1) + v2 * v2)`` in float32, the operations of
    ``np.sqrt(np.einsum("...c,...c->...", v, v))`` (tested equal to it)."""
    m, n = out.shape
    for i in range(m):
        for j in range(n):
            a = v[i, j, 0]
            b = v[i, j, 1]
            c = v[i, j, 2]
            out[i, j] = np.sqrt((a * a + b * b) + c * c)
