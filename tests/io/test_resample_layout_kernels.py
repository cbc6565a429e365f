"""The resampling kernels laid out for the memory they read (``io/_resample_numba.py``: the taps
along rows, the block means along rows and columns) give the numpy path's float32 values bit for
bit, on the layouts the pipeline passes (whole images, column slices, 2-D planes) and on ones it
falls back from (a column-strided view)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import mmnst_path.io._resample as rs
from mmnst_path.io._resample import resize_area, resize_area_axis, resize_area_grid


def _both(monkeypatch, fn):
    """``fn()`` with the numpy path (NUMBA False) and with the kernels; also which kernels ran."""
    out = {}
    ran: list[str] = []
    for flag in (False, True):
        monkeypatch.setattr(rs, "NUMBA", flag)
        out[flag] = fn()
    kernels = (rs._compiled("rows"), *(rs._compiled("block") or ()))
    names = ("taps_rows", "block_rows", "block_cols")
    spies = {}
    for name, kern in zip(names, kernels, strict=True):
        def spy(*a, _k=kern, _n=name):
            ran.append(_n)
            return _k(*a)
        spies[name] = spy
    monkeypatch.setitem(rs._KERNEL, "rows", spies["taps_rows"])
    monkeypatch.setitem(rs._KERNEL, "block", (spies["block_rows"], spies["block_cols"]))
    again = fn()
    np.testing.assert_array_equal(again, out[True])
    return out[False], out[True], ran


def _image(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.float32:
        return (rng.random(shape, dtype=np.float32) * 255).astype(np.float32)
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.int16])
@pytest.mark.parametrize(("shape", "n_out", "axis", "kernel"), [
    ((90, 70, 3), 30, 0, "block_rows"),  # factor 3
    ((90, 70, 3), 35, 1, "block_cols"),  # factor 2
    ((64, 99), 33, 1, "block_cols"),  # 2-D, factor 3
    ((301, 257, 3), 127, 0, "taps_rows"),  # non-integer
    ((64, 333), 140, 0, "taps_rows"),
])
def test_kernels_equal_the_numpy_path_bit_for_bit(monkeypatch, dtype, shape, n_out, axis, kernel):
    arr = _image(shape, dtype, seed=sum(shape) + n_out)
    ref, got, ran = _both(monkeypatch, lambda: resize_area_axis(arr, n_out, axis))
    assert kernel in ran
    assert got.dtype == np.float32
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize(("shape", "out_shape"), [((640, 640, 3), (320, 320)), ((600, 450, 3), (200, 150)),
                                                  ((1228, 290, 3), (516, 126)), ((257, 300), (100, 150))])
def test_resize_area_with_white_margins_equals_the_numpy_path(monkeypatch, shape, out_shape):
    img = _image(shape, np.uint8, seed=shape[0])
    img[: shape[0] // 5] = 255  # a white margin: the kernels read a row / column slice of the image
    img[:, -shape[1] // 7 :] = 255
    ref, got, ran = _both(monkeypatch, lambda: resize_area(img, out_shape))
    assert ran
    np.testing.assert_array_equal(got, ref)


def test_grid_read_of_a_shidc_like_tile_equals_the_numpy_path(monkeypatch):
    f = 0.5 / 0.21
    img = np.full((700, 650, 3), 255, dtype=np.uint8)
    img[150:600, 120:560] = _image((450, 440, 3), np.uint8, seed=7)
    ref, got, ran = _both(monkeypatch, lambda: resize_area_grid(img, (270, 250), (3, 2), f, (7, 4)))
    assert "taps_rows" in ran
    np.testing.assert_array_equal(got, ref)


def test_a_column_strided_view_falls_back_to_the_generic_path(monkeypatch):
    arr = _image((90, 140, 3), np.uint8, seed=3)[:, ::2]  # rows not contiguous: no flat row view
    ref, got, ran = _both(monkeypatch, lambda: resize_area_axis(arr, 30, 0))
    assert "block_rows" not in ran
    np.testing.assert_array_equal(got, ref)


def test_white_bounds_equal_the_numpy_margins(monkeypatch):
    rng = np.random.default_rng(11)
    cases = [np.full((40, 50, 3), 255, np.uint8), np.full((33, 20), 255, np.uint8)]
    for r, c in ((0, 0), (39, 49), (0, 49), (39, 0), (17, 3)):  # one non-white value, in one channel
        img = np.full((40, 50, 3), 255, np.uint8)
        img[r, c, 2] = 254
        cases.append(img)
    for _ in range(30):  # white margins around blobs of random extent, some ragged
        img = np.full((int(rng.integers(5, 60)), int(rng.integers(5, 60)), 3), 255, np.uint8)
        r0, c0 = (int(rng.integers(1, s)) for s in img.shape[:2])
        r1, c1 = int(rng.integers(r0, img.shape[0])), int(rng.integers(c0, img.shape[1]))
        img[r0 : r1 + 1, c0 : c1 + 1] = rng.integers(200, 256, (r1 - r0 + 1, c1 - c0 + 1, 3))
        img[:, 0] = 255  # (a white border column: the margins are looked for)
        cases.append(img if rng.random() < 0.7 else img[..., 1].copy())
    seen = set()
    for img in cases:
        got = {}
        for flag in (False, True):
            monkeypatch.setattr(rs, "NUMBA", flag)
            got[flag] = rs._white_margins(img)
        assert got[True] == got[False], img.shape
        seen.add(got[True] is not None and got[True][0] < 0)
    assert seen == {True, False}  # all-white and non-white images both checked
    calls = []
    kernel = rs._compiled("white")
    monkeypatch.setitem(rs._KERNEL, "white", lambda *a: calls.append(1) or kernel(*a))
    rs._white_margins(cases[3])
    assert calls  # the kernel answered
