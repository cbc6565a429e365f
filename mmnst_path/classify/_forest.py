"""A random forest as plain arrays, with a compiled and a vectorised numpy predictor.

The trees of a fitted scikit-learn ``RandomForestClassifier`` / ``ExtraTreesClassifier`` are
stored as five concatenated arrays (every tree's nodes one after another) plus the offset of
each tree's root. Prediction walks all samples down all trees at once, one depth level per
numpy step, so it costs ``depth`` vector operations instead of a Python loop per sample, and
needs no scikit-learn at run time. With numba (a default dependency) a compiled walk does the
same comparisons row by row, branch-free (:class:`_Walk`), several rows side by side.

Comparison rule (the one scikit-learn uses): features are cast to float32, then compared as
float64 with the float64 thresholds, ``x <= threshold`` going left. Leaf values are the class
fractions of the training samples in the leaf; the forest's probability is their mean over
trees, which equals ``predict_proba`` of the fitted estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

__all__ = ["Forest"]

ARRAY_KEYS = ("left", "right", "feature", "threshold", "value", "roots")

#: (row, tree) cells of one prediction chunk: its leaf indices and their class fractions (float32,
#: then float64) take ~32 bytes a cell, so 2^19 cells ~16 MiB whatever the forest's size
CHUNK_CELLS = 1 << 19


@dataclass(frozen=True, eq=False)
class Forest:
    """Concatenated trees of a classification forest.

    Attributes
    ----------
    left, right : (nodes,) int32
        Global index of each node's children; -1 at leaves.
    feature : (nodes,) int32
        Feature index tested at each inner node (-1... at leaves, ignored).
    threshold : (nodes,) float64
        Split threshold: ``x[feature] <= threshold`` goes left.
    value : (nodes, n_classes) float32
        Class fractions at each leaf (rows sum to 1); 0 at inner nodes, which prediction never reads.
    roots : (n_trees,) int32
        Global index of each tree's root.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    roots: np.ndarray

    @property
    def n_trees(self) -> int:
        return int(self.roots.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.value.shape[1])

    @property
    def n_nodes(self) -> int:
        return int(self.left.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name (what a model file stores)."""
        return {key: getattr(self, key) for key in ARRAY_KEYS}

    @classmethod
    def from_sklearn(cls, estimator: Any, n_classes: int, class_index: np.ndarray | None = None) -> Forest:
        """Arrays of a fitted scikit-learn forest classifier.

        Parameters
        ----------
        estimator : RandomForestClassifier or ExtraTreesClassifier
            Fitted, single output.
        n_classes : int
            Columns of the stored class fractions.
        class_index : (len(estimator.classes_),) int array or None
            Column of each of ``estimator.classes_`` (None = ``estimator.classes_`` themselves,
            which must then be integers in ``[0, n_classes)``). Classes absent from the training
            data keep probability 0.
        """
        cols = np.asarray(estimator.classes_ if class_index is None else class_index, dtype=np.int64)
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ARRAY_KEYS[:-1]}
        roots, offset = [], 0
        for est in estimator.estimators_:
            tree = est.tree_
            n = int(tree.node_count)
            leaf = tree.children_left < 0
            parts["left"].append(np.where(leaf, -1, tree.children_left + offset))
            parts["right"].append(np.where(leaf, -1, tree.children_right + offset))
            parts["feature"].append(np.where(leaf, -1, tree.feature))
            parts["threshold"].append(np.where(leaf, 0.0, tree.threshold))
            raw = np.asarray(tree.value[:, 0, :], dtype=np.float64)
            frac = raw / np.maximum(raw.sum(axis=1, keepdims=True), 1e-300)  # counts (old sklearn) or fractions
            value = np.zeros((n, n_classes), np.float64)
            value[:, cols] = frac
            value[~leaf] = 0.0  # only leaf values are read: zeros compress (a third of the file)
            parts["value"].append(value)
            roots.append(offset)
            offset += n
        return cls(
            left=np.concatenate(parts["left"]).astype(np.int32),
            right=np.concatenate(parts["right"]).astype(np.int32),
            feature=np.concatenate(parts["feature"]).astype(np.int32),
            threshold=np.concatenate(parts["threshold"]).astype(np.float64),
            value=np.concatenate(parts["value"]).astype(np.float32),
            roots=np.asarray(roots, dtype=np.int32),
        )

    def validate(self, n_features: int) -> str | None:
        """None when the arrays form a valid forest over ``n_features``, else what is wrong.

        Checked: dtypes and shapes, every child index inside the forest and after its parent (so
        traversal ends), leaves marked on both sides, feature indices in range, finite
        thresholds and values, non-negative values, roots in order.
        """
        kinds = {"left": "i", "right": "i", "feature": "i", "threshold": "f", "value": "f", "roots": "i"}
        for key, kind in kinds.items():
            a = getattr(self, key)
            if not isinstance(a, np.ndarray) or a.dtype.kind != kind:
                return f"array {key!r} has dtype {getattr(a, 'dtype', type(a))}, expected kind {kind!r}"
        n = self.left.shape[0] if self.left.ndim == 1 else -1
        for key in ("right", "feature", "threshold"):
            if getattr(self, key).shape != (n,):
                return f"array {key!r} has shape {getattr(self, key).shape}, expected ({n},)"
        if n < 1 or self.value.ndim != 2 or self.value.shape[0] != n or self.value.shape[1] < 1:
            return f"value has shape {self.value.shape}, expected ({n}, n_classes)"
        if self.roots.ndim != 1 or self.roots.size < 1:
            return f"roots has shape {self.roots.shape}, expected (n_trees,) with n_trees >= 1"
        left, right = self.left, self.right
        roots = self.roots.astype(np.int64)
        if not (roots[0] == 0 and np.all(np.diff(roots) > 0) and roots[-1] < n):
            return "roots are not increasing node indices starting at 0"
        at = np.flatnonzero(left >= 0)  # inner nodes; the rest are leaves (one pass a check, no int64 copies)
        lc, rc = left[at], right[at]
        # every leaf -1 on both sides: no left below -1, and the -1s of right not at inner nodes number the leaves
        leaves_ok = int(left.min()) >= -1 and \
            int(np.count_nonzero(right == -1)) - int(np.count_nonzero(rc == -1)) == n - at.size
        checks = (
            (leaves_ok, "leaves must have -1 on both sides"),
            (np.all((lc > at) & (lc < n)), "left child index out of order or range"),
            (np.all((rc > at) & (rc < n)), "right child index out of order or range"),
            (np.all((self.feature[at] >= 0) & (self.feature[at] < n_features)),
             f"feature index outside [0, {n_features})"),
            (bool(np.all(np.isfinite(self.threshold[at]))), "non-finite threshold"),
            (bool(np.all(self.value >= 0) and np.all(self.value < np.inf)), "negative or non-finite leaf value"),
        )
        for ok, what in checks:
            if not ok:
                return str(what)
        return None

    def predict_proba(self, x: np.ndarray, *, chunk: int | None = None) -> np.ndarray:
        """Mean leaf class fractions over trees: (K, F) features -> (K, n_classes) float64.

        Features are taken as float32 (scikit-learn's rule), compared in float64. NaN features
        go right (``NaN <= t`` is false), as in scikit-learn's predict for trees fitted without
        missing values; callers should not pass NaN. With numba (the default install) the
        compiled branch-free walk :func:`mmnst_path.detect._numba.forest_proba` sums the leaf
        values as it goes; else (or when ``chunk`` is given) the leaves of ``chunk`` rows at a
        time are found (:meth:`_leaves`) and averaged (default :data:`CHUNK_CELLS` / trees rows:
        a chunk's leaves and their values take ~16 MiB). Both give the same values bit for bit
        (the same comparisons, the float64 leaf values added tree 0 first; tested).
        """
        x = np.asarray(x, dtype=np.float32)
        kern = _kernels()
        if kern is not None and chunk is None:  # compiled: no per-chunk leaf arrays to bound
            walk = self._walk
            out = np.empty((x.shape[0], self.n_classes), np.float64)
            kern.forest_proba(np.ascontiguousarray(x), walk.nodes, walk.value, walk.roots, walk.depth, out)
            return out
        return self._predict_by_leaves(x, chunk=chunk)

    def _predict_by_leaves(self, x: np.ndarray, *, chunk: int | None = None) -> np.ndarray:
        """:meth:`predict_proba` from the leaf arrays of :meth:`_leaves`, ``chunk`` rows at a time."""
        x = np.asarray(x, dtype=np.float32)
        k = x.shape[0]
        chunk = chunk if chunk is not None else max(256, CHUNK_CELLS // self.n_trees)
        out = np.empty((k, self.n_classes), np.float64)
        for start in range(0, k, chunk):
            out[start:start + chunk] = self._predict_chunk(x[start:start + chunk])
        return out

    @cached_property
    def _walk(self) -> _Walk:
        """The arrays of the branch-free compiled walk (:func:`mmnst_path.detect._numba.forest_proba`),
        derived once per forest."""
        return _Walk.of(self)

    def _predict_chunk(self, x: np.ndarray) -> np.ndarray:
        leaves = self._leaves(x)
        leaf_values = self.value[leaves.reshape(-1)].astype(np.float64).reshape(x.shape[0], self.n_trees, self.n_classes)
        return leaf_values.mean(axis=1)

    def _leaves(self, x: np.ndarray) -> np.ndarray:
        """(K, n_trees) leaf node of every row in every tree.

        With numba (the default install) the compiled walk of
        :func:`mmnst_path.detect._numba.forest_leaves`, tree by tree and row by row; else all rows
        and trees one depth level per numpy step. Same comparisons, so the same leaves (tested).
        """
        kern = _kernels()
        if kern is not None:
            out = np.empty((x.shape[0], self.n_trees), np.intp)
            kern.forest_leaves(np.ascontiguousarray(x, dtype=np.float32), self.left, self.right, self.feature,
                               self.threshold, self.roots, out)
            return out
        return self._leaves_numpy(x)

    def _leaves_numpy(self, x: np.ndarray) -> np.ndarray:
        k = x.shape[0]
        node = np.broadcast_to(self.roots.astype(np.intp), (k, self.n_trees)).copy()
        sample = np.broadcast_to(np.arange(k, dtype=np.intp)[:, None], node.shape)
        flat_x = x.reshape(-1)
        nf = x.shape[1]
        active = np.flatnonzero(self.left[node.ravel()] >= 0)
        node_flat = node.reshape(-1)
        sample_flat = sample.reshape(-1)
        while active.size:
            n = node_flat[active]
            vals = flat_x[sample_flat[active] * nf + self.feature[n]].astype(np.float64)
            node_flat[active] = np.where(vals <= self.threshold[n], self.left[n], self.right[n])
            active = active[self.left[node_flat[active]] >= 0]
        return node


def _kernels() -> Any:
    """The compiled kernels (:mod:`mmnst_path.detect._numba`), or None without numba."""
    from ..detect._morphology import _numba_kernels

    return _numba_kernels()


@dataclass(frozen=True)
class _Walk:
    """A forest laid out for the branch-free walk of :func:`mmnst_path.detect._numba.forest_proba`.

    ``nodes`` (4 n_nodes,) int32: per node its left child, right child, feature and the bits of
    its float32 threshold, side by side. A leaf points to itself on both sides (so extra steps
    stay on it) with feature 0 and threshold +inf; each threshold is the largest float32 not
    above the float64 one, so ``x <= threshold32`` exactly when ``float64(x) <= threshold64`` for
    every float32 ``x`` (NaN goes right in both); ``depth`` is the number of steps from each
    tree's root to its deepest leaf.
    """

    nodes: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: np.ndarray

    @classmethod
    def of(cls, forest: Forest) -> _Walk:
        n = forest.n_nodes
        leaf = forest.left < 0
        own = np.arange(n, dtype=np.int32)
        with np.errstate(over="ignore"):  # a threshold beyond float32's range rounds to +-inf here
            t32 = forest.threshold.astype(np.float32)
        above = t32.astype(np.float64) > forest.threshold  # rounded up: take the float32 below
        t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
        t32[leaf] = np.inf
        # depth of every node, one level at a time (children come after their parents)
        level = np.zeros(n, np.int32)
        frontier = forest.roots.astype(np.intp)
        d = 0
        while frontier.size:
            level[frontier] = d
            inner = frontier[forest.left[frontier] >= 0]
            frontier = np.concatenate([forest.left[inner], forest.right[inner]]).astype(np.intp)
            d += 1
        depth = np.maximum.reduceat(level, forest.roots.astype(np.intp))  # a tree's nodes are contiguous
        nodes = np.empty((n, 4), np.int32)
        nodes[:, 0] = np.where(leaf, own, forest.left)
        nodes[:, 1] = np.where(leaf, own, forest.right)
        nodes[:, 2] = np.where(leaf, 0, forest.feature)
        nodes[:, 3] = t32.view(np.int32)
        return cls(
            nodes=nodes.reshape(-1),
            value=np.ascontiguousarray(forest.value),  # its own dtype: the leaf path reads it as stored
            roots=np.ascontiguousarray(forest.roots, dtype=np.int32),
            depth=depth,
        )
