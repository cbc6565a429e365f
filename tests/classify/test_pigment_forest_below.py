"""The pixel forest stops where its thresholded answer is decided (issue #16): the melanin mask,
the brown-body model's inputs and every probability it still reports are those of the full forest."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify import _pigment_bodies as bodies_mod
from mmnst_path.classify import pigment as pig
from mmnst_path.classify._forest import Forest
from mmnst_path.classify._pigment_forest import proba_below
from mmnst_path.synthetic import pigment_family_tile


def _stump_forest(leaves: list[tuple[float, float]]) -> Forest:
    """One stump per entry (feature 0 <= 0.5 goes to the first leaf), class 1 = the given values."""
    left, right, feature, threshold, value, roots = [], [], [], [], [], []
    for i, (a, b) in enumerate(leaves):
        o = 3 * i
        roots.append(o)
        left += [o + 1, -1, -1]
        right += [o + 2, -1, -1]
        feature += [0, -1, -1]
        threshold += [0.5, 0.0, 0.0]
        value += [[0.0, 0.0], [1.0 - a, a], [1.0 - b, b]]
    return Forest(left=np.array(left, np.int32), right=np.array(right, np.int32), feature=np.array(feature, np.int32),
                  threshold=np.array(threshold), value=np.array(value, np.float32), roots=np.array(roots, np.int32))


def _check(forest: Forest, x: np.ndarray, t: float, exact: np.ndarray | None) -> np.ndarray:
    full = forest.predict_proba(x)[:, 1]
    out = proba_below(forest, x, 1, t, exact)
    decided = out != full
    # the mask the pipeline reads is the same on every row ...
    np.testing.assert_array_equal(out.astype(np.float32) >= np.float32(t), full.astype(np.float32) >= np.float32(t))
    # ... a decided row is 0, and an exact row is never decided
    assert np.all(out[decided] == 0.0)
    if exact is not None:
        assert not decided[exact].any()
    return decided


@pytest.mark.parametrize("backend", ["numba", "scipy"])
def test_rows_at_the_threshold_are_never_decided_below(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    from mmnst_path.detect import _morphology

    if backend == "scipy":
        monkeypatch.setattr(_morphology, "BACKEND", "scipy")
    # 2 trees, leaf values {0, 0.5} then {0.5, 0.5}: a row through 0.5 twice sums to 1.0 and reads
    # exactly 0.5 = min_probability (kept); through 0 then 0.5 reads 0.25 (decided after tree 0,
    # where 0 + 0.5 < 1: the bound)
    forest = _stump_forest([(0.0, 0.5), (0.5, 0.5)])
    x = np.array([[0.0], [1.0], [0.2], [0.9]], np.float32)
    decided = _check(forest, x, 0.5, None)
    np.testing.assert_array_equal(decided, [True, False, True, False])
    # exact rows keep their probability
    decided = _check(forest, x, 0.5, np.array([True, False, False, False]))
    np.testing.assert_array_equal(decided, [False, False, True, False])


@pytest.mark.parametrize("backend", ["numba", "scipy"])
def test_random_forests_give_the_full_forest_mask(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    from mmnst_path.detect import _morphology

    if backend == "scipy":
        monkeypatch.setattr(_morphology, "BACKEND", "scipy")
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(2, 12))
        # leaf values on a coarse grid: many sums land exactly on the threshold
        leaves = [(float(rng.integers(0, 5)) / 4, float(rng.integers(0, 5)) / 4) for _ in range(n)]
        forest = _stump_forest(leaves)
        x = rng.random((203, 1)).astype(np.float32)  # (not a multiple of the walk's 8 lanes)
        for t in (0.25, 0.5, 0.75, 1e-3):
            _check(forest, x, t, rng.random(203) < 0.2)


def test_compiled_and_numpy_rules_agree_on_the_shipped_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from mmnst_path.detect import _morphology

    model = pig.resolve_pigment_model("dab")
    assert model is not None
    rng = np.random.default_rng(1)
    base = np.asarray(model.test_x, np.float32)  # the model file's own check rows, jittered: 400 rows
    x = (base[rng.integers(0, len(base), 400)] * rng.normal(1.0, 0.2, (400, base.shape[1]))).astype(np.float32)
    fast = proba_below(model.forest, x, model.class_names.index("melanin"), 0.5)
    with monkeypatch.context() as m:
        m.setattr(_morphology, "BACKEND", "scipy")
        ref = proba_below(model.forest, x, model.class_names.index("melanin"), 0.5)
    np.testing.assert_array_equal(fast, ref)
    assert (fast == 0).sum() > (model.predict_proba(x)[:, 1] == 0).sum()  # some rows stopped early


def test_classify_pigment_mask_and_body_columns_equal_with_the_early_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    model = pig.resolve_pigment_model("default")
    assert model is not None
    seen: dict[bool, list[np.ndarray]] = {True: [], False: []}
    real = bodies_mod.put_model_features

    def spy(x, labels, n, prob, melanin, rows=None):  # type: ignore[no-untyped-def]
        real(x, labels, n, prob, melanin, rows)
        seen[pig.FOREST_EARLY_EXIT].append(x.copy())

    monkeypatch.setattr(bodies_mod, "put_model_features", spy)
    stopped = 0
    for family, seed in (("coarse", 0), ("over_nucleus", 1), ("none", 2), ("perinuclear", 3)):
        tile = pigment_family_tile(seed, family, chromogen="dab", size=192)
        out = {}
        for flag in (False, True):
            monkeypatch.setattr(pig, "FOREST_EARLY_EXIT", flag)
            out[flag] = pig.classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains="H-DAB")
        np.testing.assert_array_equal(out[True][0], out[False][0], err_msg=family)
        computed = out[True][1] > 0
        np.testing.assert_array_equal(out[True][1][computed], out[False][1][computed])
        stopped += int(((out[False][1] > 0) & ~computed).sum())
    assert stopped > 100  # the forest did stop early
    # the body model read the same pixel-model columns (the body pixels are walked in full)
    assert len(seen[True]) == len(seen[False]) > 0
    for a, b in zip(seen[True], seen[False], strict=True):
        np.testing.assert_array_equal(a, b)
