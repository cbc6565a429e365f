"""Band-by-band pigment prediction (issue #16: peak memory per worker) gives exactly what the
whole-tile feature rows give, and the per-body sums of the compiled kernel equal numpy's."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmnst_path.classify.pigment import (
    PigmentFeatureSettings,
    _blocks,
    _label_sums,
    feature_reach_px,
    pigment_features,
    pigment_probability,
    resolve_pigment_model,
)
from mmnst_path.synthetic import pigment_family_tile


def _reference(rgb: np.ndarray, mpp: float, model, where=None) -> np.ndarray:
    """Whole-tile rows (no windows), one predict_proba call, scattered into the tile."""
    x, cand = pigment_features(rgb, mpp=mpp, where=where, names=[f.name for f in model.features], windowed=False,
                               settings=PigmentFeatureSettings.from_mapping(model.settings))
    prob = np.zeros(rgb.shape[:2], np.float32)
    prob[cand] = model.predict_proba(x)[:, model.class_names.index("melanin")]
    return prob


@pytest.mark.parametrize(("family", "block_rows"), [("coarse", 5000), ("confluent", 20000), ("none", 1 << 18)])
def test_banded_probability_equals_whole_tile_rows(family, block_rows):
    tile = pigment_family_tile(2, family, chromogen="dab", size=384)
    model = resolve_pigment_model("dab")
    prob, cand = pigment_probability(tile.rgb, mpp=tile.mpp, model=model, block_rows=block_rows)
    ref = _reference(tile.rgb, tile.mpp, model)
    assert int(cand.sum()) > block_rows or block_rows == 1 << 18  # the small budgets do cut bands
    assert (ref > 0.5).any()
    np.testing.assert_array_equal(prob, ref)


def test_banded_probability_equals_whole_tile_rows_on_real_tile(shared_data):
    """A real H-DAB tile, every dark pixel a candidate (no gate), cut into ~10 bands, with the
    red-chromogen model (15 features, no body features) and the H-DAB model (24)."""
    rgb = np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "0.png").convert("RGB"))[:320, :448]
    for spec in ("default", "dab"):
        model = resolve_pigment_model(spec)
        prob, _ = pigment_probability(rgb, mpp=0.25, model=model, block_rows=cand_count(rgb) // 10)
        np.testing.assert_array_equal(prob, _reference(rgb, 0.25, model))


def cand_count(rgb: np.ndarray) -> int:
    _, cand = pigment_features(rgb, mpp=0.25, names=["u_r"])
    return int(cand.sum())


def test_bands_cover_every_candidate_once_with_the_reach_around_it():
    rng = np.random.default_rng(1)
    cand = rng.random((300, 90)) < 0.4
    cand[120:140] = False  # an empty stretch of rows
    reach = 6
    bands = _blocks(cand, reach, 900)
    assert len(bands) > 3
    seen = np.zeros(cand.shape, np.int32)
    for (rs, cs), sel in bands:
        assert sel.shape == (rs.stop - rs.start, cs.stop - cs.start)
        rows = np.flatnonzero(sel.any(axis=1))
        # the filters of a band read `reach` rows beyond its candidates (or the image border)
        assert rows[0] >= min(reach, rs.start)
        assert rows[-1] < sel.shape[0] - min(reach, cand.shape[0] - rs.stop)
        seen[rs, cs] += sel
    np.testing.assert_array_equal(seen, cand.astype(np.int32))


def test_label_sums_kernel_equals_bincount(monkeypatch):
    """The compiled per-body sums and the numpy bincount fallback agree to the bit."""
    from mmnst_path.detect import _morphology

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 40, (150, 170)).astype(np.int32)
    values = rng.random((150, 170)).astype(np.float32) * 2.5
    fast = _label_sums(labels, values, 39)
    monkeypatch.setattr(_morphology, "BACKEND", "scipy")
    slow = _label_sums(labels, values, 39)
    assert _morphology._numba_kernels() is None
    np.testing.assert_array_equal(fast, slow)
    assert fast[0].sum() == 0
    assert fast[1:, 0].sum() == np.count_nonzero(labels)


def test_reach_without_wide_is_smaller():
    s = PigmentFeatureSettings()
    assert feature_reach_px(s, 0.5, wide=False) < feature_reach_px(s, 0.5)
