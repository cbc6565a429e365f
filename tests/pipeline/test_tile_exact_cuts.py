"""Exact cuts in the lone-tile path (#16, session 37): a tile's counted pixels gathered row by row, and the
Ki67 reaches computed once a region. Each is compared with the reference computation it replaces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mmnst_path.io import ArrayReader
from mmnst_path.pipeline._region import CountRegion, TileRegion
from mmnst_path.tiling import TissueResult, plan_grid


def _reference_pixels(part: TileRegion, tile: object) -> np.ndarray:
    """The gather the cut replaced: tile rows inside the part's rows, then every column, pixel by pixel."""
    rows, _ = tile.level0_from_analysis(np.arange(tile.shape[0]), 0)  # type: ignore[attr-defined]
    _, cols = tile.level0_from_analysis(0, np.arange(tile.shape[1]))  # type: ignore[attr-defined]
    ri = part.region._index(rows, 0) - part.row0
    ok = (ri >= 0) & (ri < part.part.shape[0])
    out = np.zeros(tuple(tile.shape), dtype=bool)  # type: ignore[attr-defined]
    out[ok] = part.part[ri[ok]][:, part.region._index(cols, 1)]
    return out


def _region(seed: int, shape: tuple[int, int], scale: float) -> CountRegion:
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) < 0.55
    mask[: shape[0] // 3, : shape[1] // 4] = False  # glass in a corner: tiles there are partly counted
    slide = (int(shape[0] * scale), int(shape[1] * scale))
    tissue = TissueResult(mask=mask, thumbnail=np.zeros((*shape, 3), np.uint8), scale=(scale, scale),
                          slide_shape=slide, mask_mpp=scale * 0.25, area_mm2=0.0, tissue_fraction=float(mask.mean()))
    return CountRegion.from_tissue(tissue, 0.0)


@pytest.mark.parametrize(("seed", "shape", "scale", "mpp", "analysis", "tile_um"), [
    (1, (37, 29), 8.0, 0.25, 0.5, 20.0),  # 29 bits a row: rows start mid-byte; 2 level-0 px an analysis px
    (2, (40, 51), 6.0, 0.21, 0.5, 16.0),  # a non-integer scale (2.38 level-0 px an analysis px)
    (3, (25, 25), 5.0, 0.5, 0.5, 30.0),  # scale 1, tiles larger than the mask's rows under them
    (4, (3, 90), 7.0, 0.31, 0.5, 12.0),  # three mask rows
])
def test_the_counted_pixels_of_every_tile_equal_the_pixelwise_gather(seed, shape, scale, mpp, analysis, tile_um):
    region = _region(seed, shape, scale)
    slide = (int(shape[0] * scale), int(shape[1] * scale))
    reader = ArrayReader(np.zeros((*slide, 3), np.uint8), mpp=mpp)
    tissue = TissueResult(mask=region.mask(), thumbnail=np.zeros((*shape, 3), np.uint8), scale=(scale, scale),
                          slide_shape=slide, mask_mpp=scale * mpp, area_mm2=0.0, tissue_fraction=0.0)
    tiles = plan_grid(reader, max_object_um=4.0, tile_um=tile_um, analysis_mpp=analysis, mpp=mpp, tissue=tissue)
    reached = 0
    for tile in tiles:
        part = region.for_tile(tile)
        if part is None:
            continue
        reached += 1
        got = part.pixels(tile)
        want = _reference_pixels(part, tile)
        assert got.dtype == want.dtype
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert reached >= 2


@dataclass
class _Tile:
    """A tile whose rows map to level 0 in the order given (any order, unlike a planned tile)."""

    rows_l0: np.ndarray
    cols_l0: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows_l0), len(self.cols_l0))

    def level0_from_analysis(self, row: object, col: object) -> tuple[np.ndarray, np.ndarray]:
        r = self.rows_l0[np.asarray(row)] if np.ndim(row) else np.asarray(0.0)
        c = self.cols_l0[np.asarray(col)] if np.ndim(col) else np.asarray(0.0)
        return np.asarray(r, np.float64), np.asarray(c, np.float64)


@pytest.mark.parametrize("rows_l0", [
    np.array([3.0, 60.0, 9.0, -5.0, 17.0, 200.0, 40.0]),  # rows inside the part not in one run
    np.array([-40.0, -1.0, 500.0, 900.0]),  # no row inside the part
    np.array([8.0, 8.5, 9.0, 15.9, 16.0, 23.0]),  # one run, increasing (the planned tiles' case)
    np.array([23.0, 16.0, 8.0]),  # one run, decreasing
])
def test_rows_in_any_order_and_no_row_inside_give_the_pixelwise_gather(rows_l0):
    region = _region(7, (12, 10), 8.0)
    part = TileRegion(region, region.rows(1, 4), 1)  # mask rows 1-3: level-0 rows 8 .. 31
    tile = _Tile(rows_l0, np.array([-3.0, 0.0, 7.9, 8.0, 79.9, 81.0, 40.0]))
    np.testing.assert_array_equal(part.pixels(tile), _reference_pixels(part, tile))


def test_the_ki67_reaches_are_computed_once_a_region_and_are_the_same(monkeypatch):
    """``analyze_region`` computes :func:`ki67_halo_parts` once (the tile halo and the tiles' Ki67 window read
    the same values), and ``halo_parts`` given them equals ``halo_parts`` computing them."""
    import mmnst_path.pipeline._slide as slide
    import mmnst_path.pipeline._worker as worker
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.pipeline._reach import _halo_um, halo_parts, ki67_halo_parts
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    config = AnalysisConfig()
    parts = ki67_halo_parts(config)
    for measures in (("ki67",), ("ki67", "melanin"), ("melanin",)):
        assert halo_parts(config, measures, ki67_parts=parts) == halo_parts(config, measures)
        assert _halo_um(config, measures, ki67_parts=parts) == _halo_um(config, measures)
    calls: list[dict[str, float]] = []
    seen: list[dict[str, float]] = []

    def counted(cfg: AnalysisConfig) -> dict[str, float]:
        calls.append(ki67_halo_parts(cfg))
        return calls[-1]

    real_window = worker._ki67_window

    def window(tile, job, *a, **k):
        seen.append(job.memo("ki67_halo_parts", lambda: {}))
        return real_window(tile, job, *a, **k)

    monkeypatch.setattr(slide, "ki67_halo_parts", counted)
    monkeypatch.setattr(worker, "ki67_halo_parts", counted)
    monkeypatch.setattr(worker, "_ki67_window", window)
    tile = ki67_cells_tile(41, size=160, mpp=0.5)
    res = analyze_region(tile.rgb, mpp=0.5)
    assert len(calls) == 1  # (two before: the halo, then the tile's Ki67 window)
    assert seen
    assert all(s is calls[0] for s in seen)
    assert calls[0] == parts
    assert res.counts["ki67"].positive + res.counts["ki67"].negative > 0
