"""Tests of mmnst_path.aggregate: count sums, cell tables, tile map and the hot-spot search."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from mmnst_path.aggregate import (
    CellTable,
    TileTable,
    find_hotspot,
    ki67_tile_map,
    sum_counts,
    wilson_interval,
)
from mmnst_path.errors import ConfigError
from mmnst_path.geometry import Box


@dataclass(frozen=True)
class _Counts:
    a: int

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(self.a + other.a)


def test_sum_counts_adds_and_skips_none() -> None:
    assert sum_counts([_Counts(1), None, _Counts(4)]) == _Counts(5)
    assert sum_counts([None, None]) is None


def test_wilson_interval_known_value_and_undefined() -> None:
    lo, hi = wilson_interval(6, 100)
    # reference: 6/100 -> Wilson 95% [2.78%, 12.49%]
    assert lo == pytest.approx(0.0278, abs=2e-4)
    assert hi == pytest.approx(0.1249, abs=2e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_cell_table_concat_select_and_count() -> None:
    a = CellTable(np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([0, 1], np.int8), {"area_um2": np.array([30.0, 40.0])})
    b = CellTable(np.array([5.0]), np.array([6.0]), np.array([2], np.int8), {"area_um2": np.array([50.0])})
    both = CellTable.concat([a, CellTable.empty(), b])
    assert len(both) == 3
    assert both.count("positive") == 1
    assert both.count("pigment") == 1
    assert list(both.class_names()) == ["positive", "negative", "pigment"]
    assert both.select(both.cls == 1).columns["area_um2"].tolist() == [40.0]
    with pytest.raises(ValueError, match="col"):
        CellTable(np.zeros(2), np.zeros(3), np.zeros(2, np.int8))


def test_tile_map_places_index_per_tile_and_nan_for_empty() -> None:
    tiles = TileTable.from_rows(
        [Box(0, 0, 100, 100), Box(0, 100, 100, 50), Box(100, 0, 20, 100)],
        [{"ki67_positive": 1, "ki67_negative": 3}, {"ki67_positive": 0, "ki67_negative": 0}, {"ki67_positive": 2, "ki67_negative": 2}],
    )
    m = ki67_tile_map(tiles, (120, 150))
    assert m.downsample == 100
    assert m.image.shape == (2, 2)
    assert m.image[0, 0] == pytest.approx(25.0)
    assert math.isnan(m.image[0, 1])  # no nuclei: undefined, not 0
    assert m.image[1, 0] == pytest.approx(50.0)
    assert math.isnan(m.image[1, 1])  # no tile


def _brute_force(row, col, pos, shape, side, step, min_n):
    best = None
    for r0 in range(0, max(1, shape[0] - side + step), step):
        for c0 in range(0, max(1, shape[1] - side + step), step):
            inside = (row >= r0) & (row < r0 + side) & (col >= c0) & (col < c0 + side)
            n, p = inside.sum(), (inside & pos).sum()
            key = (1, p / n, n) if n >= min_n else (0, n, 0)
            if best is None or key > best[0]:
                best = (key, r0, c0)
    return best


def test_hotspot_matches_brute_force_and_finds_the_planted_cluster() -> None:
    rng = np.random.default_rng(0)
    mpp = 1.0  # 1 mm² window = 1000 x 1000 px
    shape = (3000, 4000)
    row = rng.uniform(0, shape[0], 6000)
    col = rng.uniform(0, shape[1], 6000)
    pos = rng.random(6000) < 0.1
    # plant a highly proliferative area at rows 1000-2000, cols 2500-3500
    hot = (row >= 1000) & (row < 2000) & (col >= 2500) & (col < 3500)
    pos[hot] = rng.random(hot.sum()) < 0.6
    h = find_hotspot(row, col, pos, shape=shape, mpp=mpp, area_mm2=1.0, min_nuclei=200)
    assert h.meets_min_nuclei
    assert not h.whole_image
    assert h.box.height == 1000
    assert h.box.width == 1000
    assert abs(h.box.row - 1000) <= 100
    assert abs(h.box.col - 2500) <= 100
    assert h.index_pct > 45
    assert h.ci_low_pct < h.index_pct < h.ci_high_pct
    _, r0, c0 = _brute_force(row, col, pos, shape, 1000, 50, 200)
    assert (h.box.row, h.box.col) == (r0, c0)


def test_hotspot_most_populated_when_no_window_has_enough_nuclei() -> None:
    row = np.array([100.0, 120, 130, 2500, 2600])
    col = np.array([100.0, 110, 150, 2500, 2600])
    pos = np.array([False, False, False, True, True])
    h = find_hotspot(row, col, pos, shape=(3000, 3000), mpp=1.0, min_nuclei=500)
    assert not h.meets_min_nuclei
    assert h.nuclei == 3
    assert h.positive == 0
    assert h.index_pct == 0.0


def test_hotspot_whole_image_when_smaller_than_window() -> None:
    row = np.array([10.0, 20.0])
    col = np.array([10.0, 30.0])
    h = find_hotspot(row, col, np.array([True, False]), shape=(512, 512), mpp=0.5)
    assert h.whole_image
    assert h.box == Box(0, 0, 512, 512)
    assert h.index_pct == 50.0
    empty = find_hotspot(np.zeros(0), np.zeros(0), np.zeros(0, bool), shape=(512, 512), mpp=0.5)
    assert math.isnan(empty.index_pct)
    assert math.isnan(empty.ci_low_pct)


def test_hotspot_rejects_bad_area() -> None:
    with pytest.raises(ConfigError, match="area_mm2"):
        find_hotspot(np.zeros(0), np.zeros(0), np.zeros(0, bool), shape=(10, 10), mpp=0.5, area_mm2=0)


def test_apply_slide_threshold_keeps_cells_tiles_and_counts_consistent() -> None:
    from mmnst_path.aggregate import CELL_CLASSES, apply_slide_threshold
    from mmnst_path.quantify.ki67 import Ki67Counts, Ki67Params

    code = {n: i for i, n in enumerate(CELL_CLASSES)}
    # two tiles; weak positives at 0.30 OD were classified negative at 0.35 by the tiles
    names = ["negative"] * 40 + ["negative"] * 12 + ["positive"] * 3 + ["excluded"] * 2 + ["pigment"] * 2
    dab = np.r_[np.full(40, 0.05), np.full(12, 0.30), np.full(3, 0.40), [0.28, 0.05], [0.9, 0.9]]
    bins = np.where(np.array(names) == "positive", 1, 0).astype(np.int8)
    tile = np.r_[np.zeros(30, int), np.ones(29, int)]
    rng = np.random.default_rng(0)
    cells = CellTable(rng.uniform(0, 100, 59), rng.uniform(0, 100, 59),
                      np.array([code[n] for n in names], np.int8),
                      {"dab_od_mean": dab, "intensity_bin": bins})

    def tile_counts(t: int) -> dict[str, float]:
        sel = tile == t
        return {f"ki67_{n}": float(np.count_nonzero(cells.cls[sel] == code[n]))
                for n in ("positive", "negative", "pigment", "excluded")}

    table = TileTable.from_rows([Box(0, 0, 10, 10), Box(0, 10, 10, 10)], [tile_counts(0), tile_counts(1)])
    counts = Ki67Counts.from_classes(np.array(names), bins)
    new_cells, new_table, new_counts, thr = apply_slide_threshold(cells, tile, table, counts, Ki67Params())
    assert thr == pytest.approx(0.25)  # stained: 12 x 0.30, 3 x 0.40 -> median 0.30 -> 0.21 -> 0.25
    assert new_counts == Ki67Counts.from_classes(new_cells.class_names(), new_cells.columns["intensity_bin"])
    assert new_counts.positive == 3 + 12 + 1
    assert new_counts.excluded == 1
    assert new_counts.pigment == 2
    for t in (0, 1):
        sel = tile == t
        for n in ("positive", "negative", "pigment", "excluded"):
            assert new_table.columns[f"ki67_{n}"][t] == np.count_nonzero(new_cells.cls[sel] == code[n])
    assert np.array_equal(new_cells.columns["intensity_bin"][new_cells.cls == code["positive"]],
                          np.ones(new_counts.positive))
    # strong staining or adaptation off: the inputs come back unchanged
    same = apply_slide_threshold(cells, tile, table, counts, Ki67Params(weak_stain_adaptation=False))
    assert same[0] is cells
    assert same[1] is table
    assert same[2] is counts
    assert same[3] == 0.35


def test_hotspot_in_box_counts_the_half_open_window():
    """A box chosen elsewhere (napari's reviewed frame) is counted as find_hotspot counts its window:
    centroids on the top / left edges in, on the bottom / right edges out."""
    from mmnst_path.aggregate import hotspot_in_box

    row = np.array([10.0, 10.0, 29.9, 30.0, 20.0])
    col = np.array([10.0, 39.9, 20.0, 20.0, 40.0])
    positive = np.array([True, False, True, True, True])
    h = hotspot_in_box(row, col, positive, Box(10, 10, 20, 30), mpp=0.5, min_nuclei=3)
    assert (h.positive, h.negative) == (2, 1)
    assert h.index_pct == pytest.approx(200 / 3)
    assert h.meets_min_nuclei
    assert not h.whole_image
    assert h.area_mm2 == pytest.approx(600 * 0.25 / 1e6)
    empty = hotspot_in_box(row, col, positive, Box(100, 100, 5, 5), mpp=0.5, min_nuclei=1)
    assert empty.nuclei == 0
    assert math.isnan(empty.index_pct)
    assert not empty.meets_min_nuclei


def test_hotspot_in_box_refuses_mismatched_arrays_and_a_bad_pixel_size():
    from mmnst_path.aggregate import hotspot_in_box

    box = Box(0, 0, 10, 10)
    with pytest.raises(ConfigError, match=r"one length, got shapes \(2,\), \(3,\), \(2,\)"):
        hotspot_in_box(np.zeros(2), np.zeros(3), np.zeros(2, bool), box, mpp=0.5, min_nuclei=1)
    for bad in (0.0, -1.0, float("nan"), None, True):
        with pytest.raises(ConfigError, match="mpp must be a positive number"):
            hotspot_in_box(np.zeros(2), np.zeros(2), np.zeros(2, bool), box, mpp=bad, min_nuclei=1)  # type: ignore[arg-type]
