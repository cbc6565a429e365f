"""Where a tile's chromogen sits: in nuclear bodies, in rings around cells, or elsewhere.

Hue alone cannot tell every Ki67 protocol apart (:mod:`mmnst_path.stain.guess`): brown-black
melanin lies on the brown side of every chromogen and may outweigh a few red positives, and the
brown Ki67 nuclei of a Ki67 / MART-1 double stain lie where melanin lies. Shape and place can:
a Ki67 chromogen fills round nuclear bodies (about 4-14 µm across, smooth-edged), melanin comes
as granules, perinuclear rings and ragged clusters, and a cytoplasmic marker (MART-1 / Melan-A)
draws a ring around each melanocyte's nucleus. :func:`chromogen_places` measures this on an
image fine enough to resolve nuclei (at most :data:`PLACES_MAX_MPP` µm per pixel), in the same
hematoxylin-free plane as the guess: brown = at or above the AEC boundary of the guess
(``AEC_DEG``), red = below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PLACES_MAX_MPP", "ChromogenPlaces", "chromogen_places"]


@dataclass(frozen=True)
class ChromogenPlaces:
    """Where the chromogen-dominated pixels of an image sit (:func:`chromogen_places`).

    Attributes
    ----------
    brown_bodies_mm2, red_bodies_mm2 : float
        Nuclear bodies per mm² of tissue: filled, round, smooth-edged objects of nucleus size
        (``BODY_AREA_UM2``) made of brown (DAB-side, at or above ``AEC_DEG``) / red (below it)
        chromogen pixels. Melanin granules, perinuclear rings and irregular clusters are not bodies.
    red_ring_share : float
        Share of the red chromogen pixels in rings around a cell (objects of cell size,
        ``RING_AREA_UM2`` with their holes filled, that are at least ``1 - RING_MAX_FILL`` hole):
        a cytoplasmic marker (MART-1); a red nuclear Ki67 or SOX10 fills its nucleus instead.
    brown_body_deg, red_body_deg : float
        Median angle from DAB of the brown / red bodies (each body's median, or its
        ``RED_BODY_PCT`` percentile for red ones; NaN: none).
    """

    brown_bodies_mm2: float
    red_bodies_mm2: float
    red_ring_share: float
    brown_body_deg: float
    red_body_deg: float


#: Nucleus-sized body (µm² of chromogen pixels): a 4-14 µm nucleus.
BODY_AREA_UM2 = (12.0, 150.0)
#: Shape of a nuclear body: solidity, share kept by an opening of radius ``BODY_OPEN_UM`` (granule
#: clusters have ragged edges and lose it), largest eccentricity, share of its filled area.
BODY_SOLIDITY = 0.88
BODY_OPEN_UM = 1.5
BODY_OPEN_KEEP = 0.85
BODY_MAX_ECC = 0.85
BODY_FILL = 0.95
#: A ring around a cell: filled area in this range (µm²), at most this share of it stained.
RING_AREA_UM2 = (20.0, 400.0)
RING_MAX_FILL = 0.9
#: A red body's angle is this percentile of its pixels' angles (its reddest part: its rim mixes
#: with hematoxylin, a camera black level turns its darkest pixels neutral).
RED_BODY_PCT = 20.0
#: Chromogen objects are looked at only on images of at most this many µm per pixel (a slide
#: thumbnail at 8 µm/px turns a nucleus into one pixel).
PLACES_MAX_MPP = 1.5


def chromogen_places(rgb: np.ndarray, tissue: np.ndarray | None, mpp: float,
                     white: tuple[float, float, float] = (255.0, 255.0, 255.0)) -> ChromogenPlaces | None:
    """Where the brown and the red chromogen-dominated pixels of an image sit: in nuclear bodies,
    in rings around cells, or elsewhere (see :class:`ChromogenPlaces`).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    tissue : (M, N) bool ndarray or None
        Pixels to look at (None: all).
    mpp : float
        µm per pixel of ``rgb``.
    white : tuple of 3 float
        White point the OD is taken against.

    Returns
    -------
    ChromogenPlaces or None
        None when ``mpp`` is coarser than :data:`PLACES_MAX_MPP` or the tissue is empty.
    """
    from scipy import ndimage as ndi
    from skimage.measure import regionprops

    from . import od_from_rgb
    from .guess import _E1, _E2, _H, AEC_DEG, CHROMOGEN_MIN_OD, CHROMOGEN_MIN_SHARE, MIN_OD

    if not (math.isfinite(mpp) and 0 < mpp <= PLACES_MAX_MPP):
        return None
    rgb = np.asarray(rgb)
    keep = np.ones(rgb.shape[:2], bool) if tissue is None else np.asarray(tissue, bool)
    area_mm2 = float(keep.sum()) * mpp * mpp / 1e6
    if area_mm2 <= 0:
        return None
    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    resid = od - (od @ _H)[..., None] * _H
    theta = np.degrees(np.arctan2(resid @ _E2, resid @ _E1))
    m = np.linalg.norm(resid, axis=2)
    chrom = keep & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    px_um2 = mpp * mpp
    r = max(1, round(BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = yy * yy + xx * xx <= r * r
    bodies = {"brown": 0, "red": 0}
    degs: dict[str, list[float]] = {"brown": [], "red": []}
    ring = red_total = 0.0
    for cls, sel in (("brown", (theta >= AEC_DEG) & (theta < 30.0)), ("red", theta < AEC_DEG)):
        objs = chrom & sel
        opened = ndi.binary_opening(objs, structure=disc)
        lab, _ = ndi.label(objs)
        for rp in regionprops(lab):
            a = rp.area * px_um2
            if cls == "red":
                red_total += a
                if RING_AREA_UM2[0] <= rp.area_filled * px_um2 <= RING_AREA_UM2[1] and rp.area < RING_MAX_FILL * rp.area_filled:
                    ring += a
            if not (BODY_AREA_UM2[0] <= a <= BODY_AREA_UM2[1]) or rp.area < BODY_FILL * rp.area_filled:
                continue
            ys, xs = rp.coords[:, 0], rp.coords[:, 1]
            if (rp.solidity >= BODY_SOLIDITY and rp.eccentricity <= BODY_MAX_ECC
                    and float(opened[ys, xs].mean()) >= BODY_OPEN_KEEP):
                bodies[cls] += 1
                degs[cls].append(float(np.percentile(theta[ys, xs], 50 if cls == "brown" else RED_BODY_PCT)))
    return ChromogenPlaces(bodies["brown"] / area_mm2, bodies["red"] / area_mm2,
                           float(ring / red_total) if red_total > 0 else 0.0,
                           float(np.median(degs["brown"])) if degs["brown"] else math.nan,
                           float(np.median(degs["red"])) if degs["red"] else math.nan)
