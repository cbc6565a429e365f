"""Shared builders of the tissue-classifier tests, and the checks shared by the generated brown-cytoplasm painters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify.model import ContextStage, FeatureSpec
from mmnst_path.classify.tissue_context import ContextSettings, context_features
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features
from mmnst_path.classify.train import train_model

TWO_STAGE_CLASSES = ("tumour", "necrosis")


def _two_stage_model(necrosis_fraction: float, second_calls: str) -> tuple[Any, Any]:
    """A two-stage tissue model (tumour vs necrosis, real features of one generated tile) and its first
    stage. The second stage (16 µm context) is trained on every block labelled ``second_calls`` but one,
    so the forest has both classes but calls (nearly) every block ``second_calls``."""
    settings = TissueFeatureSettings()
    t = synthetic.he_necrosis_tile(31, size=256, necrosis_fraction=necrosis_fraction)
    feats, gm = tissue_features(t.rgb, mpp=t.mpp, settings=settings)
    big = round(gm / t.mpp)
    nec = t.masks["necrosis"][: feats.shape[0] * big, : feats.shape[1] * big]
    y = (nec.reshape(feats.shape[0], big, feats.shape[1], big).mean((1, 3)) > 0.5).astype(np.int64).ravel()
    x = feats.reshape(-1, feats.shape[-1])
    classes = TWO_STAGE_CLASSES
    first = train_model(x, y, kind="tissue", classes=classes, features=tissue_feature_specs(settings),
                        settings={"features": settings.to_mapping(), "stains": "H&E"}, n_estimators=4, max_depth=6)
    cs = ContextSettings((16.0,))
    ctx = context_features(feats, first.predict_proba(x).reshape(*feats.shape[:2], -1), grid_mpp=gm, settings=cs)
    c = ctx.reshape(-1, ctx.shape[-1])
    names = [f.name for f in first.features] + [f"p_{k}" for k in classes] + [f"p_{k}_c16" for k in classes]
    y2 = np.full(len(c), classes.index(second_calls), np.int64)
    y2[0] = 1 - y2[0]
    second = train_model(c, y2, kind="tissue", classes=classes, features=[FeatureSpec(n) for n in names],
                         settings=first.settings, n_estimators=2, max_depth=2)
    stage = ContextStage.build(features=second.features, settings=cs.to_mapping(), forest=second.forest, test_x=c[:4])
    return first.with_context(stage), first


def _toy_context_images(seed: int) -> tuple[list[Any], Any]:
    """Four 10x10 block images (two features: the class plus noise, and pure noise; groups alternating) and a
    first-stage model (tumour vs necrosis) fitted on them: the inputs of ``train_context_stage`` in small."""
    from mmnst_path.classify.train_tissue import ContextImage

    rng = np.random.default_rng(seed)
    images = []
    for i in range(4):
        cls = (rng.random((10, 10)) < 0.4).astype(np.int64)
        feats = np.stack([cls + rng.normal(0, 0.3, cls.shape), rng.normal(0, 1, cls.shape)], -1).astype(np.float32)
        images.append(ContextImage(feats, np.arange(100), cls.ravel(), 8.0, i % 2))
    x = np.concatenate([im.feats.reshape(-1, 2) for im in images])
    y = np.concatenate([im.y for im in images])
    first = train_model(x, y, kind="tissue", classes=TWO_STAGE_CLASSES,
                        features=[FeatureSpec("look"), FeatureSpec("noise")], settings={}, n_estimators=2, max_depth=4)
    return images, first


@pytest.fixture(scope="session")
def toy_context_images() -> Callable[[int], tuple[list[Any], Any]]:
    """``toy_context_images(seed)`` -> (four small ``ContextImage`` s, a first stage fitted on them)."""
    return _toy_context_images


@pytest.fixture(scope="session")
def two_stage_model() -> Callable[[float, str], tuple[Any, Any]]:
    """``two_stage_model(necrosis_fraction, second_calls)`` -> (two-stage model, its first stage)."""
    return _two_stage_model


def _check_brown_paint(tile: Any, rgb: np.ndarray, painted: np.ndarray, paint: Callable[..., Any],
                       paint_of: Callable[..., Any], seed: int) -> None:
    """What every brown (DAB) cytoplasm painter of ``_synthetic_pigment`` must do: ``painted`` pixels darker and
    brown (blue absorbed most), ``paint_of(tile, seed)`` a stream of the seed alone, and nothing painted without
    positive nuclei."""
    assert (rgb[painted].astype(int).sum(1) < tile.rgb[painted].astype(int).sum(1)).mean() > 0.9  # darker
    blue_loss = tile.rgb[painted, 2].astype(int) - rgb[painted, 2].astype(int)
    red_loss = tile.rgb[painted, 0].astype(int) - rgb[painted, 0].astype(int)
    assert blue_loss.mean() > red_loss.mean()  # brown: blue absorbed most
    again, _ = paint_of(tile, seed)
    np.testing.assert_array_equal(again, rgb)  # a stream of the seed alone
    pos = tile.masks["positive_nuclei"]
    none, nothing = paint(tile.rgb, np.zeros_like(pos), tile.masks["tissue"], np.random.default_rng(0), 0.5)
    assert not nothing.any()
    np.testing.assert_array_equal(none, tile.rgb)


@pytest.fixture(scope="session")
def check_brown_paint() -> Callable[..., None]:
    """:func:`_check_brown_paint`: ``check_brown_paint(tile, rgb, painted, paint, paint_of, seed)``."""
    return _check_brown_paint
