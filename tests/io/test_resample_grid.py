"""Tiles read at a non-integer factor are resampled onto the slide's analysis grid
(``io._resample.resize_area_grid``): their pixels do not depend on the halo or the tile."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.io._resample as rs
import mmnst_path.tiling.grid as grid
from mmnst_path.io import ArrayReader
from mmnst_path.io._resample import grid_weights, resize_area_grid
from mmnst_path.tiling import plan_grid, read_tile


def _image(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    img[:7] = 255  # a white band: margins are skipped where they are white
    return img


def _exact(img: np.ndarray, factor: float, rows: range, cols: range) -> np.ndarray:
    """float64 area means of the grid pixels (rows x cols) of ``img`` (pixel g covers
    ``[g f, (g + 1) f)``), computed from scratch."""
    def w(g: int, n: int) -> np.ndarray:
        lo, hi = g * factor, (g + 1) * factor
        j = np.arange(n)
        return np.clip(np.minimum(j + 1, hi) - np.maximum(j, lo), 0, None) / factor
    wr = np.stack([w(g, img.shape[0]) for g in rows])
    wc = np.stack([w(g, img.shape[1]) for g in cols])
    return np.einsum("ir,rcx,jc->ijx", wr, img.astype(np.float64), wc)


def test_grid_weights_do_not_depend_on_what_is_read():
    f = 0.5 / 0.21
    a_idx, a_w = grid_weights(40, 10, f, 0, 200)
    first = int(np.floor(17 * f))
    b_idx, b_w = grid_weights(20, 17, f, first, 120)
    for i in range(20):  # grid line 17 + i
        ka = a_w[7 + i] > 0
        kb = b_w[i] > 0
        np.testing.assert_array_equal(a_idx[7 + i][ka], b_idx[i][kb] + first)
        np.testing.assert_array_equal(a_w[7 + i][ka], b_w[i][kb])  # bit for bit
    np.testing.assert_allclose(a_w.sum(axis=1), 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="outside"):
        grid_weights(40, 10, f, 30, 200)


@pytest.mark.parametrize("numba", [True, False])
def test_grid_resize_is_area_averaging_on_the_global_grid(monkeypatch, numba):
    monkeypatch.setattr(rs, "NUMBA", numba)
    img = _image((300, 260), seed=1)
    f = 0.5 / 0.21
    start = (5, 3)
    first = (int(np.floor(5 * f)), int(np.floor(3 * f)))
    shape = (90, 80)
    sub = img[first[0] : int(np.ceil((5 + 90) * f)), first[1] : int(np.ceil((3 + 80) * f))]
    got = resize_area_grid(sub, shape, start, f, first)
    ref = _exact(img, f, range(5, 95), range(3, 83))
    assert np.abs(got.astype(np.float64) - ref).max() <= 0.5 + 1e-3  # rounded to nearest (float32 sums)


@pytest.mark.parametrize("halo_um", [40.0, 63.0])
def test_non_integer_tiles_read_the_same_pixels_whatever_the_halo_and_tile(halo_um):
    img = _image((700, 650), seed=2)
    reader = ArrayReader(img, mpp=0.21)
    whole = plan_grid(reader, max_object_um=0.0, tile_um=1000.0, analysis_mpp=0.5, mpp=0.21)
    assert len(whole) == 1
    assert whole[0].halo == 0
    ref = read_tile(reader, whole[0])
    tiles = plan_grid(reader, max_object_um=halo_um, tile_um=64.0, analysis_mpp=0.5, mpp=0.21)
    assert len(tiles) > 4
    for t in tiles:
        got = read_tile(reader, t)
        r0, c0 = t.origin
        a0, b0 = max(r0, 0), max(c0, 0)
        a1, b1 = min(r0 + t.shape[0], ref.shape[0]), min(c0 + t.shape[1], ref.shape[1])
        np.testing.assert_array_equal(got[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0], ref[a0:a1, b0:b1])
        assert (got[: a0 - r0] == 255).all()  # white past the edge
        assert (got[:, : b0 - c0] == 255).all()


def test_stretched_reads_are_kept_behind_the_switch(monkeypatch):
    img = _image((300, 300), seed=3)
    reader = ArrayReader(img, mpp=0.21)
    monkeypatch.setattr(grid, "READ_ON_GRID", False)
    t = plan_grid(reader, max_object_um=10.0, tile_um=20.0, analysis_mpp=0.5, mpp=0.21)[-1]
    assert t.read.row == int(np.ceil(t.origin[0] * t.scale - 1e-9))  # the integer grid-line box
    assert read_tile(reader, t).shape[:2] == t.shape
