"""Compact nucleus outlines: star-convex polygons (a radius per direction) from a label image.

A nucleus outline for QuPath export and review, without a per-nucleus contour tracer: for each
of ``rays`` equal angular sectors around the centroid, the outline radius is the distance of the
farthest pixel of the nucleus in that sector plus half a pixel (the pixel's edge). Computed for
all nuclei at once with one pass over the labelled pixels (``np.maximum.at``); a sector that a
small nucleus leaves empty takes the mean of its neighbours. Nuclei are close to star-convex
from their centroid, so 16 rays follow the watershed outline within about a pixel; the radii are
small (``rays`` numbers per nucleus) and cross the tile/worker border as plain arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RAYS", "star_polygons", "star_radii"]

RAYS = 16


def _kernels(labels: np.ndarray) -> Any:
    """The numba kernels of :mod:`._numba` for a 2-D integer label image, or None."""
    from ._morphology import _numba_kernels

    if labels.ndim != 2 or labels.dtype.kind not in "iu" or labels.size == 0:
        return None
    return _numba_kernels()


def star_radii(labels: np.ndarray, row: np.ndarray, col: np.ndarray, *, rays: int = RAYS,
               origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Outline radius per sector of every nucleus of a label image.

    Parameters
    ----------
    labels : (M, N) int ndarray
        0 background, nucleus ``i`` has label ``i + 1``.
    row, col : (n,) float ndarray
        Centroids (pixels of ``labels``) of nuclei 1..n.
    rays : int
        Number of equal sectors; sector ``k`` is centred on angle ``2 pi k / rays`` measured from
        the +col axis towards +row.
    origin : (int, int)
        Pixel (row, col), in a larger image, of ``labels``' pixel (0, 0) when ``row`` / ``col``
        are in that image's pixels (the radii are those computed on it, bit-identical).

    Returns
    -------
    (n, rays) float32 ndarray
        Radii in pixels of ``labels`` (>= 0.5).
    """
    n = int(np.asarray(row).shape[0])
    out = np.zeros((n, rays), np.float32)
    if n == 0:
        return out
    flat = np.zeros(n * rays, np.float64)
    kern = _kernels(labels)
    if kern is not None:  # the same float64 operations in compiled passes (numpy's own arctan2)
        size = int(np.count_nonzero(labels))
        lab, dr, dc = np.empty(size, np.intp), np.empty(size, np.float64), np.empty(size, np.float64)
        k = kern.star_offsets(np.ascontiguousarray(labels), n, int(origin[0]), int(origin[1]),
                              np.ascontiguousarray(row, np.float64), np.ascontiguousarray(col, np.float64),
                              lab, dr, dc)
        lab, dr, dc = lab[:k], dr[:k], dc[:k]
        kern.star_max(lab, dr, dc, np.arctan2(dr, dc), rays, flat)
    else:
        ri, ci = np.nonzero(labels)
        lab = labels[ri, ci].astype(np.intp) - 1
        keep = (lab >= 0) & (lab < n)
        ri, ci, lab = ri[keep], ci[keep], lab[keep]
        dr = (ri + origin[0]) - np.asarray(row, np.float64)[lab]
        dc = (ci + origin[1]) - np.asarray(col, np.float64)[lab]
        ang = np.arctan2(dr, dc)
        sector = np.floor(ang / (2 * np.pi) * rays + 0.5).astype(np.intp) % rays
        dist = np.sqrt(dr * dr + dc * dc) + 0.5
        np.maximum.at(flat, lab * rays + sector, dist)
    radii = flat.reshape(n, rays)
    empty = radii == 0
    for _ in range(rays // 2):  # fill empty sectors from their neighbours (small nuclei)
        if not empty.any():
            break
        left, right = np.roll(radii, 1, axis=1), np.roll(radii, -1, axis=1)
        cnt = (left > 0).astype(np.float64) + (right > 0)
        fill = np.where(cnt > 0, (left + right) / np.maximum(cnt, 1), 0.0)
        radii = np.where(empty, fill, radii)
        empty = radii == 0
    radii[empty] = 0.5
    return np.maximum(radii, 0.5).astype(np.float32)


def star_polygons(row: np.ndarray, col: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Vertices of the outlines: (n, rays, 2) float64 (row, col) in the centroids' frame."""
    radii = np.asarray(radii, np.float64)
    rays = radii.shape[1]
    ang = 2 * np.pi * np.arange(rays) / rays
    r = np.asarray(row, np.float64)[:, None] + radii * np.sin(ang)[None, :]
    c = np.asarray(col, np.float64)[:, None] + radii * np.cos(ang)[None, :]
    return np.stack([r, c], axis=-1)
