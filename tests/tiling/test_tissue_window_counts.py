"""The tissue mask's square-window counts through the compiled kernel
(:func:`mmnst_path.tiling._numba.window_counts`) equal the integral image's, exact integers,
for windows smaller and larger than the mask and either border value."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import mmnst_path.tiling._numba as kernels
import mmnst_path.tiling.tissue as tissue


def test_window_counts_kernel_equals_the_integral_image(monkeypatch):
    ran = []
    real = kernels.window_counts
    monkeypatch.setattr(kernels, "window_counts", lambda *a: ran.append(1) or real(*a))
    rng = np.random.default_rng(24)
    shapes = [(1, 1), (1, 9), (9, 1), (2, 3)] + [tuple(int(v) for v in rng.integers(1, 45, 2)) for _ in range(150)]
    for i, shape in enumerate(shapes):
        mask = rng.random(shape) < rng.choice([0.1, 0.5, 0.9])
        half = int(rng.integers(1, 25)) if i % 2 else int(rng.integers(1, 4))
        for border in (False, True):
            monkeypatch.setattr(tissue, "GAUSSIAN_BACKEND", "auto")
            fast = tissue._window_counts(mask, half, border)
            monkeypatch.setattr(tissue, "GAUSSIAN_BACKEND", "scipy")
            ref = tissue._window_counts(mask, half, border)
            assert fast.dtype == ref.dtype
            np.testing.assert_array_equal(fast, ref, err_msg=f"{shape} half={half} border={border}")
    assert len(ran) == 2 * len(shapes)
