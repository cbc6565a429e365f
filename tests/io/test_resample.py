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
