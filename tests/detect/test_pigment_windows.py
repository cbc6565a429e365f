"""The cheap pigment-model path (issues #14, #16) gives exactly what the whole-tile path gives:
features filtered in windows around the gated pixels, trees walked by the numba kernel."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmnst_path.classify.pigment import (
    PigmentFeatureSettings,
    _windows,
    classify_pigment,
    feature_reach_px,
    pigment_features,
    resolve_pigment_model,
)
from mmnst_path.detect.pigment import PigmentParams, clustered_pigment, pigment_gate
from mmnst_path.stain import get_preset
from mmnst_path.synthetic import pigment_family_tile


def _gated_features(rgb: np.ndarray, mpp: float, *, windowed: bool) -> tuple[np.ndarray, np.ndarray]:
    model = resolve_pigment_model("dab")
    assert model is not None
    params = PigmentParams()
    gate, _ = pigment_gate(rgb, mpp=mpp, stains=get_preset("H-DAB"), params=params,
                           bodies=params.model_body_veto, min_od=params.model_min_od)
    return pigment_features(rgb, mpp=mpp, where=gate, names=[f.name for f in model.features], windowed=windowed)


@pytest.mark.parametrize("family", ["none", "coarse"])
def test_windowed_features_equal_whole_tile(family):
    tile = pigment_family_tile(5, family, chromogen="dab", size=320)
    x1, c1 = _gated_features(tile.rgb, tile.mpp, windowed=True)
    x0, c0 = _gated_features(tile.rgb, tile.mpp, windowed=False)
    assert x0.shape[0] > 0
    np.testing.assert_array_equal(c1, c0)
    np.testing.assert_array_equal(x1, x0)


def test_windowed_features_equal_whole_tile_on_real_tile(shared_data):
    rgb = np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "0.png").convert("RGB"))[:384, :384]
    x1, _ = _gated_features(rgb, 0.25, windowed=True)
    x0, _ = _gated_features(rgb, 0.25, windowed=False)
    assert x0.shape[0] > 0
    np.testing.assert_array_equal(x1, x0)


def test_sparse_candidates_use_separate_windows_with_identical_rows():
    """Two far-apart dark specks: two windows (not the tile), rows as the whole-tile filters give."""
    rng = np.random.default_rng(0)
    rgb = np.full((400, 400, 3), 235, np.uint8)
    rgb += rng.integers(0, 8, rgb.shape, dtype=np.uint8)
    rgb[30:36, 40:47] = (70, 45, 25)  # brown-black specks near a corner and the far edge
    rgb[350:356, 372:380] = (60, 40, 30)
    x, cand = pigment_features(rgb, mpp=0.5, windowed=True)
    reach = feature_reach_px(PigmentFeatureSettings(), 0.5)
    wins = _windows(cand, reach)
    assert len(wins) == 2
    assert sum(int(sel.sum()) for _, sel in wins) == int(cand.sum())
    x0, cand0 = pigment_features(rgb, mpp=0.5, windowed=False)
    np.testing.assert_array_equal(cand, cand0)
    np.testing.assert_array_equal(x, x0)


def _reference_classify(rgb: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """classify_pigment's brown-mode steps, each computed the plain way (whole-tile features,
    numpy forest walk, the gate and the veto each deconvolving the tile themselves)."""
    model = resolve_pigment_model("dab")
    assert model is not None
    params, stains = PigmentParams(), get_preset("H-DAB")
    gate, mode = pigment_gate(rgb, mpp=mpp, stains=stains, params=params, background=stains.background,
                              bodies=params.model_body_veto, min_od=params.model_min_od)
    assert mode == "brown"
    prob = np.zeros(rgb.shape[:2], np.float32)
    x, cand = pigment_features(rgb, mpp=mpp, background=stains.background, where=gate,
                               names=[f.name for f in model.features], windowed=False)
    prob[cand] = model.predict_proba(x)[:, model.class_names.index("melanin")]
    mask = prob >= params.min_probability
    if mask.any() and not params.model_body_veto:
        # the brown-body model's decision (2026-12-03; the share rule of dab_body_veto before)
        from scipy import ndimage as ndi

        from mmnst_path.classify.pigment import (
            body_melanin_probability,
            body_object_features,
            resolve_body_model,
        )
        from mmnst_path.detect._pigment_core import _brown_bodies
        from mmnst_path.detect._pigment_gate import veto_bodies
        from mmnst_path.detect.pigment import pigment_channels
        from mmnst_path.stain import od_from_rgb

        body_model = resolve_body_model(params.body_model)
        assert body_model is not None
        brown, _, _, _, hem = pigment_channels(rgb, stains=stains, params=params, background=stains.background,
                                               _with_hematoxylin=True)
        labels, n = ndi.label(_brown_bodies(brown, hem, mpp, params, margin=False))
        x = body_object_features(labels, n, od_from_rgb(rgb, background=stains.background), brown, hem, prob, mask, mpp)
        dab = np.concatenate([[False], body_melanin_probability(x, body_model) < params.body_min_probability])
        mask &= ~veto_bodies(labels, dab, mask, mpp=mpp, params=params)
    if mask.any():
        mask = clustered_pigment(mask, mpp=mpp, params=params)
    return mask, prob


@pytest.mark.parametrize("family", ["coarse", "over_nucleus"])
def test_classify_pigment_equals_whole_tile_reference(family):
    tile = pigment_family_tile(4, family, chromogen="dab", size=384)
    ref_mask, ref_prob = _reference_classify(tile.rgb, tile.mpp)
    assert ref_mask.any()
    mask, prob = classify_pigment(tile.rgb, mpp=tile.mpp, model=resolve_pigment_model("default"),
                                  stains=get_preset("H-DAB"), params=PigmentParams(), full_probability=True)
    np.testing.assert_array_equal(prob, ref_prob)
    np.testing.assert_array_equal(mask, ref_mask)
    # by default the model skips the brown bodies the body model calls DAB alone, and their margin
    mask, prob = classify_pigment(tile.rgb, mpp=tile.mpp, model=resolve_pigment_model("default"),
                                  stains=get_preset("H-DAB"), params=PigmentParams())
    np.testing.assert_array_equal(mask, ref_mask)
    skipped = prob != ref_prob
    assert not prob[skipped].any()  # 0 where the model did not run, the reference's value elsewhere


def test_body_hole_share_equals_fill_holes_reference():
    """blob_holes: the holes found by labelling equal scipy's binary_fill_holes, owner by the
    3x3 label dilation (the whole-tile formulation the features were trained with)."""
    from scipy import ndimage as ndi

    from mmnst_path.classify.pigment import _BODY_OD, _BROWN, _BROWN_CONE_DEG, _brown_bodies

    tile = pigment_family_tile(1, "perinuclear", chromogen="dab", size=320)
    x, cand = pigment_features(tile.rgb, mpp=tile.mpp, names=["blob_holes", "blob_log_area"])
    from mmnst_path.stain import od_from_rgb

    od = np.ascontiguousarray(od_from_rgb(tile.rgb), dtype=np.float32)
    s = PigmentFeatureSettings()
    from mmnst_path.detect._morphology import _gaussian

    fine = np.stack([_gaussian(np.ascontiguousarray(od[..., c]), s.fine_um / tile.mpp) for c in range(3)], axis=-1)
    total = np.sqrt(np.einsum("...c,...c->...", fine, fine)).astype(np.float32)
    cos = np.einsum("...c,c->...", fine, _BROWN.astype(np.float32)) / np.maximum(total, 1e-6)
    brown = (total >= _BODY_OD) & (cos >= np.cos(np.radians(_BROWN_CONE_DEG)))
    labels, n = ndi.label(brown, structure=np.ones((3, 3), bool))
    hole_px = ndi.binary_fill_holes(brown) & ~brown
    assert hole_px.any()
    grown = ndi.grey_dilation(labels, size=(3, 3))
    hole_lab = ndi.label(hole_px)[0]
    owner = np.zeros(hole_lab.max() + 1, np.int64)
    owner[hole_lab[hole_px]] = grown[hole_px]
    for _ in range(2):
        owner[hole_lab[hole_px]] = np.maximum(owner[hole_lab[hole_px]], grown[hole_px])
    hcount = np.bincount(owner[hole_lab[hole_px]], minlength=n + 1).astype(np.float64)[: n + 1]
    cnt = np.bincount(labels.ravel(), minlength=n + 1).astype(np.float64)
    cnt[0] = 0
    ref = np.zeros(int(cand.sum()), np.float32)
    lc = labels[cand]
    ref[lc > 0] = (hcount / np.maximum(cnt + hcount, 1.0))[lc[lc > 0]]
    assert (ref > 0).any()
    np.testing.assert_array_equal(x[:, 0], ref)
    np.testing.assert_array_equal(_brown_bodies(total, fine, tile.mpp, cand)["blob_holes"], ref)
