"""analyze_slide starts its worker pool before planning only when the slide can hold more than
one tile, and gives the same results with the pre-started pool as in one process."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.tiling as tiling
from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig, analyze_slide
from mmnst_path.pipeline._slide import _pool_size


def test_pool_size_follows_workers_and_the_grid():
    assert _pool_size(2, None, (4000, 6000), 0.5, 512.0) == 2  # 4 x 6 tiles of 1024 px
    assert _pool_size(8, None, (1000, 1000), 0.5, 512.0) == 1  # one tile: run in-process
    assert _pool_size(8, None, (3000, 1000), 0.5, 512.0) == 3
    assert _pool_size(2, "tcp://scheduler:8786", (4000, 6000), 0.5, 512.0) == 0
    assert _pool_size(1, None, (4000, 6000), 0.5, 512.0) == 0
    assert _pool_size(0, None, (4000, 6000), 0.5, 512.0) == 0  # map_tiles reports the bad count


def _blobs(rows: int, cols: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    rgb = np.full((rows, cols, 3), (205, 180, 200), np.uint8)  # pale stained tissue everywhere
    yy, xx = np.mgrid[:rows, :cols]
    for r, c in rng.integers(12, min(rows, cols) - 12, (60, 2)):
        colour = (150, 110, 80) if rng.random() < 0.3 else (120, 110, 170)  # DAB-ish or hematoxylin-ish
        rgb[(yy - r) ** 2 + (xx - c) ** 2 < 49] = colour
    return rgb


@pytest.fixture
def started(monkeypatch):
    calls: list[int] = []
    real = tiling.start_pool

    def recording(workers, **kw):
        calls.append(workers)
        return real(workers, **kw)

    monkeypatch.setattr(tiling, "start_pool", recording)
    return calls


def test_one_tile_image_starts_no_processes(started):
    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB")
    analyze_slide(ArrayReader(_blobs(160, 200), mpp=0.5), cfg, workers=None)
    assert started == []


def test_prestarted_pool_gives_the_one_process_results(started):
    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB", tile_um=64.0)
    reader = ArrayReader(_blobs(200, 300), mpp=0.5)
    one = analyze_slide(reader, cfg, workers=1)
    two = analyze_slide(reader, cfg, workers=2)
    assert started == [2]
    assert len(one.tiles) > 2
    assert one.counts["ki67"] == two.counts["ki67"]
    assert one.counts["ki67"].denominator + one.counts["ki67"].excluded > 0
    np.testing.assert_array_equal(one.cells.row, two.cells.row)
