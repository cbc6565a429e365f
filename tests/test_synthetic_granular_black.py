"""``pigment_family_tile(near_black=True, near_black_texture="granular")`` (issue #14, session 21): near-black bodies
built of melanin granules (:func:`mmnst_path._synthetic_pigment.granular_black`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path._synthetic_pigment import GRANULAR_DIAMETER_UM, GRANULAR_RIM_UM, granular_black
from mmnst_path.synthetic import pigment_family_tile


def test_granules_stay_on_and_around_the_bodies() -> None:
    black = np.zeros((120, 120), np.float32)
    black[30:60, 30:60] = 3.0
    out = granular_black(black, np.random.default_rng(1), 0.5)
    assert out.dtype == np.float32
    reach = (GRANULAR_RIM_UM[1] + GRANULAR_DIAMETER_UM[1]) / 0.5 + 2  # px
    far = ndi.distance_transform_edt(black == 0) > reach
    assert not out[far].any()
    inner = out[35:55, 35:55]
    assert inner.mean() > 0.5  # still dark on the body
    assert inner.std() > 0.2 * inner.mean()  # granular: dense aggregates and thinner gaps, not an even fill
    assert not granular_black(np.zeros((20, 20), np.float32), np.random.default_rng(1), 0.5).any()


def test_granular_keeps_the_layout_and_its_truth_follows_the_melanin() -> None:
    kw = {"size": 192, "positive_fraction": 0.5, "near_black": True}
    default = pigment_family_tile(6, "over_nucleus", **kw)
    smooth = pigment_family_tile(6, "over_nucleus", near_black_texture="smooth", **kw)
    gran = pigment_family_tile(6, "over_nucleus", near_black_texture="granular", **kw)
    assert np.array_equal(default.rgb, smooth.rgb)
    for name in ("nuclei", "positive_nuclei", "tissue"):
        assert np.array_equal(gran.masks[name], default.masks[name]), name
    labels, mel = gran.masks["nuclei"], gran.masks["melanin"]
    n = int(labels.max())
    cover = np.bincount(labels.ravel(), mel.ravel(), minlength=n + 1)[1:] / np.maximum(
        np.bincount(labels.ravel(), minlength=n + 1)[1:], 1)
    present = np.bincount(labels.ravel(), minlength=n + 1)[1:] > 0
    assert gran.truth["hidden_nuclei"] == int((present & (cover >= 0.75)).sum()) > 0
    # where the smooth bodies are black (every channel <= 25), the granular ones vary: black aggregates, brown gaps
    body = default.rgb.max(axis=-1) <= 25
    assert body.sum() > 500
    assert gran.rgb.max(axis=-1)[body].std() > 2 * default.rgb.max(axis=-1)[body].std()


def test_texture_must_be_known_and_needs_near_black() -> None:
    with pytest.raises(ValueError, match="near_black_texture must be"):
        pigment_family_tile(0, "none", size=64, near_black=True, near_black_texture="rough")
    with pytest.raises(ValueError, match="near_black_texture must be"):
        pigment_family_tile(0, "none", size=64, near_black_texture="granular")
