"""A grid read's pass along columns with its rounding fused
(:func:`mmnst_path.io._resample_numba.taps_cols_round`, blocks of rows turned on their side): the
same uint8 tile as the generic taps kernel followed by ``finish_transposed`` and as the numpy
path, for row counts around the block size, one and three channels, factors above and below 1."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import mmnst_path.io._resample as rs
from mmnst_path.io._numba import area_taps
from mmnst_path.io._resample_numba import COL_BLOCK_ROWS, finish_transposed, taps_cols_round


@pytest.mark.parametrize("n_rows", [1, COL_BLOCK_ROWS - 1, COL_BLOCK_ROWS, COL_BLOCK_ROWS + 1, 3 * COL_BLOCK_ROWS + 5])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("factor", [0.5 / 0.21, 1.6129, 0.8])
def test_fused_column_pass_equals_taps_then_rounding(n_rows, channels, factor):
    rng = np.random.default_rng(n_rows * 10 + channels)
    width = 90
    n_out = int((width - 1) / factor)
    index, weight = rs.grid_weights(n_out, 0, factor, 0, width)
    w32 = np.ascontiguousarray(weight.astype(np.float32))
    rows = (rng.random((n_rows, width, channels)) * 262 - 3).astype(np.float32)
    rows.reshape(-1)[:6] = np.array([254.49998, 254.5, -0.5, -0.50001, 255.2, 0.49999], np.float32)[: rows.size]
    got = np.full((n_rows + 7, n_out + 4, channels), 255, np.uint8)
    taps_cols_round(rows, np.ascontiguousarray(index), w32, got, 3, 2)
    cols = np.empty((n_out, n_rows, channels), np.float32)
    area_taps(np.moveaxis(rows, 1, 0), np.ascontiguousarray(index), w32, cols)
    ref = np.full_like(got, 255)
    finish_transposed(cols, ref, 3, 2)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("factor", [0.5 / 0.21, 0.5 / 0.31, 3.3])
def test_a_grid_read_through_the_fused_kernel_equals_numpy(monkeypatch, ndim, factor):
    rng = np.random.default_rng(ndim)
    img = np.full((300, 280, 3), 255, np.uint8)
    img[40:260, 30:250] = rng.integers(0, 256, (220, 220, 3))
    img = img if ndim == 3 else np.ascontiguousarray(img[..., 1])
    ran = []
    real = rs._compiled("cols")
    monkeypatch.setitem(rs._KERNEL, "cols", lambda *a: ran.append(1) or real(*a))
    shape = (int(300 / factor) - 4, int(280 / factor) - 6)  # (the grid inside the image read)
    got = rs.resize_area_grid(img, shape, (3, 5), factor, (4, 7))
    monkeypatch.setattr(rs, "NUMBA", False)
    ref = rs.resize_area_grid(img, shape, (3, 5), factor, (4, 7))
    assert ran
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize(("shape", "out_shape"), [((640, 640), (256, 256)), ((290, 301), (97, 120)),
                                                  ((300, 97), (100, 40))])  # (rows shrink at least as much)
def test_resize_area_through_the_fused_kernel_equals_numpy(monkeypatch, ndim, shape, out_shape):
    rng = np.random.default_rng(shape[0])
    img = np.full((*shape, 3), 255, np.uint8)
    img[9:-11, 13:-7] = rng.integers(0, 256, (shape[0] - 20, shape[1] - 20, 3))
    img = img if ndim == 3 else np.ascontiguousarray(img[..., 0])
    ran = []
    real = rs._compiled("cols")
    monkeypatch.setitem(rs._KERNEL, "cols", lambda *a: ran.append(1) or real(*a))
    got = rs.resize_area(img, out_shape)
    monkeypatch.setattr(rs, "NUMBA", False)
    ref = rs.resize_area(img, out_shape)
    assert ran
    np.testing.assert_array_equal(got, ref)
