"""Brown-mode melanin grown into its faint edge (issue #14, session 37 H6): a hysteresis from the kept
mask, never from nothing, within ``model_grow_um``, off the gate and the vetoed bodies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_channels
from mmnst_path.errors import ConfigError
from mmnst_path.stain import load_stains, od_from_rgb, rgb_from_od
from mmnst_path.synthetic import pigment_family_tile

_DAB = np.array([0.268, 0.570, 0.776]) / np.linalg.norm([0.268, 0.570, 0.776])


@pytest.fixture(scope="module")
def dab():
    return load_stains("H-DAB"), resolve_pigment_model("dab")


@pytest.fixture(scope="module")
def coarse_tile():
    return pigment_family_tile(3, "coarse", chromogen="dab", size=160)


def test_grown_mask_holds_the_kept_mask_and_reaches_no_further_than_grow_um(dab, coarse_tile):
    stains, model = dab
    t = coarse_tile
    off = replace(PigmentParams(), model_grow_um=0.0)
    on = replace(PigmentParams(), model_grow_um=1.0, model_grow_min_um2=0.0)  # every component grows
    base, _ = classify_pigment(t.rgb, mpp=t.mpp, model=model, stains=stains, params=off)
    grown, _ = classify_pigment(t.rgb, mpp=t.mpp, model=model, stains=stains, params=on)
    assert base.any()
    assert not (base & ~grown).any()  # a superset
    added = grown & ~base
    assert added.any()  # this tile's granule edges lie under the gate
    steps = round(on.model_grow_um / t.mpp)
    assert not (added & ~ndi.binary_dilation(base, iterations=steps)).any()
    # every added pixel is as brown as model_grow_od in the smoothed brown channel, and it is more of the truth
    channel = pigment_channels(t.rgb, stains=stains, params=on)[0]
    smooth = ndi.gaussian_filter(channel, on.smooth_sigma_um / t.mpp, truncate=4.0)
    assert np.percentile(smooth[added], 5) >= on.model_grow_od - 0.03
    truth = t.masks["melanin"]
    assert (added & truth).sum() > (added & ~truth).sum()


def test_nothing_grows_from_an_empty_mask(dab):
    """A faint smooth tan field (brown 0.2 OD, under the gate) with no melanin: nothing to grow from."""
    stains, model = dab
    yy, xx = np.mgrid[:96, :96]
    od = np.zeros((96, 96, 3), np.float32) + 0.05
    od += (0.2 * np.exp(-((yy - 48) ** 2 + (xx - 48) ** 2) / 800.0))[..., None] * _DAB.astype(np.float32)
    rgb = rgb_from_od(od)
    on = replace(PigmentParams(), model_grow_um=2.0, model_grow_od=0.05)
    mask, _ = classify_pigment(rgb, mpp=0.5, model=model, stains=stains, params=on)
    assert not mask.any()
    assert od_from_rgb(rgb).max() > 0.15  # the field is there, and brown enough for model_grow_od


def test_off_is_the_mask_without_growth(dab, coarse_tile):
    stains, model = dab
    t = coarse_tile
    zero, _ = classify_pigment(t.rgb, mpp=t.mpp, model=model, stains=stains,
                               params=replace(PigmentParams(), model_grow_um=0.0))
    below_one_px, _ = classify_pigment(t.rgb, mpp=t.mpp, model=model, stains=stains,
                                       params=replace(PigmentParams(), model_grow_um=0.2 * t.mpp))
    assert np.array_equal(zero, below_one_px)


@pytest.mark.parametrize(("name", "value"), [("model_grow_um", -1.0), ("model_grow_um", float("nan")),
                                             ("model_grow_od", 0.0), ("model_grow_od", float("inf")),
                                             ("model_grow_probability", 1.0), ("model_grow_min_um2", -2.0)])
def test_bad_grow_settings_are_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=name):
        PigmentParams(**{name: value})


def test_a_lone_speck_does_not_grow(dab, coarse_tile):
    """``model_grow_min_um2`` above the tile's whole mask: no component has that much melanin around it."""
    stains, model = dab
    t = coarse_tile
    off, _ = classify_pigment(t.rgb, mpp=t.mpp, model=model, stains=stains,
                              params=replace(PigmentParams(), model_grow_um=0.0))
    area_um2 = float(off.sum()) * t.mpp * t.mpp
    lone, _ = classify_pigment(t.rgb, mpp=t.mpp, model=model, stains=stains,
                               params=replace(PigmentParams(), model_grow_um=1.0, model_grow_min_um2=area_um2 + 1.0))
    assert np.array_equal(lone, off)
