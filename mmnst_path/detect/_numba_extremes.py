"""Compiled running minima and maxima (numba): the grey morphology of
:mod:`mmnst_path.detect._morphology`, re-exported by :mod:`mmnst_path.detect._numba` (imported only
when used).

``extreme_axis0`` / ``extreme_axis1`` are scipy's ``minimum_filter1d`` / ``maximum_filter1d``
(reflected or constant borders), ``disk_extreme`` the extreme over a footprint of centred row runs
(a disk), ``transpose_into`` a blocked transpose. Extremes are exact, so the values are scipy's for
NaN-free images. Compiled on first call and cached on disk (``cache=True``); single-threaded.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._numba_filters import _reflect

__all__ = [
    "disk_extreme",
    "extreme_axis0",
    "extreme_axis1",
    "transpose_into",
]


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
