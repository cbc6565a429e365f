"""Compiled passes (numba) of the cluster split (:mod:`mmnst_path.detect._split_clusters`),
re-exported by :mod:`mmnst_path.detect._numba` (imported only when used).

``region_shapes``: one pass over the label image that sums, for the labels a mask selects, the
pixel count, the first and second moments of the pixel positions and the bounding box.
``split_regions``: for each chosen label, alone inside its box, the hematoxylin cores (regional
maxima of the plane over the region, strongest first, suppressed within a distance, each weaker
one kept only when the plane dips between it and its nearest stronger kept core) and, with two
or more, the split of the region's pixels to the nearest core. Both are plain loops over int32 /
float32 / float64 arrays: without numba the same functions run interpreted (same result, slower).
Compiled on first call and cached on disk (``cache=True``); single-threaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["region_shapes", "split_regions"]


def _compiled(**options: Any) -> Any:
    """numba's ``njit(**options)``, or (numba is the optional extra "fast") no decorator: the same
    loops, interpreted."""
    try:
        from numba import njit
    except ImportError:
        return lambda func: func
    return njit(**options)


@_compiled(cache=True, nogil=True, boundscheck=False)
def region_shapes(labels, chosen, sums, boxes):  # pragma: no cover - compiled
    """Per label ``l`` with ``chosen[l]`` (bool, (n_all + 1,)) of ``labels`` (M, N) int32: ``sums[l]``
    (float64, (n_all + 1, 6)) += count, sum of rows, of columns, of rows², of columns², of
    rows x columns (pixel indices); ``boxes[l]`` (int64, (n_all + 1, 4), first row, last row,
    first column, last column, set to (M, -1, N, -1) by the caller) widened to the pixel."""
    m, n = labels.shape
    for r in range(m):
        for c in range(n):
            lab = labels[r, c]
            if lab <= 0 or not chosen[lab]:
                continue
            fr = np.float64(r)
            fc = np.float64(c)
            sums[lab, 0] += 1.0
            sums[lab, 1] += fr
            sums[lab, 2] += fc
            sums[lab, 3] += fr * fr
            sums[lab, 4] += fc * fc
            sums[lab, 5] += fr * fc
            if r < boxes[lab, 0]:
                boxes[lab, 0] = r
            if r > boxes[lab, 1]:
                boxes[lab, 1] = r
            if c < boxes[lab, 2]:
                boxes[lab, 2] = c
            if c > boxes[lab, 3]:
                boxes[lab, 3] = c


@_compiled(cache=True, nogil=True, boundscheck=False)
def _dip(plane, labels, lab, r0, c0, r1, c1):  # pragma: no cover - compiled
    """Lowest value of ``plane`` on the straight path from pixel (r0, c0) to (r1, c1), sampled every
    half pixel (nearest pixel); a sample off the region ``lab`` reads 0 (a gap between two cores)."""
    dr = np.float64(r1 - r0)
    dc = np.float64(c1 - c0)
    steps = int(2.0 * np.sqrt(dr * dr + dc * dc)) + 1
    low = np.float32(np.inf)
    for s in range(steps + 1):
        t = s / steps
        r = int(np.floor(r0 + t * dr + 0.5))
        c = int(np.floor(c0 + t * dc + 0.5))
        v = plane[r, c] if labels[r, c] == lab else np.float32(0.0)
        if v < low:
            low = v
    return low


@_compiled(cache=True, nogil=True, boundscheck=False)
def split_regions(labels, plane, chosen_labels, boxes, min_od, min_dist_px, depth, min_part_px, neck, max_cores,
                  first_new, new_area, new_owner):  # pragma: no cover - compiled
    """Split each label of ``chosen_labels`` (int64, ascending) of ``labels`` (M, N) int32, in place,
    where the float32 ``plane`` holds two or more cores over it; returns the number of new labels.

    Inside the label's box (``boxes`` as :func:`region_shapes` fills it) a core is a pixel of the
    region whose value is >= that of each 8-neighbour in the region and >= ``min_od``; taken
    from the strongest (ties in raster order), one within ``min_dist_px`` (Euclidean) of a kept
    core is dropped, at most ``max_cores`` kept. Then, from the second strongest, a kept core
    stays only when the lowest value on the straight path to its nearest stronger staying core
    (:func:`_dip`) is at most ``(1 - depth)`` times its own value. With two or more staying
    cores each pixel of the region goes to its nearest core (ties: the stronger one); when every
    part has at least ``min_part_px`` pixels and every cut between two parts is a neck
    (:func:`_necked`, ``neck``) the first part keeps the label and the others take
    ``first_new``, ``first_new + 1``, ... in order, their pixel counts written to ``new_area`` and
    the label they came from to ``new_owner`` (their length bounds the new labels; the region's
    own count is the caller's to update).
    """
    made = 0
    cap = new_area.shape[0]
    for k in range(chosen_labels.shape[0]):
        lab = chosen_labels[k]
        ra, rb, ca, cb = boxes[lab, 0], boxes[lab, 1], boxes[lab, 2], boxes[lab, 3]
        if rb < ra:
            continue
        m = labels.shape[0]
        n = labels.shape[1]
        # candidate cores: regional maxima of the plane inside the region
        cand_r = np.empty((rb - ra + 1) * (cb - ca + 1), np.int64)
        cand_c = np.empty_like(cand_r)
        cand_v = np.empty(cand_r.shape[0], np.float32)
        nc = 0
        for r in range(ra, rb + 1):
            for c in range(ca, cb + 1):
                if labels[r, c] != lab:
                    continue
                v = plane[r, c]
                if not (v >= min_od):
                    continue
                top = True
                for dr in range(-1, 2):
                    rr = r + dr
                    if rr < 0 or rr >= m:
                        continue
                    for dc in range(-1, 2):
                        cc = c + dc
                        if cc < 0 or cc >= n or (dr == 0 and dc == 0):
                            continue
                        if labels[rr, cc] == lab and plane[rr, cc] > v:
                            top = False
                if top:
                    cand_r[nc] = r
                    cand_c[nc] = c
                    cand_v[nc] = v
                    nc += 1
        if nc < 2:
            continue
        order = np.argsort(-cand_v[:nc], kind="mergesort")
        kept = np.empty(max_cores, np.int64)
        nk = 0
        lim2 = min_dist_px * min_dist_px
        for q in range(nc):
            i = order[q]
            far = True
            for j in range(nk):
                a = kept[j]
                d2 = np.float64(cand_r[i] - cand_r[a]) ** 2 + np.float64(cand_c[i] - cand_c[a]) ** 2
                if d2 < lim2:
                    far = False
                    break
            if far:
                kept[nk] = i
                nk += 1
                if nk == max_cores:
                    break
        if nk < 2:
            continue
        stay = np.empty(nk, np.int64)
        ns = 1
        stay[0] = kept[0]
        for q in range(1, nk):
            i = kept[q]
            best = -1
            best_d2 = np.inf
            for j in range(ns):
                a = stay[j]
                d2 = np.float64(cand_r[i] - cand_r[a]) ** 2 + np.float64(cand_c[i] - cand_c[a]) ** 2
                if d2 < best_d2:
                    best_d2 = d2
                    best = a
            low = _dip(plane, labels, lab, cand_r[best], cand_c[best], cand_r[i], cand_c[i])
            if low <= (np.float32(1.0) - np.float32(depth)) * cand_v[i]:
                stay[ns] = i
                ns += 1
        if ns < 2 or made + ns - 1 > cap:
            continue
        counts = np.zeros(ns, np.int64)
        for r in range(ra, rb + 1):
            for c in range(ca, cb + 1):
                if labels[r, c] != lab:
                    continue
                counts[_nearest(stay, cand_r, cand_c, ns, r, c)] += 1
        small = False
        for j in range(ns):
            if counts[j] < min_part_px:
                small = True
        if small or not _necked(labels, lab, stay, cand_r, cand_c, ns, counts, ra, rb, ca, cb, neck):
            continue
        for r in range(ra, rb + 1):
            for c in range(ca, cb + 1):
                if labels[r, c] != lab:
                    continue
                j = _nearest(stay, cand_r, cand_c, ns, r, c)
                if j > 0:
                    labels[r, c] = first_new + made + j - 1
        for j in range(1, ns):
            new_area[made + j - 1] = counts[j]
            new_owner[made + j - 1] = lab
        made += ns - 1
    return made


@_compiled(cache=True, nogil=True, boundscheck=False)
def _nearest(stay, cand_r, cand_c, ns, r, c):  # pragma: no cover - compiled
    """Index into ``stay`` of the core nearest pixel (r, c) (ties: the first, the stronger)."""
    best = 0
    best_d2 = np.inf
    for j in range(ns):
        a = stay[j]
        d2 = np.float64(r - cand_r[a]) ** 2 + np.float64(c - cand_c[a]) ** 2
        if d2 < best_d2:
            best_d2 = d2
            best = j
    return best


@_compiled(cache=True, nogil=True, boundscheck=False)
def _necked(labels, lab, stay, cand_r, cand_c, ns, counts, ra, rb, ca, cb, neck):  # pragma: no cover - compiled
    """Whether every cut between two touching parts of region ``lab`` (pixels to their nearest core
    of ``stay``) is at most ``neck`` times the smaller part's equivalent diameter ``2 sqrt(A / π)``
    (pixels; ``counts`` the parts' areas). The cut's length is the number of 4-neighbour pixel
    pairs of the region split between the two parts: a waist between two touching nuclei is short,
    a cut across one large nucleus is as long as the nucleus is wide."""
    edges = np.zeros((ns, ns), np.int64)
    for r in range(ra, rb + 1):
        for c in range(ca, cb + 1):
            if labels[r, c] != lab:
                continue
            a = _nearest(stay, cand_r, cand_c, ns, r, c)
            if c + 1 <= cb and labels[r, c + 1] == lab:
                b = _nearest(stay, cand_r, cand_c, ns, r, c + 1)
                if b != a:
                    edges[min(a, b), max(a, b)] += 1
            if r + 1 <= rb and labels[r + 1, c] == lab:
                b = _nearest(stay, cand_r, cand_c, ns, r + 1, c)
                if b != a:
                    edges[min(a, b), max(a, b)] += 1
    for a in range(ns):
        for b in range(a + 1, ns):
            if edges[a, b] == 0:
                continue
            width = 2.0 * np.sqrt(min(counts[a], counts[b]) / np.pi)
            if edges[a, b] > neck * width:
                return False
    return True
