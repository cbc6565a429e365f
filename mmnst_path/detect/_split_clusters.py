"""Split under-segmented clusters: one contoured region that holds two or more touching nuclei.

The seeded watershed of :func:`mmnst_path.detect.nuclei._labels_of` gives two touching nuclei one
region when their LoG blobs merge into one seed (similar stain, no dark rim between them). Such a
region is larger than one nucleus or not convex, and its hematoxylin has one maximum per nucleus.

Which regions (cheap, from moments): a contoured region with an area (µm²) in
``[split_min_area_um2, max_area_um2]`` is looked at when it is concave for its size, i.e. its
*fill* (area over the area of the ellipse of the same second moments, ``A / (4π sqrt(det Σ))``:
1 for an ellipse, about 0.89 for two touching equal discs) is below ``split_max_fill``, or when
it is larger than one nucleus (``split_large_area_um2``).

Cores (compiled, :func:`._numba_split.split_regions`): the regional maxima of the smoothed,
background-subtracted **hematoxylin** plane over the region that reach ``split_min_od``
(log10 OD), taken from the strongest, one within ``split_min_distance_um`` of a kept core
dropped (the texture of one nucleus); a weaker core stays only when the hematoxylin dips by at
least ``split_depth`` of its own value on the straight path to its nearest stronger core (or the
path leaves the region). DAB is not read: the patchiness of a DAB blob is not a nucleus boundary.
With two or more cores each pixel goes to its nearest core, when every part keeps at least
``min_area_um2`` and every cut between two parts is a waist: no longer than ``split_max_neck``
times the smaller part's equivalent diameter (a cut across one large vesicular nucleus is as long
as the nucleus is wide); otherwise the region stays whole.

Only a region's own pixels are read, and only regions no larger than ``max_area_um2`` are split, so
a nucleus still depends on nothing farther than :meth:`NucleusParams.halo_parts_um`'s ``extent``.
"""

from __future__ import annotations

import math

import numpy as np

from ._nucleus_params import NucleusParams

__all__ = ["MAX_CORES", "region_fill", "split_clusters"]

#: most parts one region is split into (a cluster of more nuclei than this keeps the strongest)
MAX_CORES = 4


def region_fill(sums: np.ndarray) -> np.ndarray:
    """Fill (area over the area of the ellipse of the same second moments, dimensionless) per row
    of ``sums`` (count, Σr, Σc, Σr², Σc², Σrc; :func:`._numba_split.region_shapes`); the pixel's
    own variance (1/12 per axis) is added, so one pixel or a straight line is finite; rows with
    no pixel read 1."""
    count = np.maximum(sums[:, 0], 1.0)
    mr = sums[:, 1] / count
    mc = sums[:, 2] / count
    vr = sums[:, 3] / count - mr * mr + 1.0 / 12.0
    vc = sums[:, 4] / count - mc * mc + 1.0 / 12.0
    cov = sums[:, 5] / count - mr * mc
    det = np.maximum(vr * vc - cov * cov, 1.0 / 144.0)
    fill = sums[:, 0] / (4.0 * math.pi * np.sqrt(det))
    fill[sums[:, 0] == 0] = 1.0
    return fill


def split_clusters(labels: np.ndarray, area_px: np.ndarray, n_all: int, hem_signal: np.ndarray, mpp: float,
                   params: NucleusParams) -> tuple[np.ndarray, np.ndarray, int]:
    """Split the regions of the contoured ``labels`` that hold two or more hematoxylin cores (see
    the module docstring).

    ``labels`` (int, (M, N)), ``area_px`` (pixels per label, (n_all + 1,)) and ``n_all`` (the
    largest label) as :func:`mmnst_path.detect.nuclei._labels_of` holds them before its area
    filter, ``hem_signal`` its smoothed, background-subtracted hematoxylin (log10 OD, the planes'
    shape); returns them with each split region's first part keeping its label and the others
    taking new labels after ``n_all`` (areas appended). ``params.split_min_area_um2`` None, or no
    region to split: the same objects, unchanged.
    """
    if params.split_min_area_um2 is None or n_all == 0:
        return labels, area_px, n_all
    from ._numba_split import region_shapes, split_regions

    px_um2 = mpp * mpp
    area_um2 = area_px * px_um2
    sized = (area_um2 >= params.split_min_area_um2) & (area_um2 <= params.max_area_um2)
    sized[0] = False
    if not sized.any():
        return labels, area_px, n_all
    work = labels if labels.dtype == np.int32 and labels.flags.c_contiguous else np.ascontiguousarray(labels, np.int32)
    m, n = work.shape
    sums = np.zeros((n_all + 1, 6), np.float64)
    boxes = np.empty((n_all + 1, 4), np.int64)
    boxes[:] = (m, -1, n, -1)
    region_shapes(work, sized, sums, boxes)
    chosen = sized & ((region_fill(sums) < params.split_max_fill) | (area_um2 >= params.split_large_area_um2))
    labs = np.flatnonzero(chosen).astype(np.int64)
    if not labs.size:
        return labels, area_px, n_all
    new_area = np.zeros(labs.size * (MAX_CORES - 1), np.int64)
    new_owner = np.zeros(new_area.shape, np.int64)
    plane = np.ascontiguousarray(hem_signal, dtype=np.float32)
    made = int(split_regions(work, plane, labs, boxes, np.float32(params.split_min_od),
                             float(params.split_min_distance_um / mpp), float(params.split_depth),
                             math.ceil(params.min_area_um2 / px_um2), float(params.split_max_neck), MAX_CORES,
                             n_all + 1, new_area, new_owner))
    if not made:
        return labels, area_px, n_all
    area_px = area_px.copy()
    np.subtract.at(area_px, new_owner[:made], new_area[:made].astype(area_px.dtype))
    return work, np.concatenate([area_px, new_area[:made].astype(area_px.dtype)]), n_all + made
