"""The brown bodies the body model calls DAB whatever the pixel model says (issue #16): the exact
upper bound of the body model's probability over the pixel-model columns
(:func:`mmnst_path.classify._pigment_bound.forest_upper_bound`) is never below the forest's
probability, and the bodies it decides leave the pigment masks of real Ki67 tiles unchanged while
the pixel model runs on fewer pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mmnst_path.classify._pigment_bodies as bodies_mod
import mmnst_path.classify._pigment_bound as bound_mod
import mmnst_path.classify.pigment as pig
from mmnst_path.detect.pigment import PigmentParams, pigment_channels
from mmnst_path.pipeline import analyze_region
from mmnst_path.stain import load_stains

#: (tile, µm per pixel: benchmarks/datasets.toml)
TILES = [("bcdata/2.png", 0.25), ("shidc/p1_0299_1.jpg", 0.21)]


def _tile(shared_data, name: str) -> np.ndarray:
    return np.asarray(Image.open(shared_data / "ki67" / name).convert("RGB"))


def _body_rows(rgb: np.ndarray, mpp: float) -> tuple[np.ndarray, object]:
    """The image-feature rows of a tile's brown bodies inside the body model's ranges, and the model."""
    params = PigmentParams()
    body_model = bodies_mod.resolve_body_model(params.body_model)
    assert body_model is not None
    chans = pigment_channels(rgb, stains=load_stains("H-DAB"), params=params, _with_hematoxylin=True)
    b = bodies_mod.prepare_bodies(rgb, chans, body_model, mpp=mpp, params=params, background=None)
    rows = b.x[bodies_mod.inside_ranges(b.x, body_model)]
    cols = [bodies_mod.OBJECT_FEATURES.index(name) for name in body_model.feature_names]
    return np.ascontiguousarray(rows[:, cols]), body_model


@pytest.mark.parametrize(("name", "mpp"), TILES)
def test_bound_is_never_below_the_forest_whatever_the_pixel_model_columns(shared_data, name, mpp) -> None:
    x, model = _body_rows(_tile(shared_data, name), mpp)
    assert len(x) >= 3
    upper = bound_mod.forest_upper_bound(model, x, bodies_mod.MODEL_COLUMNS, "melanin")
    assert upper is not None
    names = list(model.feature_names)
    free = [names.index(c) for c in bodies_mod.MODEL_COLUMNS]
    j = list(model.class_names).index("melanin")
    # the values at the forest's own splits on those columns (both sides of each) and random ones
    splits = model.forest.threshold[np.isin(model.forest.feature, free) & (model.forest.left >= 0)]
    grid = np.concatenate([[0.0, 1.0], np.nextafter(splits, -np.inf), np.nextafter(splits, np.inf),
                           np.random.default_rng(0).uniform(0, 1, 64)]).astype(np.float32)
    grid = grid[(grid >= 0) & (grid <= 1)]
    rng = np.random.default_rng(1)
    reached = np.zeros(len(x))
    for i in range(len(x)):
        rows = np.repeat(x[i : i + 1], 400, axis=0)
        rows[:, free[0]] = rng.choice(grid, 400)
        rows[:, free[1]] = rng.choice(grid, 400)
        p = model.predict_proba(rows)[:, j]
        assert (p <= upper[i]).all()
        reached[i] = p.max()
    assert (reached > 0).any()  # the columns matter: the bound is tested where the forest answers


def test_bound_without_unknown_columns_is_the_forest_bit_for_bit(shared_data) -> None:
    x, model = _body_rows(_tile(shared_data, "shidc/p1_0299_1.jpg"), 0.21)
    upper = bound_mod.forest_upper_bound(model, x, (), "melanin")
    assert upper is not None
    np.testing.assert_array_equal(upper, model.predict_proba(x)[:, list(model.class_names).index("melanin")])


@pytest.mark.parametrize(("name", "mpp"), TILES)
def test_bodies_decided_by_the_bound_keep_the_mask(shared_data, name, mpp, monkeypatch) -> None:
    # classify_pigment's image and arguments as the pipeline passes them (its stains, white point)
    asked: list[tuple[np.ndarray, dict]] = []
    real_classify = pig.classify_pigment
    monkeypatch.setattr(pig, "classify_pigment",
                        lambda image, **kw: asked.append((image.copy(), kw)) or real_classify(image, **kw))
    analyze_region(_tile(shared_data, name), None, mpp=mpp)
    monkeypatch.setattr(pig, "classify_pigment", real_classify)
    assert len(asked) == 1
    rgb, kw = asked[0][0], {k: v for k, v in asked[0][1].items() if k not in ("_planes", "full_probability")}
    seen: list[int] = []
    real = pig.pigment_probability

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(*args, **kwargs)
        seen.append(int(out[1].sum()))
        return out

    monkeypatch.setattr(pig, "pigment_probability", counting)
    mask, _ = pig.classify_pigment(rgb, **kw)
    with_bound = sum(seen)
    seen.clear()
    full, _ = pig.classify_pigment(rgb, **kw, full_probability=True)
    seen.clear()
    monkeypatch.setattr(bound_mod, "forest_upper_bound", lambda *a, **k: None)  # the ranges alone decide
    ranges_only, _ = pig.classify_pigment(rgb, **kw)
    assert mask.any()
    np.testing.assert_array_equal(mask, full)
    np.testing.assert_array_equal(mask, ranges_only)
    assert with_bound < 0.9 * sum(seen)  # the bound decided bodies: the pixel model ran on fewer pixels


def _walk_both_ways(forest, row: np.ndarray, free: set[int], column: int) -> float:
    """The bound by plain enumeration: every leaf reachable (both ways at a ``free`` split), per tree
    the largest value, summed tree 0 first and divided by the number of trees."""
    total = 0.0
    for root in forest.roots:
        best, stack = 0.0, [int(root)]
        while stack:
            node = stack.pop()
            if forest.left[node] < 0:
                best = max(best, float(forest.value[node, column]))
            elif int(forest.feature[node]) in free:
                stack += [int(forest.left[node]), int(forest.right[node])]
            else:
                go_left = np.float64(row[forest.feature[node]]) <= forest.threshold[node]
                stack.append(int(forest.left[node] if go_left else forest.right[node]))
        total += best
    return total / len(forest.roots)


def test_bound_is_the_largest_reachable_leaves_exactly(shared_data) -> None:
    """The pruned walk gives the maximum a plain enumeration of the reachable leaves gives."""
    x, model = _body_rows(_tile(shared_data, "bcdata/2.png"), 0.25)
    upper = bound_mod.forest_upper_bound(model, x, bodies_mod.MODEL_COLUMNS, "melanin")
    assert upper is not None
    names = list(model.feature_names)
    free = {names.index(c) for c in bodies_mod.MODEL_COLUMNS}
    j = list(model.class_names).index("melanin")
    ref = np.array([_walk_both_ways(model.forest, row, free, j) for row in x])
    np.testing.assert_array_equal(upper, ref)
