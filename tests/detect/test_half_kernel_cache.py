"""The Gaussian half kernels computed once per (sigma, truncate): a float32 plane filtered with
several truncations of the same sigma (each asked for after the others are cached) is still
``ndi.gaussian_filter``'s, and a caller writing into its kernel does not change the next one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

pytest.importorskip("numba")

from mmnst_path.detect import _morphology


def test_cached_half_kernels_keep_sigma_and_truncate_apart():
    rng = np.random.default_rng(3)
    x = rng.random((40, 37)).astype(np.float32)
    for truncate in (4.0, 2.5, 3.0, 4.0):
        for sigma in (1.5, 2.2):
            got = _morphology._gaussian(x, sigma, truncate=truncate)
            np.testing.assert_array_equal(got, ndi.gaussian_filter(x, sigma, truncate=truncate, mode="reflect"))


def test_a_caller_cannot_change_the_cached_kernel():
    first = _morphology._gaussian_half_kernel(1.7, 4.0)
    want = first.copy()
    first[:] = 0.0
    np.testing.assert_array_equal(_morphology._gaussian_half_kernel(1.7, 4.0), want)
    assert want.sum() > 0.5
