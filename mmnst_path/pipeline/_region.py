"""The counted region of a slide: where its cells and areas count, whatever its tile size.

A slide's tiles are the grid tiles whose core touches the tissue mask. Before this region existed,
everything a selected core held was counted, so the counted area was the union of those cores: a
larger tile size reached further into the glass around the tissue and could add cells there (CMU-1:
6 cells at 576 µm that 512 µm did not see). The region is the tissue mask grown by
``TissueParams.count_margin_um``, on the mask's own grid; tiles are selected by touching it and
count only what lies in it, so the counted cells and areas are the same for every tile size (up to
the floating-point position of a cell on a mask pixel's edge). Used by
:mod:`mmnst_path.pipeline._slide` (building it, planning the tiles) and
:mod:`mmnst_path.pipeline._worker` (restricting a tile's owned pixels and cells).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CountRegion", "TileRegion"]


@dataclass(frozen=True, eq=False)
class CountRegion:
    """A bool mask on a slide's tissue-mask grid, packed to travel with every tile job.

    Attributes
    ----------
    bits : (k,) uint8 ndarray
        ``np.packbits`` of the mask (row-major).
    shape : (int, int)
        Mask shape (rows, cols).
    scale : (float, float)
        Level-0 pixels per mask pixel along rows and columns (as :class:`~mmnst_path.tiling.TissueResult`).
    """

    bits: np.ndarray
    shape: tuple[int, int]
    scale: tuple[float, float]

    @classmethod
    def from_tissue(cls, tissue: Any, margin_um: float) -> CountRegion:
        """The tissue mask of ``tissue`` (a :class:`~mmnst_path.tiling.TissueResult`) grown by a disk
        of ``margin_um`` (radius rounded to mask pixels; not grown when that is 0 px or the mask's
        pixel size is unknown)."""
        mask = np.asarray(tissue.mask, dtype=bool)
        radius = 0 if tissue.mask_mpp is None else round(margin_um / float(tissue.mask_mpp))
        if radius > 0 and mask.any() and not mask.all():
            from scipy import ndimage as ndi

            # the dilation by a disk of that radius (pixels within it of a mask pixel's centre), in
            # linear time whatever the radius
            mask = ndi.distance_transform_edt(~mask) <= radius
        return cls(np.packbits(mask, axis=None), (int(mask.shape[0]), int(mask.shape[1])),
                   (float(tissue.scale[0]), float(tissue.scale[1])))

    def mask(self) -> np.ndarray:
        """The (rows, cols) bool mask."""
        return self.rows(0, self.shape[0])

    def rows(self, r0: int, r1: int) -> np.ndarray:
        """Rows ``r0:r1`` of the mask (clipped), unpacked from their bytes only: a tile reads the
        rows under its core, not the whole slide's mask."""
        r0, r1 = max(0, r0), min(self.shape[0], max(r0, r1))
        n = self.shape[1]
        first, last = r0 * n, r1 * n  # bit range, row-major
        part = np.unpackbits(self.bits[first // 8 : (last + 7) // 8])
        start = first - 8 * (first // 8)
        return part[start : start + last - first].reshape(r1 - r0, n).astype(bool)

    def _index(self, coord: np.ndarray, axis: int) -> np.ndarray:
        """Mask index (along ``axis``) of level-0 coordinates: the mask pixel a point lies in, as
        :meth:`~mmnst_path.tiling.TissueResult.any_in` reads a tile core (clipped to the mask)."""
        idx = np.floor(np.asarray(coord, dtype=np.float64) / self.scale[axis])
        return np.clip(idx, 0, self.shape[axis] - 1).astype(np.intp)

    def for_tile(self, tile: Any) -> TileRegion | None:
        """The part of the region a tile's core can count in, or None when the whole core lies
        inside it (nothing to restrict)."""
        core = tile.core
        r0 = min(self.shape[0], max(0, math.floor(core.row / self.scale[0])))
        r1 = min(self.shape[0], max(0, math.ceil(core.row_end / self.scale[0])))
        c0 = min(self.shape[1], max(0, math.floor(core.col / self.scale[1])))
        c1 = min(self.shape[1], max(0, math.ceil(core.col_end / self.scale[1])))
        part = self.rows(r0, r1)
        if r1 > r0 and c1 > c0 and part[:, c0:c1].all():
            return None
        return TileRegion(self, part, r0)


@dataclass(frozen=True, eq=False)
class TileRegion:
    """The rows of a :class:`CountRegion` under one tile's core (``part``, from mask row ``row0``):
    what that tile counts in. Points and pixels outside those rows are outside the core, so they
    read as outside (the core owns none of them)."""

    region: CountRegion
    part: np.ndarray
    row0: int

    def inside(self, row_l0: np.ndarray, col_l0: np.ndarray) -> np.ndarray:
        """Whether level-0 points (e.g. cell centroids of the core) lie in the region (bool array)."""
        ri, ci = np.broadcast_arrays(self.region._index(row_l0, 0) - self.row0, self.region._index(col_l0, 1))
        ok = (ri >= 0) & (ri < self.part.shape[0])
        out = np.zeros(ri.shape, dtype=bool)
        out[ok] = self.part[ri[ok], ci[ok]]
        return out

    def pixels(self, tile: Any) -> np.ndarray:
        """(M, N) bool: the pixels of the tile's image whose centre lies in the region (within the
        core's rows; the rest is not owned by the core anyway)."""
        rows, _ = tile.level0_from_analysis(np.arange(tile.shape[0]), 0)
        _, cols = tile.level0_from_analysis(0, np.arange(tile.shape[1]))
        ri = self.region._index(rows, 0) - self.row0
        ok = (ri >= 0) & (ri < self.part.shape[0])
        out = np.zeros(tuple(tile.shape), dtype=bool)
        out[ok] = self.part[ri[ok]][:, self.region._index(cols, 1)]
        return out
