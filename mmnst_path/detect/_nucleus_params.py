"""The nucleus detector's parameters and results (:mod:`mmnst_path.detect.nuclei`).

:class:`NucleusParams` (the physical parameters, their checks and the halo they imply),
:class:`Nuclei` (the detected nuclei: parallel per-nucleus arrays) and the two reaches derived
from the parameters at an analysis resolution, :func:`seed_factor` (the coarse seed grid's block)
and :func:`unstained_reach_px` (how far the filters carry stained pixels into unstained planes).
All are importable from :mod:`mmnst_path.detect.nuclei`, their public home.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .._params import check_finite, check_known_keys
from ..errors import ConfigError
from ..geometry import require_mpp
from ._coarse_seeds import coarse_log_reach_px
from ._nucleus_filters import _gaussian_stack_support

__all__ = ["Nuclei", "NucleusParams", "seed_factor", "unstained_reach_px"]


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
