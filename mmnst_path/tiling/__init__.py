"""Tiling: tissue detection on a thumbnail, grid planning with halos, and the tile executor.

``detect_tissue`` finds tissue on a low-resolution thumbnail, ``plan_grid`` cuts the slide into
tiles that own disjoint cores and are read with a halo, ``read_tile`` reads one tile at the
analysis resolution and ``map_tiles`` runs a function over all tiles on local processes or a
Dask cluster, returning results in tile order.
"""

from __future__ import annotations

from .executor import TileError, costliest_first, map_tiles, start_pool
from .grid import SlideGeometry, Tile, as_polygons, halo_px, plan_grid, read_tile
from .tissue import TissueParams, TissueResult, detect_tissue, tissue_mask

__all__ = [
    "SlideGeometry",
    "Tile",
    "TileError",
    "TissueParams",
    "TissueResult",
    "as_polygons",
    "costliest_first",
    "detect_tissue",
    "halo_px",
    "map_tiles",
    "plan_grid",
    "read_tile",
    "start_pool",
    "tissue_mask",
]
