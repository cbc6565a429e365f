"""An upper bound of the brown-body model's melanin probability before the pixel model runs (#16).

The body model (:func:`mmnst_path.classify._pigment_bodies.body_melanin_probability`) reads two
columns from the pixel model (:data:`~mmnst_path.classify._pigment_bodies.MODEL_COLUMNS`: the
share of the body the pixel model calls melanin and its mean probability there); the other
columns are the body's image features, known before the pixel model runs. A body whose
probability stays below ``body_min_probability`` whatever those two columns hold is DAB for the
body model whatever the pixel model says there, so the pixel model need not run on it (it is
"decided", :class:`~mmnst_path.classify._pigment_bodies.BrownBodies`).

:func:`forest_upper_bound` gives, per body, the forest's probability with every split on a
pixel-model column taken both ways: per tree the largest leaf value reachable, summed over the
trees in the forest's own order (tree 0 first, float64) and divided by their number. Each
tree's term is at least the leaf the body's actual columns reach, and rounded float64 addition
and division are monotone, so the bound is at least the probability the forest gives for any
values of those columns, bit for bit (tested).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}


def _kernel() -> Any:
    """The compiled bound, or None without numba.

    Compiled whichever filter backend is chosen (not :func:`~mmnst_path.detect._morphology.compiled_kernel`,
    which gives None with ``BACKEND = "scipy"``): the bound is no filter with a scipy reference;
    it decides which pixels the pixel model skips, so the scipy backend (the reference the
    compiled filters are tested against) must decide the same bodies for its probability maps to
    be comparable."""
    if "k" not in _KERNEL:
        try:
            from numba import njit
        except ImportError:  # numba is the optional extra "fast": the ranges alone decide
            _KERNEL["k"] = None
        else:
            _KERNEL["k"] = njit(cache=True, nogil=True, boundscheck=False)(_upper_py)
    return _KERNEL["k"]


def _upper_py(x, left, right, feature, threshold, below, roots, free, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[s]``: the mean over trees of the largest leaf value reachable from each root by
    row ``s`` of ``x`` (K, F) float32, a split on a ``free`` feature going both ways (the others
    as the forest goes: ``float64(x) <= threshold`` left, NaN right). ``below[node]``: the largest
    leaf value under the node (at a leaf its own); a node whose ``below`` cannot beat the tree's
    best so far is not walked (the same maximum, fewer nodes)."""
    stack = np.empty(left.shape[0] + 1, np.int64)
    n_trees = roots.shape[0]
    for s in range(x.shape[0]):
        acc = 0.0
        for t in range(n_trees):
            top = 0
            stack[0] = roots[t]
            best = -1.0  # below every leaf value (>= 0 in a valid forest)
            while top >= 0:
                nd = stack[top]
                top -= 1
                if below[nd] <= best:
                    continue
                if left[nd] < 0:
                    best = below[nd]  # a leaf's own value
                    continue
                f = feature[nd]
                if free[f]:
                    top += 1
                    stack[top] = left[nd]
                    top += 1
                    stack[top] = right[nd]
                elif np.float64(x[s, f]) <= threshold[nd]:
                    top += 1
                    stack[top] = left[nd]
                else:
                    top += 1
                    stack[top] = right[nd]
            acc += best
        out[s] = acc / n_trees


#: per model id and class: the largest float64 leaf value under each node (a valid forest's
#: children come after their parents; one vectorised step a level, until nothing changes)
_BELOW: dict[tuple[str, str], np.ndarray] = {}


def _below(model: Any, column: str) -> np.ndarray:
    key = (str(model.model_id), column)
    if key not in _BELOW:
        forest = model.forest
        leaf = forest.value[:, list(model.class_names).index(column)].astype(np.float64)
        below = leaf.copy()
        inner = np.flatnonzero(forest.left >= 0)
        kids = (forest.left[inner], forest.right[inner])
        while True:
            step = leaf.copy()
            step[inner] = np.maximum(below[kids[0]], below[kids[1]])
            if np.array_equal(step, below):
                break
            below = step
        if len(_BELOW) > 8:
            _BELOW.clear()
        _BELOW[key] = below
    return _BELOW[key]


def forest_upper_bound(model: Any, x: np.ndarray, free: tuple[str, ...], column: str) -> np.ndarray | None:
    """(K,) float64: for each row of ``x`` (K, F) in ``model.feature_names`` order, an upper bound
    of ``model.predict_proba(x')[:, column]`` over every ``x'`` equal to it except in the ``free``
    columns (any values there). None without numba (the caller then bounds nothing).

    Parameters
    ----------
    model : ClassifierModel
        A forest model (:attr:`forest` with ``left``, ``right``, ``feature``, ``threshold``,
        ``value``, ``roots``).
    x : (K, F) float32 ndarray
    free : tuple of str
        Feature names whose values are unknown.
    column : str
        The class name whose probability is bounded.
    """
    kern = _kernel()
    if kern is None:
        return None
    forest = model.forest
    names = list(model.feature_names)
    free_mask = np.array([name in free for name in names], dtype=np.bool_)
    below = _below(model, column)
    out = np.empty(x.shape[0], np.float64)
    kern(np.ascontiguousarray(x, dtype=np.float32), forest.left, forest.right, forest.feature, forest.threshold,
         below, forest.roots, free_mask, out)
    return out
