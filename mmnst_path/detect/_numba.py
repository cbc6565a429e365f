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

from ..tiling._numba import ring_rows_to

__all__ = [
    "centred_moments",
    "clip_stained",
    "contour_count",
    "count_labels",
    "disk_extreme",
    "evidence_sums",
    "extreme_axis0",
    "extreme_axis1",
    "feature_sums",
    "forest_leaves",
    "forest_proba",
    "gaussian32",
    "gaussian_at",
    "gaussian_axis0",
    "gaussian_axis1",
    "label_count_sum",
    "label_max",
    "label_points",
    "label_sums",
    "local_max_candidates",
    "log_contrast",
    "log_scale_update",
    "merge_components",
    "norm3",
    "nucleus_sums",
    "perimeter_edges",
    "relabel_into",
    "star_max",
    "star_offsets",
    "transpose_into",
    "uniform_axis0",
    "uniform_axis1",
    "window_max_at",
]


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
def clip_stained(hem, dab, hem_pos, dab_pos):  # pragma: no cover - compiled
    """``hem_pos = np.maximum(hem, 0.0)`` and ``dab_pos = np.maximum(dab, 0.0)`` of two (M, N)
    float32 planes (any strides) in one pass, numpy's values bit for bit (a NaN is kept, -0.0
    becomes +0.0), and the bounds of the stained pixels (either result > 0): (first row, last
    row, first column, last column), (-1, -1, -1, -1) when there are none. A row's columns are
    scanned from the left until a stained pixel, and from the right only beyond the last column
    found so far."""
    m, n = hem.shape
    zero = np.float32(0.0)
    r0 = -1
    r1 = -1
    c0 = n
    c1 = -1
    for i in range(m):
        hs = hem[i]
        ds = dab[i]
        ho = hem_pos[i]
        do = dab_pos[i]
        for j in range(n):
            v = hs[j]
            ho[j] = v if (v > zero or v != v) else zero
            w = ds[j]
            do[j] = w if (w > zero or w != w) else zero
        first = -1
        for j in range(n):
            if ho[j] > zero or do[j] > zero:
                first = j
                break
        if first < 0:
            continue
        if r0 < 0:
            r0 = i
        r1 = i
        c0 = min(c0, first)
        for j in range(n - 1, c1, -1):
            if ho[j] > zero or do[j] > zero:
                c1 = j
                break
    if r0 < 0:
        return -1, -1, -1, -1
    return r0, r1, c0, c1


@njit(cache=True, nogil=True, boundscheck=False)
def log_contrast(x, c0, out):  # pragma: no cover - compiled
    """``out = np.log1p(x / c0)`` of float32 ``x`` (may be ``out``) with float32 ``c0``: the same
    float32 division as numpy, and the C library's float32 ``log1p``; a 0 quotient is kept as it is
    (``log1p(±0) = ±0``), so the many background pixels cost no ``log1p`` call.

    Neither this ``log1p`` nor numpy's SIMD one is correctly rounded, and they differ by 1 ulp on
    about 7 % of values on an AVX-512 CPU with numpy 2.4 (session 25's review): the numpy
    fallback (numba not importable) can then move a LoG response by ~1e-4 and, rarely, a seed."""
    m, n = x.shape
    for i in range(m):
        src = x[i]
        dst = out[i]
        for j in range(n):
            v = src[j] / c0
            dst[j] = np.log1p(v) if v != 0 else v


@njit(cache=True, nogil=True, boundscheck=False)
def local_max_candidates(best, min_response, rows, cols):  # pragma: no cover - compiled
    """Pixels of ``best`` (M, N) float32 that are >= ``min_response`` and >= each of their
    (up to 8) neighbours inside the image, in raster order into ``rows`` / ``cols`` (the first
    ``len(rows)`` of them: the rest are counted, not written); returns how many. For finite
    images, ``(best >= min_response) & (best >= ndi.maximum_filter(best, 3, mode="reflect"))``:
    a reflected neighbour is an in-image pixel of the window."""
    m, n = best.shape
    k = 0
    for i in range(m):
        i0 = max(i - 1, 0)
        i1 = min(i + 1, m - 1)
        for j in range(n):
            v = best[i, j]
            if not v >= min_response:
                continue
            j0 = max(j - 1, 0)
            j1 = min(j + 1, n - 1)
            ok = True
            for a in range(i0, i1 + 1):
                for b in range(j0, j1 + 1):
                    if best[a, b] > v:
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                if k < rows.shape[0]:
                    rows[k] = i
                    cols[k] = j
                k += 1
    return k


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
def disk_extreme(img, halves, is_max, constant, out):  # pragma: no cover - compiled
    """Maximum (``is_max``) or minimum of ``img`` (M, N) over a footprint of centred row runs:
    footprint row ``d`` (of ``2 r + 1``) spans columns ``-halves[d] .. halves[d]`` (``-1``: an
    empty row); outside the image reflected (scipy ``"reflect"``) or 0 (``constant``).

    Per image row, the running extremes over ``2 h + 1`` columns for every ``h`` the footprint
    uses (``E_1[j] = ext(x[j-1], x[j], x[j+1])``, ``E_h[j] = ext(E_(h-1)[j-1], E_(h-1)[j+1])``, on
    the row padded once by the widest run); then each output row takes the extreme of the
    footprint rows' ``E_h`` rows above and below it. Extremes are exact: the values of
    ``ndi.maximum_filter`` / ``ndi.minimum_filter`` with that footprint for finite images.
    """
    m, n = img.shape
    size = halves.shape[0]
    r = size // 2
    big = 0
    for d in range(size):
        big = max(big, halves[d])
    slot = np.full(big + 1, -1, np.int64)
    n_slots = 0
    for d in range(size):
        h = halves[d]
        if h >= 0 and slot[h] < 0:
            slot[h] = n_slots
            n_slots += 1
    # the row extremes of the 2 r + 1 image rows around the output row (a ring: fits in cache);
    # with m > 2 r + 1 (smaller images go to scipy) a reflected row is one of them
    ext = np.empty((n_slots, size, n), img.dtype)
    zero = np.zeros(n, img.dtype)  # a row outside the image in constant mode
    width = n + 2 * big
    cur = np.empty(width, img.dtype)
    nxt = np.empty(width, img.dtype)
    done = 0  # image rows whose extremes are in the ring
    for i in range(m):
        while done < m and done <= i + r:
            _row_extremes_into(img, done, big, slot, constant, is_max, cur, nxt, ext[:, done % size])
            done += 1
        row = out[i]
        first = True
        for d in range(size):
            h = halves[d]
            if h < 0:
                continue
            k = i + d - r
            if (k < 0 or k >= m) and constant:
                src = zero
            else:
                src = ext[slot[h], _reflect(k, m) % size]
            if first:
                for j in range(n):
                    row[j] = src[j]
            elif is_max:
                for j in range(n):
                    row[j] = np.maximum(row[j], src[j])
            else:
                for j in range(n):
                    row[j] = np.minimum(row[j], src[j])
            first = False


@njit(cache=True, nogil=True, boundscheck=False)
def _row_extremes_into(img, i, big, slot, constant, is_max, cur, nxt, dst):  # pragma: no cover - compiled
    """Running extremes of image row ``i`` over ``2 h + 1`` columns into ``dst[slot[h]]`` for every
    ``h <= big`` with a slot (see :func:`disk_extreme`); ``cur`` / ``nxt``: padded line buffers."""
    n = img.shape[1]
    width = n + 2 * big
    src = img[i]
    mid = cur[big : big + n]
    for j in range(n):  # a plain copy (vectorised), then the 2 big padded columns
        mid[j] = src[j]
    for j in range(big):
        if constant:
            cur[j] = 0
            cur[big + n + j] = 0
        else:
            cur[j] = src[_reflect(j - big, n)]
            cur[big + n + j] = src[_reflect(n + j, n)]
    if slot[0] >= 0:
        d0 = dst[slot[0]]
        for j in range(n):
            d0[j] = mid[j]
    for h in range(1, big + 1):
        # cur holds E_(h-1) at padded columns h-1 .. width-h; E_h goes to h .. width-1-h
        a = cur[h - 1 : width - h - 1]
        b = cur[h + 1 : width - h + 1]
        o = nxt[h : width - h]
        if h == 1:
            c = cur[h : width - h]
            if is_max:
                for j in range(width - 2 * h):
                    o[j] = np.maximum(np.maximum(a[j], c[j]), b[j])
            else:
                for j in range(width - 2 * h):
                    o[j] = np.minimum(np.minimum(a[j], c[j]), b[j])
        elif is_max:
            for j in range(width - 2 * h):
                o[j] = np.maximum(a[j], b[j])
        else:
            for j in range(width - 2 * h):
                o[j] = np.minimum(a[j], b[j])
        cur, nxt = nxt, cur
        if slot[h] >= 0:
            dh = dst[slot[h]]
            src = cur[big : big + n]
            for j in range(n):
                dh[j] = src[j]


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


@njit(cache=True, nogil=True, boundscheck=False)
def _fill_line(img, i, h, constant, buf):  # pragma: no cover - compiled
    """Row ``i`` of ``img`` into ``buf[h : h + n]``, borders reflected (scipy) or 0."""
    n = img.shape[1]
    for j in range(n):
        buf[j + h] = img[i, j]
    for j in range(h):
        if constant:
            buf[j] = 0
            buf[n + h + j] = 0
        else:
            buf[j] = img[i, _reflect(j - h, n)]
            buf[n + h + j] = img[i, _reflect(n + j, n)]


@njit(cache=True, nogil=True, boundscheck=False)
def extreme_axis1(img, h, is_max, constant, out):  # pragma: no cover - compiled
    """Running max (``is_max``) or min over windows of ``2 h + 1`` along the rows of ``img`` into
    ``out``; outside the row: reflected (scipy ``"reflect"``) or 0 (``constant``). Extremes are
    exact, so for NaN-free images this equals ``scipy.ndimage.maximum_filter1d`` /
    ``minimum_filter1d``.

    Row by row, by doubling: the padded row (``n + 2 h``), then the extremes of its runs of 2, 4,
    ... ``s`` pixels (``s`` the largest power of two <= ``2 h + 1``), each from two runs of the
    previous length; a window is the union of the run of ``s`` starting at it and the one ending
    at its end. About ``log2(2 h + 1) + 1`` passes of whole rows, each element-wise
    (``np.maximum`` / ``np.minimum``: vectorised).
    """
    m, n = img.shape
    w = 2 * h + 1
    size = n + 2 * h
    cur = np.empty(size, img.dtype)
    nxt = np.empty(size, img.dtype)
    for i in range(m):
        _fill_line(img, i, h, constant, cur)
        span = 1
        while 2 * span <= w:  # cur[j]: the extreme of padded pixels j .. j + span - 1
            valid = size - 2 * span + 1
            _pair_extreme(cur, 0, cur, span, nxt, valid, is_max)
            cur, nxt = nxt, cur
            span *= 2
        _pair_extreme(cur, 0, cur, w - span, out[i], n, is_max)


@njit(cache=True, nogil=True, boundscheck=False)
def _pair_extreme(a, a0, b, b0, dst, count, is_max):  # pragma: no cover - compiled
    """``dst[j] = extreme(a[a0 + j], b[b0 + j])`` for ``j < count`` (1-D arrays; element-wise
    ``np.maximum`` / ``np.minimum``, which vectorise)."""
    lo = a[a0 : a0 + count]
    hi = b[b0 : b0 + count]
    if is_max:
        for j in range(count):
            dst[j] = np.maximum(lo[j], hi[j])
    else:
        for j in range(count):
            dst[j] = np.minimum(lo[j], hi[j])


@njit(cache=True, nogil=True, boundscheck=False)
def extreme_axis0(img, h, is_max, constant, out):  # pragma: no cover - compiled
    """:func:`extreme_axis1` along the columns (whole rows at a time: vectorised).

    The padded rows (``m + 2 h``: reflected or 0) are cut into blocks of ``w = 2 h + 1``; output
    row ``i`` of block ``q`` (``i > q w``) is the extreme of the suffix of block ``q`` from ``i``
    and the prefix of block ``q + 1`` up to ``i + w - 1``; the first row of a block is the whole
    block's extreme. One block's suffixes and the next one's prefixes are held at a time (2 w
    rows instead of two padded planes: they stay in cache); the same exact extremes.
    """
    m, n = img.shape
    w = 2 * h + 1
    size = m + 2 * h
    suf = np.empty((w, n), img.dtype)
    pre = np.empty((w, n), img.dtype)
    zero = np.zeros(n, img.dtype)
    for start in range(0, m, w):  # blocks holding output rows (i < m)
        stop = min(start + w, size)
        for jp in range(stop - 1, start - 1, -1):
            src = zero if (constant and (jp < h or jp >= m + h)) else img[_reflect(jp - h, m)]
            sj = suf[jp - start]
            if jp == stop - 1:
                for c in range(n):
                    sj[c] = src[c]
            else:
                nxt = suf[jp - start + 1]
                if is_max:
                    for c in range(n):
                        sj[c] = np.maximum(src[c], nxt[c])
                else:
                    for c in range(n):
                        sj[c] = np.minimum(src[c], nxt[c])
        last = min(start + w, m)  # output rows of this block
        # prefixes of the next block up to the last one read: row (last - 1) + w - 1
        for jp in range(stop, min(last + w - 1, size)):
            src = zero if (constant and (jp < h or jp >= m + h)) else img[_reflect(jp - h, m)]
            gj = pre[jp - stop]
            if jp == stop:
                for c in range(n):
                    gj[c] = src[c]
            else:
                prev = pre[jp - stop - 1]
                if is_max:
                    for c in range(n):
                        gj[c] = np.maximum(src[c], prev[c])
                else:
                    for c in range(n):
                        gj[c] = np.minimum(src[c], prev[c])
        oi = out[start]
        s0 = suf[0]
        for c in range(n):
            oi[c] = s0[c]
        for i in range(start + 1, last):
            a = suf[i - start]
            b = pre[i + w - 1 - stop]
            oi = out[i]
            if is_max:
                for c in range(n):
                    oi[c] = np.maximum(a[c], b[c])
            else:
                for c in range(n):
                    oi[c] = np.minimum(a[c], b[c])


#: side of the square blocks :func:`transpose_into` copies (both blocks stay in L1)
TRANSPOSE_BLOCK = 32


@njit(cache=True, nogil=True, boundscheck=False)
def transpose_into(img, out):  # pragma: no cover - compiled
    """``out[:] = img.T`` ((N, M) from (M, N)), block by block so that reads and writes stay in
    cache: the running filters along axis 0 (whole rows at a time, vectorised) then serve for
    axis 1 on the transposed image."""
    m, n = img.shape
    b = TRANSPOSE_BLOCK
    for i0 in range(0, m, b):
        i1 = min(i0 + b, m)
        for j0 in range(0, n, b):
            j1 = min(j0 + b, n)
            for j in range(j0, j1):
                row = out[j]
                for i in range(i0, i1):
                    row[i] = img[i, j]


@njit(cache=True, nogil=True, boundscheck=False)
def window_max_at(image, rows, cols, half, out):  # pragma: no cover - compiled
    """``out[i]`` = max of ``image`` over the square of half-side ``half[i]`` around
    (``rows[i]``, ``cols[i]``), clipped to the image (``out`` pre-filled with -inf)."""
    m, n = image.shape
    for i in range(rows.shape[0]):
        h = half[i]
        r0 = max(rows[i] - h, 0)
        r1 = min(rows[i] + h, m - 1)
        c0 = max(cols[i] - h, 0)
        c1 = min(cols[i] + h, n - 1)
        best = out[i]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                v = image[r, c]
                if v > best:
                    best = v
        out[i] = best


@njit(cache=True, nogil=True, boundscheck=False)
def log_scale_update(smooth, neg_s2, k, best, scale):  # pragma: no cover - compiled
    """One scale of the LoG seed detector, fused: ``resp = laplacian(smooth) * neg_s2`` and, for
    ``k == 0``, ``best = resp``; else where ``resp > best``: ``best = resp``, ``scale = k``.

    The 5-point Laplacian is computed in float32 with the additions in the order of
    :func:`mmnst_path.detect.nuclei._laplacian` (``-4 x``, then the row above, the row below,
    the reflected row at the top / bottom edge, then the same for the columns), so ``best``
    and ``scale`` are bit-identical to the numpy version. Row by row, the edge cases decided
    once a row (and at the two end columns), so the loops over a row vectorise.
    """
    m, n = smooth.shape
    four = np.float32(-4.0)
    v = np.empty(n, np.float32)
    for i in range(m):
        x = smooth[i]
        for j in range(n):
            v[j] = x[j] * four
        if i >= 1:
            up = smooth[i - 1]
            for j in range(n):
                v[j] += up[j]
        if i <= m - 2:
            down = smooth[i + 1]
            for j in range(n):
                v[j] += down[j]
        if i == 0:
            for j in range(n):
                v[j] += x[j]
        if i == m - 1:
            for j in range(n):
                v[j] += x[j]
        if n >= 2:
            v[0] += x[1]  # column 0: the right neighbour, then itself (reflected left)
            v[0] += x[0]
            for j in range(1, n - 1):
                v[j] = (v[j] + x[j - 1]) + x[j + 1]
            v[n - 1] += x[n - 2]  # last column: the left neighbour, then itself
            v[n - 1] += x[n - 1]
        else:  # one column: itself on both sides
            v[0] += x[0]
            v[0] += x[0]
        row_best = best[i]
        row_scale = scale[i]
        if k == 0:
            for j in range(n):
                row_best[j] = v[j] * neg_s2
        else:
            for j in range(n):
                resp = v[j] * neg_s2
                if resp > row_best[j]:
                    row_best[j] = resp
                    row_scale[j] = k


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
def forest_leaves(x, left, right, feature, threshold, roots, out):  # pragma: no cover - compiled
    """Leaf node of each row of ``x`` (K, F) float32 in each tree: ``out`` (K, n_trees) intp.

    The traversal of :meth:`mmnst_path.classify._forest.Forest.predict_proba`: at an inner node
    go left when ``float64(x[k, feature]) <= threshold`` (NaN goes right), until a node whose
    ``left`` is negative; the same comparisons, so the same leaves, tree by tree and row by row
    instead of level by level over all rows.
    """
    for t in range(roots.shape[0]):  # tree by tree: one tree's nodes stay in cache
        for k in range(x.shape[0]):
            node = roots[t]
            while left[node] >= 0:
                if np.float64(x[k, feature[node]]) <= threshold[node]:
                    node = left[node]
                else:
                    node = right[node]
            out[k, t] = node


#: rows walked down a tree side by side by :func:`forest_proba` (independent walks overlap their
#: memory reads; 8 was the fastest of 4 / 8 / 16 / 32 on the pigment model, 110k rows)
FOREST_LANES = 8


@njit(cache=True, nogil=True, boundscheck=False)
def forest_proba(x, nodes, value, roots, depth, out):  # pragma: no cover - compiled
    """Mean leaf values over trees of each row of ``x`` (K, F) float32 into ``out`` (K, C) float64.

    The same leaves as :func:`forest_leaves` and the same sums as the numpy mean over trees
    (float64 of the leaf values added tree 0 first, then divided by the number of trees), so the
    same probabilities bit for bit; the walk is branch-free instead. ``nodes`` (4 n_nodes,) int32
    holds each node's left child, right child, feature and the bits of its float32 threshold side
    by side (one cache line a node): a leaf points to itself on both sides with feature 0 and
    threshold +inf, and every row takes exactly ``depth[t]`` steps down tree ``t`` (its deepest
    leaf), :data:`FOREST_LANES` rows at a time. Each threshold is the largest float32 <= the
    float64 one, so ``x <= threshold32`` holds exactly when ``float64(x) <= threshold64`` (NaN
    goes right either way).
    """
    threshold = nodes.view(np.float32)
    k_rows = x.shape[0]
    n_classes = value.shape[1]
    lanes = FOREST_LANES
    for k in range(k_rows):
        for c in range(n_classes):
            out[k, c] = 0.0
    node = np.empty(lanes, np.int32)
    full = k_rows - k_rows % lanes
    for t in range(roots.shape[0]):
        root = roots[t]
        steps = depth[t]
        for k0 in range(0, full, lanes):
            for lane in range(lanes):
                node[lane] = root
            for _ in range(steps):
                for lane in range(lanes):
                    a = 4 * node[lane]
                    node[lane] = nodes[a] if x[k0 + lane, nodes[a + 2]] <= threshold[a + 3] else nodes[a + 1]
            for lane in range(lanes):
                for c in range(n_classes):
                    out[k0 + lane, c] += np.float64(value[node[lane], c])
        for k in range(full, k_rows):
            a = root
            for _ in range(steps):
                b = 4 * a
                a = nodes[b] if x[k, nodes[b + 2]] <= threshold[b + 3] else nodes[b + 1]
            for c in range(n_classes):
                out[k, c] += np.float64(value[a, c])
    n_trees = roots.shape[0]
    for k in range(k_rows):
        for c in range(n_classes):
            out[k, c] = out[k, c] / n_trees


@njit(cache=True, nogil=True, boundscheck=False)
def label_sums(labels, values, out):  # pragma: no cover - compiled
    """Add, for every pixel of ``labels`` (M, N) int with label ``l > 0``, to ``out[l]`` ((L, 8)
    float64): 1, row, col, row², col², row·col, value, value² (``values`` (M, N), as float64),
    pixel by pixel in raster order: the additions ``np.bincount(lab, weights=...)`` makes over
    the labelled pixels in that order, so the same sums to the bit."""
    m, n = labels.shape
    for i in range(m):
        r = np.float64(i)
        for j in range(n):
            lab = labels[i, j]
            if lab > 0:
                c = np.float64(j)
                v = np.float64(values[i, j])
                out[lab, 0] += 1.0
                out[lab, 1] += r
                out[lab, 2] += c
                out[lab, 3] += r * r
                out[lab, 4] += c * c
                out[lab, 5] += r * c
                out[lab, 6] += v
                out[lab, 7] += v * v


@njit(cache=True, nogil=True, boundscheck=False)
def label_points(flat, out):  # pragma: no cover - compiled
    """The 8-connected components of the pixels ``flat`` (K,) (raveled indices into ``out``
    (M, N) int32, strictly increasing: raster order) numbered 1, 2, ... in the order of their
    first pixel, written at those pixels of ``out`` (all 0 before); returns their number. What
    ``ndi.label(points, structure=np.ones((3, 3)))`` gives (it numbers components in raster order
    of their first pixel), in O(K): each pixel looks at its four earlier neighbours, a union-find
    keeps the smallest provisional label of a component as its root."""
    n = out.shape[1]
    flat_out = out.ravel()
    k_pts = flat.shape[0]
    parent = np.empty(k_pts + 1, np.int64)
    prov = np.empty(k_pts, np.int64)
    n_prov = 0
    for t in range(k_pts):
        p = flat[t]
        i = p // n
        j = p - i * n
        best = 0
        for di, dj in ((-1, -1), (-1, 0), (-1, 1), (0, -1)):
            a = i + di
            b = j + dj
            if a < 0 or b < 0 or b >= n:
                continue
            q = flat_out[a * n + b]
            if q == 0:
                continue
            while parent[q] != q:  # root of q
                q = parent[q]
            if best == 0:
                best = q
            elif q != best:  # join: the smaller root stays
                if q < best:
                    parent[best] = q
                    best = q
                else:
                    parent[q] = best
        if best == 0:
            n_prov += 1
            parent[n_prov] = n_prov
            best = n_prov
        prov[t] = best
        flat_out[p] = best
    final = np.zeros(n_prov + 1, np.int64)
    count = 0
    for q in range(1, n_prov + 1):
        r = q
        while parent[r] != r:
            r = parent[r]
        if r == q:
            count += 1
            final[q] = count
        else:
            final[q] = final[r]  # r < q: numbered already
    for t in range(k_pts):
        flat_out[flat[t]] = final[prov[t]]
    return count


@njit(cache=True, nogil=True, boundscheck=False)
def merge_components(labels, comp, offset, values, peak, out):  # pragma: no cover - compiled
    """``out = np.where(comp > 0, comp + offset, labels)`` ((M, N) int32; ``out`` may be
    ``labels``), then :func:`label_max` of ``values`` (M, N) float32 over ``out`` into ``peak``
    (float32, -inf filled, longer than the largest label) in the same pass; returns the largest
    label (0 when none).

    The largest label is known only at the end, so ``peak`` must have room for every label
    (``offset + comp.max() + 1`` and the largest label of ``labels``)."""
    m, n = labels.shape
    top = 0
    for i in range(m):
        lab_row = labels[i]
        comp_row = comp[i]
        val_row = values[i]
        out_row = out[i]
        for j in range(n):
            c = comp_row[j]
            lab = c + offset if c > 0 else lab_row[j]
            out_row[j] = lab
            if lab > top:
                top = lab
            v = val_row[j]
            cur = peak[lab]
            if not (cur >= v or cur != cur):  # as label_max
                peak[lab] = v
    return top


@njit(cache=True, nogil=True, boundscheck=False)
def contour_count(labels, values, fraction, peak, counts):  # pragma: no cover - compiled
    """``labels = np.where(values >= fraction * peak[labels], labels, 0)`` in place (float32
    product and comparison, as numpy makes them) and ``counts += np.bincount(labels)`` of the
    result (``counts`` (L + 1,) int64; label 0 counted too)."""
    m, n = labels.shape
    for i in range(m):
        lab_row = labels[i]
        val_row = values[i]
        for j in range(n):
            lab = lab_row[j]
            if lab != 0 and not (val_row[j] >= fraction * peak[lab]):
                lab = 0
                lab_row[j] = 0
            counts[lab] += 1


@njit(cache=True, nogil=True, boundscheck=False)
def count_labels(labels, counts):  # pragma: no cover - compiled
    """``counts += np.bincount(labels.ravel())`` (``counts`` long enough, int64)."""
    m, n = labels.shape
    for i in range(m):
        lab_row = labels[i]
        for j in range(n):
            counts[lab_row[j]] += 1


@njit(cache=True, nogil=True, boundscheck=False)
def relabel_into(labels, table):  # pragma: no cover - compiled
    """``labels[:] = table[labels]`` in place ((M, N) int32 labels, int32 table)."""
    m, n = labels.shape
    for i in range(m):
        lab_row = labels[i]
        for j in range(n):
            lab_row[j] = table[lab_row[j]]


@njit(cache=True, nogil=True, boundscheck=False)
def label_max(labels, values, out):  # pragma: no cover - compiled
    """``np.maximum.at(out, labels.ravel(), values.ravel())`` for (M, N) ``labels`` / ``values``
    (float32 into float32 ``out``): NaN propagates, an equal value keeps the stored one."""
    m, n = labels.shape
    for i in range(m):
        for j in range(n):
            lab = labels[i, j]
            v = values[i, j]
            cur = out[lab]
            if not (cur >= v or cur != cur):  # numpy's maximum(cur, v) keeps cur unless v is larger or NaN
                out[lab] = v


@njit(cache=True, nogil=True, boundscheck=False)
def perimeter_edges(labels, counts):  # pragma: no cover - compiled
    """Add to ``counts[a]`` and ``counts[b]`` every 4-neighbour pixel pair ``a != b`` of ``labels``
    zero-padded by one pixel (the crack length of every label; integer counts, exact)."""
    m, n = labels.shape
    for i in range(m):
        for j in range(n):
            a = labels[i, j]
            up = labels[i - 1, j] if i > 0 else 0
            if a != up:
                counts[a] += 1
                counts[up] += 1
            left = labels[i, j - 1] if j > 0 else 0
            if a != left:
                counts[a] += 1
                counts[left] += 1
        a = labels[i, n - 1]
        if a != 0:
            counts[a] += 1
            counts[0] += 1
    for j in range(n):
        a = labels[m - 1, j]
        if a != 0:
            counts[a] += 1
            counts[0] += 1


@njit(cache=True, nogil=True, boundscheck=False)
def nucleus_sums(labels, hem, dab, r0, c0, out):  # pragma: no cover - compiled
    """Add, for every pixel of ``labels`` (M, N) with label ``l > 0``, to ``out[l]`` ((L, 8)
    float64): 1, row, col, row², col², row·col (``row = i + r0``, ``col = j + c0`` as float64),
    ``dab``, ``hem`` (as float64), in raster order: the additions of ``np.bincount(lab,
    weights=...)`` over the labelled pixels, so the same sums to the bit."""
    m, n = labels.shape
    for i in range(m):
        r = np.float64(i + r0)
        for j in range(n):
            lab = labels[i, j]
            if lab > 0:
                c = np.float64(j + c0)
                out[lab, 0] += 1.0
                out[lab, 1] += r
                out[lab, 2] += c
                out[lab, 3] += r * r
                out[lab, 4] += c * c
                out[lab, 5] += r * c
                out[lab, 6] += np.float64(dab[i, j])
                out[lab, 7] += np.float64(hem[i, j])


@njit(cache=True, nogil=True, boundscheck=False)
def feature_sums(labels, nuc, smooth, r0, c0, out):  # pragma: no cover - compiled
    """Add, for every pixel of ``labels`` with label ``l > 0``, to ``out[l]`` ((L, 6) float64): 1,
    row, col (``i + r0``, ``j + c0``), ``v``, ``v²`` (``v`` = ``nuc`` as float64) and
    ``|nuc - smooth|`` (in float32, then float64), in raster order (the bincount additions)."""
    m, n = labels.shape
    for i in range(m):
        r = np.float64(i + r0)
        for j in range(n):
            lab = labels[i, j]
            if lab > 0:
                v = np.float64(nuc[i, j])
                out[lab, 0] += 1.0
                out[lab, 1] += r
                out[lab, 2] += np.float64(j + c0)
                out[lab, 3] += v
                out[lab, 4] += v * v
                out[lab, 5] += np.float64(np.abs(nuc[i, j] - smooth[i, j]))


@njit(cache=True, nogil=True, boundscheck=False)
def centred_moments(labels, r0, c0, mean_r, mean_c, out):  # pragma: no cover - compiled
    """Add, for every labelled pixel, ``dr²``, ``dc²``, ``dr·dc`` to ``out[l]`` ((L, 3) float64),
    ``dr = (i + r0) - mean_r[l]``, ``dc = (j + c0) - mean_c[l]`` (float64), in raster order."""
    m, n = labels.shape
    for i in range(m):
        r = np.float64(i + r0)
        for j in range(n):
            lab = labels[i, j]
            if lab > 0:
                dr = r - mean_r[lab]
                dc = np.float64(j + c0) - mean_c[lab]
                out[lab, 0] += dr * dr
                out[lab, 1] += dc * dc
                out[lab, 2] += dr * dc


@njit(cache=True, nogil=True, boundscheck=False)
def label_count_sum(labels, values, out):  # pragma: no cover - compiled
    """Add, for every pixel with label ``l > 0``, 1 and ``values`` (as float64) to ``out[l]``
    ((L, 2) float64), in raster order."""
    m, n = labels.shape
    for i in range(m):
        for j in range(n):
            lab = labels[i, j]
            if lab > 0:
                out[lab, 0] += 1.0
                out[lab, 1] += np.float64(values[i, j])


@njit(cache=True, nogil=True, boundscheck=False)
def star_offsets(labels, n, r0, c0, row, col, lab_out, dr_out, dc_out):  # pragma: no cover - compiled
    """Pixels of labels ``1..n`` in raster order: their label - 1 and their float64 offsets
    ``(i + r0) - row[l]``, ``(j + c0) - col[l]`` from its centroid; returns how many."""
    m, w = labels.shape
    k = 0
    for i in range(m):
        for j in range(w):
            lab = labels[i, j] - 1
            if lab >= 0 and lab < n:
                lab_out[k] = lab
                dr_out[k] = np.float64(i + r0) - row[lab]
                dc_out[k] = np.float64(j + c0) - col[lab]
                k += 1
    return k


@njit(cache=True, nogil=True, boundscheck=False)
def star_max(lab, dr, dc, ang, rays, flat):  # pragma: no cover - compiled
    """``np.maximum.at(flat, lab * rays + sector, sqrt(dr² + dc²) + 0.5)`` with ``sector =
    floor(ang / (2 pi) * rays + 0.5) mod rays``, the same float64 operations."""
    two_pi = 2 * np.pi
    for k in range(lab.shape[0]):
        sector = np.int64(np.floor(ang[k] / two_pi * rays + 0.5)) % rays
        d = np.sqrt(dr[k] * dr[k] + dc[k] * dc[k]) + 0.5
        idx = lab[k] * rays + sector
        cur = flat[idx]
        if not (cur >= d or cur != cur):
            flat[idx] = d


@njit(cache=True, nogil=True, boundscheck=False)
def evidence_sums(labels, dab, hidden, fill_od, out):  # pragma: no cover - compiled
    """Add, for every pixel with label ``l > 0``, to ``out[l]`` ((L, 5) float64): 1, visible
    (``not hidden``), ``d * visible``, ``d >= fill_od``, ``d`` (``d`` = ``dab`` as float64), in
    raster order (the ``np.bincount`` additions of ``quantify._ki67_pigment._pigment_evidence``)."""
    m, n = labels.shape
    for i in range(m):
        for j in range(n):
            lab = labels[i, j]
            if lab > 0:
                d = np.float64(dab[i, j])
                vis = 0.0 if hidden[i, j] else 1.0
                out[lab, 0] += 1.0
                out[lab, 1] += vis
                out[lab, 2] += d * vis
                out[lab, 3] += 1.0 if d >= fill_od else 0.0
                out[lab, 4] += d


@njit(cache=True, nogil=True, boundscheck=False)
def block_stats(rgb, b, sums, sq, dark):  # pragma: no cover - compiled
    """Per ``b`` x ``b`` block of ``rgb`` ((M, N, 3) uint8; the last partial blocks read the image's
    last row / column again, as ``np.pad(mode="edge")``): ``sums[r, c, ch]`` (int64) the channel
    sums, ``sq[r, c]`` (int64) the sum of the squared intensities R+G+B, ``dark[r, c]`` (uint8 RGB)
    the first pixel (row-major within the block) of least intensity."""
    m, n = rgb.shape[0], rgb.shape[1]
    nr, nc = sums.shape[0], sums.shape[1]
    best = np.full((nr, nc), 1 << 30, np.int64)
    for r in range(nr):
        for i in range(r * b, r * b + b):
            ii = min(i, m - 1)
            for j in range(nc * b):
                jj = min(j, n - 1)
                c = j // b
                p0 = np.int64(rgb[ii, jj, 0])
                p1 = np.int64(rgb[ii, jj, 1])
                p2 = np.int64(rgb[ii, jj, 2])
                t = p0 + p1 + p2
                sums[r, c, 0] += p0
                sums[r, c, 1] += p1
                sums[r, c, 2] += p2
                sq[r, c] += t * t
                if t < best[r, c]:
                    best[r, c] = t
                    dark[r, c, 0] = rgb[ii, jj, 0]
                    dark[r, c, 1] = rgb[ii, jj, 1]
                    dark[r, c, 2] = rgb[ii, jj, 2]
