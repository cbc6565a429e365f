"""The fast morphology/smoothing helpers are bit-identical to the scipy calls they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect._morphology import _disk, _disk_extreme, _smoothed_at


@pytest.mark.parametrize("radius", [0.4, 1, 1.5, 2, 2.5, 3, 4, 6, 8])
def test_disk_extreme_equals_scipy_morphology(radius: float) -> None:
    rng = np.random.default_rng(int(radius * 10))
    d = _disk(radius)
    for shape in [(200, 300), (5, 7), (64, 64), (20, 19)]:
        x = rng.random(shape).astype(np.float32)
        b = rng.random(shape) > 0.4
        assert np.array_equal(_disk_extreme(x, d, op="max"), ndi.grey_dilation(x, footprint=d))
        opened = _disk_extreme(_disk_extreme(x, d, op="min"), d, op="max")
        assert np.array_equal(opened, ndi.grey_opening(x, footprint=d))
        assert np.array_equal(_disk_extreme(b, d, op="max", mode="constant"), ndi.binary_dilation(b, structure=d))
        b_open = _disk_extreme(_disk_extreme(b, d, op="min", mode="constant"), d, op="max", mode="constant")
        assert np.array_equal(b_open, ndi.binary_opening(b, structure=d))


def test_smoothed_at_equals_a_full_gaussian_at_the_pixels_asked() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        shape = (int(rng.integers(5, 300)), int(rng.integers(5, 300)))
        x = rng.random(shape).astype(np.float32)
        where = rng.random(shape) < rng.choice([0.0005, 0.002, 0.05, 0.5])
        where[0, 0] = True
        for sigma in (0.5, 2.0, 6.0):
            expected = ndi.gaussian_filter(x, sigma, truncate=4.0)[where]
            assert np.array_equal(_smoothed_at((x,), sigma, where)[0], expected)
