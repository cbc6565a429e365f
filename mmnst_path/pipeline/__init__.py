"""The analysis pipeline: :class:`AnalysisConfig`, :func:`analyze_slide` and :func:`analyze_region`.

One code path for slides and in-memory tiles::

    open_slide -> detect_tissue -> plan_grid (halo from the largest nucleus)
      -> map_tiles(source, tiles, analyze_tile, job)        (worker processes reopen the slide)
           per tile: Ki67 cells (kept when the tile core owns the centroid and, with an ROI,
           when the centroid is inside it), melanin / necrosis areas on the core only
      -> aggregate: additive counts summed, ratios once from totals, hot spot, maps
      -> SlideResult

Because every tile is read with a halo wider than the detector's support and only what its core
owns is counted, totals do not depend on the tile size or the number of workers.
"""

from __future__ import annotations

from ._config import MEASURES, AnalysisConfig, applicable_measures, guess_stains
from ._slide import analyze_region, analyze_slide
from ._train import (
    cell_rows_from_reader,
    read_cell_annotations,
    read_tissue_annotations,
    read_tissue_polygons,
    train_cells,
    train_tissue,
)
from ._train_pigment import train_pigment
from ._warmup import compile_kernels, kernel_stats
from ._worker import TileJob, TileOutput, analyze_tile

__all__ = [
    "MEASURES",
    "AnalysisConfig",
    "TileJob",
    "TileOutput",
    "analyze_region",
    "analyze_slide",
    "analyze_tile",
    "applicable_measures",
    "cell_rows_from_reader",
    "compile_kernels",
    "guess_stains",
    "kernel_stats",
    "read_cell_annotations",
    "read_tissue_annotations",
    "read_tissue_polygons",
    "train_cells",
    "train_pigment",
    "train_tissue",
]
