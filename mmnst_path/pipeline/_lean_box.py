"""Boxes of the lean tile path (:func:`mmnst_path.pipeline._worker._lean_windows`): the non-white
pixels of a tile, a box grown by a reach, a box grown to hold a mask. Used by
:mod:`mmnst_path.pipeline._worker`, which re-exports every name."""

from __future__ import annotations

import numpy as np

__all__ = ["_grown", "_mask_box", "_nonwhite_box"]


def _nonwhite_box(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """(r0, r1, c0, c1): the bounding box of the pixels of ``rgb`` that are not (255, 255, 255)."""
    m = rgb.shape[0]
    rgb = np.ascontiguousarray(rgb)
    rows = np.flatnonzero(rgb.reshape(m, -1).min(axis=1) < 255)  # (min over a contiguous axis: fast)
    if rows.size == 0:
        return None
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(rgb[r0:r1].reshape(r1 - r0, -1).min(axis=0) < 255)  # channel values, 3 a pixel
    return r0, r1, int(cols[0]) // 3, int(cols[-1]) // 3 + 1


def _grown(box: tuple[int, int, int, int], px: int, shape: tuple[int, int]) -> tuple[slice, slice]:
    """``box`` grown by ``px`` on every side, clipped to ``shape``; at least
    :data:`~mmnst_path.detect._morphology.WATERSHED_BAND_ROWS` + 1 rows (as many as the tile has
    beyond that), so the nucleus watershed floods in the same bands as on the whole tile."""
    from ..detect._morphology import WATERSHED_BAND_ROWS

    r0, r1 = max(box[0] - px, 0), min(box[1] + px, shape[0])
    need = min(WATERSHED_BAND_ROWS + 1, shape[0])
    if r1 - r0 < need:
        r1 = min(r0 + need, shape[0])
        r0 = r1 - need
    return slice(r0, r1), slice(max(box[2] - px, 0), min(box[3] + px, shape[1]))


def _mask_box(mask: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``box`` grown to hold the True pixels of ``mask`` (same frame)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return box
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return (min(box[0], int(rows[0])), max(box[1], int(rows[-1]) + 1),
            min(box[2], int(cols[0])), max(box[3], int(cols[-1]) + 1))
