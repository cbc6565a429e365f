"""A grid read's last step, the column pass rounded into the uint8 tile, through the compiled
:func:`mmnst_path.io._resample_numba.finish_transposed`: the numpy path's bytes (``v + 0.5``,
clipped to [0, 255], truncated), values past both ends of the range included."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import mmnst_path.io._resample as rs
from mmnst_path.io._resample_numba import finish_transposed


@pytest.mark.parametrize(("n_cols", "n_rows", "channels"), [(1, 1, 3), (37, 5, 3), (70, 33, 1), (64, 64, 3)])
def test_finish_equals_numpy_rounding(n_cols, n_rows, channels):
    rng = np.random.default_rng(n_cols * n_rows)
    cols = (rng.random((n_cols, n_rows, channels)) * 262 - 3).astype(np.float32)
    edges = np.array([254.49998, 254.5, -0.5, -0.50001, 255.2, 0.49999], np.float32)  # the rounding's edges
    cols.reshape(-1)[: min(6, cols.size)] = edges[: cols.size]
    full = np.full((n_rows + 9, n_cols + 5, channels), 255, np.uint8)
    finish_transposed(cols, full, 4, 2)
    ref = np.full_like(full, 255)
    out = np.moveaxis(cols.copy(), 0, 1)
    out += np.float32(0.5)
    np.clip(out, 0, 255, out=out)
    ref[4 : 4 + n_rows, 2 : 2 + n_cols] = out
    np.testing.assert_array_equal(full, ref)


@pytest.mark.parametrize("ndim", [2, 3])
def test_a_grid_read_rounds_through_the_kernel_to_the_numpy_bytes(monkeypatch, ndim):
    rng = np.random.default_rng(ndim)
    img = np.full((300, 280, 3), 255, np.uint8)
    img[40:260, 30:250] = rng.integers(0, 256, (220, 220, 3))
    img = img if ndim == 3 else np.ascontiguousarray(img[..., 1])
    monkeypatch.setattr(rs, "COLS_FUSED", False)  # (the fused kernel has its own test: test_resample_cols.py)
    ran = []
    real = rs._compiled("finish")
    monkeypatch.setitem(rs._KERNEL, "finish", lambda *a: ran.append(1) or real(*a))
    got = rs.resize_area_grid(img, (110, 100), (2, 3), 0.5 / 0.21, (4, 7))
    monkeypatch.setattr(rs, "NUMBA", False)
    ref = rs.resize_area_grid(img, (110, 100), (2, 3), 0.5 / 0.21, (4, 7))
    assert ran
    np.testing.assert_array_equal(got, ref)
