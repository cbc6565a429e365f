"""The counted region of a slide: cells and areas count only within ``[tissue] count_margin_um`` of the
tissue mask, so the results do not depend on the tile size."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._region import CountRegion
from mmnst_path.synthetic_tissue import ihc_tissue_tile
from mmnst_path.tiling import TissueParams, TissueResult, detect_tissue, plan_grid

#: brown specks (DAB-coloured debris) on the glass, each >= 140 µm from the tissue
SPECKS = ((200, 420), (450, 120), (520, 520))


def _tissue_with_specks() -> np.ndarray:
    """A 256² generated IHC tissue patch in the corner of 600² px of glass (0.5 µm/px), with three
    brown specks on the glass far from it: too small to be tissue, but nucleus-shaped and brown."""
    canvas = np.full((600, 600, 3), 250, np.uint8)
    canvas[:256, :256] = ihc_tissue_tile(303, size=256, mpp=0.5).rgb
    yy, xx = np.mgrid[:600, :600]
    for r, c in SPECKS:
        canvas[(yy - r) ** 2 + (xx - c) ** 2 <= 49] = (110, 70, 40)
    return canvas


def test_counts_do_not_depend_on_the_tile_size_and_glass_debris_is_not_counted() -> None:
    rgb = _tissue_with_specks()
    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB").replace(ki67={"cell_model": "none"})
    # 300 µm: one tile whose core holds the tissue and every speck (before the region, the specks
    # were counted there as positive nuclei and not at 150 µm, where their cores touch no tissue)
    runs = {tu: analyze_region(rgb, cfg.replace(tile_um=tu), mpp=0.5) for tu in (150.0, 300.0)}
    tables = {tu: np.column_stack([np.asarray(r.cells.row), np.asarray(r.cells.col)]) for tu, r in runs.items()}
    a, b = (t[np.lexsort(t.T[::-1])] for t in tables.values())
    assert a.shape == b.shape
    assert a.shape[0] > 20
    np.testing.assert_allclose(a, b, atol=1e-9)
    assert runs[150.0].counts["ki67"] == runs[300.0].counts["ki67"]
    for t in tables.values():  # nothing counted near a speck
        for r, c in SPECKS:
            assert np.all(np.hypot(t[:, 0] - r, t[:, 1] - c) > 20)


def test_a_larger_margin_counts_the_glass_debris() -> None:
    """The margin is what decides: grown past the specks, the region counts them."""
    rgb = _tissue_with_specks()
    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB", tile_um=300.0).replace(ki67={"cell_model": "none"})
    near = analyze_region(rgb, cfg, mpp=0.5).counts["ki67"]
    wide = analyze_region(rgb, cfg.replace(tissue={"count_margin_um": 400.0}), mpp=0.5).counts["ki67"]
    assert wide.positive >= near.positive + len(SPECKS)


def test_the_counted_area_is_the_grown_region_at_every_tile_size() -> None:
    """The owned areas sum to the grown region's area whatever the tile size: tiles are planned on the
    grown region (40 µm reaches the 300-px tile column the raw mask does not touch) and own only it."""
    rgb = _tissue_with_specks()
    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB").replace(ki67={"cell_model": "none"},
                                                                      tissue={"count_margin_um": 40.0})
    tissue = detect_tissue(ArrayReader(rgb, mpp=0.5), mask_mpp=cfg.tissue_mpp, params=cfg.tissue)
    grown = CountRegion.from_tissue(tissue, 40.0).mask()
    # the region's area in analysis px (0.5 µm/px = level 0 here): pixel centres on the mask grid
    idx = np.floor(np.arange(600) / tissue.scale[0]).astype(int).clip(0, grown.shape[0] - 1)
    expected = float(grown[np.ix_(idx, idx)].sum()) * 0.25
    raw_reach = (np.flatnonzero(tissue.mask.any(axis=0)).max() + 1) * tissue.scale[1]
    assert raw_reach < 300 < (np.flatnonzero(grown.any(axis=0)).max() + 1) * tissue.scale[1]
    for tu in (150.0, 300.0):
        res = analyze_region(rgb, cfg.replace(tile_um=tu), mpp=0.5)
        assert float(np.sum(res.tiles.columns["owned_um2"])) == pytest.approx(expected, rel=1e-12)


def test_the_region_reads_points_and_tile_pixels_alike() -> None:
    """A tile pixel is counted exactly when its centre, as a point, is inside (every tile of a grid),
    and a tile reads only the mask rows under its core."""
    mask = np.zeros((20, 30), dtype=bool)
    mask[4:9, 6:20] = True
    mask[13, 3] = True
    tissue = TissueResult(mask=mask, thumbnail=np.zeros((20, 30, 3), np.uint8), scale=(8.0, 8.0),
                          slide_shape=(160, 240), mask_mpp=4.0, area_mm2=0.0, tissue_fraction=float(mask.mean()))
    region = CountRegion.from_tissue(tissue, 8.0)  # 2 mask px
    grown = region.mask()
    assert grown.sum() > mask.sum()
    assert grown[mask].all()
    assert not grown[0, 0]
    assert pickle.loads(pickle.dumps(region)).mask().tolist() == grown.tolist()
    for r0, r1 in ((0, 20), (3, 7), (5, 6), (13, 20), (7, 3)):  # 30 bits a row: rows start mid-byte
        np.testing.assert_array_equal(region.rows(r0, r1), grown[r0:max(r0, r1)])
    reader = ArrayReader(np.zeros((160, 240, 3), np.uint8), mpp=0.5)
    tiles = plan_grid(reader, max_object_um=3.0, tile_um=20.0, analysis_mpp=1.0, mpp=0.5,
                      tissue=TissueResult(mask=grown, thumbnail=tissue.thumbnail, scale=tissue.scale,
                                          slide_shape=tissue.slide_shape, mask_mpp=4.0, area_mm2=0.0,
                                          tissue_fraction=0.0))
    counted = 0
    for tile in tiles:
        part = region.for_tile(tile)
        px = np.ones(tile.shape, dtype=bool) if part is None else part.pixels(tile)
        rs, cs = tile.core_slices
        rows, cols = np.mgrid[rs, cs]
        r0, c0 = tile.level0_from_analysis(rows.ravel(), cols.ravel())
        expected = grown[np.floor(r0 / 8.0).astype(int), np.floor(c0 / 8.0).astype(int)]
        np.testing.assert_array_equal(px[rs, cs].ravel(), expected)
        if part is not None:
            np.testing.assert_array_equal(part.inside(r0, c0), expected)
        counted += int(px[rs, cs].sum())
    # the tiles touching the region cover all of it: its area in analysis px (2 x 2 level-0 px each)
    assert counted * 4 == int(grown.sum()) * 64


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_bad_margin_is_a_clear_error(bad: float) -> None:
    with pytest.raises(ConfigError, match="count_margin_um"):
        TissueParams(count_margin_um=bad)
    with pytest.raises(ConfigError, match="count_margin_um"):
        AnalysisConfig().replace(tissue={"count_margin_um": bad})
