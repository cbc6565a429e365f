"""Bounded brown-body features (``body_*``, issue #16, session 38): a finite reach, so a tile cut
anywhere gives the feature values and the H&E melanin mask one whole image gives, within its halo;
the whole-body ``blob_*`` columns do not (the reason for them)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmnst_path.classify._pigment_features import PigmentFeatureSettings, pigment_features
from mmnst_path.classify._pigment_reach_bodies import (
    BOUNDED_FEATURES,
    bounded_body_columns,
    bounded_reach_px,
    enclosed,
)
from mmnst_path.classify.pigment import classify_pigment, pigment_probability, resolve_pigment_model
from mmnst_path.synthetic import pigment_family_tile


def test_enclosed_sees_a_ring_within_its_reach_only():
    brown = np.zeros((31, 31), bool)
    brown[5, 5:26] = brown[25, 5:26] = brown[5:26, 5] = brown[5:26, 25] = True  # a square ring, 19 px inside
    inside = enclosed(brown, 10)
    assert inside[15, 15]  # every side 10 px away
    assert not inside[6, 6]  # the right side 19 px away
    assert not inside[2, 15]  # outside the ring: no brown on one side
    assert not inside[15, 28]
    assert not inside[5, 10]  # brown itself is no hole
    assert not enclosed(brown, 9)[15, 15]  # the sides 10 px away: out of a 9 px reach
    brown[5:26, 25] = False  # open on the right: nothing inside is enclosed
    assert not enclosed(brown, 30)[15, 15]
    with pytest.raises(ValueError, match="reach must be at least 1"):
        enclosed(brown, 0)


def test_body_columns_are_zero_off_the_brown_mask_and_in_range():
    tile = pigment_family_tile(2400, "perinuclear", chromogen="eosin", size=192)
    x, cand = pigment_features(tile.rgb, mpp=tile.mpp, names=list(BOUNDED_FEATURES))
    assert x.shape == (int(cand.sum()), 4)
    on = x[:, 0] != 0
    assert 0 < on.sum() < len(x)
    assert np.all(x[~on] == 0)
    area, fill, cv, holes = x[on].T
    sigma_um = PigmentFeatureSettings().body_um
    assert np.all(area <= math.log10(2 * math.pi * sigma_um**2) + 1e-5)  # at most the Gaussian's whole area
    assert np.all((fill > 0) & (fill <= 1 + 1e-6))
    assert np.all(cv >= 0)
    assert np.all((holes >= 0) & (holes < 1))
    with pytest.raises(ValueError, match="body_um and hole_um"):
        bounded_body_columns(np.zeros((4, 4), np.float32), np.ones((4, 4), bool), np.ones((4, 4), bool), 0.5,
                             body_um=0.0, hole_um=6.0)


def _cut(full: np.ndarray, cand: np.ndarray, part: np.ndarray, pcand: np.ndarray, at: tuple[int, int],
         halo: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel values of the whole image and of the image cut at ``at``, on the cut's core
    (``halo`` px from its cut edges; its far edges are the image's)."""
    a = np.zeros((*cand.shape, full.shape[1]), np.float32)
    a[cand] = full
    b = np.zeros((*pcand.shape, part.shape[1]), np.float32)
    b[pcand] = part
    return a[at[0] + halo :, at[1] + halo :], b[halo:, halo:]


def test_a_body_cut_by_a_tile_edge_keeps_its_bounded_values():
    tile = pigment_family_tile(2401, "confluent", chromogen="eosin", size=320)
    names = [*BOUNDED_FEATURES, "blob_log_area"]
    x, cand = pigment_features(tile.rgb, mpp=tile.mpp, names=names)
    at = (61, 47)
    xc, cc = pigment_features(np.ascontiguousarray(tile.rgb[at[0] :, at[1] :]), mpp=tile.mpp, names=names)
    halo = math.ceil(PigmentFeatureSettings().halo_um() / tile.mpp)
    assert halo >= bounded_reach_px(3.0, 6.0, tile.mpp)
    a, b = _cut(x, cand, xc, cc, at, halo)
    np.testing.assert_array_equal(a[..., :4], b[..., :4])
    assert (a[..., 0] != 0).sum() > 1000  # brown bodies in the core
    assert np.any(a[..., 4] != b[..., 4])  # the whole-body area changes where the cut runs through a body


def test_he_melanin_mask_of_a_tile_cut_through_bodies_equals_one_image():
    """The shipped H&E model reads the bounded columns: a tile cut through melanin bodies gives, on
    its core (the pigment halo away from the cut), the mask and probability of the whole image."""
    model = resolve_pigment_model("he")
    names = [f.name for f in model.features]
    assert set(BOUNDED_FEATURES) <= set(names)
    assert not any(n.startswith("blob_") for n in names)
    tile = pigment_family_tile(2402, "confluent", chromogen="eosin", size=384)
    halo = math.ceil(PigmentFeatureSettings.from_mapping(model.settings).halo_um() / tile.mpp)
    mask, prob = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains="H&E", full_probability=True)
    assert mask.sum() > 2000
    for at in ((70, 90), (133, 21)):
        part = np.ascontiguousarray(tile.rgb[at[0] :, at[1] :])
        m2, p2 = classify_pigment(part, mpp=tile.mpp, model=model, stains="H&E", full_probability=True)
        np.testing.assert_array_equal(mask[at[0] + halo :, at[1] + halo :], m2[halo:, halo:])
        np.testing.assert_array_equal(prob[at[0] + halo :, at[1] + halo :], p2[halo:, halo:])


def test_banded_probability_equals_the_reference_rows_with_bounded_columns():
    """``pigment_probability`` (windows / bands, the columns gathered per band) gives the values of
    the model on the reference rows of :func:`pigment_features`, bit for bit."""
    model = resolve_pigment_model("he")
    tile = pigment_family_tile(2403, "melanophage", chromogen="eosin", size=256)
    x, cand = pigment_features(tile.rgb, mpp=tile.mpp, names=[f.name for f in model.features], windowed=False)
    ref = np.zeros(cand.shape, np.float32)
    ref[cand] = model.predict_proba(x)[:, model.class_names.index("melanin")]
    for rows in (10**9, 500):
        prob, c2 = pigment_probability(tile.rgb, mpp=tile.mpp, model=model, block_rows=rows)
        np.testing.assert_array_equal(c2, cand)
        np.testing.assert_array_equal(prob, ref)
