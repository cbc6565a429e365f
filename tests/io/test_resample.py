"""Area-averaging resampling."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.geometry import Box
from mmnst_path.io import ArrayReader
from mmnst_path.io._resample import resize_area, resize_area_axis


def test_integer_factor_is_block_mean():
    img = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    out = resize_area(img, (2, 3))
    expected = img.reshape(2, 2, 3, 2, 3).astype(np.float64).mean(axis=(1, 3))
    np.testing.assert_array_equal(out, np.floor(expected + 0.5).astype(np.uint8))


def test_fractional_factor_weights_partial_pixels():
    # 3 samples -> 2: [a, b/2] / 1.5 and [b/2, c] / 1.5
    out = resize_area_axis(np.array([0.0, 3.0, 6.0]), 2, 0)
    np.testing.assert_allclose(out, [(0 + 1.5) / 1.5, (1.5 + 6) / 1.5])


@pytest.mark.parametrize("shape", [(37, 53), (100, 7), (1, 1)])
def test_mean_is_preserved(shape):
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (91, 67, 3), dtype=np.uint8)
    out = resize_area_axis(resize_area_axis(img, shape[0], 0), shape[1], 1)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), img.mean(axis=(0, 1)), rtol=1e-4)


def test_banded_thumbnail_matches_whole_image_resize():
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (301, 170, 3), dtype=np.uint8)
    reader = ArrayReader(img, mpp=1.0)
    whole = resize_area(img, (40, 23))
    banded = reader._downsampled_level(0, (40, 23), band_rows=64)
    # exact area averaging either way (only float rounding may differ)
    assert np.abs(banded.astype(int) - whole.astype(int)).max() <= 1
    np.testing.assert_array_equal(reader.thumbnail(max_size=301), reader.read_region(Box(0, 0, 301, 170)))


def _exact_axis(arr: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Float64 reference: exact area averaging from cumulative sums (the previous implementation)."""
    moved = np.moveaxis(np.asarray(arr, dtype=np.float64), axis, 0)
    length = moved.shape[0]
    csum = np.zeros((length + 1, *moved.shape[1:]))
    np.cumsum(moved, axis=0, out=csum[1:])
    factor = length / n_out
    edges = np.arange(n_out + 1, dtype=np.float64) * factor
    lo = np.minimum(np.floor(edges).astype(np.intp), length - 1)
    frac = (edges - lo).reshape(-1, *([1] * (moved.ndim - 1)))
    at_edges = csum[lo] + frac * (csum[lo + 1] - csum[lo])
    return np.moveaxis((at_edges[1:] - at_edges[:-1]) / factor, 0, axis)


def _exact(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    rows, cols = img.shape[:2]
    if rows / shape[0] >= cols / shape[1]:
        return _exact_axis(_exact_axis(img, shape[0], 0), shape[1], 1)
    return _exact_axis(_exact_axis(img, shape[1], 1), shape[0], 0)


@pytest.mark.parametrize(
    ("in_shape", "out_shape"),
    [((1228, 1228), (516, 516)),  # SHIDC 0.21 -> 0.5 µm/px
     ((301, 170), (40, 23)), ((97, 64), (41, 27)), ((50, 40), (73, 61)), ((13, 9), (5, 4))],
)
def test_fractional_factor_matches_float64_reference(in_shape, out_shape):
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (*in_shape, 3), dtype=np.uint8)
    ref = _exact(img, out_shape)
    rows, cols = in_shape
    first, second = (0, 1) if rows / out_shape[0] >= cols / out_shape[1] else (1, 0)
    fast = resize_area_axis(resize_area_axis(img, out_shape[first], first), out_shape[second], second)
    assert fast.dtype == np.float32
    # float32 taps: < (ceil(f) + 2) * 2^-24 * 255 per axis (module docstring), 1e-3 grey levels for both
    assert np.abs(fast - ref).max() < 1e-3
    out = resize_area(img, out_shape)
    ref_u8 = np.floor(ref + 0.5)
    diff = np.abs(out.astype(np.float64) - ref_u8)
    assert diff.max() <= 1
    # only means within ~1e-3 of a half grey level may round the other way
    near_half = np.abs(ref - np.floor(ref) - 0.5) < 1e-3
    assert not np.any((diff > 0) & ~near_half)


def test_fractional_factor_on_real_tile_rounds_like_float64():
    from pathlib import Path

    from PIL import Image

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67" / "shidc" / "p1_0299_1.jpg"
    with Image.open(path) as im:
        img = np.asarray(im.convert("RGB"))
    out = resize_area(img, (516, 516))
    ref_u8 = np.floor(_exact(img, (516, 516)) + 0.5)
    diff = np.abs(out.astype(np.float64) - ref_u8)
    assert diff.max() <= 1
    assert np.count_nonzero(diff) <= 1e-3 * diff.size


@pytest.mark.parametrize("k", [2, 3, 4, 5, 8])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_integer_factor_is_unchanged_numpy_block_mean(k, dtype):
    # bit-identical to the block mean the module always computed for integer factors
    rng = np.random.default_rng(k)
    img = (rng.random((6 * k, 4 * k, 3)) * 255).astype(dtype)
    for axis, n_out in ((0, 6), (1, 4)):
        moved = np.moveaxis(img, axis, 0)
        expected = np.moveaxis(moved.reshape(n_out, k, *moved.shape[1:]).astype(np.float32).mean(axis=1), 0, axis)
        got = resize_area_axis(img, n_out, axis)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)


def test_area_weights_rows_sum_to_one_and_cover_the_input():
    from mmnst_path.io._resample import area_weights

    for length, n_out in ((1228, 516), (7, 3), (3, 7), (10, 10), (1, 4)):
        index, weight = area_weights(length, n_out)
        np.testing.assert_allclose(weight.sum(axis=1), 1.0, rtol=1e-12)
        assert index.min() >= 0
        assert index.max() == length - 1
        # every input pixel contributes its whole area once: column sums of the weights x factor
        total = np.zeros(length)
        np.add.at(total, index.ravel(), weight.ravel() * (length / n_out))
        np.testing.assert_allclose(total, 1.0, rtol=1e-9)


def test_bad_lengths_are_refused():
    with pytest.raises(ValueError, match="length 3 to 0"):
        resize_area_axis(np.zeros(3), 0, 0)


def _whole_image_resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """resize_area without the white-margin skip: both axes over the whole image, then rounding."""
    rows, cols = img.shape[:2]
    if rows / shape[0] >= cols / shape[1]:
        out = resize_area_axis(resize_area_axis(img, shape[0], 0), shape[1], 1)
    else:
        out = resize_area_axis(resize_area_axis(img, shape[1], 1), shape[0], 0)
    return np.clip(out + np.float32(0.5), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("in_shape", "out_shape"), [((2133, 2133), (1058, 1058)), ((1400, 1400), (700, 700)), ((301, 170), (40, 23)),
                                ((97, 64), (41, 27)), ((50, 40), (73, 61))],
)
@pytest.mark.parametrize("margins", [(271, 271, 271, 271), (0, 90, 13, 0), (5, 0, 0, 0), (0, 0, 0, 0)])
def test_white_margins_are_skipped_with_the_same_result(in_shape, out_shape, margins):
    rng = np.random.default_rng(sum(in_shape) + sum(margins))
    img = np.full((*in_shape, 3), 255, dtype=np.uint8)
    top, bottom, left, right = (min(m, s // 3) for m, s in zip(margins, in_shape * 2, strict=True))
    img[top : in_shape[0] - bottom, left : in_shape[1] - right] = rng.integers(
        0, 256, (in_shape[0] - bottom - top, in_shape[1] - right - left, 3), dtype=np.uint8)
    np.testing.assert_array_equal(resize_area(img, out_shape), _whole_image_resize(img, out_shape))
    grey = img[..., 0]  # 2-D images too
    np.testing.assert_array_equal(resize_area(grey, out_shape), _whole_image_resize(grey, out_shape))


def test_all_white_image_resizes_to_white():
    img = np.full((77, 91, 3), 255, dtype=np.uint8)
    out = resize_area(img, (31, 40))
    assert out.shape == (31, 40, 3)
    assert (out == 255).all()
    np.testing.assert_array_equal(out, _whole_image_resize(img, (31, 40)))


@pytest.mark.parametrize(("shape", "n_out", "axis"), [((301, 257, 3), 127, 0), ((301, 257, 3), 99, 1),
                                                      ((64, 333), 140, 1), ((1228, 40, 3), 516, 0)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_numba_taps_are_bit_identical_to_numpy(monkeypatch, shape, n_out, axis, dtype):
    pytest.importorskip("numba")
    import mmnst_path.io._resample as resample

    rng = np.random.default_rng(sum(shape) + n_out)
    arr = rng.integers(0, 256, shape).astype(dtype) if dtype == np.uint8 else rng.random(shape, dtype=np.float32)
    out = {}
    for flag in (False, True):
        monkeypatch.setattr(resample, "NUMBA", flag)
        out[flag] = resample.resize_area_axis(arr, n_out, axis)
    assert out[True].dtype == np.float32
    np.testing.assert_array_equal(out[True], out[False])


def test_numba_taps_on_a_real_shidc_tile(monkeypatch, shared_data):
    pytest.importorskip("numba")
    from PIL import Image

    import mmnst_path.io._resample as resample

    img = np.asarray(Image.open(shared_data / "ki67" / "shidc" / "p1_0299_5.jpg").convert("RGB"))
    out = {}
    for flag in (False, True):
        monkeypatch.setattr(resample, "NUMBA", flag)
        out[flag] = resample.resize_area(img, (516, 516))
    np.testing.assert_array_equal(out[True], out[False])
