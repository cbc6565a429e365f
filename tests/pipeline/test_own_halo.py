"""A slide's melanin does not depend on which other measures ran: the pigment and melanin stages
read the tile image a melanin-only run reads (the core grown by the melanin halo), however wide
the halo necrosis and the tissue classes set (``_worker.OWN_HALO``; session 37 H10)."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.pipeline._worker as worker
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import he_melanin_tile
from mmnst_path.tiling import halo_px


def _melanin(result) -> tuple:
    """Everything a result says about melanin: counts, metrics, map, per-tile areas."""
    metrics = {k: v for k, v in result.metrics.items() if k.startswith("melanin") and "tumour" not in k}
    tiles = np.asarray(result.tiles.columns["melanin_um2"])
    return result.counts["melanin"], metrics, np.asarray(result.maps["melanin"].image), tiles


@pytest.fixture(scope="module")
def he_slide() -> np.ndarray:
    """A generated H&E field with melanin, three 128 µm tile cores a side at 0.5 µm/px."""
    return he_melanin_tile(11, size=720, mpp=0.5, n_pigmented=80).rgb


def _run(rgb: np.ndarray, measures: tuple[str, ...], tile_um: float = 128.0):
    cfg = AnalysisConfig(stains="H&E", measures=measures, tile_um=tile_um)
    return analyze_region(rgb, cfg, mpp=0.5)


def test_melanin_is_the_same_with_and_without_necrosis(he_slide):
    both = _run(he_slide, ("melanin", "necrosis"))
    alone = _run(he_slide, ("melanin",))
    assert len(both.tiles) == 9  # (several tiles: the halos differ between the two runs)
    assert both.tiles.core.tolist() == alone.tiles.core.tolist()
    got, ref = _melanin(both), _melanin(alone)
    assert ref[0].melanin_um2 > 0  # melanin to compare
    assert got[0] == ref[0]
    assert got[1] == ref[1]
    np.testing.assert_array_equal(got[2], ref[2])
    np.testing.assert_array_equal(got[3], ref[3])
    assert "necrosis_area_mm2" in both.metrics  # the class map still ran, on the whole tile


def test_own_window_is_the_melanin_only_tile_image():
    cfg = AnalysisConfig(stains="H&E", measures=("melanin", "necrosis"))
    matrix = cfg.stain_matrix()
    from mmnst_path.pipeline._reach import halo_parts

    mpp = 0.5
    big = halo_px(max(halo_parts(cfg, ("melanin", "necrosis")).values()), mpp)
    own = halo_px(max(halo_parts(cfg, ("melanin",)).values()), mpp)
    assert big > own  # necrosis reads further than melanin

    class _Tile:  # the two fields :func:`_own_window` reads
        halo = big
        shape = (256 + 2 * big, 300 + 2 * big)

    job = worker.TileJob(config=cfg, matrix=matrix, measures=("melanin", "necrosis"), roi=None, map_px=64)
    rows, cols = worker._own_window(_Tile(), job, mpp)
    assert (rows.start, rows.stop - rows.start) == (big - own, 256 + 2 * own)
    assert (cols.start, cols.stop - cols.start) == (big - own, 300 + 2 * own)
    # Ki67 shares the pigment pass (its exclusion mask): the whole tile image, as before
    job_k = worker.TileJob(config=cfg, matrix=matrix, measures=("ki67", "melanin", "necrosis"), roi=None, map_px=64)
    assert worker._own_window(_Tile(), job_k, mpp) is None
    job_n = worker.TileJob(config=cfg, matrix=matrix, measures=("necrosis",), roi=None, map_px=64)
    assert worker._own_window(_Tile(), job_n, mpp) is None


def test_switch_off_reads_the_whole_tile(monkeypatch, he_slide):
    """With OWN_HALO off the pigment stage reads the necrosis halo again: the necrosis run's other
    values (necrosis, tissue classes) are the same either way."""
    on = _run(he_slide, ("melanin", "necrosis"))
    monkeypatch.setattr(worker, "OWN_HALO", False)
    off = _run(he_slide, ("melanin", "necrosis"))
    for key, value in on.metrics.items():
        if not key.startswith("melanin"):
            assert off.metrics[key] == value or (value != value and off.metrics[key] != off.metrics[key]), key
    np.testing.assert_array_equal(np.asarray(on.maps["necrosis"].image), np.asarray(off.maps["necrosis"].image))


def test_one_tile_matches_the_tiled_runs_tissue(he_slide):
    """Tiled vs one tile: the same tissue and owned area; the melanin of the two is reported side by
    side (the pigment stage reads its whole image, so tiling may move it: not asserted equal)."""
    tiled = _run(he_slide, ("melanin", "necrosis"))
    one = _run(he_slide, ("melanin", "necrosis"), tile_um=1000.0)
    assert len(one.tiles) == 1
    assert one.counts["melanin"].region_um2 == tiled.counts["melanin"].region_um2
    assert one.metrics["melanin_area_mm2"] > 0
    # the melanin-only one tile is the same as the one tile with necrosis (the own halo, whatever else ran)
    one_alone = _run(he_slide, ("melanin",), tile_um=1000.0)
    assert one_alone.counts["melanin"] == one.counts["melanin"]
