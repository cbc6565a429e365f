"""Nucleus seeds on the 1 µm grid (``[nuclei] seed_scale_um``, opt-in) through the pipeline: the
tile halo counts the coarse LoG's reach, so a region cut into small tiles gives the cells of the
whole region.

The Ki67 stage passes nucleus detection its position in the tile image, not on the slide's grid,
so the 2-pixel blocks line up across tiles only when the tile images start on even pixels: even
cores (224 px here) do; 225-px cores do not (197 / 194 negatives whole / tiled on this crop,
session 26 H3) until the worker passes ``grid_origin``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._reach import ki67_halo_parts

SAMPLES = Path(__file__).resolve().parents[2] / "sample_tiles"


def test_coarse_seeds_do_not_depend_on_the_tiling() -> None:
    import tifffile

    rgb = tifffile.imread(SAMPLES / "ki67_primary.tif")[:448, :448]
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "nuclei": {"seed_scale_um": 1.0}})
    plain = AnalysisConfig(stains="H-DAB", measures=("ki67",))
    assert ki67_halo_parts(cfg)["detection"] > ki67_halo_parts(plain)["detection"]
    whole = analyze_region(rgb, cfg, mpp=0.5)
    tiled = analyze_region(rgb, cfg.replace(tile_um=112.5), mpp=0.5)  # 225-px cores: odd tile origins
    assert len(tiled.tiles) == 4
    assert whole.counts["ki67"] == tiled.counts["ki67"]
    assert whole.counts["ki67"].denominator > 100
    a, b = whole.cells, tiled.cells
    oa, ob = np.lexsort((a.col, a.row)), np.lexsort((b.col, b.row))
    np.testing.assert_allclose(a.row[oa], b.row[ob], atol=1e-9)
    np.testing.assert_allclose(a.col[oa], b.col[ob], atol=1e-9)
    np.testing.assert_array_equal(np.asarray(a.cls)[oa], np.asarray(b.cls)[ob])
    np.testing.assert_array_equal(a.columns["area_um2"][oa], b.columns["area_um2"][ob])
    # the coarse grid is not the default: the cells differ from the default run's
    c = np.sort(analyze_region(rgb, plain, mpp=0.5).cells.row)
    assert c.shape != a.row.shape or not np.array_equal(c, np.sort(a.row))
