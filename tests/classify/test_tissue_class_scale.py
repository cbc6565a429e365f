"""``train_model(class_scale=...)`` and ``scripts/train_tissue_model.py --class-scale`` (session 43 H3, #13): a class's
training weight scaled on top of the balanced class weights."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from mmnst_path.classify.model import FeatureSpec
from mmnst_path.classify.train import train_model
from mmnst_path.errors import ConfigError

CLASSES = ("a", "b")
FEATURES = [FeatureSpec("f0", "-", "test feature 0"), FeatureSpec("f1", "-", "test feature 1")]


def _rows(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping classes (means 0 and 1, sd 1): many leaves of a shallow forest hold both."""
    rng = np.random.default_rng(seed)
    y = (rng.random(4000) < 0.5).astype(np.int64)
    x = rng.normal(0.0, 1.0, (4000, 2)).astype(np.float32) + y[:, None].astype(np.float32)
    return x, y


def _fit(x: np.ndarray, y: np.ndarray, scale):
    return train_model(x, y, kind="tissue", classes=CLASSES, features=FEATURES, settings={}, n_estimators=6,
                       max_depth=4, min_samples_leaf=50, class_scale=scale)


def test_no_scale_is_the_unscaled_fit() -> None:
    x, y = _rows()
    grid = np.random.default_rng(1).normal(0.5, 1.5, (500, 2)).astype(np.float32)
    p0 = _fit(x, y, None).forest.predict_proba(grid)
    np.testing.assert_array_equal(_fit(x, y, {}).forest.predict_proba(grid), p0)
    np.testing.assert_array_equal(_fit(x, y, {"b": 1.0}).forest.predict_proba(grid), p0)


def test_scale_moves_the_overlap_and_is_recorded() -> None:
    x, y = _rows()
    grid = np.random.default_rng(2).normal(0.5, 1.0, (2000, 2)).astype(np.float32)
    base = _fit(x, y, None)
    down = _fit(x, y, {"b": 0.4})
    up = _fit(x, y, {"b": 2.5})
    share = [float((np.argmax(m.forest.predict_proba(grid), axis=1) == 1).mean()) for m in (base, down, up)]
    assert share[1] < share[0] - 0.15 < share[0] + 0.15 < share[2], share
    assert down.card["forest"]["class_scale"] == {"b": 0.4}
    assert "class_scale" not in base.card["forest"]


@pytest.mark.parametrize(("scale", "text"), [({"c": 0.5}, "'c' is not one of"), ({"b": 0.0}, "must be a finite"),
                                             ({"b": float("nan")}, "must be a finite")])
def test_bad_scale_is_refused(scale, text) -> None:
    x, y = _rows()
    with pytest.raises(ConfigError, match=text):
        _fit(x, y, scale)


@pytest.fixture
def tr(project_module):
    return project_module("scripts/train_tissue_model.py")


def test_option_parses_and_refuses(tr) -> None:
    assert tr.parser().parse_args(["--class-scale", "necrosis=0.8,blood=2"]).class_scale == {"necrosis": 0.8,
                                                                                            "blood": 2.0}
    for bad in ("necrosis=0", "necrosis=x", "keratin=0.5", "necrosis"):
        with pytest.raises(SystemExit):
            tr.parser().parse_args(["--class-scale", bad])
    from _tissue_cli import _scales

    with pytest.raises(argparse.ArgumentTypeError, match="--class-scale"):
        _scales("nonsense=1")


def test_auto_context_refuses_the_scale(tr) -> None:
    args = tr.parser().parse_args(["--auto-context", "--class-scale", "necrosis=0.8"])
    with pytest.raises(SystemExit, match="--class-scale"):
        tr.check_options(args)
