"""Nucleus polygons at the image border are clipped to the image in cells.geojson (session 36 H11, L7:
a BCData nucleus reached y = -3.742). Each test fails on the code before the clip: write_result wrote the
rings as drawn, and there was no :func:`mmnst_path._ring_clip.clip_ring`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from skimage.measure import points_in_poly

from mmnst_path._ring_clip import clip_ring, ring_inside
from mmnst_path.aggregate import CELL_CLASSES, CellTable, SlideResult, TileTable
from mmnst_path.geojson import feature_collection_chunks, read_cells
from mmnst_path.geometry import Box
from mmnst_path.report import write_result


def _area(ring: list[list[float]]) -> float:
    x, y = np.asarray(ring, np.float64).T
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _simple(ring: list[list[float]]) -> bool:
    """No two non-adjacent edges of the closed ring meet (a valid ring)."""
    p = np.asarray(ring[:-1], np.float64)
    n = len(p)

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            a, b, c, d = p[i], p[(i + 1) % n], p[j], p[(j + 1) % n]
            d1, d2, d3, d4 = cross(c, d, a), cross(c, d, b), cross(a, b, c), cross(a, b, d)
            if d1 * d2 <= 0 and d3 * d4 <= 0 and not (d1 == d2 == 0 and (
                    max(a[0], b[0]) < min(c[0], d[0]) or max(c[0], d[0]) < min(a[0], b[0])
                    or max(a[1], b[1]) < min(c[1], d[1]) or max(c[1], d[1]) < min(a[1], b[1]))):
                return False
    return True


def test_square_over_a_corner_is_cut_exactly() -> None:
    ring = [[-1.0, -1.0], [2.0, -1.0], [2.0, 2.0], [-1.0, 2.0], [-1.0, -1.0]]
    assert clip_ring(ring, 10, 10) == [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]]


def test_inside_outside_and_bad_sizes() -> None:
    inside = [[1.0, 1.0], [3.0, 1.0], [2.0, 4.0], [1.0, 1.0]]
    assert clip_ring(inside, 5, 5) == inside
    assert ring_inside(inside, 5, 5)
    assert not ring_inside(inside, 5, 3.5)
    assert clip_ring([[-3.0, -3.0], [-1.0, -3.0], [-1.0, -1.0]], 10, 10) is None  # no area inside
    assert clip_ring([[-2.0, 1.0], [0.0, 1.0], [-1.0, 3.0]], 10, 10) is None  # touches the side only
    with pytest.raises(ValueError, match="height=0"):
        clip_ring(inside, 5, 0)


@pytest.mark.parametrize("seed", range(6))
def test_star_polygons_at_the_border_match_a_pixel_count(seed: int) -> None:
    """Random 16-ray stars centred in the image near a corner: the clipped ring lies in the image, is
    closed and simple, and holds the same sample points as the star and the image together."""
    rng = np.random.default_rng(seed)
    width, height = 40.0, 30.0
    cx, cy = rng.uniform(0.5, 4.0), height - rng.uniform(0.5, 4.0)
    angles = np.linspace(0, 2 * np.pi, 17)[:-1]
    radii = rng.uniform(3.0, 9.0, 16)
    ring = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)]).round(3).tolist()
    ring.append(ring[0])
    clipped = clip_ring(ring, width, height)
    assert clipped is not None
    assert clipped[0] == clipped[-1]
    assert len(clipped) >= 4
    assert ring_inside(clipped, width, height)
    assert _simple(clipped)
    grid = np.stack(np.meshgrid(np.arange(-10, 50, 0.13), np.arange(-10, 40, 0.13)), -1).reshape(-1, 2)
    want = points_in_poly(grid, np.asarray(ring)) & (grid[:, 0] > 0) & (grid[:, 0] < width) & (
        grid[:, 1] > 0) & (grid[:, 1] < height)
    got = points_in_poly(grid, np.asarray(clipped))
    assert np.count_nonzero(want != got) <= 0.002 * np.count_nonzero(want)  # sample points on an edge only
    assert abs(abs(_area(clipped)) - np.count_nonzero(want) * 0.13**2) < 0.03 * abs(_area(clipped))


def _border_slide() -> SlideResult:
    """A 64 x 48 (cols x rows) tile with one nucleus outline over the top border, one over the right
    one and one inside."""
    rows, cols = np.array([1.0, 30.0, 20.0]), np.array([10.0, 62.5, 30.0])
    radii = np.full((3, 16), 4.0, np.float32)
    cls = np.array([CELL_CLASSES.index("negative")] * 3, np.int8)
    cells = CellTable(rows, cols, cls, {"area_um2": np.full(3, 12.0), "outline_radii": radii})
    return SlideResult(
        input="a/tile.png", shape=(48, 64), mpp=0.5, analysis_mpp=0.5, measures=("ki67",), metrics={},
        counts={}, hotspot=None, tiles=TileTable.from_rows([Box(0, 0, 48, 64)], [{"seconds": 0.1}]), cells=cells,
        maps={}, config={}, stains={}, versions={}, timings={},
    )


def _clipped(result: SlideResult, shape: str = "polygon") -> dict:
    """The cells' FeatureCollection written with the opt-in clip to the image."""
    text = "".join(feature_collection_chunks(result.cells, [], mpp=result.mpp, shape=shape,
                                             image_shape=(int(result.shape[0]), int(result.shape[1]))))
    return json.loads(text)


def test_written_outlines_stay_inside_the_image() -> None:
    result = _border_slide()
    doc = _clipped(result)
    nuclei = [f for f in doc["features"] if f["properties"]["objectType"] == "detection"]
    assert len(nuclei) == 3
    rings = [f["geometry"]["coordinates"][0] for f in nuclei]
    for ring in rings:
        assert ring[0] == ring[-1]
        assert ring_inside(ring, 64, 48), ring
        assert _simple(ring)
    assert min(y for _x, y in rings[0]) == 0.0  # cut at the top border, not dropped
    assert max(x for x, _y in rings[1]) == 64.0
    assert len(rings[2]) == 17  # inside: the outline as drawn
    # the cut nucleus keeps about the part of a 4 px-radius disc inside (centre 1.5 px below the border)
    assert 0.5 * np.pi * 16 < abs(_area(rings[0])) < 0.8 * np.pi * 16


def test_octagons_are_clipped_and_points_are_not_moved() -> None:
    result = _border_slide()
    result.cells.columns.pop("outline_radii")
    doc = _clipped(result)
    octagons = [f["geometry"]["coordinates"][0] for f in doc["features"] if f["properties"]["objectType"] == "detection"]
    assert all(ring_inside(r, 64, 48) for r in octagons)
    assert len(octagons[2]) == 9
    doc = _clipped(result, shape="point")
    points = [f["geometry"] for f in doc["features"] if f["properties"]["objectType"] == "detection"]
    assert [p["coordinates"] for p in points] == [[10.5, 1.5], [63.0, 30.5], [30.5, 20.5]]


def test_cells_geojson_keeps_border_outlines_whole_for_the_round_trip(tmp_path: Path) -> None:
    """``write_result`` does not clip: every outline's area centroid stays the nucleus centroid, which the readers
    use to place it (clipped outlines moved napari's imported border nuclei by up to a pixel: session 36's CI)."""
    result = _border_slide()
    paths = write_result(result, tmp_path / "out", outputs=("geojson",))
    doc = json.loads(paths["geojson"].read_text(encoding="utf-8"))
    rings = [f["geometry"]["coordinates"][0] for f in doc["features"] if f["properties"]["objectType"] == "detection"]
    assert not ring_inside(rings[0], 64, 48)  # reaches past the top border, as drawn
    back = read_cells(paths["geojson"])
    np.testing.assert_allclose(np.c_[back.row, back.col], np.c_[result.cells.row, result.cells.col], atol=0.006)
