"""The pixel model's forest where only its thresholded answer is read (issue #16).

Off the brown bodies, :func:`~mmnst_path.classify.pigment.classify_pigment` reads the pixel
model's probability only through ``prob >= min_probability`` (the mask; the brown-body model, the
spindle cores and the context rule read it over the bodies' own pixels). The forest's
probability is the float64 sum of one leaf value per tree (tree 0 first) divided by the number of
trees, stored as float32 and compared with ``min_probability`` as float32. Once the trees walked
so far leave a sum ``s`` with ``s + tail < limit``, where ``tail`` is the sum of the largest leaf
value of each tree not yet walked and ``limit`` is ``n_trees * float32(min_probability)`` less a
margin (relative 1e-6, absolute 1e-9: far above the rounding of 30-odd float64 additions of values
in [0, 1]), the probability is below ``min_probability`` whatever the other trees answer, and
the row is not walked further: its value is 0 (as on the skipped pixels). Every other row
(``exact``, or never decided) gets the forest's probability bit for bit: the same walk and the
same additions as :func:`mmnst_path.detect._numba.forest_proba`. On real slide tiles read as H-DAB
nearly every candidate is decided after 16 of the shipped models' 30 trees (each tree's largest
leaf value is 1, the threshold 0.5).

:func:`proba_below` is that rule, compiled (:func:`_below_py`) or, without numba, from the leaf
arrays (:meth:`~mmnst_path.classify._forest.Forest._leaves`): a row is 0 when the bound holds
after some tree, which the compiled walk tests tree by tree, so both give the same values
(tests/classify/test_pigment_forest_below.py).
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

from ..detect._morphology import compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}

#: per forest: {class column: tail sums} (:func:`_limits`), derived once per forest
_TAILS: WeakKeyDictionary[Any, dict[int, np.ndarray]] = WeakKeyDictionary()

#: rows walked side by side (as :data:`mmnst_path.detect._numba.FOREST_LANES`)
_LANES = 8


def _below_py(x, nodes, value, roots, depth, col, tail, limit, exact, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[k]``: the forest's class ``col`` probability of row ``k`` of ``x`` (K, F) float32,
    or 0 once the leaf values summed so far plus ``tail[t + 1]`` (the largest leaf values of the
    trees after ``t``) fall below ``limit`` and ``exact[k]`` is False. The walk of
    :func:`mmnst_path.detect._numba.forest_proba` (``nodes``, ``value``, ``roots``, ``depth`` of
    :class:`~mmnst_path.classify._forest._Walk`) over the rows still undecided."""
    threshold = nodes.view(np.float32)
    k_rows = x.shape[0]
    n_trees = roots.shape[0]
    s = np.zeros(k_rows, np.float64)
    active = np.arange(k_rows)
    m = k_rows
    node = np.empty(_LANES, np.int32)
    row = np.empty(_LANES, np.int64)
    for t in range(n_trees):
        root = roots[t]
        steps = depth[t]
        full = m - m % _LANES
        for i0 in range(0, full, _LANES):
            for lane in range(_LANES):
                node[lane] = root
                row[lane] = active[i0 + lane]
            for _ in range(steps):
                for lane in range(_LANES):
                    a = 4 * node[lane]
                    node[lane] = nodes[a] if x[row[lane], nodes[a + 2]] <= threshold[a + 3] else nodes[a + 1]
            for lane in range(_LANES):
                s[row[lane]] += np.float64(value[node[lane], col])
        for i in range(full, m):
            r = active[i]
            a = root
            for _ in range(steps):
                b = 4 * a
                a = nodes[b] if x[r, nodes[b + 2]] <= threshold[b + 3] else nodes[b + 1]
            s[r] += np.float64(value[a, col])
        rest = tail[t + 1]
        if t + 1 < n_trees and rest < limit:  # (else no row can be decided yet)
            j = 0
            for i in range(m):
                r = active[i]
                if exact[r] or s[r] + rest >= limit:
                    active[j] = r
                    j += 1
                else:
                    s[r] = -1.0  # decided below
            m = j
    for k in range(k_rows):
        out[k] = 0.0 if s[k] < 0.0 else s[k] / n_trees


def _limits(forest: Any, col: int, min_probability: float) -> tuple[np.ndarray, float]:
    """(tail, limit): ``tail[t]`` the float64 sum of the largest class-``col`` leaf value of the
    trees ``t..`` (``tail[n_trees] = 0``), ``limit`` as in the module's docstring."""
    n = forest.n_trees
    per = _TAILS.setdefault(forest, {})
    if col not in per:
        leaf = forest.left < 0
        tree_of = np.searchsorted(forest.roots, np.arange(forest.n_nodes), side="right") - 1
        top = np.zeros(n, np.float64)
        np.maximum.at(top, tree_of[leaf], forest.value[leaf, col].astype(np.float64))
        tail = np.zeros(n + 1, np.float64)
        for t in range(n - 1, -1, -1):
            tail[t] = tail[t + 1] + top[t]
        tail.setflags(write=False)
        per[col] = tail
    tail = per[col]
    limit = n * float(np.float32(min_probability)) * (1.0 - 1e-6) - 1e-9
    return tail, limit


def proba_below(forest: Any, x: np.ndarray, col: int, min_probability: float,
                exact: np.ndarray | None = None) -> np.ndarray:
    """(K,) float64: ``forest.predict_proba(x)[:, col]``, except 0 on the rows (not ``exact``)
    whose probability the trees walked so far already put below ``min_probability`` (read as
    ``float32(p) >= float32(min_probability)``, that comparison gives the same answer on every
    row). ``exact``: (K,) bool rows that get the probability whatever (None: none)."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    k = x.shape[0]
    keep = np.zeros(k, dtype=bool) if exact is None else np.ascontiguousarray(exact, dtype=bool).reshape(k)
    tail, limit = _limits(forest, col, min_probability)
    kern = compiled_kernel(_KERNEL, _below_py)
    if kern is not None:
        walk = forest._walk
        out = np.empty(k, np.float64)
        kern(x, walk.nodes, walk.value, walk.roots, walk.depth, int(col), tail, float(limit), keep, out)
        return out
    # without numba: the same rule from the leaf values (cumulative sums in tree order are the
    # compiled walk's running sums, added in the same order)
    p = forest.predict_proba(x)[:, col]
    if k == 0 or forest.n_trees < 2:
        return np.asarray(p, dtype=np.float64)
    s = np.cumsum(forest.value[forest._leaves(x), col].astype(np.float64), axis=1)[:, :-1]
    decided = (s + tail[1:-1][None, :] < limit).any(axis=1) & ~keep
    return np.where(decided, 0.0, p)
