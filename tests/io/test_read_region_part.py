"""A read past the slide's edge handled as its slide part plus a white margin
(:meth:`SlideReader.read_region_part`, ``resize_area`` / ``resize_area_grid`` with ``at`` /
``canvas``, :func:`mmnst_path.tiling.read_tile`): the pixels are those of the whole white canvas,
bit for bit, without the canvas being built."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mmnst_path.io._resample as rs
import mmnst_path.tiling.grid as grid
from mmnst_path.geometry import Box
from mmnst_path.io._array import ArrayReader
from mmnst_path.tiling import plan_grid, read_tile


def _image(rng, h, w, white_left=0):
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    img[:, :white_left] = 255  # a slide whose own edge is white too
    return img


def _no_canvas(monkeypatch):
    """Fail the test if a white canvas is pasted together (the fallback of a margin too narrow)."""
    def refuse(*a, **k):
        raise AssertionError("the white canvas was built")
    monkeypatch.setattr(rs, "_pasted", refuse)


def test_the_part_is_the_read_regions_pixels_and_the_rest_is_white():
    rng = np.random.default_rng(0)
    img = _image(rng, 30, 40)
    rd = ArrayReader(img)
    for box in (Box(-7, -5, 50, 60), Box(10, 20, 40, 40), Box(-3, 30, 10, 30), Box(2, 3, 20, 20)):
        whole = rd.read_region(box)
        for margin in (0, 2, 50):
            part, at, shape = rd.read_region_part(box, 0, margin)
            assert shape == whole.shape[:2]
            np.testing.assert_array_equal(whole[at[0] : at[0] + part.shape[0], at[1] : at[1] + part.shape[1]], part)
            rest = whole.copy()
            rest[at[0] : at[0] + part.shape[0], at[1] : at[1] + part.shape[1]] = 255
            assert (rest == 255).all()
    part, at, shape = rd.read_region_part(Box(-7, -5, 50, 60), 0, 2)
    assert part.shape[:2] == (34, 44)  # the image plus 2 px each side
    assert at == (5, 3)
    assert shape == (50, 60)
    part, at, shape = rd.read_region_part(Box(2, 3, 20, 20), 0, 2)  # inside: the read itself
    assert part.shape[:2] == shape == (20, 20)
    assert at == (0, 0)
    with pytest.raises(ValueError, match="margin"):
        rd.read_region_part(Box(0, 0, 5, 5), 0, -1)


@pytest.mark.parametrize("factor", [2.0, 3.0, 1.7, 2.38, 0.8])
def test_resampling_a_part_gives_the_canvas_pixels(monkeypatch, factor):
    rng = np.random.default_rng(int(factor * 100))
    checked = 0
    for trial in range(40):
        h, w = (int(x) for x in rng.integers(4, 60, 2))
        img = _image(rng, h, w, white_left=int(rng.integers(0, w)) if trial % 3 == 0 else 0)
        if trial == 5:
            img[:] = 255
        pads = [int(x) for x in rng.integers(0, 30, 4)]
        canvas_shape = (h + pads[0] + pads[1], w + pads[2] + pads[3])
        box = Box(-pads[0], -pads[2], *canvas_shape)
        rd = ArrayReader(img)
        canvas = rd.read_region(box)
        part, at, shape = rd.read_region_part(box, 0, math.ceil(factor) + 3)
        out = (max(1, round(shape[0] / factor)), max(1, round(shape[1] / factor)))
        with monkeypatch.context() as m:
            _no_canvas(m)
            got = rs.resize_area(part, out, at=at, canvas=shape)
        np.testing.assert_array_equal(got, rs.resize_area(canvas, out))
        start = (int(rng.integers(0, 4)), int(rng.integers(0, 4)))
        first = (math.floor(start[0] * factor), math.floor(start[1] * factor))
        og = (int((shape[0] + first[0]) // factor) - start[0] - 1, int((shape[1] + first[1]) // factor) - start[1] - 1)
        if min(og) < 1 or not (canvas[: math.floor((start[0] + og[0]) * factor) - first[0]] < 255).any():
            continue
        with monkeypatch.context() as m:
            _no_canvas(m)
            got = rs.resize_area_grid(part, og, start, factor, first, at=at, canvas=shape)
        np.testing.assert_array_equal(got, rs.resize_area_grid(canvas, og, start, factor, first))
        checked += 1
    assert checked >= 10


def test_a_margin_too_narrow_falls_back_to_the_canvas():
    rng = np.random.default_rng(3)
    rd = ArrayReader(_image(rng, 20, 20))
    box = Box(-9, -9, 40, 40)
    canvas = rd.read_region(box)
    part, at, shape = rd.read_region_part(box, 0, 0)  # no white margin: the taps read past it
    np.testing.assert_array_equal(rs.resize_area(part, (17, 17), at=at, canvas=shape), rs.resize_area(canvas, (17, 17)))
    np.testing.assert_array_equal(rs.resize_area_grid(part, (15, 15), (1, 1), 2.38, (2, 2), at=at, canvas=shape),
                                  rs.resize_area_grid(canvas, (15, 15), (1, 1), 2.38, (2, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        rs.resize_area(part, (17, 17), at=(30, 0), canvas=shape)


@pytest.mark.parametrize("mpp", [0.25, 0.21, 0.5])  # a 2x block mean, the 2.38 grid read, no resampling
def test_a_lone_tiles_read_is_the_same_without_its_white_canvas(monkeypatch, mpp):
    rng = np.random.default_rng(7)
    img = _image(rng, 300, 260)
    img[:40] = 255  # white rows at the slide's own edge
    rd = ArrayReader(img, mpp=mpp)
    tiles = plan_grid(rd, analysis_mpp=0.5, tile_um=60, max_object_um=20)
    assert len(tiles) > 1
    assert any(t.read.row < 0 for t in tiles)
    calls = []
    real = rd.read_region
    monkeypatch.setattr(rd, "read_region", lambda *a, **k: calls.append(a) or real(*a, **k))
    for tile in tiles:
        monkeypatch.setattr(grid, "READ_PART", True)
        new = read_tile(rd, tile)
        monkeypatch.setattr(grid, "READ_PART", False)
        np.testing.assert_array_equal(new, read_tile(rd, tile))
    if mpp != 0.5:  # resampled: the part path never read the canvas (only the READ_PART = False calls did)
        assert len(calls) == len(tiles)
