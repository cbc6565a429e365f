"""Optional numba kernels of :mod:`mmnst_path.detect` (imported only when used), by theme:

- :mod:`._numba_filters`: the exact Gaussian passes (scipy's ``correlate1d``, ``mode="reflect"``,
  bit for bit), the nucleus detector's float32 Gaussian, the box mean and the 3-vector norm;
- :mod:`._numba_extremes`: running minima / maxima (grey morphology) and the blocked transpose;
- :mod:`._numba_nuclei`: the nucleus detector's fused passes (clipping, contrast, LoG scale, seeds,
  markers, contour and areas);
- :mod:`._numba_measure`: the per-label and per-block sums of the measurements;
- here: the random forest walks (``forest_leaves``, ``forest_proba``).

Every kernel is importable from this module (``from ..detect._numba import X``), and
:func:`._morphology._numba_kernels` returns this module. Compiled on first call and cached on
disk (``cache=True``, beside each defining module); single-threaded (tile workers are the
parallelism).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._numba_extremes import TRANSPOSE_BLOCK as TRANSPOSE_BLOCK
from ._numba_extremes import disk_extreme, extreme_axis0, extreme_axis1, transpose_into
from ._numba_filters import (
    gaussian32,
    gaussian_at,
    gaussian_axis0,
    gaussian_axis1,
    norm3,
    uniform_axis0,
    uniform_axis1,
)
from ._numba_measure import block_stats as block_stats
from ._numba_measure import (
    centred_moments,
    evidence_sums,
    feature_sums,
    label_count_sum,
    label_max,
    label_sums,
    nucleus_sums,
    perimeter_edges,
    star_max,
    star_offsets,
)
from ._numba_nuclei import (
    clip_stained,
    contour_count,
    count_labels,
    label_points,
    local_max_candidates,
    log_contrast,
    log_scale_update,
    merge_components,
    relabel_into,
    window_max_at,
)

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
