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

__all__ = ["CountRegion"]


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
        n = self.shape[0] * self.shape[1]
        return np.unpackbits(self.bits, count=n).reshape(self.shape).astype(bool)

    def _index(self, coord: np.ndarray, axis: int) -> np.ndarray:
        """Mask index (along ``axis``) of level-0 coordinates: the mask pixel a point lies in, as
        :meth:`~mmnst_path.tiling.TissueResult.any_in` reads a tile core (clipped to the mask)."""
        idx = np.floor(np.asarray(coord, dtype=np.float64) / self.scale[axis])
        return np.clip(idx, 0, self.shape[axis] - 1).astype(np.intp)

    def inside(self, row_l0: np.ndarray, col_l0: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Whether level-0 points (e.g. cell centroids) lie in the region (bool array);
        ``mask``: :meth:`mask`, when the caller holds it already."""
        m = self.mask() if mask is None else mask
        return m[self._index(row_l0, 0), self._index(col_l0, 1)]

    def tile_mask(self, tile: Any, mask: np.ndarray | None = None) -> np.ndarray | None:
        """(M, N) bool: the pixels of ``tile``'s image whose centre lies in the region, or None when
        every pixel of its core does (nothing to restrict)."""
        m = self.mask() if mask is None else mask
        core = tile.core
        r0 = min(self.shape[0], max(0, math.floor(core.row / self.scale[0])))
        r1 = min(self.shape[0], max(0, math.ceil(core.row_end / self.scale[0])))
        c0 = min(self.shape[1], max(0, math.floor(core.col / self.scale[1])))
        c1 = min(self.shape[1], max(0, math.ceil(core.col_end / self.scale[1])))
        if r1 > r0 and c1 > c0 and m[r0:r1, c0:c1].all():
            return None
        rows, _ = tile.level0_from_analysis(np.arange(tile.shape[0]), 0)
        _, cols = tile.level0_from_analysis(0, np.arange(tile.shape[1]))
        return m[np.ix_(self._index(rows, 0), self._index(cols, 1))]
