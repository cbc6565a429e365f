"""When the necrosis class map of a tile computed from part of its block grid is the whole grid's.

:func:`mmnst_path.classify.tissue.classify_tissue` with a ``window`` classifies only the blocks around the
tile's core (the others read as background); the pipeline then needs the necrosis class map
(:func:`mmnst_path.quantify._necrosis_model.necrosis_labels`) on the core's blocks to be the one the whole grid
gives. Every step but one is local and its reach known: the probability smoothing and the fat rim
(:func:`reach_blocks`), the intact-nucleus veto (its density window and regrowth, where the model called
necrosis). The minimum area is not: a necrotic region is kept or dropped by its whole size, which the
window may cut. :func:`check_exact` proves, from what the window gives, that the core's result is the whole
grid's, or raises :class:`NotExact` (the caller then classifies the whole grid).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

__all__ = ["NotExact", "check_exact", "reach_blocks", "shrink", "veto_reach_blocks"]


class NotExact(Exception):
    """The window of a tissue map is too small to prove the needed blocks' necrosis class map exact."""


def reach_blocks(smooth_um: float, block_mpp: float) -> int:
    """Blocks from the class probabilities to the smoothed labels of
    :func:`~mmnst_path.classify.tissue.smoothed_labels`: the Gaussian's radius (``truncate = 4``) plus the
    fat rim's :data:`~mmnst_path.classify.tissue.FAT_RIM_BLOCKS`."""
    from ..classify.tissue import FAT_RIM_BLOCKS

    radius = int(4.0 * (smooth_um / (2.0 * block_mpp)) + 0.5) if smooth_um > 0 else 0
    return radius + FAT_RIM_BLOCKS


def veto_reach_blocks(params: Any, block_mpp: float) -> int:
    """Blocks over which the intact-nucleus veto of a necrosis block reads the tissue and labels around it:
    the density window's radius (``truncate = 4``) and the regrowth's
    (:data:`~mmnst_path.quantify._necrosis_model.INTACT_REGROW_SIGMAS`)."""
    from ._necrosis_model import INTACT_REGROW_SIGMAS

    sigma = params.intact_sigma_um / block_mpp
    regrow = INTACT_REGROW_SIGMAS * sigma
    return int(4.0 * sigma + 0.5) + (int(regrow) if regrow >= 1 else 0)


def shrink(box: tuple[int, int, int, int], r: int, shape: tuple[int, ...]) -> np.ndarray:
    """(m, n) bool on a grid of ``shape``: ``box`` less ``r`` blocks on each side that is not the grid's edge
    (what a step of reach ``r`` computes exactly from values known on ``box``)."""
    out = np.zeros(shape[:2], bool)
    r0 = box[0] + r if box[0] > 0 else 0
    r1 = box[1] - r if box[1] < shape[0] else shape[0]
    c0 = box[2] + r if box[2] > 0 else 0
    c1 = box[3] - r if box[3] < shape[1] else shape[1]
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = True
    return out


def check_exact(tmap: Any, params: Any, need: tuple[int, int, int, int], *, model_necrosis: np.ndarray,
                vetoed: bool, mask: np.ndarray) -> None:
    """Raise :class:`NotExact` unless the necrosis class map on the blocks ``need`` (rows ``need[0]:need[1]``,
    columns ``need[2]:need[3]``) is the whole grid's, for a ``tmap`` classified on ``tmap.window``.

    ``model_necrosis``: the smoothed labels' necrosis (before the veto); ``vetoed``: whether the veto ran;
    ``mask``: the necrosis on tissue before the minimum area (``fill_holes_um2`` must be 0). A necrotic
    region that meets the needed blocks must lie inside the part known exactly without touching its rim, or
    be at least ``min_area_um2`` there (then it is kept either way).
    """
    if params.fill_holes_um2 > 0:
        raise NotExact("fill_holes_um2 > 0: holes are found on the whole grid")
    shape = tmap.labels.shape
    zone = shrink(tmap.window, reach_blocks(params.smooth_um, tmap.mpp), shape)
    if vetoed:  # a necrosis block's veto reads the tissue and labels within its density window and regrowth
        reach = veto_reach_blocks(params, tmap.mpp)
        box = _box_of(zone)
        deep = shrink(box, reach, shape) if box is not None else zone
        zone = zone & ~(model_necrosis & ~deep)
    rows, cols = slice(need[0], need[1]), slice(need[2], need[3])
    if not zone[rows, cols].all():
        raise NotExact("the needed blocks are not all known exactly")
    regions, n = ndi.label(mask & zone)
    if not n:
        return
    rim = zone & ~ndi.binary_erosion(zone, border_value=1)
    small = np.bincount(regions.ravel(), minlength=n + 1) * tmap.mpp * tmap.mpp < params.min_area_um2
    met = np.zeros(n + 1, bool)
    met[regions[rows, cols]] = True
    cut = np.zeros(n + 1, bool)
    cut[regions[rim]] = True
    if np.any(met[1:] & cut[1:] & small[1:]):
        raise NotExact("a small necrotic region reaches the rim of the known part")


def _box_of(zone: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(zone.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(zone.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
