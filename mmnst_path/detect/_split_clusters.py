"""Split under-segmented clusters: one contoured region that holds two or more touching nuclei.

The seeded watershed of :func:`mmnst_path.detect.nuclei._labels_of` gives two touching nuclei one
region when their LoG blobs merge into one seed (similar stain, no dark rim between them). Such a
region is larger than one nucleus and its signal has one maximum per nucleus. :func:`split_clusters`
looks at each contoured region whose area is in ``[split_min_area_um2, max_area_um2]`` (µm²) alone:
the regional maxima of the foreground signal ``H + dab_weight * DAB`` (background-subtracted,
log10 OD) over the region that rise at least ``split_depth`` times the region's peak above the
saddle joining them to a higher maximum (h-maxima) are candidate cores; taken from the strongest,
a core under ``split_min_od`` (log10 OD: pale cytoplasm or stroma) or within
``split_min_distance_um`` (µm) of a kept one is dropped (the texture of one nucleus);
when two or more cores remain, a watershed of the negated signal from them, inside the region,
splits it, provided every part keeps at least ``min_area_um2``. Otherwise the region stays whole.

Only a region's own pixels are read, and only regions no larger than ``max_area_um2`` are split, so
a nucleus still depends on nothing farther than :meth:`NucleusParams.halo_parts_um`'s ``extent``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._nucleus_params import NucleusParams

__all__ = ["split_clusters"]


def _cores(signal: np.ndarray, mask: np.ndarray, depth: float, min_px: float, min_peak: float) -> tuple[np.ndarray, int]:
    """Markers (int32, 1..k) of the h-maxima (height ``depth``, signal units) of ``signal`` inside
    ``mask`` that reach ``min_peak``, strongest first, each at least ``min_px`` pixels from every
    stronger kept one."""
    from skimage.morphology import h_maxima

    peaks, k = ndi.label(h_maxima(signal, depth).astype(bool) & mask, structure=np.ones((3, 3), bool))
    if k < 2:
        return peaks, k
    index = np.arange(1, k + 1)
    top = np.asarray(ndi.maximum(signal, peaks, index), dtype=np.float64)
    where = np.asarray(ndi.center_of_mass(mask, peaks, index), dtype=np.float64).reshape(k, 2)
    kept: list[int] = []
    for i in np.argsort(-top, kind="stable"):
        if top[i] >= min_peak and all(np.hypot(*(where[i] - where[j])) >= min_px for j in kept):
            kept.append(int(i))
    relabel = np.zeros(k + 1, dtype=np.int32)
    relabel[np.asarray(kept, dtype=np.intp) + 1] = np.arange(1, len(kept) + 1, dtype=np.int32)
    return relabel[peaks], len(kept)


def _split_one(signal: np.ndarray, mask: np.ndarray, mpp: float, params: NucleusParams) -> tuple[np.ndarray, int] | None:
    """Parts (int32 labels 1..k inside ``mask``, 0 outside) of one region, or None when it stays
    whole (fewer than two cores, or a part under ``min_area_um2``)."""
    from skimage.segmentation import watershed

    inside = np.where(mask, signal, np.float32(0)).astype(np.float64)
    markers, k = _cores(inside, mask, params.split_depth * float(inside.max()), params.split_min_distance_um / mpp,
                        params.split_min_od)
    if k < 2:
        return None
    parts = watershed(-inside, markers, mask=mask).astype(np.int32)
    area_um2 = np.bincount(parts.ravel(), minlength=k + 1)[1:] * (mpp * mpp)
    if (area_um2 < params.min_area_um2).any():
        return None
    return parts, k


def split_clusters(labels: np.ndarray, area_px: np.ndarray, n_all: int, signal: np.ndarray, mpp: float,
                   params: NucleusParams) -> tuple[np.ndarray, np.ndarray, int]:
    """Split the oversized regions of the contoured ``labels`` that hold two or more cores (see the
    module docstring).

    ``labels`` (int32, modified in place), ``area_px`` (pixels per label, (n_all + 1,)) and ``n_all``
    (the largest label) as :func:`mmnst_path.detect.nuclei._labels_of` holds them before its area
    filter, ``signal`` its foreground signal (log10 OD, the planes' shape); returns them with each
    split region's first part keeping its label and the others taking new labels after ``n_all``
    (areas appended). ``params.split_min_area_um2`` None: unchanged.
    """
    if params.split_min_area_um2 is None or n_all == 0:
        return labels, area_px, n_all
    area_um2 = area_px * (mpp * mpp)
    cand = (area_um2 >= params.split_min_area_um2) & (area_um2 <= params.max_area_um2)
    cand[0] = False
    if not cand.any():
        return labels, area_px, n_all
    objects = ndi.find_objects(labels, max_label=n_all)
    extra: list[int] = []
    for lab in np.flatnonzero(cand):
        box = objects[lab - 1]
        if box is None:
            continue
        view = labels[box]
        mask = view == lab
        found = _split_one(signal[box], mask, mpp, params)
        if found is None:
            continue
        parts, k = found
        counts = np.bincount(parts.ravel(), minlength=k + 1)
        new = np.zeros(k + 1, dtype=np.int32)
        new[1] = lab
        new[2:] = np.arange(n_all + len(extra) + 1, n_all + len(extra) + k, dtype=np.int32)
        view[mask] = new[parts[mask]]
        area_px[lab] = counts[1]
        extra.extend(int(c) for c in counts[2:])
    if not extra:
        return labels, area_px, n_all
    return labels, np.concatenate([area_px, np.asarray(extra, dtype=area_px.dtype)]), n_all + len(extra)
