"""map_tiles(order=...): tiles start in the given order (costliest first keeps a pool busy to
the end), results come back in tile order whatever the order, workers or scheduler."""

from __future__ import annotations

import numpy as np
import pytest
from tiling_fixtures import blob_slide, half, write_tiff

from mmnst_path.errors import ConfigError
from mmnst_path.io import open_slide
from mmnst_path.tiling import Tile, costliest_first, map_tiles, plan_grid

STARTED: list[int] = []


def dark_pixels(rgb: np.ndarray, tile: Tile) -> tuple[int, int]:
    STARTED.append(tile.index)  # in-process runs only (workers=1)
    rs, cs = tile.core_slices
    return tile.index, int((rgb[rs, cs].max(axis=2) < 150).sum())


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    img, _ = blob_slide(600, 900, n_blobs=30, max_diameter_px=30)
    return write_tiff(tmp_path_factory.mktemp("order") / "blobs.tif", [img, half(img)], mpp=0.25)


def test_costliest_first_is_decreasing_and_stable():
    assert costliest_first([1.0, 5.0, 3.0, 5.0, 0.0]) == [1, 3, 2, 0, 4]
    assert costliest_first([]) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_results_in_tile_order_whatever_the_start_order(slide, workers):
    reader = open_slide(slide)
    tiles = plan_grid(reader, max_object_um=10.0, tile_um=64.0, analysis_mpp=0.5)
    assert len(tiles) >= 6
    order = list(range(len(tiles)))[::-1]
    order[0], order[2] = order[2], order[0]
    STARTED.clear()
    progress: list[tuple[int, int]] = []
    got = map_tiles(slide, tiles, dark_pixels, workers=workers, order=order,
                    progress=lambda d, n: progress.append((d, n)))
    plain = map_tiles(slide, tiles, dark_pixels, workers=1)
    assert got == plain
    assert [i for i, _ in got] == list(range(len(tiles)))
    assert progress[0] == (0, len(tiles))
    assert progress[-1] == (len(tiles), len(tiles))
    if workers == 1:  # in this process: the tiles were started in the given order, then in tile order
        assert STARTED == order + list(range(len(tiles)))


def test_order_must_be_a_permutation(slide):
    reader = open_slide(slide)
    tiles = plan_grid(reader, max_object_um=10.0, tile_um=128.0, analysis_mpp=0.5)
    for bad in ([0, 0, *range(2, len(tiles))], list(range(len(tiles) - 1)), [*range(1, len(tiles) + 1)]):
        with pytest.raises(ConfigError, match="permutation"):
            map_tiles(slide, tiles, dark_pixels, workers=1, order=bad)


WARMED: list[str] = []


def remember(tag: str) -> None:
    WARMED.append(tag)


def fail_to_warm(tag: str) -> None:
    raise RuntimeError(f"cannot warm {tag}")


def warmed_and_pid(rgb: np.ndarray, tile: Tile) -> tuple[int, list[str], int]:
    import os

    return tile.index, list(WARMED), os.getpid()


def test_started_pool_warms_every_worker_and_outlives_map_tiles(slide):
    from mmnst_path.tiling import start_pool

    reader = open_slide(slide)
    tiles = plan_grid(reader, max_object_um=10.0, tile_um=64.0, analysis_mpp=0.5)
    pool = start_pool(2, warm_up=remember, args=("models",))
    try:
        first = map_tiles(slide, tiles, warmed_and_pid, workers=2, pool=pool)
        again = map_tiles(slide, tiles[:3], warmed_and_pid, workers=2, pool=pool)  # the pool still runs
    finally:
        pool.shutdown()
    assert [i for i, _, _ in first] == list(range(len(tiles)))
    assert all(w == ["models"] for _, w, _ in first + again)  # warmed once per process, before any tile
    assert len({pid for _, _, pid in first + again}) <= 2  # the same two processes both times
    assert WARMED == []  # not in this process


def test_a_failing_warm_up_does_not_break_the_pool(slide):
    from mmnst_path.tiling import start_pool

    reader = open_slide(slide)
    tiles = plan_grid(reader, max_object_um=10.0, tile_um=128.0, analysis_mpp=0.5)
    pool = start_pool(2, warm_up=fail_to_warm, args=("x",))
    try:
        got = map_tiles(slide, tiles, dark_pixels, workers=2, pool=pool)
    finally:
        pool.shutdown()
    assert got == map_tiles(slide, tiles, dark_pixels, workers=1)
    with pytest.raises(ConfigError, match="workers"):
        start_pool(0)
