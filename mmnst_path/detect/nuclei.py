"""Nucleus detection on hematoxylin and DAB optical density together.

The detector works at the analysis resolution (``mpp`` microns per pixel, 0.5 by default in the
pipeline) on the stain concentrations of a colour deconvolution, in QuPath's log10 optical density
units. Every parameter is physical (µm, µm², OD) and converted to pixels here, once.

Steps (every filter has bounded support, so a nucleus gets the same result in any tile that holds
it with a halo of :meth:`NucleusParams.halo_um`):

1. hematoxylin and DAB planes (negative concentrations clipped to 0), each smoothed by a Gaussian
   of ``smooth_sigma_um`` and minus its local background (a grey opening by a square of side
   ``2 * background_radius_um``, min filter then max filter, box-smoothed);
2. foreground: ``H + dab_weight * DAB`` (background-subtracted) >= ``foreground_od``; using both
   stains finds strongly DAB-positive nuclei (weak hematoxylin under the brown) and pale negative
   nuclei (weak total OD) alike;
3. seeds, per stain: each plane is compressed to a "nuclear contrast" ``log(1 + c / c0)``
   (``c0`` = ``contrast_od`` for hematoxylin, ``dab_contrast_od`` for DAB), so a pale negative
   nucleus beside a saturated DAB one keeps a blob of its own instead of sitting on the dark
   neighbour's flank; a scale-normalised Laplacian of Gaussian (``-sigma² ∇²G``, ``sigma = r /
   sqrt(2)`` for each radius of ``nucleus_radius_um``; the Gaussians chained from scale to scale,
   a discrete 5-point Laplacian) gives per pixel the best response and its scale; a pixel is a seed when its response is the maximum within ``seed_suppression * r`` of
   its own scale ``r`` (non-maximum suppression tied to the detected size, so one large saturated
   nucleus yields one seed) and >= ``seed_min_response``. The seeds of the two stains are pooled
   and a seed with a stronger one within ``min_seed_distance_um`` is dropped;
4. seeded watershed of the inverted LoG response (max over both stains) inside the foreground
   (splits touching nuclei); foreground components without a seed become one nucleus each;
5. each region keeps the pixels whose signal is >= ``contour_fraction`` of its own peak, and
   objects outside ``[min_area_um2, max_area_um2]`` are dropped; features are measured with
   ``np.bincount``/``scipy.ndimage`` (no regionprops).

This module holds the public API (:func:`detect_nuclei`, :func:`nuclei_from_stains`,
:func:`stain_planes`) and the steps above in order (:func:`_labels_of`, the LoG seeds
:func:`_log_seeds`), with the switches that choose between exact paths (:data:`GAUSSIAN_FLOAT32`,
:data:`CANDIDATE_ROOM_MIN`, :data:`CROP_EMPTY_MARGINS`). The rest lives in private modules and is
importable from here as well: the parameters and results (:mod:`._nucleus_params`:
:class:`NucleusParams`, :class:`Nuclei`, :func:`seed_factor`, :func:`unstained_reach_px`), the
plane filters (:mod:`._nucleus_filters`), the stained box, markers and contour
(:mod:`._nucleus_regions`), the measurements (:mod:`._nucleus_measure`), the coarse seed grid
(:mod:`._coarse_seeds`) and the compiled passes (:mod:`._numba`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import ConfigError
from ..geometry import require_mpp
from . import _morphology
from ._coarse_seeds import block_means, refine_seeds, upsample_linear
from ._morphology import _gaussian as _exact_gaussian
from ._morphology import _numba_kernels, _square_extreme, _watershed_by_bands
from ._nucleus_filters import _background_by_columns as _background_by_columns
from ._nucleus_filters import _gaussian32, _laplacian, _minus_background, _window_max_at
from ._nucleus_filters import _gaussian_stack_support as _gaussian_stack_support
from ._nucleus_measure import _label_max, _measure
from ._nucleus_params import Nuclei, NucleusParams, seed_factor, unstained_reach_px
from ._nucleus_regions import _contour_areas, _pooled_markers, _stained_box

__all__ = ["Nuclei", "NucleusParams", "detect_nuclei", "nuclei_from_stains", "seed_factor", "unstained_reach_px"]


#: The detector's Gaussians (smoothing and the LoG scales) on float32 planes: True = float32
#: arithmetic (:func:`_gaussian32`, about 2x faster, within a few float32 ulp of the float64
#: filter); False = scipy's float64 accumulation bit for bit (the reference).
GAUSSIAN_FLOAT32 = True


def _gaussian(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur of a detector plane, truncated at 4 sigma, reflected borders: a float32
    plane by :func:`_gaussian32` when :data:`GAUSSIAN_FLOAT32`, else (and any other dtype)
    ``ndi.gaussian_filter(image, sigma_px, truncate=4.0, mode="reflect")`` bit for bit."""
    if GAUSSIAN_FLOAT32 and image.dtype == np.float32 and image.ndim == 2 and image.size and sigma_px > 0:
        return _gaussian32(image, sigma_px)
    return _exact_gaussian(image, sigma_px, truncate=4.0)


def _gaussian_stack(plane: np.ndarray, sigmas: tuple[float, ...]) -> Iterator[np.ndarray]:
    """Gaussian blurs of ``plane`` at increasing ``sigmas`` (px), each computed from the previous.

    ``G(s_k) = G(sqrt(s_k² - s_(k-1)²)) * G(s_(k-1))``: every step is a short separable float32
    filter (truncated at 4 sigma of the step), so the larger scales cost no more than the first.
    A generator: only the current scale is held.
    """
    prev_sigma = 0.0
    current = plane
    for sigma in sigmas:
        step = math.sqrt(max(sigma * sigma - prev_sigma * prev_sigma, 0.0))
        if step > 0:
            current = _gaussian(current, step)
        yield current
        prev_sigma = sigma


#: Room for the LoG seed candidates (3x3 local maxima) of a plane of P pixels in
#: :func:`_log_seeds`: max(``CANDIDATE_ROOM_MIN``, P // ``CANDIDATE_ROOM_DIV``) (about 0.1-0.25 % of
#: the pixels of a real BCData Ki67 tile are candidates); more are found by a second scan.
CANDIDATE_ROOM_MIN = 4096
CANDIDATE_ROOM_DIV = 32


def _log_seeds(
    contrast: np.ndarray, radii_px: tuple[float, ...], suppression: float, min_response: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale-space LoG seeds of one contrast plane.

    The scale-normalised response ``-sigma² ∇²(G_sigma * contrast)`` (``sigma = r / sqrt(2)``,
    Gaussians chained from scale to scale, discrete 5-point Laplacian) is maximised over the
    radii. Returns that best response (float32, (M, N)) and the (row, col) int arrays of the
    seeds: pixels whose best response is >= ``min_response`` and the maximum within ``suppression
    * r`` (square window) of their own best radius ``r``. The suppression is evaluated at the 3x3
    local maxima only (a pixel that is the maximum of a larger window is one of them).
    """
    order = sorted(range(len(radii_px)), key=lambda k: radii_px[k])
    sigmas = tuple(radii_px[k] / math.sqrt(2.0) for k in order)
    best: np.ndarray | None = None
    scale = np.zeros(contrast.shape, dtype=np.int8)
    kern = _numba_kernels() if contrast.dtype == np.float32 and contrast.ndim == 2 and contrast.size else None
    for k, (sigma, smooth) in enumerate(zip(sigmas, _gaussian_stack(contrast, sigmas), strict=True)):
        if kern is not None:  # the same float32 operations, fused in one pass (bit-identical)
            if best is None:
                best = np.empty(contrast.shape, dtype=np.float32)
            kern.log_scale_update(np.ascontiguousarray(smooth), np.float32(-(sigma**2)), k, best, scale)
            continue
        resp = _laplacian(smooth)
        del smooth
        resp *= np.float32(-(sigma**2))
        if best is None:
            best = resp
        else:
            better = resp > best
            np.copyto(best, resp, where=better)
            scale[better] = k
            del better
        del resp
    assert best is not None
    if kern is not None:  # the same candidates in one pass (comparisons only: identical)
        # buffers for a few % of the pixels (3x3 maxima are sparse), not 16 bytes a pixel; a plane
        # with more (plateaus) is scanned again with room for all of them
        cap = min(best.size, max(CANDIDATE_ROOM_MIN, best.size // CANDIDATE_ROOM_DIV))
        rows = np.empty(cap, dtype=np.intp)
        cols = np.empty(cap, dtype=np.intp)
        k_cand = kern.local_max_candidates(best, np.float32(min_response), rows, cols)
        if k_cand > cap:
            rows = np.empty(k_cand, dtype=np.intp)
            cols = np.empty(k_cand, dtype=np.intp)
            kern.local_max_candidates(best, np.float32(min_response), rows, cols)
        else:  # (a rescan's buffers hold exactly k_cand: no copy needed)
            rows, cols = rows[:k_cand].copy(), cols[:k_cand].copy()
    else:
        cand = (best >= np.float32(min_response)) & (best >= _square_extreme(best, 3, op="max"))
        rows, cols = np.nonzero(cand)
    halves = np.array([max(1, round(suppression * radii_px[k])) for k in order], dtype=np.intp)
    half = halves[scale[rows, cols]]
    is_max = best[rows, cols] >= _window_max_at(best, rows, cols, half)
    return best, rows[is_max], cols[is_max]


def _check_plane(name: str, plane: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    arr = np.asarray(plane, dtype=np.float32)
    if arr.ndim != 2:
        msg = f"{name} must be a 2-D (M, N) concentration image, got shape {arr.shape}"
        raise ConfigError(msg)
    if shape is not None and arr.shape != shape:
        msg = f"{name} must have the shape of hematoxylin {shape}, got {arr.shape}"
        raise ConfigError(msg)
    return arr


def nuclei_from_stains(
    hematoxylin: np.ndarray,
    dab: np.ndarray,
    *,
    mpp: float,
    params: NucleusParams = NucleusParams(),
    return_labels: bool = False,
    origin: tuple[int, int] = (0, 0),
    grid_origin: tuple[int, int] | None = None,
) -> Nuclei:
    """Detect nuclei from hematoxylin and DAB concentration planes.

    Parameters
    ----------
    hematoxylin, dab : (M, N) array_like of float
        Stain concentrations in log10 OD units (QuPath convention), as returned by
        ``mmnst_path.stain.separate_stains``.
    mpp : float
        Microns per pixel of the planes.
    params : NucleusParams
        Physical detection parameters.
    return_labels : bool
        Also return the (M, N) int32 label image in ``Nuclei.labels``.
    origin : (int, int)
        Pixel (row, col), in a larger image, of the planes' pixel (0, 0): centroids are reported
        in that image's pixels, computed as on it (bit-identical). The labels stay those of the
        planes. ``(0, 0)``: the planes' own pixels.
    grid_origin : (int, int), optional
        Pixel of the planes' (0, 0) on the grid whose ``f``-pixel blocks the coarse seed search
        uses (``params.seed_scale_um``): tiles of one slide give the whole slide's nuclei when
        each passes its position on the slide's analysis grid. None: ``origin``.

    Returns
    -------
    Nuclei
        Centroids (pixels of these planes, or of the image of ``origin``) and features, ordered
        by label.
    """
    mpp = require_mpp(mpp, what="image")
    hem = _check_plane("hematoxylin", hematoxylin, None)
    dab = _check_plane("dab", dab, hem.shape)
    kern = _numba_kernels()
    bounds = None
    if kern is not None:  # the same clipped planes, and the stained pixels' bounds, in one pass
        hem_pos = np.empty(hem.shape, np.float32)
        dab_pos = np.empty(hem.shape, np.float32)
        bounds = tuple(int(b) for b in kern.clip_stained(hem, dab, hem_pos, dab_pos))
    else:
        hem_pos = np.maximum(hem, 0.0)
        dab_pos = np.maximum(dab, 0.0)
    box = _stained_box(hem_pos, dab_pos, mpp, params, bounds) if CROP_EMPTY_MARGINS else None
    org = (int(origin[0]), int(origin[1])) if grid_origin is None else (int(grid_origin[0]), int(grid_origin[1]))
    if box is None:
        labels, n = _labels_of(hem_pos, dab_pos, mpp, params, org)
    else:
        sub, n = _labels_of(hem_pos[box], dab_pos[box], mpp, params,
                            (org[0] + box[0].start, org[1] + box[1].start))
        labels = np.zeros(hem.shape, dtype=np.int32)
        labels[box] = sub
    del hem_pos, dab_pos
    feats = _measure(labels, n, hem, dab, mpp, (int(origin[0]), int(origin[1])))
    return Nuclei(**feats, mpp=mpp, labels=labels if return_labels else None)


#: Detect in the stained part of the planes plus the margin the filters need (bit-identical:
#: tests/detect/test_nuclei.py); False = always over the whole planes (the reference)
CROP_EMPTY_MARGINS = True


def _compress(plane: np.ndarray, c0: float) -> np.ndarray:
    """``log(1 + plane / c0)`` in place on a float32 plane (the nuclear contrast of step 3)."""
    kern = _numba_kernels()
    if kern is not None and plane.flags.c_contiguous:  # the same float32 operations, zeros skipped
        kern.log_contrast(plane, np.float32(c0), plane)
    else:
        np.divide(plane, np.float32(c0), out=plane)
        np.log1p(plane, out=plane)
    return plane


def _coarse_log(planes: list[tuple[np.ndarray, float]], params: NucleusParams, mpp: float, factor: int,
                origin: tuple[int, int], seed_r: list[np.ndarray], seed_c: list[np.ndarray]) -> np.ndarray:
    """The LoG seeds (appended to ``seed_r`` / ``seed_c``, analysis pixels) and the best response
    (float32, the planes' shape) of :func:`_labels_of` on the grid of ``factor``-pixel blocks
    (:mod:`._coarse_seeds`): each (background-subtracted signal, ``c0``) plane is averaged over
    the global blocks (``origin``), compressed and searched at radii in coarse pixels; each seed
    moves to its block's pixel of largest signal; the larger response of the two stains is
    interpolated back to the analysis grid."""
    radii_c = tuple(r / (mpp * factor) for r in params.nucleus_radius_um)
    best: np.ndarray | None = None
    shape = planes[0][0].shape
    for fine, c0 in planes:
        contrast = _compress(block_means(fine, origin, factor), c0)
        resp, rows, cols = _log_seeds(contrast, radii_c, params.seed_suppression, params.seed_min_response)
        del contrast
        rows, cols = refine_seeds(rows, cols, fine, origin, factor)
        seed_r.append(rows)
        seed_c.append(cols)
        best = resp if best is None else np.maximum(best, resp, out=best)
    assert best is not None
    return upsample_linear(best, shape, origin, factor)


def _labels_of(hem_pos: np.ndarray, dab_pos: np.ndarray, mpp: float,
               params: NucleusParams, origin: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, int]:
    """Label image (int32) and number of nuclei from the clipped (>= 0) stain planes (``origin``:
    their pixel (0, 0) in the larger image, which places the coarse seed grid when
    ``params.seed_scale_um`` is set)."""
    if hem_pos.size == 0:
        return np.zeros(hem_pos.shape, dtype=np.int32), 0
    bg_side = 2 * max(1, round(params.background_radius_um / mpp)) + 1
    sigma_px = params.smooth_sigma_um / mpp
    # (temporaries are dropped as soon as used: a tile's peak memory is a handful of planes)
    hem_sig = _minus_background(_gaussian(hem_pos, sigma_px), bg_side)
    dab_sig = _minus_background(_gaussian(dab_pos, sigma_px), bg_side)
    fg_signal = np.float32(params.dab_weight) * dab_sig
    fg_signal += hem_sig
    foreground = fg_signal >= params.foreground_od

    radii_px = tuple(r / mpp for r in params.nucleus_radius_um)
    response: np.ndarray | None = None
    seed_r: list[np.ndarray] = []
    seed_c: list[np.ndarray] = []
    planes = [(hem_sig, params.contrast_od), (dab_sig, params.dab_contrast_od)]
    del hem_sig, dab_sig  # each becomes its contrast plane, in place (not needed after this)
    factor = seed_factor(params, mpp)
    if factor > 1:  # seeds and response from the coarse grid (opt-in)
        response = _coarse_log(planes, params, mpp, factor, origin, seed_r, seed_c)
        planes = []
    while planes:
        contrast, c0 = planes.pop(0)
        contrast = _compress(contrast, c0)
        resp, rows, cols = _log_seeds(contrast, radii_px, params.seed_suppression, params.seed_min_response)
        del contrast
        seed_r.append(rows)
        seed_c.append(cols)
        response = resp if response is None else np.maximum(response, resp, out=response)
        del resp
    assert response is not None
    # pool the seeds of both stains: a seed with a stronger one nearby is the same nucleus
    kern = _numba_kernels()
    if kern is not None:
        markers, n_seeds = _pooled_markers(kern, seed_r, seed_c, response, foreground, mpp, params)
    else:
        seeds = np.zeros(hem_pos.shape, dtype=bool)
        for rows, cols in zip(seed_r, seed_c, strict=True):
            seeds[rows, cols] = True
        rows, cols = np.nonzero(seeds & foreground)
        seed_resp = np.where(seeds, response, -np.inf).astype(np.float32)
        merge_half = np.full(rows.shape, max(1, round(params.min_seed_distance_um / mpp)), dtype=np.intp)
        strongest = seed_resp[rows, cols] >= _window_max_at(seed_resp, rows, cols, merge_half)
        del seed_resp
        peaks = seeds  # reused: the pooled, strongest seeds
        peaks[:] = False
        peaks[rows[strongest], cols[strongest]] = True
        markers, n_seeds = ndi.label(peaks, structure=np.ones((3, 3), bool))
        del peaks, seeds

    np.negative(response, out=response)
    labels = _watershed_by_bands(response, markers, foreground)
    del response, markers
    # foreground components that hold no seed become one nucleus each (4-connected: ndi.label by runs)
    comp, n_comp = _morphology._label(foreground & (labels == 0))
    kern = _numba_kernels() if labels.dtype == np.int32 and labels.flags.c_contiguous else None
    if kern is not None:  # the same labels, peaks and counts in two compiled passes
        labels, area_px, n_all = _contour_areas(kern, labels, comp, n_seeds, n_comp, fg_signal, params)
    else:
        if n_comp:
            labels = np.where(comp > 0, comp + n_seeds, labels)
        n_all = int(labels.max())
        if params.contour_fraction > 0 and n_all:
            # adaptive contour: keep the pixels of each region above a fraction of its own peak, so pale
            # and dark nuclei both get their own outline and a seed's region cannot spread over stroma
            peak = _label_max(fg_signal, labels, n_all)
            labels = np.where(fg_signal >= np.float32(params.contour_fraction) * peak[labels], labels, 0)
        area_px = np.bincount(labels.ravel(), minlength=n_all + 1)
    del comp
    area_um2 = area_px * (mpp * mpp)
    keep = (area_um2 >= params.min_area_um2) & (area_um2 <= params.max_area_um2)
    keep[0] = False
    relabel = np.zeros(n_all + 1, dtype=np.int32)
    relabel[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    if kern is not None:
        kern.relabel_into(labels, relabel)
    else:
        labels = relabel[labels]
    n = int(keep.sum())
    return labels, n



def detect_nuclei(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any = "H-DAB",
    params: NucleusParams = NucleusParams(),
    background: Any = None,
    return_labels: bool = False,
) -> Nuclei:
    """Detect nuclei in an RGB brightfield IHC image (hematoxylin + DAB).

    Parameters
    ----------
    rgb : (M, N, 3) uint8
        Image at the analysis resolution.
    mpp : float
        Microns per pixel of ``rgb``.
    stains : str or mmnst_path.stain.StainMatrix
        Stain matrix or preset name holding ``hematoxylin`` and ``dab``.
    params : NucleusParams
        Physical detection parameters.
    background : None or sequence of 3 float
        Background (white) intensity per channel for the OD conversion; None = 255.
    return_labels : bool
        Also return the (M, N) int32 label image.

    Returns
    -------
    Nuclei
        One entry per nucleus, centroids in pixels of ``rgb``.
    """
    hem, dab = stain_planes(rgb, stains=stains, background=background)
    return nuclei_from_stains(hem, dab, mpp=mpp, params=params, return_labels=return_labels)


def stain_planes(
    rgb: np.ndarray, *, stains: Any = "H-DAB", background: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Hematoxylin and DAB concentration planes (log10 OD) of an RGB image, via mmnst_path.stain."""
    from ..stain import get_preset, separate_stains

    matrix = get_preset(stains) if isinstance(stains, str) else stains
    conc = separate_stains(rgb, matrix, stains=("hematoxylin", "dab"), background=background)
    return conc[..., 0], conc[..., 1]
