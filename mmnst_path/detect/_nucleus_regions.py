"""Where the nucleus detector looks and how its seeds become labels (:mod:`mmnst_path.detect.nuclei`).

:func:`_stained_box` (the stained part of the planes plus the margin the filters need: the crop
of ``nuclei.CROP_EMPTY_MARGINS``), :func:`_pooled_markers` (the watershed markers from the seeds
of both stains) and :func:`_contour_areas` (seedless components merged, the adaptive contour and
the areas, in compiled passes): the parts of :func:`mmnst_path.detect.nuclei._labels_of` that
read no switch of that module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _morphology
from ._nucleus_filters import _window_max_at
from ._nucleus_params import NucleusParams, unstained_reach_px

__all__: list[str] = []


def _stained_box(hem_pos: np.ndarray, dab_pos: np.ndarray, mpp: float, params: NucleusParams,
                 bounds: tuple[int, ...] | None = None) -> tuple[slice, slice] | None:
    """The part of the planes :func:`_labels_of` must see, when their margins are unstained.

    A tile read past the slide's edge (white) or over empty glass has margins where both
    (clipped) stain planes are exactly 0. Every filter of the detector keeps such a region 0
    beyond its reach from the stained pixels (the Gaussian smoothing ``a``, the background
    opening and box mean ``r`` each, and the chained LoG Gaussians plus the Laplacian ``G``;
    the opening does not grow the signal's support), and nothing is detected where the signal
    is 0 (``foreground_od > 0`` and ``seed_min_response > 0``). So cropping the planes to the
    stained box grown by ``a + max(r, G) + 2`` pixels, where the reflected border of every
    filter reads only zeros as the whole planes would, gives the same labels there and none
    elsewhere. The box keeps more than :data:`._morphology.WATERSHED_BAND_ROWS` rows when the
    planes have more, so the watershed floods the same bands (scikit-image breaks exact ties by
    its heap's layout, which depends on what one call floods). Returns None when there is
    nothing to save (or the parameters rule it out). ``bounds``: the stained pixels' (first row,
    last row, first column, last column) when known (``_numba.clip_stained``; -1s: none).
    """
    if not (params.foreground_od > 0 and params.seed_min_response > 0):
        return None
    m, n = hem_pos.shape
    if bounds is None:
        stained = (hem_pos > 0) | (dab_pos > 0)
        rows = np.flatnonzero(stained.any(axis=1))
        cols = np.flatnonzero(stained[rows[0] : rows[-1] + 1].any(axis=0)) if rows.size else rows
        bounds = (int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])) if rows.size else (-1, -1, -1, -1)
    if bounds[0] < 0:
        return (slice(0, 0), slice(0, 0))
    pad = unstained_reach_px(params, mpp)
    r0, r1 = max(bounds[0] - pad, 0), min(bounds[1] + 1 + pad, m)
    c0, c1 = max(bounds[2] - pad, 0), min(bounds[3] + 1 + pad, n)
    if (r1 - r0) * (c1 - c0) > 0.9 * m * n:
        return None
    band = _morphology.WATERSHED_BAND_ROWS
    if r1 - r0 <= band < m:  # flood in bands as over the whole planes (same heap, same ties)
        r1 = min(r0 + band + 1, m)
        r0 = r1 - (band + 1)
    return slice(r0, r1), slice(c0, c1)


def _pooled_markers(kern: Any, seed_r: list[np.ndarray], seed_c: list[np.ndarray], response: np.ndarray,
                    foreground: np.ndarray, mpp: float, params: NucleusParams) -> tuple[np.ndarray, int]:
    """The watershed markers of :func:`_labels_of` (int32 (M, N), and their number) from the
    seeds of both stains, without whole-plane passes over the seeds: the distinct seed pixels in
    raster order (``np.unique`` of their raveled indices: the order of ``np.nonzero``) inside the
    foreground, each kept when its response is the largest seed response within the merge
    window (a plane that is -inf off the seeds, as before), the 8-connected groups of kept seeds
    labelled in raster order of their first pixel (:func:`._numba.label_points`, which is
    ``ndi.label`` with a 3x3 structure). The same markers (tests/detect/test_nuclei_fused.py)."""
    m, n = response.shape
    flat = np.unique(np.concatenate([r.astype(np.intp) * n + c for r, c in zip(seed_r, seed_c, strict=True)]))
    seed_resp = np.full((m, n), -np.inf, dtype=np.float32)
    seed_resp.ravel()[flat] = response.ravel()[flat]
    flat = flat[foreground.ravel()[flat]]
    rows, cols = np.divmod(flat, n)
    merge_half = np.full(rows.shape, max(1, round(params.min_seed_distance_um / mpp)), dtype=np.intp)
    strongest = seed_resp.ravel()[flat] >= _window_max_at(seed_resp, rows, cols, merge_half)
    del seed_resp
    markers = np.zeros((m, n), dtype=np.int32)
    n_seeds = int(kern.label_points(np.ascontiguousarray(flat[strongest], dtype=np.int64), markers))
    return markers, n_seeds


def _contour_areas(kern: Any, labels: np.ndarray, comp: np.ndarray, n_seeds: int, n_comp: int,
                   fg_signal: np.ndarray, params: NucleusParams) -> tuple[np.ndarray, np.ndarray, int]:
    """The watershed ``labels`` with the seedless components merged and the adaptive contour
    applied (a new int32 array), the area of every label (pixels; (n_all + 1,) int64), and
    ``n_all`` (the largest label before the contour): what :func:`_labels_of` computes with
    ``np.where`` / ``_label_max`` / ``np.bincount``, in two compiled passes (the same float32
    products and comparisons, integer counts: identical; tests/detect/test_nuclei_fused.py)."""
    peak = np.full(n_seeds + n_comp + 1, -np.inf, dtype=np.float32)  # labels never exceed this
    values = np.ascontiguousarray(fg_signal, dtype=np.float32)
    out = np.empty(labels.shape, dtype=np.int32)
    n_all = int(kern.merge_components(labels, np.ascontiguousarray(comp, dtype=np.int32), n_seeds, values, peak,
                                      out))
    area_px = np.zeros(n_all + 1, dtype=np.int64)
    if params.contour_fraction > 0 and n_all:
        kern.contour_count(out, values, np.float32(params.contour_fraction), peak[: n_all + 1], area_px)
    else:
        kern.count_labels(out, area_px)
    return out, area_px, n_all
