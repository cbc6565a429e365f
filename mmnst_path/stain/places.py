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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._planes import ODPlanes

__all__ = ["PLACES_MAX_MPP", "ChromogenPlaces", "chromogen_places", "pooled_places", "tissue_patches"]


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
    dab_bodies_mm2 : float
        Nuclear bodies of any chromogen (brown and red pixels together) per mm² that hold DAB: at
        least ``DAB_BODY_SHARE`` of their OD off the hematoxylin axis and not redder than
        ``DAB_BODY_MIN_DEG``. DAB lies farther from hematoxylin (residual share 0.60) than Fast Red
        (0.48), AEC (0.53) or melanin over a blue nucleus, so a nucleus with DAB alone or DAB plus a
        red marker (a Ki67-positive melanocyte of a Ki67 / SOX10 double stain) is more
        chromogen-dominated than a single red chromogen's positive nucleus.
    dab_body_deg, other_body_deg : float
        Median angle from DAB of those bodies and of the other nuclear bodies of any chromogen
        (NaN: none). In a double stain the DAB-holding nuclei are browner than the marker-only
        ones; in a single stain both are the same chromogen.
    pink_bodies_mm2 : float
        Nuclear bodies per mm² of tinted red pixels, however faint (residual at least
        ``PINK_MIN_OD`` below ``RED_DEG``, not necessarily chromogen-dominated): red nuclei, a pale
        nuclear marker (SOX10) mixed with hematoxylin included (session 44: a pale SOX10 marker's
        nuclei are no red bodies on a 1 µm/px thumbnail).
    dab_brown_bodies_mm2 : float
        Brown nuclear bodies that are DAB by their colour: median angle within ``DAB_BROWN_DEG`` of
        DAB (melanin lies browner, +6 to +25°) and at least ``DAB_BODY_SHARE`` of their OD off the
        hematoxylin axis.
    """

    brown_bodies_mm2: float
    red_bodies_mm2: float
    red_ring_share: float
    brown_body_deg: float
    red_body_deg: float
    dab_bodies_mm2: float = 0.0
    dab_body_deg: float = math.nan
    other_body_deg: float = math.nan
    pink_bodies_mm2: float = 0.0
    dab_brown_bodies_mm2: float = 0.0


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
#: A nuclear body of any chromogen holds DAB when at least this share of its OD lies off the
#: hematoxylin axis (its mean residual over its mean OD norm) and its median angle is not redder
#: than this (Fast Red itself lies at -42°). Generated tiles of seeds 0-2 and 10-12
#: (``benchmarks/eval_stain_guess.py``): DAB-holding bodies of Ki67 / SOX10 tiles 0.46-0.57,
#: positive nuclei of single red stains 0.36-0.49.
DAB_BODY_SHARE = 0.46
DAB_BODY_MIN_DEG = -25.0
#: A brown nuclear body is DAB by its colour (:attr:`ChromogenPlaces.dab_brown_bodies_mm2`) when its median
#: angle lies in this range (degrees from DAB; brown-black melanin at +6 to +25°).
DAB_BROWN_DEG = (-12.0, 6.0)
#: Chromogen objects are looked at only on images of at most this many µm per pixel (a slide
#: thumbnail at 8 µm/px turns a nucleus into one pixel).
PLACES_MAX_MPP = 1.5
#: Patches a slide whose thumbnail is coarser than that is read in (:func:`tissue_patches`): this
#: many, of this side (µm), at this resolution (µm/px, the thumbnail of a 384-px tile at 0.5 µm/px).
PATCH_COUNT = 6
PATCH_UM = 256.0
PATCH_MPP = 0.75


def chromogen_places(rgb: np.ndarray, tissue: np.ndarray | None, mpp: float,
                     white: tuple[float, float, float] = (255.0, 255.0, 255.0), *,
                     planes: ODPlanes | None = None) -> ChromogenPlaces | None:
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
    planes : ODPlanes, optional
        ``rgb``'s OD planes, when the caller has them (the stain guess: computed once for its colour guess and
        here; the same values).

    Returns
    -------
    ChromogenPlaces or None
        None when ``mpp`` is coarser than :data:`PLACES_MAX_MPP` or the tissue is empty.
    """
    return pooled_places([(rgb, tissue)], mpp, white, _planes=planes)


def pooled_places(images: Sequence[tuple[np.ndarray, np.ndarray | None]], mpp: float,
                  white: tuple[float, float, float] = (255.0, 255.0, 255.0), *,
                  _planes: ODPlanes | None = None) -> ChromogenPlaces | None:
    """:func:`chromogen_places` of several ``(rgb, tissue)`` images of the same slide at ``mpp``,
    their bodies, rings and tissue areas pooled (e.g. the patches of :func:`tissue_patches`)."""
    if not (math.isfinite(mpp) and 0 < mpp <= PLACES_MAX_MPP):
        return None
    area = ring = red_total = 0.0
    bodies = {"brown": 0, "red": 0, "dab": 0, "pink": 0, "dab_brown": 0}
    degs: dict[str, list[float]] = {"brown": [], "red": [], "dab": [], "other": []}
    for rgb, tissue in images:
        a, rg, rt = _count(np.asarray(rgb), tissue, mpp, white, bodies, degs, _planes if len(images) == 1 else None)
        area, ring, red_total = area + a, ring + rg, red_total + rt
    if area <= 0:
        return None
    return ChromogenPlaces(bodies["brown"] / area, bodies["red"] / area,
                           float(ring / red_total) if red_total > 0 else 0.0,
                           float(np.median(degs["brown"])) if degs["brown"] else math.nan,
                           float(np.median(degs["red"])) if degs["red"] else math.nan,
                           bodies["dab"] / area,
                           float(np.median(degs["dab"])) if degs["dab"] else math.nan,
                           float(np.median(degs["other"])) if degs["other"] else math.nan,
                           bodies["pink"] / area, bodies["dab_brown"] / area)


def _count(rgb: np.ndarray, tissue: np.ndarray | None, mpp: float, white: tuple[float, float, float],
           bodies: dict[str, int], degs: dict[str, list[float]],
           planes: ODPlanes | None = None) -> tuple[float, float, float]:
    """Add the nuclear bodies of one image to ``bodies`` / ``degs``; its tissue area (mm²), red ring
    area and red area (µm²). ``planes``: ``rgb``'s OD planes, when the caller has them."""
    from scipy import ndimage as ndi
    from skimage.measure import regionprops

    from . import od_from_rgb
    from .guess import (
        AEC_DEG,
        CHROMOGEN_MIN_OD,
        CHROMOGEN_MIN_SHARE,
        MIN_OD,
        PINK_MIN_OD,
        RED_DEG,
        od_residual,
    )

    keep = np.ones(rgb.shape[:2], bool) if tissue is None else np.asarray(tissue, bool)
    area_mm2 = float(keep.sum()) * mpp * mpp / 1e6
    if area_mm2 <= 0:
        return 0.0, 0.0, 0.0
    if planes is None:
        od = od_from_rgb(rgb, background=white).astype(np.float64)
        norm = np.linalg.norm(od, axis=2)
        m, theta = od_residual(od)
    else:
        norm, m, theta = planes(white)
    chrom = keep & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    px_um2 = mpp * mpp
    r = max(1, round(BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = yy * yy + xx * xx <= r * r
    ring = red_total = 0.0
    pink = keep & (norm > MIN_OD) & (m >= PINK_MIN_OD) & (theta < RED_DEG)
    for cls, sel in (("brown", (theta >= AEC_DEG) & (theta < 30.0)), ("red", theta < AEC_DEG), ("any", theta < 30.0),
                     ("pink", None)):
        objs = pink if sel is None else chrom & sel
        opened = ndi.binary_opening(objs, structure=disc)
        lab, n = ndi.label(objs)
        flat = lab.ravel()
        px = np.bincount(flat, minlength=n + 1)[1:]
        areas = px * px_um2  # µm², as ``rp.area * px_um2``
        # the share of each object the opening keeps, as ``opened[ys, xs].mean()`` (a sum of ones over a count)
        kept = np.bincount(flat, weights=opened.ravel(), minlength=n + 1)[1:] / np.maximum(px, 1)
        if cls == "red":  # every red object's area, added in label order (regionprops' order)
            for a in areas.tolist():
                red_total += a
        for rp in regionprops(_candidates(lab, px, areas, kept, cls == "red")):
            a = rp.area * px_um2
            if cls == "red":  # rings: red objects only, whatever their shape
                if RING_AREA_UM2[0] <= rp.area_filled * px_um2 <= RING_AREA_UM2[1] and rp.area < RING_MAX_FILL * rp.area_filled:
                    ring += a
            # a nuclear body: nucleus-sized, kept by the opening, round, filled and solid (the cheap tests first)
            if (not (BODY_AREA_UM2[0] <= a <= BODY_AREA_UM2[1]) or not kept[rp.label - 1] >= BODY_OPEN_KEEP
                    or not rp.eccentricity <= BODY_MAX_ECC or rp.area < BODY_FILL * rp.area_filled):
                continue
            ys, xs = rp.coords[:, 0], rp.coords[:, 1]
            if rp.solidity >= BODY_SOLIDITY:
                if cls == "any":  # DAB-holding or not, from how far its OD lies off hematoxylin
                    deg = float(np.median(theta[ys, xs]))
                    dab = float(m[ys, xs].mean()) >= DAB_BODY_SHARE * float(norm[ys, xs].mean()) and deg >= DAB_BODY_MIN_DEG
                    bodies["dab"] += int(dab)
                    degs["dab" if dab else "other"].append(deg)
                    continue
                if cls == "pink":
                    bodies["pink"] += 1
                    continue
                if cls == "brown":
                    deg = float(np.median(theta[ys, xs]))
                    share = float(m[ys, xs].mean()) / float(norm[ys, xs].mean())
                    bodies["dab_brown"] += int(DAB_BROWN_DEG[0] <= deg <= DAB_BROWN_DEG[1] and share >= DAB_BODY_SHARE)
                bodies[cls] += 1
                degs[cls].append(float(np.percentile(theta[ys, xs], 50 if cls == "brown" else RED_BODY_PCT)))
    return area_mm2, ring, red_total


#: Fewest pixels an object needs to enclose a hole that ``regionprops``' ``area_filled`` fills (its holes are
#: filled with an 8-connected background, so a hole pixel needs all 8 of its neighbours in the object).
_HOLE_MIN_PX = 8


def _candidates(lab: np.ndarray, px: np.ndarray, areas: np.ndarray, kept: np.ndarray, red: bool) -> np.ndarray:
    """``lab`` with only the objects :func:`_count` reads a shape of: nucleus-sized ones (``BODY_AREA_UM2``) that the
    opening keeps (``BODY_OPEN_KEEP``), and for red objects those that may be rings (at most ``RING_AREA_UM2[1]``
    and able to hold a hole). The others decide nothing: no body (area out of range, or opened away), and an object
    without a hole fills nothing (``area_filled`` = ``area``, never a ring), one over the ring's largest area fills
    more. Their shapes are never computed, so the counts are those of every object measured (exact: each object's
    properties come from its own pixels; session 44 H4, #16).

    ``px`` / ``areas`` / ``kept``: each object's pixels, µm² and share kept by the opening (label order, from 1)."""
    body = (areas >= BODY_AREA_UM2[0]) & (areas <= BODY_AREA_UM2[1]) & (kept >= BODY_OPEN_KEEP)
    if red:
        body |= (px >= _HOLE_MIN_PX) & (areas <= RING_AREA_UM2[1])
    keep = np.concatenate(([False], body))
    return np.where(keep[lab], lab, 0)


def tissue_patches(reader: Any, mask: np.ndarray, scale: tuple[float, float], mpp0: float, *,
                   mpp: float = PATCH_MPP, size_um: float = PATCH_UM,
                   count: int = PATCH_COUNT) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` tissue patches of ``size_um`` read at about ``mpp`` µm/px, for a slide whose
    thumbnail is too coarse for :func:`chromogen_places`.

    Centres: thumbnail tissue pixels (``mask``, ``scale`` = level-0 pixels per thumbnail pixel) at
    evenly spaced ranks in raster order, preferring pixels whose whole patch is tissue. Each patch
    comes with its tissue mask (the thumbnail mask, repeated to the patch's pixels).

    Parameters
    ----------
    reader : SlideReader
        Anything with ``read_region(Box, level)``, ``level_downsamples`` and
        ``best_level_for_downsample``.
    mask : (m, n) bool ndarray
    scale : tuple of 2 float
    mpp0 : float
        Level-0 µm per pixel.
    mpp, size_um, count : float, float, int
        Patch resolution (µm/px, never finer than level 0), side (µm) and number.

    Returns
    -------
    list of ((h, w, 3) uint8 ndarray, (h, w) bool ndarray)
    """
    from scipy import ndimage as ndi
    from skimage.transform import resize

    from ..geometry import Box

    mask = np.asarray(mask, bool)
    if not mask.any() or count < 1:
        return []
    half = [max(1, round(0.5 * size_um / (mpp0 * s))) for s in scale]  # patch half-side, thumbnail px
    # erosion by the patch's square: a separable minimum filter (the same as binary_erosion with that
    # structure and pixels outside the mask off, in O(side) per pixel instead of O(side²))
    inner = ndi.minimum_filter(mask, size=(2 * half[0] + 1, 2 * half[1] + 1), mode="constant", cval=False)
    rows, cols = np.nonzero(inner if inner.any() else mask)
    picks = np.unique(((np.arange(count) + 0.5) / count * rows.size).astype(int))
    mpp = max(float(mpp), mpp0)
    side0 = round(size_um / mpp0)
    level = int(reader.best_level_for_downsample(mpp / mpp0))
    out_px = max(1, round(size_um / mpp))
    patches = []
    for i in picks:
        r0 = int((rows[i] + 0.5) * scale[0]) - side0 // 2
        c0 = int((cols[i] + 0.5) * scale[1]) - side0 // 2
        rgb = np.asarray(reader.read_region(Box(r0, c0, side0, side0), level=level))
        if rgb.shape[:2] != (out_px, out_px):
            rgb = np.clip(np.rint(resize(rgb.astype(np.float64), (out_px, out_px), order=1, anti_aliasing=True,
                                         preserve_range=True)), 0, 255).astype(np.uint8)
        # the thumbnail mask over the patch
        yy = np.clip(((r0 + (np.arange(out_px) + 0.5) * side0 / out_px) / scale[0]).astype(int), 0, mask.shape[0] - 1)
        xx = np.clip(((c0 + (np.arange(out_px) + 0.5) * side0 / out_px) / scale[1]).astype(int), 0, mask.shape[1] - 1)
        patches.append((rgb, mask[np.ix_(yy, xx)]))
    return patches
