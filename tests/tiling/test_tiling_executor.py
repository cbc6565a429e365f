"""map_tiles: totals independent of tile size, worker count and scheduler; errors name tile and file."""

from __future__ import annotations

import numpy as np
import pytest
from tiling_fixtures import blob_slide, half, write_tiff

from mmnst_path.errors import ConfigError
from mmnst_path.io import ArrayReader, open_slide
from mmnst_path.tiling import Tile, TileError, map_tiles, plan_grid, read_tile

MPP0 = 0.25  # level-0 µm/px of the synthetic slide: analysis at 0.5 µm/px is level 1
MAX_NUCLEUS_UM = 10.0


def count_tissue_pixels(rgb: np.ndarray, tile: Tile, threshold: int) -> int:
    """Per-pixel rule at the analysis resolution, counted in the core only."""
    rs, cs = tile.core_slices
    core = rgb[rs, cs]
    return int((core.min(axis=2) < threshold).sum())


def count_owned_blobs(rgb: np.ndarray, tile: Tile) -> tuple[int, list[tuple[float, float]]]:
    """Connected dark blobs whose centroid the tile owns, and their level-0 centroids."""
    from scipy import ndimage as ndi

    dark = rgb.max(axis=2) < 150
    labels, n = ndi.label(dark)
    if n == 0:
        return 0, []
    cent = np.array(ndi.center_of_mass(dark, labels, range(1, n + 1)))
    owned = np.atleast_1d(tile.owns_analysis(cent[:, 0], cent[:, 1]))
    r0, c0 = tile.level0_from_analysis(cent[owned, 0], cent[owned, 1])
    return int(owned.sum()), list(zip(r0.tolist(), c0.tolist(), strict=True))


def fail_on_second_tile(rgb: np.ndarray, tile: Tile) -> int:
    if tile.index == 1:
        raise ValueError("synthetic failure")
    return tile.index


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    """(path, level-0 array, blob centres) of a 2-level TIFF at 0.25 µm/px."""
    img, centres = blob_slide(1200, 1600, n_blobs=60, max_diameter_px=int(MAX_NUCLEUS_UM / MPP0) - 2)
    path = write_tiff(tmp_path_factory.mktemp("exec") / "blobs.tif", [img, half(img)], mpp=MPP0)
    return path, img, centres


def _tiles(reader, tile_px: int, *, analysis_mpp: float = 0.5):
    return plan_grid(reader, max_object_um=MAX_NUCLEUS_UM, tile_um=tile_px * analysis_mpp, analysis_mpp=analysis_mpp)


def test_pixel_totals_invariant_to_tile_size_and_workers(slide):
    path, img, _ = slide
    reader = open_slide(path)
    expected = int((half(img).min(axis=2) < 200).sum())  # level 1 is the 0.5 µm/px analysis image
    totals = {}
    for tile_px in (256, 1024, 2048):
        tiles = _tiles(reader, tile_px)
        assert tiles[0].level == 1
        assert tiles[0].analysis_mpp == pytest.approx(0.5)
        for workers in (1, 2) if tile_px == 256 else (1,):
            res = map_tiles(path, tiles, count_tissue_pixels, args=(200,), workers=workers)
            totals[(tile_px, workers)] = sum(res)
    assert set(totals.values()) == {expected}, totals
    assert expected > 100_000


def test_resampled_pixel_totals_invariant(slide):
    """Only level 0 stored: the tiles are resampled 2x from it, totals still identical."""
    _, img, _ = slide
    reader = ArrayReader(img, mpp=MPP0)
    expected = int((half(img).min(axis=2) < 200).sum())
    for tile_px in (256, 1024, 2048):
        tiles = _tiles(reader, tile_px)
        assert tiles[0].level == 0
        assert tiles[0].scale == 2.0
        assert sum(map_tiles(reader, tiles, count_tissue_pixels, args=(200,), workers=1)) == expected


def test_each_blob_counted_once_whatever_the_tiling(slide):
    path, _, centres = slide
    reader = open_slide(path)
    for tile_px in (96, 256, 1024):
        tiles = _tiles(reader, tile_px)
        res = map_tiles(reader, tiles, count_owned_blobs, workers=1)
        assert sum(n for n, _ in res) == len(centres)
        found = np.array(sorted(p for _, pts in res for p in pts))
        # every true centre found within a level-0 pixel or so (the analysis pixel is 2 level-0 px)
        d = np.sqrt(((found[:, None, :] - centres[None, :, :]) ** 2).sum(-1)).min(axis=0)
        assert d.max() < 1.5


def test_two_workers_same_results_in_order_with_progress(slide):
    path, _, _ = slide
    reader = open_slide(path)
    tiles = _tiles(reader, 128)
    assert len(tiles) > 8
    calls: list[tuple[int, int]] = []
    one = map_tiles(path, tiles, count_tissue_pixels, args=(200,), workers=1)
    two = map_tiles(
        path, tiles, count_tissue_pixels, args=(200,), workers=2, max_in_flight=3,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert one == two
    assert calls[0] == (0, len(tiles))
    assert calls[-1] == (len(tiles), len(tiles))
    assert [d for d, _ in calls] == list(range(len(tiles) + 1))


def test_in_memory_source_with_two_workers(slide):
    _, img, _ = slide
    reader = ArrayReader(img, mpp=MPP0)
    tiles = _tiles(reader, 512)
    assert map_tiles(reader, tiles, count_tissue_pixels, args=(200,), workers=2) == map_tiles(
        reader, tiles, count_tissue_pixels, args=(200,), workers=1
    )


def test_dask_local_cluster_gives_the_same_numbers(slide):
    import distributed
    path, _, _ = slide
    reader = open_slide(path)
    tiles = _tiles(reader, 256)
    local = map_tiles(path, tiles, count_tissue_pixels, args=(200,), workers=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_client = map_tiles(path, tiles, count_tissue_pixels, args=(200,), scheduler=client, max_in_flight=2)
        by_address = map_tiles(path, tiles, count_tissue_pixels, args=(200,), scheduler=cluster.scheduler_address)
    assert on_client == local
    assert by_address == local


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_error_names_tile_and_file(slide, workers):
    path, _, _ = slide
    tiles = _tiles(open_slide(path), 256)
    with pytest.raises(TileError) as info:
        map_tiles(path, tiles, fail_on_second_tile, workers=workers)
    msg = str(info.value)
    assert "tile 1 " in msg
    assert str(path) in msg
    assert "synthetic failure" in msg
    assert "ValueError" in msg


def test_unpicklable_function_is_refused(slide):
    path, _, _ = slide
    tiles = _tiles(open_slide(path), 256)
    with pytest.raises(ConfigError, match="module-level"):
        map_tiles(path, tiles, lambda rgb, tile: 0, workers=2)


def test_bad_arguments(slide):
    path, _, _ = slide
    tiles = _tiles(open_slide(path), 256)
    with pytest.raises(ConfigError, match="workers"):
        map_tiles(path, tiles, count_tissue_pixels, args=(200,), workers=0)
    with pytest.raises(ConfigError, match="source"):
        map_tiles(42, tiles, count_tissue_pixels, args=(200,))
    assert map_tiles(path, (), count_tissue_pixels) == []


def test_read_tile_shape_and_white_outside(slide):
    path, img, _ = slide
    reader = open_slide(path)
    tiles = _tiles(reader, 256)
    first = read_tile(reader, tiles[0])
    assert first.shape == (*tiles[0].shape, 3)
    assert first.dtype == np.uint8
    # by default the halo past the slide's edge reads as white
    h = tiles[0].halo
    assert tiles[0].origin == (-h, -h)
    assert (first[:h, :] == 255).all()
    assert (first[:, :h] == 255).all()
    np.testing.assert_array_equal(first[h:h + 50, h:h + 50], half(img)[:50, :50])
    # clipped at the edge: the first tile starts at the slide's corner
    clipped = plan_grid(reader, max_object_um=MAX_NUCLEUS_UM, tile_um=256 * 0.5, analysis_mpp=0.5,
                        clip_at_edge=True)
    img_clip = read_tile(reader, clipped[0])
    assert clipped[0].origin == (0, 0)
    assert img_clip.shape == (256 + h, 256 + h, 3)
    np.testing.assert_array_equal(img_clip[:50, :50], half(img)[:50, :50])


class _CountingReader(ArrayReader):
    """Records every tile read (in-memory sources are read by the parent at submission)."""

    def __init__(self, image, *, mpp, events):
        super().__init__(image, mpp=mpp)
        self.events = events

    def read_region(self, box, level=0):
        self.events.append("read")
        return super().read_region(box, level)


def test_tiles_in_flight_are_bounded(slide):
    _, img, _ = slide
    events: list[str] = []
    reader = _CountingReader(img, mpp=MPP0, events=events)
    tiles = _tiles(reader, 100)
    assert len(tiles) > 20
    res = map_tiles(reader, tiles, count_tissue_pixels, args=(200,), workers=2, max_in_flight=3,
                    progress=lambda d, t: events.append("done") if d else None)
    assert len(res) == len(tiles)
    in_flight = np.cumsum([1 if e == "read" else -1 for e in events])
    assert in_flight.max() == 3
    assert in_flight[-1] == 0


def test_worker_reader_cache_is_bounded(monkeypatch):
    import mmnst_path.io
    from mmnst_path.tiling import executor

    opened = []

    class FakeReader:
        def __init__(self, path, mpp):
            self.path, self.mpp, self.closed = path, mpp, False
            opened.append(self)

        def close(self):
            self.closed = True

    monkeypatch.setattr(mmnst_path.io, "open_slide", FakeReader)
    monkeypatch.setattr(executor._LOCAL, "readers", None, raising=False)
    sources = [executor._PathSource(f"/slides/{i}.svs", None) for i in range(executor.READER_CACHE_SIZE + 1)]
    first = executor._cached_reader(sources[0])
    assert executor._cached_reader(sources[0]) is first  # opened once, then reused
    for src in sources[1:]:
        executor._cached_reader(src)
    assert len(opened) == len(sources)
    assert first.closed  # least recently used closed beyond the cache size
    assert not any(r.closed for r in opened[1:])
