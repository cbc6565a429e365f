"""Melanin area of one tile as additive counts; fractions computed once from slide totals.

:func:`measure_melanin` runs :func:`mmnst_path.detect.pigment.pigment_mask` (or takes a mask
already computed for the Ki67 exclusion) and sums, in µm², the melanin and tissue pixels inside
the region the caller owns (tile core, ROI). :class:`MelaninCounts` add up over tiles;
:func:`melanin_metrics` turns the totals into mm² and percentages (NaN when undefined).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._params import check_finite, check_known_keys, plain_mapping
from ..errors import ConfigError
from ..geometry import require_mpp

__all__ = ["MelaninCounts", "MelaninParams", "measure_melanin", "melanin_metrics", "tissue_from_rgb"]


@dataclass(frozen=True, slots=True)
class MelaninParams:
    """Parameters of :func:`measure_melanin` besides the pigment detector's own.

    Attributes
    ----------
    tissue_min_od : float
        A pixel is tissue when its total OD (norm of the RGB log10 OD vector), smoothed over
        ``tissue_smooth_um``, reaches this. Glass is ~0.0–0.03, pale stroma >= 0.1.
    tissue_smooth_um : float
        Gaussian sigma (µm) of that smoothing (bridges pale gaps inside tissue).
    """

    tissue_min_od: float = 0.08
    tissue_smooth_um: float = 2.0

    def __post_init__(self) -> None:
        check_finite(self, ("tissue_min_od", "tissue_smooth_um"), positive=False)

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> MelaninParams:
        """Build from a plain mapping; unknown keys are an error."""
        check_known_keys(cls, mapping)
        return cls(**mapping)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-serialisable mapping."""
        return plain_mapping(self)


@dataclass(frozen=True, slots=True)
class MelaninCounts:
    """Additive melanin areas of a tile or slide, µm² (never ratios).

    Attributes
    ----------
    melanin_um2 : float
        Melanin pixels inside tissue and inside the analysed region.
    tissue_um2 : float
        Tissue pixels inside the analysed region.
    region_um2 : float
        Area of the analysed region (tile core, or core ∩ ROI), tissue or not.
    """

    melanin_um2: float = 0.0
    tissue_um2: float = 0.0
    region_um2: float = 0.0

    def __add__(self, other: MelaninCounts) -> MelaninCounts:
        if not isinstance(other, MelaninCounts):
            return NotImplemented
        return MelaninCounts(self.melanin_um2 + other.melanin_um2, self.tissue_um2 + other.tissue_um2,
                             self.region_um2 + other.region_um2)

    def __radd__(self, other: object) -> MelaninCounts:
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    @property
    def fraction_of_tissue(self) -> float:
        """Melanin / tissue area (0–1), NaN without tissue."""
        return self.melanin_um2 / self.tissue_um2 if self.tissue_um2 > 0 else math.nan

    @property
    def fraction_of_region(self) -> float:
        """Melanin / region area (0–1), NaN for an empty region."""
        return self.melanin_um2 / self.region_um2 if self.region_um2 > 0 else math.nan


def melanin_metrics(counts: MelaninCounts) -> dict[str, float]:
    """Summary numbers of slide totals.

    Returns
    -------
    dict
        ``melanin_area_mm2``, ``melanin_fraction_pct`` (of tissue), ``melanin_region_pct`` (of
        the analysed region, i.e. the ROI when one is given) and ``melanin_tissue_mm2``;
        undefined percentages are NaN, never 0.
    """
    return {
        "melanin_area_mm2": counts.melanin_um2 / 1e6,
        "melanin_fraction_pct": 100.0 * counts.fraction_of_tissue,
        "melanin_region_pct": 100.0 * counts.fraction_of_region,
        "melanin_tissue_mm2": counts.tissue_um2 / 1e6,
    }


def tissue_from_rgb(rgb: np.ndarray, *, mpp: float, min_od: float = 0.08, smooth_um: float = 2.0,
                    background: Any = None, _od: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Tissue (not glass) pixels of a tile: smoothed total OD >= ``min_od``.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    mpp : float
        µm per pixel.
    min_od : float
        Threshold on the norm of the RGB log10 OD vector.
    smooth_um : float
        Gaussian sigma in µm.
    _od : (lookup table, (M, N, 3) float32 ndarray) or None
        ``rgb``'s OD when the caller has it (see :func:`measure_melanin`).

    Returns
    -------
    (M, N) bool ndarray
    """
    from ..detect._morphology import _gaussian, _od_norm
    from ..stain import od_from_rgb

    mpp = require_mpp(mpp, what="image")
    od = None
    if _od is not None and _od[1].shape == (*rgb.shape[:2], 3):  # the tile's OD, at this white point?
        from ..stain.od import od_lut

        if np.array_equal(_od[0], od_lut(background).astype(np.float32)):
            od = _od[1]
    if od is None:
        od = od_from_rgb(rgb, background=background)
    # np.sqrt(np.einsum("...c,...c->...", od, od)), one compiled pass with numba (bit-identical, tested)
    dark = _od_norm(od)
    sigma = smooth_um / mpp
    if sigma > 0.3:
        # scipy's filter bit for bit (compiled for a float32 plane, ~3x faster on a 1058² tile)
        dark = _gaussian(dark, sigma)
    return dark >= min_od


def measure_melanin(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: MelaninParams | None = None,
    tissue: np.ndarray | None = None,
    pigment: np.ndarray | None = None,
    pigment_params: Any = None,
    _od: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[MelaninCounts, np.ndarray]:
    """Melanin and tissue area of one tile.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Tile at ``mpp`` µm/px.
    mpp : float
        µm per pixel.
    stains : str or StainMatrix
        Stain preset / matrix (decides the pigment detector's mode).
    params : MelaninParams or None
    tissue : (M, N) bool ndarray or None
        The region this call owns (tile core, core ∩ ROI); ``None`` = the whole tile. Glass
        inside it is found here and excluded from the tissue area.
    pigment : (M, N) bool ndarray or None
        A pigment mask already computed with :func:`~mmnst_path.detect.pigment.pigment_mask`
        (the Ki67 step needs it too); ``None`` computes it with ``pigment_params``.
    pigment_params : PigmentParams or None
    _od : (lookup table, (M, N, 3) float32 ndarray) or None
        The OD of ``rgb`` an earlier stage of the tile computed, with the float32 lookup table
        (:func:`mmnst_path.stain.od.od_lut`) of its white point: used when that is the white
        point used here (the same values).

    Returns
    -------
    counts : MelaninCounts
        Areas in µm² inside ``tissue``.
    mask : (M, N) bool ndarray
        Melanin pixels (full tile, not restricted to ``tissue``).
    """
    from ..detect.pigment import pigment_mask

    params = params or MelaninParams()
    mpp = require_mpp(mpp, what="image")
    shape = rgb.shape[:2]
    if pigment is None:
        pigment = pigment_mask(rgb, mpp=mpp, stains=stains, params=pigment_params)
    pigment = np.asarray(pigment, dtype=bool)
    if pigment.shape != shape:
        msg = f"pigment mask must have the tile's shape {shape}, got {pigment.shape}"
        raise ConfigError(msg)
    if tissue is None:
        region = np.ones(shape, dtype=bool)
    else:
        region = np.asarray(tissue, dtype=bool)
        if region.shape != shape:
            msg = f"tissue (owned region) mask must have the tile's shape {shape}, got {region.shape}"
            raise ConfigError(msg)
    matrix_bg = getattr(stains, "background", None)
    # the tissue test is read inside ``region`` only: computed on its bounding box grown by the
    # reach of the smoothing (the same values there: every pixel of the box reads the image
    # within that reach, and the grown box meets the image border where the tile does), not on
    # the context around a tile core
    box, grown = _region_box(region, params.tissue_smooth_um / mpp)
    od = None if _od is None or _od[1].shape[:2] != shape else (_od[0], _od[1][grown])
    tis = tissue_from_rgb(rgb[grown], mpp=mpp, min_od=params.tissue_min_od, smooth_um=params.tissue_smooth_um,
                          background=matrix_bg, _od=od)
    inner = (slice(box[0].start - grown[0].start, box[0].stop - grown[0].start),
             slice(box[1].start - grown[1].start, box[1].stop - grown[1].start))
    pig, reg = pigment[box], region[box]
    tis = tis[inner] | pig
    px = mpp * mpp
    counts = MelaninCounts(
        melanin_um2=float(np.count_nonzero(pig & tis & reg)) * px,
        tissue_um2=float(np.count_nonzero(tis & reg)) * px,
        region_um2=float(np.count_nonzero(region)) * px,
    )
    return counts, pigment


def _region_box(region: np.ndarray, sigma_px: float) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """(bounding box of ``region``'s pixels, that box grown by the radius of the Gaussian of
    ``sigma_px`` that :func:`tissue_from_rgb` applies, clipped to the image); the whole image
    when ``region`` is all True or all False."""
    from ..detect._morphology import _gaussian_half_kernel

    m, n = region.shape
    whole = (slice(0, m), slice(0, n))
    rows = np.flatnonzero(region.any(axis=1))
    if rows.size == 0:
        return whole, whole
    cols = np.flatnonzero(region[rows[0] : rows[-1] + 1].any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    reach = len(_gaussian_half_kernel(sigma_px, 4.0)) - 1 if sigma_px > 0.3 else 0
    box = (slice(r0, r1), slice(c0, c1))
    return box, (slice(max(r0 - reach, 0), min(r1 + reach, m)), slice(max(c0 - reach, 0), min(c1 + reach, n)))
