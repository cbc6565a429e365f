"""Grid planning: level choice, halo, exact core partition, tissue and ROI filters."""

from __future__ import annotations

import numpy as np
import pytest
from tiling_fixtures import write_tiff

from mmnst_path.errors import ConfigError, MissingMetadataError, RegionError
from mmnst_path.geometry import Box
from mmnst_path.io import open_slide
from mmnst_path.tiling import SlideGeometry, TissueParams, TissueResult, halo_px, plan_grid, read_tile

BIG = SlideGeometry(((40000, 30000), (10000, 7500), (2500, 1875)), (1.0, 4.0005, 16.002), 0.125)


@pytest.mark.parametrize(
    ("mpp0", "level", "analysis_mpp", "scale"),
    [
        (0.125, 1, 0.125 * 4.0005, 4.0005),  # level 1 within 2 %: read as is
        (0.25, 0, 0.5, 2.0),  # level 1 would be 1.0 µm/px: resample level 0 by 2
        (0.495, 0, 0.495, 1.0),  # level 0 within 2 % of the target
        (0.3, 0, 0.5, 0.5 / 0.3),  # non-integer resampling
    ],
)
def test_level_choice_and_effective_mpp(mpp0, level, analysis_mpp, scale):
    geo = SlideGeometry(BIG.level_shapes, BIG.level_downsamples, mpp0)
    tile = plan_grid(geo, max_object_um=20, tile_um=2000)[0]
    assert tile.level == level
    assert tile.analysis_mpp == pytest.approx(analysis_mpp)
    assert tile.scale == pytest.approx(scale)
    assert tile.halo == halo_px(20, analysis_mpp)


def test_coarser_slide_is_not_upsampled():
    geo = SlideGeometry(((1000, 1000),), (1.0,), 1.0)
    with pytest.warns(UserWarning, match="coarser"):
        tiles = plan_grid(geo, max_object_um=20)
    assert tiles[0].analysis_mpp == 1.0
    assert tiles[0].scale == 1.0


def test_missing_mpp_is_a_clear_error_and_override_works():
    geo = SlideGeometry(((1000, 1200),), (1.0,), None)
    with pytest.raises(MissingMetadataError, match="mpp"):
        plan_grid(geo, max_object_um=20)
    assert plan_grid(geo, max_object_um=20, mpp=0.5, tile_um=100)[0].analysis_mpp == 0.5


def test_halo_is_the_largest_object_plus_context():
    assert halo_px(20.0, 0.5) == 40
    assert halo_px(20.0, 0.5, context_um=5.0) == 50
    assert halo_px(0.0, 0.5) == 0
    with pytest.raises(ConfigError, match="max_object_um"):
        halo_px(-1.0, 0.5)
    tiles = plan_grid(SlideGeometry(((1000, 1000),), (1.0,), 0.25), max_object_um=10, tile_um=100)
    t = tiles[4]  # an inner tile (3 x 3 grid, the last row and column are narrower)
    assert t.halo == 20
    assert t.read == t.core.expand(40)  # 20 analysis px = 40 level-0 px
    assert t.shape == (200 + 40, 200 + 40)


@pytest.mark.parametrize(("shape", "mpp0", "tile_um"), [((333, 517), 0.3, 32.0), ((401, 299), 0.25, 50.0), ((257, 300), 0.5, 40.0)])
def test_cores_and_core_slices_partition_the_slide(shape, mpp0, tile_um):
    tiles = plan_grid(SlideGeometry((shape,), (1.0,), mpp0), max_object_um=6, tile_um=tile_um)
    cover = np.zeros(shape, np.int32)
    for t in tiles:
        cover[t.core.row : t.core.row_end, t.core.col : t.core.col_end] += 1
    assert (cover == 1).all()
    # the analysis pixels whose centre lies in the slide are owned by exactly one tile
    scale = tiles[0].scale
    n_rows, n_cols = int(np.ceil(shape[0] / scale)), int(np.ceil(shape[1] / scale))
    owned = np.zeros((n_rows + 1, n_cols + 1), np.int32)
    for t in tiles:
        rs, cs = t.core_slices
        owned[t.origin[0] + rs.start : t.origin[0] + rs.stop, t.origin[1] + cs.start : t.origin[1] + cs.stop] += 1
        # owns() agrees with core_slices on pixel centres
        rr, cc = np.mgrid[0 : t.shape[0], 0 : t.shape[1]]
        inside = np.zeros(t.shape, bool)
        inside[rs, cs] = True
        assert (t.owns_analysis(rr, cc) == inside).all()
    centres = (np.arange(n_rows + 1) + 0.5) * scale - 0.5
    centres_c = (np.arange(n_cols + 1) + 0.5) * scale - 0.5
    in_slide = (centres[:, None] < shape[0]) & (centres_c[None, :] < shape[1])
    assert (owned[in_slide] == 1).all()
    assert (owned[~in_slide] == 0).all()


def test_owns_is_half_open_and_unique():
    tiles = plan_grid(SlideGeometry(((1000, 1000),), (1.0,), 0.5), max_object_um=10, tile_um=100)
    a, b = tiles[0], tiles[1]
    assert a.core.col_end == b.core.col == 200
    assert a.owns(0, 199.999)
    assert not a.owns(0, 200)
    assert b.owns(0, 200)
    pts = np.random.default_rng(0).uniform(0, 1000, size=(2000, 2))
    owners = sum(np.asarray(t.owns(pts[:, 0], pts[:, 1]), dtype=int) for t in tiles)
    assert (owners == 1).all()


def test_coordinate_mappings_are_inverse():
    t = plan_grid(SlideGeometry(((5000, 5000),), (1.0,), 0.3), max_object_um=10, tile_um=300)[7]
    r, c = np.array([0.0, 13.5, 400.0]), np.array([3.0, 250.25, 0.0])
    r0, c0 = t.level0_from_analysis(r, c)
    r1, c1 = t.analysis_from_level0(r0, c0)
    np.testing.assert_allclose(r1, r)
    np.testing.assert_allclose(c1, c)
    # the first core pixel maps into the core's level-0 top-left corner
    rs, cs = t.core_slices
    rr, cc = t.level0_from_analysis(rs.start, cs.start)
    assert t.core.row <= rr < t.core.row + t.scale
    assert t.core.col <= cc < t.core.col + t.scale


def _tissue(mask: np.ndarray, shape: tuple[int, int]) -> TissueResult:
    return TissueResult(
        mask=mask, thumbnail=np.zeros((*mask.shape, 3), np.uint8),
        scale=(shape[0] / mask.shape[0], shape[1] / mask.shape[1]), slide_shape=shape,
        mask_mpp=None, area_mm2=None, tissue_fraction=float(mask.mean()), params=TissueParams(),
    )


def test_tiles_without_tissue_are_skipped():
    shape = (2000, 3000)
    mask = np.zeros((20, 30), bool)
    mask[5:9, 10:12] = True  # level-0 rows 500-900, cols 1000-1200
    geo = SlideGeometry((shape,), (1.0,), 0.5)
    all_tiles = plan_grid(geo, max_object_um=10, tile_um=200)  # 400 px tiles
    kept = plan_grid(geo, max_object_um=10, tile_um=200, tissue=_tissue(mask, shape))
    assert len(all_tiles) == 5 * 8
    assert [t.grid_pos for t in kept] == [(1, 2), (2, 2)]
    assert [t.index for t in kept] == [0, 1]
    strict = plan_grid(geo, max_object_um=10, tile_um=200, tissue=_tissue(mask, shape), min_tissue_fraction=0.3)
    assert [t.grid_pos for t in strict] == [(1, 2)]
    with pytest.raises(RegionError, match="shape"):
        plan_grid(geo, max_object_um=10, tissue=_tissue(mask, (100, 100)))


def test_roi_restricts_tiles():
    geo = SlideGeometry(((2000, 2000),), (1.0,), 0.5)
    kw = {"max_object_um": 10, "tile_um": 250}  # 500 px tiles, 4 x 4
    triangle = np.array([[100, 100], [100, 880], [880, 100]])  # misses tile (1, 1)
    assert sorted(t.grid_pos for t in plan_grid(geo, roi=[triangle], **kw)) == [(0, 0), (0, 1), (1, 0)]
    big = np.array([[-10, -10], [-10, 5000], [5000, 5000], [5000, -10]])  # covers everything
    assert len(plan_grid(geo, roi=[big], **kw)) == 16
    inside = np.array([[1600, 1600], [1600, 1700], [1700, 1650]])  # within one tile
    assert [t.grid_pos for t in plan_grid(geo, roi=[inside, triangle], **kw)] == [(0, 0), (0, 1), (1, 0), (3, 3)]
    with pytest.raises(ConfigError, match="roi"):
        plan_grid(geo, roi=[np.zeros((2, 2))], **kw)


def test_unaligned_level_is_read_without_resampling(tmp_path):
    """A level whose downsample is not an integer (1001 -> 250 rows) is read pixel for pixel."""
    rng = np.random.default_rng(3)
    lv0 = rng.integers(0, 256, (1001, 1501, 3), dtype=np.uint8)
    lv1 = rng.integers(0, 256, (250, 375, 3), dtype=np.uint8)
    reader = open_slide(write_tiff(tmp_path / "odd.tif", [lv0, lv1], mpp=0.125, tile=64))
    tiles = plan_grid(reader, max_object_um=4, tile_um=40)  # 80 level-1 px
    assert tiles[0].level == 1
    assert tiles[0].analysis_mpp == pytest.approx(0.125 * reader.level_downsamples[1])
    canvas = np.zeros_like(lv1)
    for t in tiles:
        img = read_tile(reader, t)
        assert img.shape[:2] == t.shape
        rs, cs = t.core_slices
        canvas[t.origin[0] + rs.start : t.origin[0] + rs.stop, t.origin[1] + cs.start : t.origin[1] + cs.stop] = img[rs, cs]
    np.testing.assert_array_equal(canvas, lv1)


def test_bad_parameters():
    geo = SlideGeometry(((100, 100),), (1.0,), 0.5)
    with pytest.raises(ConfigError, match="tile_um"):
        plan_grid(geo, max_object_um=10, tile_um=0)
    with pytest.raises(ConfigError, match="min_tissue_fraction"):
        plan_grid(geo, max_object_um=10, min_tissue_fraction=2)
    assert SlideGeometry.of(geo) == geo
    assert Box(0, 0, 1, 1).area == 1


def test_read_box_stops_at_the_slide_edge_when_asked():
    geo = SlideGeometry(((1000, 1000),), (1.0,), 0.25)
    tiles = plan_grid(geo, max_object_um=10, tile_um=100, clip_at_edge=True)
    for t in tiles:  # every read lies in the slide; the halo is only cut on the edge's side
        assert t.read.row >= 0
        assert t.read.col >= 0
        assert t.read.row_end <= 1000
        assert t.read.col_end <= 1000
        assert t.read.row == max(t.core.row - 40, 0)
        assert t.read.row_end == min(t.core.row_end + 40, 1000)
    corner = tiles[0]
    assert corner.read == Box(0, 0, 400 + 40, 400 + 40)
    assert corner.origin == (0, 0)
    assert corner.core_slices == (slice(0, 200), slice(0, 200))
    padded = plan_grid(geo, max_object_um=10, tile_um=100)  # the default: white margins
    assert padded[0].read == Box(-40, -40, 400 + 80, 400 + 80)
    assert padded[0].origin == (-20, -20)
    assert padded[0].core_slices == (slice(20, 220), slice(20, 220))
    assert padded[4] == tiles[4]  # inner tiles are the same either way
