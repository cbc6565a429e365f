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
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .._params import check_finite, check_known_keys
from ..errors import ConfigError
from ..geometry import require_mpp
from . import _morphology
from ._coarse_seeds import block_means, coarse_log_reach_px, refine_seeds, upsample_linear
from ._morphology import _gaussian as _exact_gaussian
from ._morphology import _gaussian_half_kernel, _numba_kernels, _square_extreme, _uniform, _watershed_by_bands
from ._nucleus_measure import _label_max, _measure

__all__ = ["Nuclei", "NucleusParams", "detect_nuclei", "nuclei_from_stains", "seed_factor", "unstained_reach_px"]


@dataclass(frozen=True, slots=True)
class NucleusParams:
    """Physical parameters of :func:`detect_nuclei`.

    Attributes
    ----------
    nucleus_radius_um : tuple of float
        Radii (µm) of the nuclei the LoG seed detector is tuned to; one LoG scale per radius,
        ``sigma = r / sqrt(2)``.
    min_seed_distance_um : float
        Seeds (of either stain) with a stronger seed within this distance (µm, Chebyshev) are
        dropped.
    seed_min_response : float
        Minimum scale-normalised LoG response of a seed, on the compressed contrast
        ``log(1 + c / c0)`` (dimensionless).
    seed_suppression : float
        Non-maximum suppression radius of a seed as a fraction of its detected radius.
    contrast_od, dab_contrast_od : float
        ``c0`` (log10 OD) of the hematoxylin / DAB contrast compression ``log(1 + c / c0)``:
        the OD above which contrast counts logarithmically (pale nuclei ~0.1-0.2 OD above the
        background, saturated DAB ~2).
    smooth_sigma_um : float
        Gaussian smoothing of the stain planes (µm).
    background_radius_um : float
        Half-side (µm) of the square grey opening that estimates the local background; must exceed
        the radius of the largest nucleus.
    foreground_od : float
        Minimum background-subtracted ``H + dab_weight * DAB`` of a nucleus pixel (log10 OD).
    dab_weight : float
        Weight of DAB in the foreground signal ``H + dab_weight * DAB``.
    min_area_um2, max_area_um2 : float
        Area limits of a nucleus (µm²).
    contour_fraction : float
        A nucleus keeps the pixels of its watershed region whose background-subtracted signal is at
        least this fraction of the region's peak (0 = keep the whole region).
    seed_scale_um : float or None
        Grid (µm) of the LoG seed search: None (the default) = the analysis resolution; otherwise the
        stain signals are averaged over blocks of ``f = round(seed_scale_um / mpp)`` pixels (when
        ``f >= 2``), the LoG scales run on that grid, each seed goes back to the pixel of its block
        with the largest signal and the response is interpolated back
        (:mod:`._coarse_seeds`; opt-in: fewer pixels for the six LoG Gaussians, not the same seeds).

    Notes
    -----
    Defaults compared on the real annotated Ki67 tiles (``benchmarks/accuracy.py --split``;
    BCData, SHIDC-B-Ki-67, DeepLIIF), a handful of variants only, each judged on the even and odd
    image halves of every set separately. Against the single-signal LoG detector they replace,
    detection F1 rose on both halves of BCData (0.74/0.76 -> 0.82/0.79) and DeepLIIF
    (0.75/0.68 -> 0.78/0.70) and held on SHIDC (0.77/0.76 -> 0.77/0.78). ``nucleus_radius_um``
    stops at 5 µm: a 6 µm scale scores two touching 9 µm nuclei as one blob.
    """

    nucleus_radius_um: tuple[float, ...] = (3.0, 4.0, 5.0)
    min_seed_distance_um: float = 5.0
    seed_min_response: float = 0.1
    seed_suppression: float = 0.8
    contrast_od: float = 0.1
    dab_contrast_od: float = 0.3
    smooth_sigma_um: float = 0.75
    background_radius_um: float = 10.0
    foreground_od: float = 0.08
    dab_weight: float = 0.5
    min_area_um2: float = 25.0
    max_area_um2: float = 250.0
    contour_fraction: float = 0.3
    seed_scale_um: float | None = None

    def __post_init__(self) -> None:
        radii = tuple(float(r) for r in self.nucleus_radius_um)
        object.__setattr__(self, "nucleus_radius_um", radii)
        if not radii or any(not (r > 0 and math.isfinite(r)) for r in radii):
            msg = f"NucleusParams.nucleus_radius_um must be positive finite radii in µm, got {radii!r}"
            raise ConfigError(msg)
        positive = (
            "min_seed_distance_um",
            "seed_suppression",
            "contrast_od",
            "dab_contrast_od",
            "smooth_sigma_um",
            "background_radius_um",
            "max_area_um2",
        )
        check_finite(self, positive, positive=True)
        check_finite(self, ("seed_min_response", "foreground_od", "dab_weight", "min_area_um2", "contour_fraction"),
                     positive=False)
        if self.seed_scale_um is not None:
            if isinstance(self.seed_scale_um, bool) or not isinstance(self.seed_scale_um, int | float):
                msg = f"NucleusParams.seed_scale_um must be a number of µm or None, got {self.seed_scale_um!r}"
                raise ConfigError(msg)
            check_finite(self, ("seed_scale_um",), positive=True)
        if self.min_area_um2 >= self.max_area_um2:
            msg = (
                "NucleusParams.min_area_um2 must be < max_area_um2, got "
                f"min_area_um2={self.min_area_um2!r}, max_area_um2={self.max_area_um2!r}"
            )
            raise ConfigError(msg)

    def halo_parts_um(self, mpp: float | None = None) -> dict[str, float]:
        """Reach (µm) of each step of :func:`nuclei_from_stains` that a nucleus's result depends on.

        A nucleus is the same in any image that holds everything within the sum of these of its
        centroid (the filters' reflected borders then read nothing it depends on):

        ``smoothing``
            the Gaussian on the stain planes (truncated at 4 sigma);
        ``background``
            the local background: a minimum filter, then a maximum filter, then a box mean, each
            of half-side ``background_radius_um`` (3 r; the plane minus it, the foreground and
            the contrast planes are per pixel);
        ``log``
            the chained Gaussians of the LoG scales (each truncated at 4 sigma of its step) and
            the 5-point Laplacian's pixel;
        ``seeds``
            a seed is the maximum of the best response within ``seed_suppression * r`` of its own
            scale, and it is kept when no stronger seed lies within ``min_seed_distance_um``;
        ``extent``
            how far a nucleus's pixels and its seed may lie from its centroid, bounded by the
            diameter of the largest kept nucleus (``max_area_um2``); the watershed and the
            contour read the planes over those pixels and the seeds of the touching nuclei.

        With ``seed_scale_um`` (a coarse seed grid of ``f`` pixels), ``log`` is the coarse LoG's
        reach (:func:`._coarse_seeds.coarse_log_reach_px`: the block, the chained Gaussians in
        coarse pixels, the Laplacian and the interpolation) and ``seeds`` counts the suppression
        window in coarse pixels plus the refinement inside a block (``f - 1``).

        Parameters
        ----------
        mpp : float, optional
            Analysis resolution (µm/px): the reaches are the filters' exact pixel radii at it
            (each radius rounded as the detector rounds it), in µm. None: the continuous radii
            with the Laplacian's pixel counted as 1 µm (>= 1 px at any resolution finer than
            1 µm/px).
        """
        r_max = max(self.nucleus_radius_um)
        sigmas = tuple(r / math.sqrt(2.0) for r in self.nucleus_radius_um)
        if mpp is None:
            parts = {
                "smoothing": 4.0 * self.smooth_sigma_um,
                "background": 3.0 * self.background_radius_um,
                "log": _gaussian_stack_support(sigmas),
                "seeds": self.seed_suppression * r_max + self.min_seed_distance_um,
            }
            if self.seed_scale_um is not None:  # the coarse grid: Laplacian, block, interpolation, step roundings
                s = self.seed_scale_um
                parts["log"] = _gaussian_stack_support(sigmas) - 1.0 + 4.5 * s
                parts["seeds"] += 2.0 * s
        else:
            mpp = require_mpp(mpp, what="analysis")
            radii_px = sorted(r / mpp for r in self.nucleus_radius_um)
            log_px, prev = 1, 0.0  # the Laplacian's pixel, then each chained Gaussian step's radius
            for sigma in (r / math.sqrt(2.0) for r in radii_px):
                step = math.sqrt(max(sigma * sigma - prev * prev, 0.0))
                log_px += int(4.0 * step + 0.5) if step > 0 else 0  # scipy's radius at truncate=4
                prev = sigma
            seeds_px = (max(max(1, round(self.seed_suppression * r)) for r in radii_px)
                        + max(1, round(self.min_seed_distance_um / mpp)))
            f = seed_factor(self, mpp)
            if f > 1:  # the coarse grid: its LoG (block, Gaussians, interpolation) and its seed windows
                log_px = coarse_log_reach_px(self.nucleus_radius_um, mpp, f)
                seeds_px = (f * max(max(1, round(self.seed_suppression * r / f)) for r in radii_px) + f - 1
                            + max(1, round(self.min_seed_distance_um / mpp)))
            parts = {
                "smoothing": int(4.0 * self.smooth_sigma_um / mpp + 0.5) * mpp,
                "background": 3 * max(1, round(self.background_radius_um / mpp)) * mpp,
                "log": log_px * mpp,
                "seeds": seeds_px * mpp,
            }
        parts["extent"] = 2.0 * math.sqrt(self.max_area_um2 / math.pi)
        return parts

    def halo_um(self, mpp: float | None = None) -> float:
        """Context (µm) a tile needs around its core for results identical to a whole-image run:
        the sum of :meth:`halo_parts_um` (at the analysis resolution ``mpp`` when given)."""
        return float(sum(self.halo_parts_um(mpp).values()))

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> NucleusParams:
        """Build from a plain mapping (for example a parsed config file); unknown keys are an error."""
        check_known_keys(cls, mapping)
        return cls(**mapping)

    def to_mapping(self) -> dict[str, Any]:
        """Plain mapping (JSON-serialisable) of the parameters."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["seed_scale_um"] is None:  # the default: not written (results as before the key existed)
            del out["seed_scale_um"]
        out["nucleus_radius_um"] = list(self.nucleus_radius_um)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class Nuclei:
    """Detected nuclei: parallel 1-D arrays, one entry per nucleus.

    Attributes
    ----------
    row, col : (n,) float64
        Centroid in pixels of the analysed image.
    area_um2 : (n,) float64
        Area in µm².
    dab_od_mean, dab_od_max, hematoxylin_od_mean : (n,) float32
        Mean and max DAB concentration and mean hematoxylin concentration over the nucleus
        (log10 OD, QuPath convention).
    circularity : (n,) float32
        ``4 π area / perimeter²`` in [0, 1] (1 = disc); perimeter from the pixel-edge length
        corrected by π/4.
    eccentricity : (n,) float32
        Of the second-moment ellipse (0 = disc, towards 1 = elongated).
    labels : (M, N) int32 or None
        Label image (0 = background, nucleus ``i`` has label ``i + 1``) when asked for.
    mpp : float
        Microns per pixel of the analysed image.
    """

    row: np.ndarray
    col: np.ndarray
    area_um2: np.ndarray
    dab_od_mean: np.ndarray
    dab_od_max: np.ndarray
    hematoxylin_od_mean: np.ndarray
    circularity: np.ndarray
    eccentricity: np.ndarray
    mpp: float
    labels: np.ndarray | None = field(default=None, repr=False)

    FEATURES = (
        "row",
        "col",
        "area_um2",
        "dab_od_mean",
        "dab_od_max",
        "hematoxylin_od_mean",
        "circularity",
        "eccentricity",
    )

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def select(self, keep: np.ndarray) -> Nuclei:
        """Subset by a boolean mask or index array (the label image, if any, is dropped)."""
        values = {name: getattr(self, name)[keep] for name in self.FEATURES}
        return Nuclei(**values, mpp=self.mpp, labels=None)


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


def _gaussian32(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian of a 2-D float32 image in float32 arithmetic: scipy's kernel (radius
    ``int(4 sigma + 0.5)``, normalised in float64) rounded to float32, the same taps and
    reflected borders as ``ndi.gaussian_filter(..., truncate=4.0)``, so the same support (the
    halo is unchanged). Per axis and output pixel: ``x * w0``, then ``+ (x[-k] + x[+k]) * wk``
    for ``k = r .. 1``, each operation rounded to float32; the numba kernels and this numpy path
    make the same operations (bit-identical to each other). Against the float64 filter the error
    is a few float32 ulp of the plane's values (tests/detect/test_nuclei_kernels.py)."""
    w = _gaussian_half_kernel(sigma_px, 4.0).astype(np.float32)
    img = np.ascontiguousarray(image)
    kern = _numba_kernels()
    if kern is not None:
        out = np.empty_like(img)
        kern.gaussian32(img, w, out)
        return out
    r = w.shape[0] - 1
    for axis in (0, 1):
        n = img.shape[axis]
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        # scipy's "reflect" is numpy's "symmetric"; np.pad repeats it for pads longer than the axis
        padded = np.pad(img, pad, mode="symmetric")
        part = np.moveaxis(padded, axis, 0)
        acc = part[r : r + n] * w[0]
        for k in range(r, 0, -1):
            acc += (part[r - k : r - k + n] + part[r + k : r + k + n]) * w[k]
        img = np.ascontiguousarray(np.moveaxis(acc, 0, axis))
    return img


def _minus_background(plane: np.ndarray, side: int) -> np.ndarray:
    """``plane`` minus its local background (grey opening by a square, box-smoothed), clipped at 0.

    Computed in place where possible (one extra plane at a time); ``plane`` is not modified.
    With numba and an odd ``side`` of a float32 plane, the passes along axis 1 run as passes
    along axis 0 of the transposed image (:func:`_background_by_columns`: the same values).
    """
    kern = _numba_kernels() if plane.dtype == np.float32 and plane.ndim == 2 and plane.size else None
    if kern is not None and side > 1 and side % 2 == 1:
        background = _background_by_columns(kern, np.ascontiguousarray(plane), side // 2)
        np.subtract(plane, background, out=background)
        return np.maximum(background, 0.0, out=background)
    background = _square_extreme(plane, side, op="min")  # = ndi.minimum_filter(plane, size=side)
    background = _square_extreme(background, side, op="max")
    background = _uniform(background, side)  # = ndi.uniform_filter(background, size=side)
    np.subtract(plane, background, out=background)
    return np.maximum(background, 0.0, out=background)


def _background_by_columns(kern: Any, plane: np.ndarray, h: int) -> np.ndarray:
    """``ndi.uniform_filter(ndi.maximum_filter(ndi.minimum_filter(plane, s), s), s)`` with
    ``s = 2 h + 1`` (reflected borders) of a C-contiguous float32 plane, bit for bit, from the
    compiled axis-0 passes only (running extremes and sums along whole rows: vectorised, several
    times faster than along a row) and four transposes (numpy's strided copy: ~2x faster than the
    compiled block transpose on the 0.3-0.5 MPx planes of a tile, the same at 2 MPx).

    The opening's minima and maxima are exact, so its four 1-D passes may run in any order that
    keeps the minima before the maxima: min along axis 0, transpose, min and max along (the
    original) axis 1, transpose back, max along axis 0. The box mean keeps scipy's order (axis 0,
    then axis 1, float32 between them): its axis-1 pass is the axis-0 running sum of the
    transposed plane, the same float64 additions in the same order.
    """
    m, n = plane.shape
    a = np.empty((m, n), np.float32)
    kern.extreme_axis0(plane, h, False, False, a)  # min along axis 0
    t = np.empty((n, m), np.float32)
    np.copyto(t, a.T)
    t2 = np.empty((n, m), np.float32)
    kern.extreme_axis0(t, h, False, False, t2)  # min along axis 1
    kern.extreme_axis0(t2, h, True, False, t)  # max along axis 1
    np.copyto(a, t.T)
    b = np.empty((m, n), np.float32)
    kern.extreme_axis0(a, h, True, False, b)  # max along axis 0: the opening
    kern.uniform_axis0(b, h, a)  # box mean along axis 0
    np.copyto(t, a.T)
    kern.uniform_axis0(t, h, t2)  # box mean along axis 1
    np.copyto(b, t2.T)
    return b


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


def _gaussian_stack_support(sigmas: tuple[float, ...]) -> float:
    """Reach (same unit as ``sigmas``, plus one pixel counted as 1) of the chained Gaussians of
    :func:`_gaussian_stack` and the Laplacian, at the largest scale."""
    total, prev = 1.0, 0.0  # 1: the Laplacian's reach
    for sigma in sorted(sigmas):
        total += 4.0 * math.sqrt(max(sigma * sigma - prev * prev, 0.0))
        prev = sigma
    return total


def _laplacian(image: np.ndarray) -> np.ndarray:
    """Discrete 5-point Laplacian (reflected border: the outside neighbour of an edge pixel is
    itself), float32, by shifted slices."""
    out = image * np.float32(-4.0)
    out[1:] += image[:-1]
    out[:-1] += image[1:]
    out[0] += image[0]
    out[-1] += image[-1]
    out[:, 1:] += image[:, :-1]
    out[:, :-1] += image[:, 1:]
    out[:, 0] += image[:, 0]
    out[:, -1] += image[:, -1]
    return out


def _window_max_at(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Max of ``image`` over the square window of half-side ``half[i]`` around each point.

    Windows are clipped to the image (what ``ndi.maximum_filter(mode="reflect")`` gives there);
    evaluated at the points only, by gathering one offset at a time (no full-image filter).
    """
    out = np.full(rows.shape, -np.inf, dtype=np.float32)
    if rows.size == 0:
        return out
    kern = _numba_kernels() if image.dtype == np.float32 else None
    if kern is not None:  # the same maximum, one window at a time
        kern.window_max_at(np.ascontiguousarray(image), rows.astype(np.intp, copy=False),
                           cols.astype(np.intp, copy=False), half.astype(np.intp, copy=False), out)
        return out
    h_max = int(half.max())
    m, n = image.shape
    for dr in range(-h_max, h_max + 1):
        ok_r = np.abs(dr) <= half
        rr = np.clip(rows + dr, 0, m - 1)
        for dc in range(-h_max, h_max + 1):
            ok = ok_r & (abs(dc) <= half)
            vals = image[rr, np.clip(cols + dc, 0, n - 1)]
            np.maximum(out, np.where(ok, vals, -np.inf), out=out)
    return out


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


def seed_factor(params: NucleusParams, mpp: float) -> int:
    """Block side (analysis pixels) of the LoG seed grid: ``round(seed_scale_um / mpp)``, or 1 (the
    analysis grid) when ``seed_scale_um`` is None or rounds below 2."""
    if params.seed_scale_um is None:
        return 1
    return max(1, round(params.seed_scale_um / mpp))


def unstained_reach_px(params: NucleusParams, mpp: float) -> int:
    """How far (pixels) the detector's filters carry the stained pixels into unstained planes.

    Where both clipped stain planes are exactly 0 (white glass, or the white margin read past a
    slide's edge), every filter of :func:`nuclei_from_stains` keeps the planes 0 beyond this
    distance from the stained pixels: the Gaussian smoothing ``a``, then the background opening
    and box mean ``r`` or the chained LoG Gaussians plus the Laplacian ``G``, whichever reaches
    farther (the opening does not grow the signal's support), plus 2 pixels: ``a + max(r, G) +
    2``. Planes cut from a larger unstained area with at least this margin around their stained
    pixels give the same labels as the larger planes (the filters' reflected borders read only
    zeros), and no nucleus lies farther than ``a`` from a stained pixel.
    """
    a = int(4.0 * params.smooth_sigma_um / mpp + 0.5)
    r = max(1, round(params.background_radius_um / mpp))
    radii = sorted(rr / mpp for rr in params.nucleus_radius_um)
    g, prev = 1, 0.0  # the Laplacian's pixel, then each chained Gaussian step's radius
    for sigma in (rr / math.sqrt(2.0) for rr in radii):
        step = math.sqrt(max(sigma * sigma - prev * prev, 0.0))
        g += int(4.0 * step + 0.5) if step > 0 else 0
        prev = sigma
    f = seed_factor(params, mpp)
    if f > 1:  # the coarse LoG: its blocks, coarse Gaussians and interpolation
        g = coarse_log_reach_px(params.nucleus_radius_um, mpp, f)
    return a + max(r, g) + 2


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
