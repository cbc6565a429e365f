"""Boxes (r0, r1, c0, c1) on a grid, for computing the tissue features on part of a tile
(:func:`mmnst_path.classify.tissue_features.window_boxes`).

A Gaussian filter's output at a point comes from the same taps, added in the same order, whatever
the array around them: cut to the output box grown by the kernel's radius (clipped to the grid, so
that the reflection at the grid's edge is the same), it gives the whole array's values in the box.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Box4", "cut_box", "grow_box", "scale_box"]

#: (first row, end row, first column, end column) on a grid
Box4 = tuple[int, int, int, int]


def grow_box(box: Box4, r: int, shape: tuple[int, ...]) -> Box4:
    """``box`` grown by ``r`` cells on every side, clipped to a grid of ``shape`` (rows, cols)."""
    return max(box[0] - r, 0), min(box[1] + r, shape[0]), max(box[2] - r, 0), min(box[3] + r, shape[1])


def scale_box(box: Box4, k: int, shape: tuple[int, ...]) -> Box4:
    """The cells of a ``k`` times finer grid of ``shape`` under ``box`` (its end clipped to the grid)."""
    return box[0] * k, min(box[1] * k, shape[0]), box[2] * k, min(box[3] * k, shape[1])


def cut_box(a: np.ndarray, have: Box4, box: Box4) -> np.ndarray:
    """The part of ``a`` (an array that covers ``have`` of its grid) on ``box``, which must lie inside ``have``."""
    if not (have[0] <= box[0] <= box[1] <= have[1] and have[2] <= box[2] <= box[3] <= have[3]):
        msg = f"box {box} is not inside the box {have} the array covers"
        raise ValueError(msg)
    if box == have:
        return a
    return a[box[0] - have[0] : box[1] - have[0], box[2] - have[2] : box[3] - have[2]]
