"""Compiled per-label and per-block sums (numba) of the measurements, re-exported by
:mod:`mmnst_path.detect._numba` (imported only when used).

Each kernel adds, pixel by pixel in raster order, what ``np.bincount(labels, weights=...)`` /
``np.maximum.at`` add over the labelled pixels, so the sums are the same to the bit: the nucleus
features (``nucleus_sums``, ``perimeter_edges``, ``label_max``; :mod:`._nucleus_measure`), the
nucleus texture features (``feature_sums``, ``centred_moments``, ``label_count_sum``;
:mod:`mmnst_path.classify.nucleus_features`), the pigment bodies (``label_sums``), the Ki67 pigment
evidence (``evidence_sums``), the star-convex outlines (``star_offsets``, ``star_max``;
:mod:`.outlines`) and the pigment gate's block statistics (``block_stats``). Compiled on first call
and cached on disk (``cache=True``); single-threaded.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "block_stats",
    "centred_moments",
    "evidence_sums",
    "feature_sums",
    "label_count_sum",
    "label_max",
    "label_sums",
    "nucleus_sums",
    "perimeter_edges",
    "star_max",
    "star_offsets",
]


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
