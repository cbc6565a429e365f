"""OD kernel against an independent float64 formula, and the converters to other tools' scales."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmnst_path.errors import StainError
from mmnst_path.stain import (
    StainMatrix,
    ln_od_from_od,
    od_from_ln_od,
    od_from_rgb,
    od_from_sda,
    od_from_skimage,
    rgb_from_od,
    sda_from_od,
    separate_stains,
    skimage_from_od,
)

ALL_VALUES = np.arange(256, dtype=np.uint8)


def _all_pixels() -> np.ndarray:
    """(256, 256, 3) uint8 covering every value in every channel."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    img[0, :, 0] = img[1, :, 1] = img[2, :, 2] = ALL_VALUES
    return img


@pytest.mark.parametrize("background", [None, 240.0, (230.0, 225.5, 212.0)])
def test_od_matches_float64_formula(background):
    img = _all_pixels()
    od = od_from_rgb(img, background=background)
    assert od.dtype == np.float32
    assert od.shape == img.shape
    bg = np.broadcast_to(np.asarray(255.0 if background is None else background, dtype=np.float64), (3,))
    expected = -np.log10(np.maximum(img.astype(np.float64), 1.0) / bg)
    np.testing.assert_allclose(od, expected, rtol=0, atol=2e-7 * 3)


def test_od_known_values():
    od = od_from_rgb(np.array([[255, 0, 1]], dtype=np.uint8))
    np.testing.assert_allclose(od, [[0.0, math.log10(255), math.log10(255)]], atol=1e-6)
    # brighter than the background gives a negative OD (no clipping)
    assert od_from_rgb(np.array([[250, 250, 250]], np.uint8), background=200)[0, 0] < 0


def test_rgb_from_od_round_trip_every_value():
    img = _all_pixels()
    for bg in (None, (231.0, 228.0, 219.0)):
        back = rgb_from_od(od_from_rgb(img, background=bg), background=bg)
        expected = np.maximum(img, 1)  # 0 is read as 1 by the OD convention
        if bg is not None:  # values above the background round-trip too, up to 255
            expected = np.minimum(expected, 255)
        np.testing.assert_array_equal(back, expected)


@pytest.mark.parametrize("bad", [0, -3, 300, (255, 255), (255, np.nan, 255), "white"])
def test_bad_background_is_a_clear_error(bad):
    with pytest.raises(StainError, match="background"):
        od_from_rgb(np.zeros((2, 2, 3), np.uint8), background=bad)


def test_rgb_must_be_uint8_rgb():
    with pytest.raises(StainError, match="uint8"):
        od_from_rgb(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(StainError, match="3 channels"):
        od_from_rgb(np.zeros((2, 2, 4), np.uint8))


def test_converters_are_inverse_pairs():
    x = np.linspace(-0.5, 2.5, 31)
    np.testing.assert_allclose(od_from_skimage(skimage_from_od(x)), x)
    np.testing.assert_allclose(od_from_sda(sda_from_od(x)), x)
    np.testing.assert_allclose(od_from_ln_od(ln_od_from_od(x)), x)
    assert skimage_from_od(6.0) == pytest.approx(1.0)


def test_skimage_converter_against_rgb2hed():
    """Our concentrations / 6 (and / row norm) equal scikit-image's rgb2hed, where it does not clip."""
    from skimage.color import hed_from_rgb, rgb2hed, rgb_from_hed

    img = _all_pixels()
    img = np.maximum(img, 1)  # scikit-image floors 0 at 1e-6, we at 1/255: compare on >= 1
    matrix = StainMatrix(("hematoxylin", "eosin", "dab"), rgb_from_hed)
    ours = separate_stains(img, matrix, stains=("hematoxylin", "eosin", "dab"), backend="numpy")
    theirs = rgb2hed(img)
    norms = np.linalg.norm(rgb_from_hed, axis=1)
    converted = skimage_from_od(ours / norms)  # per-stain row norm of their (unnormalised) rows
    valid = theirs > 0  # scikit-image clips negative concentrations to 0
    assert valid.mean() > 0.3
    np.testing.assert_allclose(converted[valid], theirs[valid], rtol=0, atol=2e-6)
    np.testing.assert_array_equal(theirs[~valid], 0)
    # and their separate_stains with the same matrix agrees with rgb2hed (sanity of the comparison)
    from skimage.color import separate_stains as sk_separate

    np.testing.assert_allclose(sk_separate(img, hed_from_rgb), theirs)


def test_skimage_converter_on_od():
    """scikit-image's log scale per channel (identity matrix) is our OD / 6."""
    from skimage.color import separate_stains as sk_separate

    img = np.maximum(_all_pixels(), 1)
    theirs = sk_separate(img, np.eye(3))
    np.testing.assert_allclose(skimage_from_od(od_from_rgb(img)), theirs, rtol=0, atol=1e-6)


def test_sda_converter_against_documented_formula():
    """HistomicsTK is not installed here: test against its documented rgb_to_sda formula.

    rgb_to_sda(I, I0=256) = -ln((I + 1) / I0) * 255 / ln(I0); the same pixel's log10 OD in that
    offset convention is -log10((I + 1) / I0).
    """
    intensity = ALL_VALUES.astype(np.float64)
    for i0 in (256.0, 240.0):
        sda = -np.log((intensity + 1) / i0) * 255 / np.log(i0)
        od = -np.log10((intensity + 1) / i0)
        np.testing.assert_allclose(sda_from_od(od, i0=i0), sda, rtol=1e-12, atol=1e-9)
    assert sda_from_od(1.0) == pytest.approx(105.88, abs=0.01)


def test_ln_converter_against_natural_log_od():
    img = np.maximum(_all_pixels(), 1)
    ln_od = -np.log(img.astype(np.float64) / 255.0)  # TIAToolbox rgb2od scale
    np.testing.assert_allclose(ln_od_from_od(od_from_rgb(img)), ln_od, rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(256, 256, 3), (3, 7, 3), (1, 3)])
def test_od_numba_and_numpy_back_ends_are_identical(shape):
    from mmnst_path.stain import numba_available, set_backend

    if not numba_available():
        pytest.skip("numba is not installed")  # the numpy path is tested above either way
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    if img.ndim == 3:
        img = np.ascontiguousarray(img[:, ::-1])  # also a non-trivially strided source, copied
    before = set_backend("numpy")
    try:
        ref = od_from_rgb(img, background=(230.0, 225.5, 212.0))
        set_backend("numba")
        fast = od_from_rgb(img, background=(230.0, 225.5, 212.0))
        fast_view = od_from_rgb(img[::2], background=(230.0, 225.5, 212.0))  # non-contiguous input
    finally:
        set_backend(before)
    assert fast.dtype == np.float32
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(fast_view, ref[::2])
