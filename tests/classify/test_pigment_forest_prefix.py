"""The pixel forest's per-row bound (session 29, #16): each tree bounded by the largest leaf below
the node a row reaches after ``_PREFIX`` steps decides more rows than each tree's largest leaf,
with the same mask, and every row it does not decide (and every ``exact`` row) keeps the full
forest's probability bit for bit; the compiled walk and the numpy rule agree."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify import _pigment_forest as pf
from mmnst_path.classify import pigment as pig


def _rows(n: int, seed: int) -> tuple[object, np.ndarray, int]:
    model = pig.resolve_pigment_model("dab")
    assert model is not None
    rng = np.random.default_rng(seed)
    base = np.asarray(model.test_x, np.float32)
    x = (base[rng.integers(0, len(base), n)] * rng.normal(1.0, 0.3, (n, base.shape[1]))).astype(np.float32)
    return model, x, model.class_names.index("melanin")


def _tail_rule(forest: object, x: np.ndarray, col: int, t: float) -> np.ndarray:
    """Rows session 28's bound (each tree's largest leaf value) decides below ``t``."""
    tail = pf._tail(forest, col)
    limit = pf._limit(forest.n_trees, t)  # type: ignore[attr-defined]
    s = np.cumsum(forest.value[forest._leaves(x), col].astype(np.float64), axis=1)[:, :-1]  # type: ignore[attr-defined]
    return (s + tail[1:-1][None, :] < limit).any(axis=1)


@pytest.mark.parametrize("t", [0.5, 0.3, 0.8])
def test_the_prefix_bound_keeps_the_mask_and_the_undecided_values(t: float) -> None:
    model, x, col = _rows(1203, 0)
    forest = model.forest  # type: ignore[attr-defined]
    full = forest.predict_proba(x)[:, col]
    exact = np.random.default_rng(1).random(len(x)) < 0.15
    out = pf.proba_below(forest, x, col, t, exact)
    thr = np.float32(t)
    np.testing.assert_array_equal(out.astype(np.float32) >= thr, full.astype(np.float32) >= thr)
    kept = out != 0
    np.testing.assert_array_equal(out[kept], full[kept])  # bit for bit where not decided
    np.testing.assert_array_equal(out[exact], full[exact])
    decided = (out == 0) & (full != 0)
    assert decided.sum() >= (_tail_rule(forest, x, col, t) & ~exact & (full != 0)).sum()


def test_the_prefix_bound_decides_rows_the_largest_leaf_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    model, x, col = _rows(2000, 2)
    forest = model.forest  # type: ignore[attr-defined]
    full = forest.predict_proba(x)[:, col]
    out = pf.proba_below(forest, x, col, 0.5)
    decided = (out == 0) & (full != 0)
    old = _tail_rule(forest, x, col, 0.5) & (full != 0)
    assert decided.sum() > old.sum()  # (a prefix of 0 steps would be the old rule)
    with monkeypatch.context() as m:  # the numpy rule: the same values
        from mmnst_path.detect import _morphology

        m.setattr(_morphology, "BACKEND", "scipy")
        np.testing.assert_array_equal(pf.proba_below(forest, x, col, 0.5), out)


def test_subtree_maxima_bound_every_leaf_below() -> None:
    model, x, col = _rows(500, 3)
    forest = model.forest  # type: ignore[attr-defined]
    top = pf._tops(forest, col)
    leaves = forest._leaves(x)
    for t in range(forest.n_trees):
        node = pf._prefix_nodes(forest, x, t, pf._PREFIX)
        assert np.all(forest.value[leaves[:, t], col] <= top[node])
    leaf = forest.left < 0
    np.testing.assert_array_equal(top[leaf], forest.value[leaf, col].astype(np.float64))


def test_empty_and_one_row_inputs() -> None:
    model, x, col = _rows(9, 4)
    forest = model.forest  # type: ignore[attr-defined]
    assert pf.proba_below(forest, x[:0], col, 0.5).shape == (0,)
    one = pf.proba_below(forest, x[:1], col, 0.5, np.array([True]))
    np.testing.assert_array_equal(one, forest.predict_proba(x[:1])[:, col])
