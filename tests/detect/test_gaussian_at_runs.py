"""The Gaussian at some pixels only (``_gaussian_at``) filters each row's runs of pixels on their
own (pixels more than 2 r columns apart read no column in common): the values stay scipy's
whole-image ones to the bit, with runs at both image edges, gaps of exactly 2 r and 2 r + 1
columns, and the windows of the pigment features, whose candidates lie in far-apart clusters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect._morphology import _gaussian_at, _gaussian_half_kernel


def _radius(sigma: float) -> int:
    return _gaussian_half_kernel(sigma, 4.0).shape[0] - 1


@pytest.mark.parametrize("sigma", [0.7, 2.1, 5.0, 12.0])
def test_runs_split_by_gaps_give_the_whole_image_values(sigma: float) -> None:
    rng = np.random.default_rng(3)
    r = _radius(sigma)
    n = 8 * r + 40
    x = (rng.random((2 * r + 7, n)) * 3.0).astype(np.float32)
    where = np.zeros(x.shape, bool)
    row = x.shape[0] // 2
    # a run at the left edge, a pixel 2 r + 1 columns further (a new run), one 2 r further (the
    # same run), a lone pixel in the middle and a run at the right edge
    for c in (0, 1, 2 + 2 * r + 1, 2 + 2 * r + 1 + 2 * r, n // 2 + 3 * r, n - 2, n - 1):
        where[row, min(c, n - 1)] = True
    where[0, [0, n - 1]] = True  # corner pixels: reflected rows and columns
    where[-1, [r, n - 1 - r]] = True
    where[1, ::2 * r + 1] = True  # every pixel its own run
    at = np.nonzero(where)
    expected = ndi.gaussian_filter(x, sigma, truncate=4.0, mode="reflect")[where]
    assert np.array_equal(_gaussian_at(x, sigma, at), expected)


def test_clustered_candidates_across_a_wide_tile() -> None:
    """Clusters of pixels far apart on the same rows (the pigment model's candidates on a Ki67
    tile): each value is the whole-image filter's."""
    rng = np.random.default_rng(5)
    x = (rng.random((90, 700)) * 2.0).astype(np.float32)
    where = np.zeros(x.shape, bool)
    for c0 in (5, 180, 260, 600, 690):
        where[30:50, c0 : c0 + 8] = rng.random((20, min(8, 700 - c0))) < 0.5
    at = np.nonzero(where)
    for sigma in (1.0, 5.0, 12.0):
        expected = ndi.gaussian_filter(x, sigma, truncate=4.0, mode="reflect")[where]
        assert np.array_equal(_gaussian_at(x, sigma, at), expected), sigma
