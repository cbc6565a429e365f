"""The pixel model skips the brown bodies the body model decides from the image alone (#16).

:data:`mmnst_path.classify.pigment.SKIP_DECIDED_BODIES`: bodies outside the body model's ranges
are DAB whatever the pixel model says, so it does not run on them nor on their veto margin. The
masks must be those of the reference (every gated pixel through the pixel model), including the
tiles where the context rule makes a second pass necessary. The sparse kernels behind it
(rim growth, clusters on the mask's box, granule maxima at the body pixels) must equal the
whole-tile filters they replace.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

import mmnst_path.classify._pigment_bodies as bodies_mod
import mmnst_path.classify.pigment as pig
from mmnst_path.classify._pigment_bodies import body_image_features, prepare_bodies, resolve_body_model
from mmnst_path.detect._morphology import _disk, _disk_extreme, _od_norm
from mmnst_path.detect._pigment_core import _clustered, _grown
from mmnst_path.detect._pigment_gate import brown_body_labels, clustered_pigment, grown_through, veto_bodies
from mmnst_path.detect.pigment import PigmentParams, pigment_channels, pigment_gate
from mmnst_path.stain import load_stains, od_from_rgb
from mmnst_path.synthetic import pigment_family_tile


@pytest.mark.parametrize("seed", range(6))
def test_grown_through_is_the_masked_binary_dilation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(60):
        m, n = (int(v) for v in rng.integers(1, 48, 2))
        seed_mask = rng.random((m, n)) < rng.random() * 0.2
        into = rng.random((m, n)) < rng.random() * 0.9
        steps = int(rng.integers(1, 7))
        ref = ndi.binary_dilation(seed_mask, iterations=steps, mask=seed_mask | into)
        np.testing.assert_array_equal(grown_through(seed_mask, into, steps), ref)


@pytest.mark.parametrize("mpp", [0.25, 0.5])
def test_clustered_pigment_on_the_box_is_the_whole_tile_result(mpp: float) -> None:
    rng = np.random.default_rng(3)
    params = PigmentParams()
    kept_any = dropped_any = False
    for trial in range(30):
        mask = np.zeros((160, 200), dtype=bool)
        for _ in range(int(rng.integers(1, 12))):  # granule clusters and isolated specks, some at the border
            r, c = int(rng.integers(0, 160)), int(rng.integers(0, 200))
            k = int(rng.integers(1, 40))
            rr = np.clip(r + rng.integers(-6, 7, k), 0, 159)
            cc = np.clip(c + rng.integers(-6, 7, k), 0, 199)
            mask[rr, cc] = True
        if trial % 3 == 1:  # a dense clump (12 µm² at 0.25 µm/px), near the border every other time
            r0 = 150 if trial % 2 else 60
            mask[r0:r0 + 14, 90:104] = True
        if trial == 0:
            mask[:] = False
        ref = _grown(mask, mask, 0.0, mpp, params)
        if ref.any():
            ref = _clustered(ref, mpp, params)
        got = clustered_pigment(mask, mpp=mpp, params=params)
        np.testing.assert_array_equal(got, ref)
        kept_any |= bool(got.any())
        dropped_any |= bool((mask & ~got).any())
    assert kept_any
    assert dropped_any


def _dab_tile(family: str, seed: int, near_black: bool = False, size: int = 192):
    return pigment_family_tile(seed, family, chromogen="dab", size=size, mpp=0.5, near_black=near_black)


def test_body_maxima_at_the_body_pixels_are_the_whole_tile_filters() -> None:
    tile = _dab_tile("coarse", 1)
    params = PigmentParams()
    stains = load_stains("H-DAB")
    chans = pigment_channels(tile.rgb, stains=stains, params=params, _with_hematoxylin=True)
    labels, n = brown_body_labels(chans[0], chans[4], tile.mpp, params)
    assert n > 3
    od = od_from_rgb(tile.rgb)
    x = body_image_features(labels, n, od, chans[0], chans[4], tile.mpp)
    whole = _od_norm(od).astype(np.float32)
    top = _disk_extreme(whole, _disk(0.6 / tile.mpp), op="max")
    low = _disk_extreme(whole, _disk(1.0 / tile.mpp), op="min")
    peaks = ((whole >= top) & (whole - low >= 0.1)).astype(np.float64)
    area_um2 = np.bincount(labels.ravel(), minlength=n + 1)[1:] * tile.mpp ** 2
    ref = (np.bincount(labels.ravel(), weights=peaks.ravel(), minlength=n + 1)[1:] / area_um2).astype(np.float32)
    np.testing.assert_array_equal(x[:, bodies_mod.OBJECT_FEATURES.index("maxima")], ref)


def test_skip_region_lies_inside_the_veto_of_the_decided_bodies() -> None:
    params = PigmentParams()
    stains = load_stains("H-DAB")
    body_model = resolve_body_model("default")
    assert body_model is not None
    checked = 0
    for family, seed in [("none", 0), ("coarse", 0), ("over_nucleus", 1), ("whole_cell", 1)]:
        tile = _dab_tile(family, seed)
        chans = pigment_channels(tile.rgb, stains=stains, params=params, _with_hematoxylin=True)
        gate, _ = pigment_gate(tile.rgb, mpp=tile.mpp, stains=stains, params=params, bodies=False,
                               min_od=params.model_min_od, _channels=chans)
        b = prepare_bodies(tile.rgb, chans, body_model, mpp=tile.mpp, params=params, background=None)
        if not b.decided.any():
            continue
        skip = b.skip_region(gate, mpp=tile.mpp, params=params)
        veto = veto_bodies(b.labels, np.concatenate([[False], b.decided]), np.zeros_like(gate), mpp=tile.mpp,
                           params=params)
        assert not (skip & ~veto).any()
        assert not (skip & ~gate).any()
        assert not (skip & (b.labels > 0) & ~np.concatenate([[False], b.decided])[b.labels]).any()
        checked += int(skip.any())
    assert checked >= 2


def test_masks_with_skipped_bodies_are_the_reference_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    model = pig.resolve_pigment_model("default")
    assert model is not None
    params = PigmentParams()
    stains = load_stains("H-DAB")
    seen = {"second_pass": 0, "skipped_px": 0, "second_px": 0, "calls": 0}
    original = bodies_mod.BrownBodies.skip_region

    def counting_skip(self, gate, *, mpp, params):  # type: ignore[no-untyped-def]
        out = original(self, gate, mpp=mpp, params=params)
        seen["skipped_px"] += int(out.sum())
        return out

    real_probability = pig.pigment_probability

    def counting_probability(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen["calls"] += 1
        out = real_probability(*args, **kwargs)
        if seen["calls"] > 1:  # the pass over the bodies the context rule may take back
            seen["second_pass"] += 1
            seen["second_px"] += int(kwargs["where"].sum())
        return out

    monkeypatch.setattr(bodies_mod.BrownBodies, "skip_region", counting_skip)
    monkeypatch.setattr(pig, "pigment_probability", counting_probability)
    cases = [(fam, seed, black) for fam in ("none", "coarse", "confluent", "over_nucleus", "whole_cell",
                                            "melanophage", "perinuclear", "sparse")
             for seed in (0, 1) for black in (False, True)]
    for family, seed, black in cases:
        tile = _dab_tile(family, seed, black, size=256)
        out = []
        for full in (True, False):
            seen["calls"] = 0
            out.append(pig.classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains, params=params,
                                            full_probability=full))
        np.testing.assert_array_equal(out[1][0], out[0][0], err_msg=f"{family} seed {seed} near_black {black}")
        computed = out[1][1] > 0
        np.testing.assert_array_equal(out[1][1][computed], out[0][1][computed])
    assert seen["skipped_px"] > 1000  # the skip happened
    assert seen["second_pass"] >= 1  # and the context rule's second pass was exercised
    # the second pass covers the bodies the rule may take back, not the whole skipped region
    assert seen["second_px"] < seen["skipped_px"]


def test_the_skip_is_the_default_and_full_probability_runs_the_model_everywhere() -> None:
    model = pig.resolve_pigment_model("default")
    assert model is not None
    assert pig.SKIP_DECIDED_BODIES
    tile = _dab_tile("none", 0, True, size=256)  # near-black DAB nuclei outside the body model's ranges
    default = pig.classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains="H-DAB")
    full = pig.classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains="H-DAB", full_probability=True)
    np.testing.assert_array_equal(default[0], full[0])
    skipped = (full[1] > 0) & (default[1] == 0)
    assert skipped.sum() > 100  # the default leaves the decided DAB bodies out of the probability
    np.testing.assert_array_equal(default[1][~skipped], full[1][~skipped])


def _brown_bodies_whole_tile(channel, hematoxylin, mpp, params):  # type: ignore[no-untyped-def]
    """:func:`_brown_bodies` (margin=False) with the hole statistics over the whole tile, as
    written before they were taken over the hole pixels only."""
    from mmnst_path.detect._morphology import _gaussian
    from mmnst_path.detect._pigment_core import _hole_labels, _opened

    brown = _gaussian(channel, params.body_smooth_um / mpp) >= params.body_od
    gaps, is_hole = _hole_labels(brown)
    rings = 0
    if is_hole[gaps].any():
        relabel = np.zeros(is_hole.shape[0], dtype=gaps.dtype)
        nh = int(is_hole.sum())
        relabel[is_hole] = np.arange(1, nh + 1, dtype=gaps.dtype)
        hl = relabel[gaps]
        area = np.bincount(hl.ravel(), minlength=nh + 1) * mpp * mpp
        hsum = np.bincount(hl.ravel(), weights=hematoxylin.ravel(), minlength=nh + 1)
        nuclear = ((area >= params.ring_hole_um2) & (area <= params.ring_hole_max_um2)
                   & (hsum >= params.ring_hole_h_od * area / (mpp * mpp)))
        nuclear[0] = False
        if nuclear.any():
            bl, _ = ndi.label(brown)
            rim = ndi.binary_dilation(nuclear[hl]) & brown
            ring_ids = np.unique(bl[rim])
            brown &= ~np.isin(bl, ring_ids[ring_ids > 0])
            rings = int((ring_ids > 0).sum())
    return _opened(brown, params.body_radius_um / mpp), rings


def test_brown_bodies_hole_statistics_on_the_hole_pixels_are_the_whole_tile_ones() -> None:
    from mmnst_path.detect._pigment_core import _brown_bodies

    params = PigmentParams()
    stains = load_stains("H-DAB")
    rings = 0
    for family, seed in [("perinuclear", 0), ("perinuclear", 1), ("coarse", 2), ("over_nucleus", 3), ("none", 4)]:
        tile = _dab_tile(family, seed, size=256)
        chans = pigment_channels(tile.rgb, stains=stains, params=params, _with_hematoxylin=True)
        ref, n = _brown_bodies_whole_tile(chans[0], chans[4], tile.mpp, params)
        rings += n
        got = _brown_bodies(chans[0], chans[4], tile.mpp, params, margin=False)
        np.testing.assert_array_equal(got, ref, err_msg=f"{family} seed {seed}")
    assert rings > 0  # the perinuclear rings were found and dropped


def test_body_table_hue_test_on_the_dark_pixels_is_the_whole_tile_test() -> None:
    import math

    from mmnst_path.classify._pigment_bodies import _BODY_OD, _BROWN, _BROWN_CONE_DEG, _body_table
    from mmnst_path.detect._morphology import _gaussian

    checked = 0
    for family, seed, black in [("coarse", 0, False), ("whole_cell", 1, True), ("none", 2, False)]:
        tile = _dab_tile(family, seed, black, size=256)
        od = od_from_rgb(tile.rgb).astype(np.float32)
        fine = np.stack([_gaussian(np.ascontiguousarray(od[..., c]), 0.35 / tile.mpp) for c in range(3)], axis=-1)
        total = _od_norm(fine)
        cos = np.einsum("...c,c->...", fine, _BROWN.astype(np.float32)) / np.maximum(total, 1e-6)
        ref = (total >= _BODY_OD) & (cos >= math.cos(math.radians(_BROWN_CONE_DEG)))
        labels, _ = _body_table(total, fine, tile.mpp)
        np.testing.assert_array_equal(labels > 0, ref)
        np.testing.assert_array_equal(labels, ndi.label(ref, structure=np.ones((3, 3), bool))[0])
        checked += int(ref.any())
    assert checked == 3
