"""The pigment model's ``wide_um`` blur computed once from the whole-tile channels at the
candidates (issue #16): windows grown by the other filters' reach only, the same probabilities
as the whole-tile feature rows, for scattered candidate groups (several windows) and one group."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mmnst_path.classify.pigment as P
from mmnst_path.classify.pigment import (
    PigmentFeatureSettings,
    pigment_features,
    pigment_probability,
    resolve_pigment_model,
)


def _reference(rgb: np.ndarray, mpp: float, model, where: np.ndarray) -> np.ndarray:
    x, cand = pigment_features(rgb, mpp=mpp, where=where, names=[f.name for f in model.features], windowed=False,
                               settings=PigmentFeatureSettings.from_mapping(model.settings))
    prob = np.zeros(rgb.shape[:2], np.float32)
    prob[cand] = model.predict_proba(x)[:, model.class_names.index("melanin")]
    return prob


@pytest.mark.parametrize("spec", ["default", "dab"])
def test_scattered_candidates_whole_tile_wide_blur(shared_data, spec, monkeypatch):
    rgb = np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "0.png").convert("RGB"))
    where = np.zeros(rgb.shape[:2], bool)
    for r0, c0 in ((10, 10), (10, 500), (300, 250), (600, 20), (600, 600)):  # groups far apart, at the borders too
        where[r0 : r0 + 30, c0 : c0 + 30] = True
    model = resolve_pigment_model(spec)
    seen = []
    real = P._wide_at
    monkeypatch.setattr(P, "_wide_at", lambda *a, **k: seen.append(1) or real(*a, **k))
    prob, cand = pigment_probability(rgb, mpp=0.25, model=model, where=where)
    assert seen  # the blur ran once over the whole tile (no bands)
    assert cand.sum() > 100
    windows = P._windows(cand, P.feature_reach_px(PigmentFeatureSettings.from_mapping(model.settings), 0.25,
                                                  wide=False))
    assert len(windows) > 1
    np.testing.assert_array_equal(prob, _reference(rgb, 0.25, model, where))
