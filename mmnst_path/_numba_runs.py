"""Compiled connected-component labelling by runs, for :mod:`mmnst_path.detect` and the tissue mask of
:mod:`mmnst_path.tiling.tissue` (imported only when used; outside the package layers so that both may use it).

:func:`component_labels` is ``ndi.label(mask, structure)`` for the 4- and 8-connected structures
(the same labels: components numbered 1, 2, ... in the raster order of their first pixel), and
:func:`hole_labels` labels the holes of a mask, the 4-connected components of its complement
that do not reach the image border (what ``ndi.binary_fill_holes`` fills), numbered as
``ndi.label(holes)`` numbers them. The pigment stage labels its brown masks and their holes
several times per tile; ``ndi.label(~mask)`` of a mostly empty mask labels one large background
component pixel by pixel (~4 ms a 700² tile).

A mask is read as runs (maximal row segments of the wanted value), joined by union-find where
runs of adjacent rows touch (share a column, or with 8-connectivity come within one column). The
first run of a component in raster order holds its first pixel, so numbering components as their
runs come in raster order gives ``ndi.label``'s numbers; only labelled pixels are written.

The tests (tests/detect/test_component_labels.py) compare the labels with ``ndi.label`` on real
brown masks and on random masks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["component_labels", "hole_labels"]


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _root(parent, a):  # pragma: no cover - compiled
    """Root of run ``a`` (halving the path on the way)."""
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@njit(cache=True, nogil=True, boundscheck=False)
def _runs(mask, value, reach):  # pragma: no cover - compiled
    """(first (M + 1,), start, stop, parent) of the runs of ``mask == value``: row i's runs are
    ``first[i] .. first[i + 1] - 1``, columns ``start .. stop - 1``; ``parent`` joins the runs of
    adjacent rows that overlap when widened by ``reach`` (0: 4-connected, 1: 8-connected)."""
    m, n = mask.shape
    count = 0
    for i in range(m):
        row = mask[i]
        inside = False
        for j in range(n):
            here = row[j] == value
            if here and not inside:
                count += 1
            inside = here
    first = np.empty(m + 1, np.int64)
    start = np.empty(count, np.int64)
    stop = np.empty(count, np.int64)
    k = 0
    for i in range(m):
        first[i] = k
        row = mask[i]
        j = 0
        while j < n:
            if row[j] != value:
                j += 1
                continue
            start[k] = j
            while j < n and row[j] == value:
                j += 1
            stop[k] = j
            k += 1
    first[m] = k
    parent = np.arange(count)
    for i in range(1, m):
        a, a_end = first[i - 1], first[i]
        b, b_end = first[i], first[i + 1]
        while a < a_end and b < b_end:
            if start[a] < stop[b] + reach and start[b] < stop[a] + reach:
                ra, rb = _root(parent, a), _root(parent, b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if stop[a] < stop[b]:
                a += 1
            else:
                b += 1
    return first, start, stop, parent


@njit(cache=True, nogil=True, boundscheck=False)
def _write(out, first, start, stop, parent, skip):  # pragma: no cover - compiled
    """Number the components whose root is not in ``skip`` in raster order into ``out``; returns
    their number."""
    m = first.shape[0] - 1
    label = np.zeros(start.shape[0], np.int32)
    count = 0
    for i in range(m):
        for r in range(first[i], first[i + 1]):
            root = _root(parent, r)
            if skip[root]:
                continue
            if label[root] == 0:
                count += 1
                label[root] = count
            value = label[root]
            for j in range(start[r], stop[r]):
                out[i, j] = value
    return count


@njit(cache=True, nogil=True, boundscheck=False)
def component_labels(mask, out, eight):  # pragma: no cover - compiled
    """Label the components of ``mask`` (M, N) bool (8-connected when ``eight``, else
    4-connected) into ``out`` (M, N) int32, zeros on entry, as ``ndi.label``. Returns their number."""
    first, start, stop, parent = _runs(mask, True, 1 if eight else 0)
    return _write(out, first, start, stop, parent, np.zeros(start.shape[0], np.bool_))


@njit(cache=True, nogil=True, boundscheck=False)
def hole_labels(mask, out):  # pragma: no cover - compiled
    """Label the holes of ``mask`` (M, N) bool into ``out`` (M, N) int32, zeros on entry: 1..n
    in the raster order of each hole's first pixel, 0 elsewhere (``mask`` and the complement
    4-connected to the image border). Returns n."""
    m, n = mask.shape
    first, start, stop, parent = _runs(mask, False, 0)
    border = np.zeros(start.shape[0], np.bool_)
    for i in range(m):
        for r in range(first[i], first[i + 1]):
            if i == 0 or i == m - 1 or start[r] == 0 or stop[r] == n:
                border[_root(parent, r)] = True
    return _write(out, first, start, stop, parent, border)
