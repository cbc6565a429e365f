"""The float64 Gaussian passes convert each image row once (a ring of rows, a padded line) and
stay bit-identical to scipy's ``correlate1d`` (issue #16), on every shape, including images with
fewer rows or columns than the kernel's radius."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect._morphology import _gaussian
from mmnst_path.tiling.tissue import _gaussian_nearest

SHAPES = [(1, 5), (2, 2), (3, 40), (40, 3), (17, 17), (257, 131)]
SIGMAS = [0.5, 1.0, 3.0, 9.6]


def _image(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = (rng.random(shape) * 255).astype(np.float32)
    img[rng.random(shape) < 0.1] = 0.0  # flat stretches and exact zeros too
    return img


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sigma", SIGMAS)
def test_reflect_gaussian_equals_scipy(shape, sigma):
    img = _image(shape, 1)
    np.testing.assert_array_equal(_gaussian(img, sigma), ndi.gaussian_filter(img, sigma, mode="reflect"))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sigma", SIGMAS)
def test_nearest_gaussian_equals_scipy(shape, sigma):
    img = _image(shape, 2)
    np.testing.assert_array_equal(_gaussian_nearest(img, sigma), ndi.gaussian_filter(img, sigma, mode="nearest"))


def test_the_compiled_passes_ran():
    """The comparisons above test the numba kernels, not scipy against itself."""
    from mmnst_path.detect._morphology import _numba_kernels
    from mmnst_path.tiling import tissue

    assert _numba_kernels() is not None
    assert tissue.GAUSSIAN_BACKEND == "auto"
    from mmnst_path.tiling import _numba  # noqa: F401  (imports: numba present)
