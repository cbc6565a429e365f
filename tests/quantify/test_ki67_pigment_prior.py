"""Near-black nuclei in tissue that carries melanin are unassessable (issue #14, pigment prior)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67

MPP = 0.5
#: the prior's mechanism at the fraction these small scenes were built for (the default, 0.02 since session 34,
#: needs a melanin patch wider than them: tests/quantify/test_ki67_pigment_window_guard.py)
PRIOR = replace(Ki67Params(), pigment_prior_fraction=0.002)


def _patch_side(params: Ki67Params) -> int:
    """Side (px) of a square melanin patch just above ``pigment_prior_fraction`` of the square the
    prior reads around a nucleus (half-side ``pigment_prior_radius_um``)."""
    square = (2 * round(params.pigment_prior_radius_um / MPP) + 1) ** 2
    return math.ceil(math.sqrt(params.pigment_prior_fraction * square)) + 1


def _scene() -> tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]:
    """A pale tile with one near-black round body, one brown DAB nucleus and a melanin patch.

    Returns the RGB, the pigment mask (the patch: just above ``pigment_prior_fraction`` of the
    square around the bodies, away from both) and the centres of the black and the brown body.
    """
    size = 160
    rgb = np.full((size, size, 3), (232, 226, 236), np.uint8)
    yy, xx = np.mgrid[:size, :size]
    black, brown = (50, 50), (50, 110)
    for (r, c), colour in ((black, (6, 5, 4)), (brown, (150, 95, 55))):
        rgb[(yy - r) ** 2 + (xx - c) ** 2 <= 9 ** 2] = colour  # 9 px = 4.5 µm radius
    side = _patch_side(PRIOR)
    assert side <= 60
    mask = np.zeros((size, size), bool)
    mask[size - 4 - side : size - 4, 20 : 20 + side] = True
    rgb[mask] = (60, 40, 25)
    return rgb, mask, black, brown


def _class_at(res, point: tuple[int, int]) -> str:
    d = (res.cells.row - point[0]) ** 2 + (res.cells.col - point[1]) ** 2
    assert d.size, "no nucleus detected"
    assert d.min() <= 16, f"no nucleus detected at {point}"
    return str(res.cells.cls[int(np.argmin(d))])


def test_near_black_nucleus_beside_melanin_reads_pigment_not_positive() -> None:
    rgb, mask, black, brown = _scene()
    res = measure_ki67(rgb, mpp=MPP, stains="H-DAB", pigment_mask=mask, params=PRIOR)
    assert _class_at(res, black) == "pigment"
    assert _class_at(res, brown) == "positive"  # brown DAB, not near-black: read as before


@pytest.mark.parametrize("how", ["prior off", "no melanin", "too little melanin"])
def test_near_black_nucleus_stays_positive_without_melanin_in_the_tissue(how: str) -> None:
    rgb, mask, black, _ = _scene()
    params = PRIOR
    if how == "prior off":
        params = replace(params, pigment_prior_fraction=0.0)
    elif how == "no melanin":
        mask = np.zeros_like(mask)
    else:  # 25 px: below the prior's share of the square around the body
        mask = np.zeros_like(mask)
        mask[130:135, 20:25] = True
    res = measure_ki67(rgb, mpp=MPP, stains="H-DAB", pigment_mask=mask, params=params)
    assert _class_at(res, black) == "positive"


def test_local_pigment_share_counts_the_square_around_each_centroid() -> None:
    from mmnst_path.quantify._ki67_pigment import _local_pigment_share

    rng = np.random.default_rng(0)
    mask = rng.random((40, 50)) < 0.1
    row = np.array([0.0, 10.5, 20.49, 39.0, 25.5])
    col = np.array([0.0, 7.5, 30.2, 49.0, 0.5])
    got = _local_pigment_share(mask, row, col, radius_px=3)
    for i in range(row.size):  # brute force: the centre pixel floor(x + 0.5), outside pixels pigment-free
        r, c = int(np.floor(row[i] + 0.5)), int(np.floor(col[i] + 0.5))
        hits = sum(mask[y, x] for y in range(r - 3, r + 4) for x in range(c - 3, c + 4)
                   if 0 <= y < 40 and 0 <= x < 50)
        assert got[i] == hits / 49
    # the same share from a window of the image that holds the pigment within reach, in its frame
    window = mask[5:35, 4:40]
    centre_r, centre_c = np.floor(row + 0.5), np.floor(col + 0.5)
    inner = (centre_r - 3 >= 5) & (centre_r + 3 < 35) & (centre_c - 3 >= 4) & (centre_c + 3 < 40)  # squares inside
    assert inner.sum() == 2
    np.testing.assert_array_equal(
        _local_pigment_share(window, row[inner], col[inner], radius_px=3, origin=(5, 4)), got[inner])
    assert _local_pigment_share(mask, np.zeros(0), np.zeros(0), radius_px=3).shape == (0,)


def test_pigment_prior_is_decided_per_nucleus_by_the_melanin_around_it() -> None:
    """Issue #14: the prior holds for a near-black nucleus with melanin within
    ``pigment_prior_radius_um``, not for one farther away on the same image, and a nucleus's call
    is the same on any part of the image that holds that square (the tiling cannot move it)."""
    params = PRIOR
    reach = round(params.pigment_prior_radius_um / MPP)
    size = 2 * reach + 160
    rgb = np.full((size, 120, 3), (232, 226, 236), np.uint8)
    yy, xx = np.mgrid[:size, :120]
    near, far = (60, 60), (size - 40, 60)  # far: more than the radius from the melanin patch
    for r, c in (near, far):
        rgb[(yy - r) ** 2 + (xx - c) ** 2 <= 9 ** 2] = (6, 5, 4)
    side = _patch_side(params)
    mask = np.zeros((size, 120), bool)
    mask[10 : 10 + side, 90 : 90 + side] = True
    rgb[mask] = (60, 40, 25)
    res = measure_ki67(rgb, mpp=MPP, stains="H-DAB", pigment_mask=mask, params=params)
    assert _class_at(res, near) == "pigment"
    assert _class_at(res, far) == "positive"  # (the whole image holds more melanin than the prior asks)
    assert mask.mean() >= params.pigment_prior_fraction
    # the near nucleus on a window cut around it (its square and the detection reach): same call
    cut = measure_ki67(rgb[: 60 + reach + 40], mpp=MPP, stains="H-DAB", pigment_mask=mask[: 60 + reach + 40],
                       params=params)
    assert _class_at(cut, near) == "pigment"


def test_pigment_prior_radius_is_checked() -> None:
    from mmnst_path.errors import ConfigError

    with pytest.raises(ConfigError, match="pigment_prior_radius_um"):
        Ki67Params(pigment_prior_radius_um=-1.0)
    with pytest.raises(ConfigError, match="pigment_prior_radius_um"):
        Ki67Params(pigment_prior_radius_um=float("nan"))
