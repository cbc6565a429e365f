"""The pixel model's forest where only its thresholded answer is read (issue #16).

Off the brown bodies, :func:`~mmnst_path.classify.pigment.classify_pigment` reads the pixel
model's probability only through ``prob >= min_probability`` (the mask; the brown-body model, the
spindle cores and the context rule read it over the bodies' own pixels). The forest's
probability is the float64 sum of one leaf value per tree (tree 0 first) divided by the number of
trees, stored as float32 and compared with ``min_probability`` as float32. Once the trees walked
so far leave a sum ``s`` with ``s + rest < limit``, where ``rest`` bounds what the trees not yet
walked can add for this row and ``limit`` is ``n_trees * float32(min_probability)`` less a margin
(relative 1e-6, absolute 1e-9: far above the rounding of 30-odd float64 additions and
subtractions of values in [0, 1]), the probability is below ``min_probability`` whatever the other
trees answer, and the row is not walked further: its value is 0 (as on the skipped pixels).
Every other row (``exact``, or never decided) gets the forest's probability bit for bit: the same
walk and the same additions as :func:`mmnst_path.detect._numba.forest_proba`.

A tree's bound for a row is the largest leaf value below the node the row reaches after
:data:`_PREFIX` steps (:func:`_tops`): walking the first levels of every tree is cheap (their
nodes stay in cache), and it bounds far tighter than the tree's largest leaf value (1 in every
tree of the shipped models, so with that bound no row could be decided before 16 of their 30
trees). On real slide tiles read as H-DAB most candidates are decided after 1-8 trees (session 29
H2; session 28's bound, the sum of each tree's largest leaf value, needed 16).

:func:`proba_below` is that rule, compiled (:func:`_below_py`) or, without numba, from the leaf
arrays (:meth:`~mmnst_path.classify._forest.Forest._leaves`) and the prefix nodes
(:func:`_prefix_nodes`): a row is 0 when the bound holds before the first tree or after some tree
but the last, which the compiled walk tests tree by tree with the same float64 sums, so both give
the same values
(tests/classify/test_pigment_forest_below.py, tests/classify/test_pigment_forest_prefix.py).
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

from ..detect._morphology import compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}

#: per forest: {class column: tail sums} (:func:`_tail`), derived once per forest
_TAILS: WeakKeyDictionary[Any, dict[int, np.ndarray]] = WeakKeyDictionary()

#: per forest: {class column: the subtree maxima} (:func:`_tops`), derived once per forest
_TOPS: WeakKeyDictionary[Any, dict[int, np.ndarray]] = WeakKeyDictionary()

#: rows walked side by side (as :data:`mmnst_path.detect._numba.FOREST_LANES`)
_LANES = 8

#: steps down each tree at which a row's bound of the tree is read (:func:`_below_py`): at 8-10
#: steps the prefixes alone decide 94-99 % (CMU-1) / 99.9 % (TCGA) of a slide tile's candidates
#: (session 29 H2). Chosen on dev data only (session 29 H7: a generated 4096 px Ki67 slide, a
#: 4096 px mosaic of generated pigment tiles and 4 osteosarcoma H&E tiles, read as files, H-DAB):
#: forest CPU, prefix 8 / 10 against 9, 1.004x / 1.039x (medians of 7 paired reps); 8 is within
#: 2 %, so 9 stays
_PREFIX = 9


def _below_py(x, nodes, value, roots, depth, top, rest_max, col, limit, exact, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[k]``: the forest's class ``col`` probability of row ``k`` of ``x`` (K, F) float32,
    or 0 once the leaf values summed so far plus the row's bound of the trees not yet walked fall
    below ``limit`` and ``exact[k]`` is False. The walk of
    :func:`mmnst_path.detect._numba.forest_proba` (``nodes``, ``value``, ``roots``, ``depth`` of
    :class:`~mmnst_path.classify._forest._Walk`) over the rows still undecided.

    The row's bound of a tree is ``top`` (the largest class-``col`` leaf value below each node,
    :func:`_tops`) at the node the row reaches after :data:`_PREFIX` steps. First the prefixes,
    tree by tree: the bounds so far (summed tree 0 first, float64) plus ``rest_max[t + 1]`` (the
    largest leaf values of the trees after ``t``) below ``limit`` decide a row before any full
    walk (most candidates of a slide tile). The other rows then walk the trees in full, tree 0
    first, each tree's bound taken off their sum of all bounds (subtracted, tree by tree) once
    it is walked."""
    threshold = nodes.view(np.float32)
    k_rows = x.shape[0]
    n_trees = roots.shape[0]
    s = np.zeros(k_rows, np.float64)
    rest = np.zeros(k_rows, np.float64)  # the row's bound of the trees not walked yet
    active = np.arange(k_rows)
    node = np.empty(_LANES, np.int32)
    row = np.empty(_LANES, np.int64)
    bound = np.empty(_LANES, np.float64)
    m = k_rows
    for t in range(n_trees):  # the prefixes, tree by tree: a row is decided once its bounds so far
        root = roots[t]  # plus the largest leaf values of the trees after t fall below the limit
        steps = min(depth[t], _PREFIX)
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
                rest[row[lane]] += top[node[lane]]
        for i in range(full, m):
            r = active[i]
            a = root
            for _ in range(steps):
                b = 4 * a
                a = nodes[b] if x[r, nodes[b + 2]] <= threshold[b + 3] else nodes[b + 1]
            rest[r] += top[a]
        if n_trees > 1 and rest_max[t + 1] < limit:  # (else no row can be decided yet)
            j = 0
            for i in range(m):
                r = active[i]
                if exact[r] or rest[r] + rest_max[t + 1] >= limit:
                    active[j] = r
                    j += 1
                else:
                    s[r] = -1.0  # decided below before any full walk
            m = j
    for t in range(n_trees):
        root = roots[t]
        steps = depth[t]
        pre = min(steps, _PREFIX)
        full = m - m % _LANES
        for i0 in range(0, full, _LANES):
            for lane in range(_LANES):
                node[lane] = root
                row[lane] = active[i0 + lane]
            for step in range(steps):
                if step == pre:
                    for lane in range(_LANES):
                        bound[lane] = top[node[lane]]
                for lane in range(_LANES):
                    a = 4 * node[lane]
                    node[lane] = nodes[a] if x[row[lane], nodes[a + 2]] <= threshold[a + 3] else nodes[a + 1]
            if steps == pre:
                for lane in range(_LANES):
                    bound[lane] = top[node[lane]]
            for lane in range(_LANES):
                s[row[lane]] += np.float64(value[node[lane], col])
                rest[row[lane]] -= bound[lane]
        for i in range(full, m):
            r = active[i]
            a = root
            b_row = top[a]
            for step in range(steps):
                if step == pre:
                    b_row = top[a]
                b = 4 * a
                a = nodes[b] if x[r, nodes[b + 2]] <= threshold[b + 3] else nodes[b + 1]
            if steps == pre:
                b_row = top[a]
            s[r] += np.float64(value[a, col])
            rest[r] -= b_row
        if t + 1 < n_trees:
            j = 0
            for i in range(m):
                r = active[i]
                if exact[r] or s[r] + rest[r] >= limit:
                    active[j] = r
                    j += 1
                else:
                    s[r] = -1.0  # decided below
            m = j
    for k in range(k_rows):
        out[k] = 0.0 if s[k] < 0.0 else s[k] / n_trees


def _tops(forest: Any, col: int) -> np.ndarray:
    """(n_nodes,) float64: the largest class-``col`` leaf value of each node's subtree (a leaf's
    own value), derived once per forest and column, one tree level at a time from the deepest."""
    per = _TOPS.setdefault(forest, {})
    if col not in per:
        n = forest.n_nodes
        leaf = forest.left < 0
        level = np.zeros(n, np.int32)
        frontier = forest.roots.astype(np.intp)
        d = 0
        while frontier.size:
            level[frontier] = d
            inner = frontier[~leaf[frontier]]
            frontier = np.concatenate([forest.left[inner], forest.right[inner]]).astype(np.intp)
            d += 1
        top = forest.value[:, col].astype(np.float64)
        for d in range(int(level.max()) - 1, -1, -1):
            i = np.flatnonzero((level == d) & ~leaf)
            top[i] = np.maximum(top[forest.left[i]], top[forest.right[i]])
        top.setflags(write=False)
        per[col] = top
    return per[col]


def _prefix_nodes(forest: Any, x: np.ndarray, t: int, steps: int) -> np.ndarray:
    """(K,) the node each row of ``x`` reaches after ``steps`` steps down tree ``t`` (a leaf
    reached earlier stays), compared as the walk compares (float32 ``x`` against float64 thresholds)."""
    node = np.full(x.shape[0], forest.roots[t], np.intp)
    rows = np.arange(x.shape[0])
    for _ in range(steps):
        inner = forest.left[node] >= 0
        go = np.where(x[rows, np.maximum(forest.feature[node], 0)].astype(np.float64) <= forest.threshold[node],
                      forest.left[node], forest.right[node])
        node = np.where(inner, go, node)
    return node


def _tail(forest: Any, col: int) -> np.ndarray:
    """(n_trees + 1,) float64: ``tail[t]`` the sum of the largest class-``col`` leaf value of the
    trees ``t..`` (added from the last tree; ``tail[n_trees] = 0``), derived once per forest."""
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
    return per[col]


def _limit(n_trees: int, min_probability: float) -> float:
    """The sum of ``n_trees`` leaf values a row stays below to be decided (the module's docstring)."""
    return n_trees * float(np.float32(min_probability)) * (1.0 - 1e-6) - 1e-9


def proba_below(forest: Any, x: np.ndarray, col: int, min_probability: float,
                exact: np.ndarray | None = None) -> np.ndarray:
    """(K,) float64: ``forest.predict_proba(x)[:, col]``, except 0 on the rows (not ``exact``)
    whose probability the trees walked so far already put below ``min_probability`` (read as
    ``float32(p) >= float32(min_probability)``, that comparison gives the same answer on every
    row). ``exact``: (K,) bool rows that get the probability whatever (None: none)."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    k = x.shape[0]
    keep = np.zeros(k, dtype=bool) if exact is None else np.ascontiguousarray(exact, dtype=bool).reshape(k)
    limit = _limit(forest.n_trees, min_probability)
    top = _tops(forest, col)
    kern = compiled_kernel(_KERNEL, _below_py)
    walk = forest._walk
    if kern is not None:
        out = np.empty(k, np.float64)
        kern(x, walk.nodes, walk.value, walk.roots, walk.depth, top, _tail(forest, col), int(col), float(limit),
             keep, out)
        return out
    # without numba: the same rule from the leaf values and the prefix nodes, the same float64
    # sums in the same order (the bounds added tree 0 first, then taken off tree by tree; the
    # leaf values added tree by tree)
    p = forest.predict_proba(x)[:, col]
    if k == 0 or forest.n_trees < 2:
        return np.asarray(p, dtype=np.float64)
    n = forest.n_trees
    bounds = [top[_prefix_nodes(forest, x, t, min(int(walk.depth[t]), _PREFIX))] for t in range(n)]
    tail = _tail(forest, col)
    rest = np.zeros(k, np.float64)
    decided = np.zeros(k, dtype=bool)
    for t, b in enumerate(bounds):  # the prefixes
        rest += b
        if tail[t + 1] < limit:  # (as the compiled walk: else no row is tested)
            decided |= rest + tail[t + 1] < limit
    leaves = forest.value[forest._leaves(x), col].astype(np.float64)
    s = np.zeros(k, np.float64)
    for t in range(n - 1):  # the full walks
        s += leaves[:, t]
        rest -= bounds[t]
        decided |= s + rest < limit
    return np.where(decided & ~keep, 0.0, p)
