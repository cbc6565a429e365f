"""Compiled passes (numba) of the nucleus detector (:mod:`mmnst_path.detect.nuclei`),
re-exported by :mod:`mmnst_path.detect._numba` (imported only when used).

In the detector's order: the clipped stain planes and their stained box (``clip_stained``), the
nuclear contrast (``log_contrast``), one LoG scale (``log_scale_update``), the seed candidates
and the window maxima that suppress and merge them (``local_max_candidates``,
``window_max_at``), the watershed markers (``label_points``) and, after the watershed, the
seedless components, the adaptive contour and the area counts (``merge_components``,
``contour_count``, ``count_labels``, ``relabel_into``). Each makes the numpy path's operations
in the same order (identical results; tests/detect/test_nuclei_fused.py,
tests/detect/test_nuclei_kernels.py). Compiled on first call and cached on disk (``cache=True``);
single-threaded.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "clip_stained",
    "contour_count",
    "count_labels",
    "label_points",
    "local_max_candidates",
    "log_contrast",
    "log_scale_update",
    "merge_components",
    "relabel_into",
    "window_max_at",
]


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
