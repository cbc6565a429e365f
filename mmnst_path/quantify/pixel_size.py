"""Pixel-size plausibility: what size the nuclei of an image say its pixels are.

A wrong declared pixel size (``--mpp 0.25`` for a 0.5 µm/px tile, or wrong file metadata) changes
every µm-scaled step of an analysis without any error. Nuclei have a known physical size, so the
image itself says roughly how large its pixels are. This module measures that, as QC only: no
measured quantity reads it.

The measure is a granulometry (a "pattern spectrum") of the nuclear stain, which does not depend on
the nucleus detector (whose size limits and seed scales would pull any count of its own nuclei back
to its expected size: on EndoNuke tiles read at 2x and 0.5x their pixel size, its nuclei's median
diameter moved by +18 % and -3 %). Per tile, on a few windows of :data:`WINDOW_PX` pixels (at most
``coverage`` of the tile's owned pixels, at least one: the check's CPU):

1. the nuclear plane: the log10 OD of the red channel, which hematoxylin, azure B and DAB absorb
   and eosin little (no stain matrix: the check does not depend on the stains detected, and costs
   a table lookup);
2. tissue: pixels whose OD summed over the three channels reaches :data:`TISSUE_MIN_OD`;
3. for each half-side ``h`` (:data:`FINE_HALF_PX` on the plane, :data:`COARSE_HALF_PX` on the plane
   averaged over 2 x 2 pixels), a grey opening by a square of side ``2 h + 1`` px removes the
   stained structures narrower than it; the OD mass it removes from the tissue pixels (OD·µm², in
   the declared pixel size) is summed.

:class:`NuclearScale` holds those sums; they add up over tiles. :func:`nuclear_radius_um` reads the
half-side at which half of the mass removed by the largest opening is gone (log-linear between the
ladder's steps): whole nuclei carry most of the mass, chromatin texture and noise little, so the
figure follows the nucleus size and, for a wrong pixel size, moves with the error (less than the
error on some images: on the dev images read at 2x their pixel size the radius moved by a median
1.943x (1.085x-5.006x, 87 images), at 0.5x by 0.533x (0.428x-0.869x, 66 images)). :func:`pixel_size_metrics` compares it with the band
:data:`PLAUSIBLE_RADIUS_UM` set on permissively licensed training data and generated tiles
(benchmarks/experiments/pixel_size_dev_s37.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..geometry import require_mpp

__all__ = [
    "COARSE_HALF_PX",
    "FINE_HALF_PX",
    "MIN_MASS_PER_UM2",
    "MIN_NUCLEI",
    "NUCLEUS_OD",
    "PLAUSIBLE_RADIUS_UM",
    "REFERENCE_RADIUS_UM",
    "SCALE_RADII_UM",
    "TISSUE_MIN_OD",
    "WINDOW_PX",
    "NuclearScale",
    "nuclear_radius_um",
    "nuclear_scale",
    "pixel_size_metrics",
]

#: half-sides (pixels of the analysed image) of the square openings on the plane itself
FINE_HALF_PX = (1, 2, 3)
#: half-sides (pixels of the plane averaged over 2 x 2 pixels: a quarter of the pixels, the check's
#: CPU) of the larger openings
COARSE_HALF_PX = (2, 3, 4, 6, 8, 12)
#: the half-sides of the granulometry (µm) at the pipeline's 0.5 µm/px (they scale with the pixel size)
SCALE_RADII_UM = tuple(0.5 * h for h in FINE_HALF_PX) + tuple(1.0 * h for h in COARSE_HALF_PX)
#: side of a measured window, pixels of the analysed image (64 µm at 0.5 µm/px)
WINDOW_PX = 128
#: a pixel is tissue for the check when its OD summed over the three channels reaches this
TISSUE_MIN_OD = 0.15
#: the check runs where the mass removed by the largest opening is that of at least this many
#: nuclei (a nucleus read as a disc of OD :data:`NUCLEUS_OD` whose half-mass radius is the
#: image's: ``2 π r²``, so that the count does not depend on the declared pixel size) ...
MIN_NUCLEI = 10
NUCLEUS_OD = 0.3
#: ... and the stained structures are dense enough not to be texture of a nucleus-free tissue:
#: removed OD mass per µm² of tissue (nuclear tissue ~0.05-0.15; pale stroma, glass noise < 0.02)
MIN_MASS_PER_UM2 = 0.02
#: the half-mass radius (µm) of the nuclear granulometry that images at their true pixel size give:
#: the dev data (EndoNuke, BRCA-M2C, Kather NCT and 2016, generated tiles of 12 generator families,
#: seeds 5000-5003; benchmarks/experiments/pixel_size_dev_s37.py) read 0.636-3.747 µm (103 images);
#: the band is that range widened by 15 % below and 10 % above. Outside it the QC warns.
PLAUSIBLE_RADIUS_UM = (0.55, 4.1)
#: the radius the implied pixel size is read against: the median of those 103 dev images
REFERENCE_RADIUS_UM = 2.4


@dataclass(frozen=True, slots=True)
class NuclearScale:
    """Additive granulometry sums of a tile or slide.

    Attributes
    ----------
    removed : tuple of float
        OD·µm² of the nuclear plane removed by the opening of each half-side of ``radii_um``
        (non-decreasing).
    radii_um : tuple of float
        The half-sides, µm (:data:`SCALE_RADII_UM` at 0.5 µm/px; ``()`` when nothing was measured).
    tissue_um2 : float
        Tissue area of the measured windows, µm² (declared pixel size).
    windows : int
        Windows measured.
    """

    removed: tuple[float, ...] = ()
    radii_um: tuple[float, ...] = ()
    tissue_um2: float = 0.0
    windows: int = 0

    def __add__(self, other: NuclearScale) -> NuclearScale:
        if not other.radii_um:
            return NuclearScale(self.removed, self.radii_um, self.tissue_um2 + other.tissue_um2,
                                self.windows + other.windows)
        if not self.radii_um:
            return other + self
        if other.radii_um != self.radii_um:
            msg = f"NuclearScale sums of different half-sides cannot add: {self.radii_um} and {other.radii_um}"
            raise ValueError(msg)
        return NuclearScale(tuple(a + b for a, b in zip(self.removed, other.removed, strict=True)), self.radii_um,
                            self.tissue_um2 + other.tissue_um2, self.windows + other.windows)


def _windows(shape: tuple[int, int], side: int, owned: np.ndarray | None, rgb: np.ndarray,
             coverage: float) -> list[tuple[slice, slice]]:
    """The windows of ``side`` px measured in an image: the grid cells mostly owned and stained,
    every ``k``-th of them so that they cover at most ``coverage`` of the owned pixels (at least one)."""
    rows, cols = shape
    if rows <= side or cols <= side:
        return [(slice(0, rows), slice(0, cols))]
    r_starts = range(0, rows - side + 1, side)
    c_starts = range(0, cols - side + 1, side)
    step = max(1, side // 8)
    dark = rgb[::step, ::step].min(axis=-1) < 215  # (stained: not glass)
    own = np.ones(dark.shape, bool) if owned is None else np.asarray(owned, bool)[::step, ::step]
    good = []
    for r in r_starts:
        for c in c_starts:
            sl = (slice(r // step, (r + side) // step), slice(c // step, (c + side) // step))
            if own[sl].mean() >= 0.5 and dark[sl].mean() >= 0.25:
                good.append((slice(r, r + side), slice(c, c + side)))
    if not good:
        return []
    n_owned = float(rows * cols if owned is None else np.count_nonzero(owned))
    want = max(1, int(n_owned * coverage / (side * side)))
    k = max(1, math.ceil(len(good) / want))
    return good[k // 2 :: k]


#: log10 OD of each 8-bit value (QuPath's convention, white 255; 0 read as 1)
_OD_LUT = (-np.log10(np.maximum(np.arange(256, dtype=np.float64), 1.0) / 255.0)).astype(np.float32)


def nuclear_scale(rgb: np.ndarray, *, mpp: float, owned: np.ndarray | None = None,
                  coverage: float = 0.125) -> NuclearScale:
    """Granulometry sums of the nuclear stain of one image (see the module docstring).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Image at ``mpp``.
    mpp : float
        Declared µm per pixel of ``rgb`` (the check asks whether it is right).
    owned : (M, N) bool ndarray, optional
        Pixels this image counts (a tile's core); windows lie mostly inside it.
    coverage : float
        Largest share of the owned pixels measured, in (0, 1].

    Returns
    -------
    NuclearScale
    """
    mpp = require_mpp(mpp, what="image")
    if not (isinstance(coverage, int | float) and 0 < coverage <= 1):
        msg = f"coverage must be in (0, 1], got {coverage!r}"
        raise ValueError(msg)
    if rgb.ndim != 3 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        msg = f"rgb must be an (M, N, 3) uint8 image, got {rgb.dtype} {rgb.shape}"
        raise ValueError(msg)
    side = WINDOW_PX
    removed = np.zeros(len(FINE_HALF_PX) + len(COARSE_HALF_PX))
    tissue_um2 = 0.0
    wins = _windows(rgb.shape[:2], side, owned, rgb, coverage)
    for win in wins:
        part = rgb[win]
        plane = _OD_LUT[part[..., 0]]  # the red channel's OD: hematoxylin, azure B, DAB; little eosin
        tissue = (plane + _OD_LUT[part[..., 1]] + _OD_LUT[part[..., 2]]) >= TISSUE_MIN_OD
        if owned is not None:
            tissue &= np.asarray(owned, bool)[win]
        if not tissue.any():
            continue
        tissue_um2 += float(np.count_nonzero(tissue)) * mpp * mpp
        removed += _removed(plane, tissue, mpp)
    radii = tuple(mpp * h for h in FINE_HALF_PX) + tuple(2.0 * mpp * h for h in COARSE_HALF_PX)
    return NuclearScale(tuple(float(v) for v in np.maximum.accumulate(removed)), radii, tissue_um2, len(wins))


def _removed(plane: np.ndarray, tissue: np.ndarray, mpp: float) -> np.ndarray:
    """OD·µm² of ``plane`` (on ``tissue``) removed by the square opening of each half-side of
    :data:`FINE_HALF_PX` on the plane and of :data:`COARSE_HALF_PX` on the plane averaged over 2 x 2
    pixels (the whole plane when it is too small for that)."""
    from ..detect._morphology import _square_extreme  # (compiled, scipy's values bit for bit)

    rows, cols = (plane.shape[0] // 2) * 2, (plane.shape[1] // 2) * 2
    if min(rows, cols) >= 4:
        coarse = (plane[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2).mean(axis=(1, 3), dtype=np.float32),
                  tissue[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2).mean(axis=(1, 3)) >= 0.5, 2)
    else:
        coarse = (plane, tissue, 1)
    steps = [(plane, tissue, 1, h) for h in FINE_HALF_PX] + [(*coarse, h) for h in COARSE_HALF_PX]
    out = np.zeros(len(steps))
    for i, (p, t, f, h) in enumerate(steps):
        k = 2 * h + 1
        opened = _square_extreme(_square_extreme(p, k, op="min"), k, op="max")
        out[i] = float((p - opened)[t].sum()) * (f * mpp) ** 2
    return out


def nuclear_radius_um(scale: NuclearScale, *, min_nuclei: float = MIN_NUCLEI,
                      min_mass_per_um2: float = MIN_MASS_PER_UM2) -> float:
    """The half-mass radius (µm, in the declared pixel size) of the granulometry: the half-side at
    which half of the mass removed by the largest opening is gone (log-linear between the
    half-sides); NaN when that mass is that of fewer than ``min_nuclei`` nuclei or below
    ``min_mass_per_um2`` OD per µm² of tissue (too few nuclei to tell; see :data:`MIN_NUCLEI`)."""
    removed = np.asarray(scale.removed, dtype=np.float64)
    total = float(removed[-1]) if removed.size and len(scale.radii_um) == removed.size else 0.0
    if not (total > 0 and math.isfinite(total) and total >= min_mass_per_um2 * scale.tissue_um2):
        return math.nan
    frac = removed / total
    radii = np.log(np.asarray(scale.radii_um, dtype=np.float64))
    i = int(np.searchsorted(frac, 0.5))
    if i == 0:
        radius = float(scale.radii_um[0])
    else:
        lo, hi = frac[i - 1], frac[i]
        t = 0.0 if hi <= lo else (0.5 - lo) / (hi - lo)
        radius = float(math.exp(radii[i - 1] + t * (radii[i] - radii[i - 1])))
    if total < min_nuclei * NUCLEUS_OD * 2.0 * math.pi * radius * radius:
        return math.nan
    return radius


def pixel_size_metrics(scale: NuclearScale | None, declared_mpp: float, *,
                       band: tuple[float, float] = PLAUSIBLE_RADIUS_UM,
                       reference_um: float = REFERENCE_RADIUS_UM) -> dict[str, Any]:
    """The QC metrics of the check: ``pixel_size_check`` ("ok", "implausible" or "not run"),
    ``pixel_size_declared_mpp`` (``declared_mpp``), ``pixel_size_nuclear_radius_um``
    (:func:`nuclear_radius_um`, NaN when not run) and ``pixel_size_implied_mpp`` (the declared µm/px
    times ``reference_um`` over that radius: what the nuclei suggest; NaN when not run)."""
    declared = require_mpp(declared_mpp, what="declared pixel size")
    radius = nuclear_radius_um(scale) if scale is not None else math.nan
    if math.isnan(radius):
        return {"pixel_size_check": "not run", "pixel_size_declared_mpp": declared,
                "pixel_size_nuclear_radius_um": math.nan, "pixel_size_implied_mpp": math.nan}
    ok = band[0] <= radius <= band[1]
    return {"pixel_size_check": "ok" if ok else "implausible", "pixel_size_declared_mpp": declared,
            "pixel_size_nuclear_radius_um": radius, "pixel_size_implied_mpp": declared * reference_um / radius}
