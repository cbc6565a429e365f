"""Estimate the background (white point) and two stain vectors (Macenko) from the image itself.

Staining and scanners vary: vectors measured on the slide at hand separate better than any
preset. :func:`estimate_background` finds the white point from bright, colourless (glass)
pixels; :func:`estimate_stains` applies Macenko's method to the OD of the stained pixels;
:func:`estimate_slide_stains` does both on a whole slide, sampling level-0 tiles in tissue.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import StainError
from ..geometry import Box
from .od import BackgroundLike, _check_rgb, background_array, od_from_rgb
from .vectors import StainMatrix, angle_deg, load_stains

if TYPE_CHECKING:
    from ..io import SlideReader

__all__ = ["estimate_background", "estimate_slide_stains", "estimate_stains"]

_GREY = np.full(3, 1.0 / math.sqrt(3.0))


def estimate_background(
    rgb: np.ndarray,
    *,
    min_intensity: int = 200,
    max_spread: int = 25,
    min_pixels: int = 50,
) -> tuple[float, float, float]:
    """White point (per-channel intensity of empty glass) from the bright, grey pixels.

    Candidates are pixels whose three channels are all >= ``min_intensity`` and differ by at
    most ``max_spread`` (glass is bright and colourless); the brightest quarter of them are
    kept (so pale tissue that passes the test does not darken the estimate) and the per-channel
    median is returned.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Image with some glass in it (a slide thumbnail is ideal).
    min_intensity : int
        Smallest 8-bit value a glass pixel may have in any channel.
    max_spread : int
        Largest max - min channel difference of a glass pixel.
    min_pixels : int
        Fewer candidates than this: no reliable glass, 255 is returned with a warning.

    Returns
    -------
    tuple of 3 float
        (R, G, B) white point in 8-bit units, in [min_intensity, 255].
    """
    rgb = _check_rgb(rgb).reshape(-1, 3)
    lo = rgb.min(axis=1)
    hi = rgb.max(axis=1)
    cand = rgb[(lo >= min_intensity) & ((hi.astype(np.int16) - lo) <= max_spread)]
    if cand.shape[0] < min_pixels:
        warnings.warn(
            f"estimate_background: only {cand.shape[0]} glass-like pixels (all channels >= "
            f"{min_intensity}, spread <= {max_spread}) in {rgb.shape[0]} pixels, fewer than "
            f"min_pixels={min_pixels}; using 255 (pass a thumbnail that shows some glass)",
            stacklevel=2,
        )
        return (255.0, 255.0, 255.0)
    brightness = cand.astype(np.int32).sum(axis=1)
    bright = cand[brightness >= np.percentile(brightness, 75)]
    med = np.median(bright, axis=0)
    return (float(med[0]), float(med[1]), float(med[2]))


def estimate_stains(
    rgb: np.ndarray,
    *,
    reference: StainMatrix | str = "H-DAB",
    background: BackgroundLike = None,
    min_od: float = 0.15,
    max_od: float = 1.3,
    grey_angle_deg: float = 10.0,
    percentile: float = 1.0,
    min_separation_deg: float = 10.0,
    max_deviation_deg: float = 20.0,
    max_pixels: int = 1_000_000,
    min_pixels: int = 200,
    seed: int = 0,
) -> StainMatrix:
    """Two stain vectors estimated by Macenko's method, named after a reference matrix.

    1. OD of every pixel (:func:`~mmnst_path.stain.od_from_rgb` with ``background``);
    2. keep stained pixels: OD norm >= ``min_od``; drop near-black and saturated pixels (any
       channel OD > ``max_od``, i.e. darker than ~13/255: pigment, folds, debris, and channels
       clipped at 0 whose OD direction is meaningless) and near-grey ones (OD direction within
       ``grey_angle_deg`` of (1, 1, 1): black/grey pigment has no stain hue, while hematoxylin
       and DAB are ~19° and ~21° from grey);
    3. project on the plane of the two main axes of the OD covariance; the directions at the
       ``percentile`` and ``100 - percentile`` angle percentiles are the two stain vectors;
    4. name them by matching to the reference's first two stains (smallest total angle);
    5. a vector more than ``max_deviation_deg`` from its reference is not trusted: the reference
       vector is used instead, with a warning. This happens when one stain covers less than
       ~``percentile`` % of the stained pixels (e.g. BCData tiles with strong DAB and faint
       hematoxylin), where the extreme angle lands on DAB/hematoxylin mixtures.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Stained tissue (both stains present).
    reference : StainMatrix or str
        Two-stain matrix (or preset name) whose stain names, order and rough directions are used.
    background : white point, or None for ``reference.background`` (else 255).
    min_od, max_od, grey_angle_deg, percentile : float
        Pixel selection and percentile parameters (log10 OD, degrees, percent).
    max_deviation_deg : float
        Largest accepted angle between an estimated vector and its reference (degrees).
    min_separation_deg : float
        The two estimated vectors must be at least this far apart, else :class:`StainError`
        (the image does not hold two distinguishable stains).
    max_pixels : int
        Random subsample size (``seed``) above which pixels are subsampled.
    min_pixels : int
        Fewest stained pixels accepted.

    Returns
    -------
    StainMatrix
        Named like ``reference`` (two stains + residual), ``background`` set to the one used,
        ``reference`` text saying how it was obtained.

    References
    ----------
    .. [1] M. Macenko et al., "A method for normalizing histology slides for quantitative
       analysis", IEEE ISBI 2009, pp. 1107–1110.
    """
    rgb = _check_rgb(rgb).reshape(-1, 3)
    ref = load_stains(reference)
    names = ref.stain_names[:2]
    if len(ref.stain_names) != 2:
        msg = f"estimate_stains estimates two stains; reference {ref.name!r} has {list(ref.stain_names)}"
        raise StainError(msg)
    bg = background_array(background if background is not None else ref.background)
    rng = np.random.default_rng(seed)
    if rgb.shape[0] > max_pixels:
        rgb = rgb[rng.choice(rgb.shape[0], size=max_pixels, replace=False)]
    od = od_from_rgb(rgb, background=bg).astype(np.float64)
    norm = np.linalg.norm(od, axis=1)
    keep = norm >= min_od
    keep &= od.max(axis=1) <= max_od
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_grey = (od @ _GREY) / norm
    keep &= cos_grey < math.cos(math.radians(grey_angle_deg))
    od = od[keep]
    if od.shape[0] < min_pixels:
        msg = (
            f"estimate_stains: only {od.shape[0]} stained pixels (OD norm >= {min_od}, every channel OD <= "
            f"{max_od}, not grey) in the image, need at least min_pixels={min_pixels}"
        )
        raise StainError(msg)
    cov = np.cov(od, rowvar=False)
    _, eigvec = np.linalg.eigh(cov)
    e1, e2 = eigvec[:, 2], eigvec[:, 1]
    if e1.sum() < 0:
        e1 = -e1
    phi = np.arctan2(od @ e2, od @ e1)
    lo, hi = np.percentile(phi, [percentile, 100.0 - percentile])
    found = []
    for a in (lo, hi):
        v = math.cos(a) * e1 + math.sin(a) * e2
        if v.sum() < 0:
            v = -v
        v = np.clip(v, 1e-6, None)
        found.append(v / np.linalg.norm(v))
    _require_separation(found, min_separation_deg, "extreme stain directions", names)
    r0, r1 = ref.vector(names[0]), ref.vector(names[1])
    direct = angle_deg(found[0], r0) + angle_deg(found[1], r1)
    swapped = angle_deg(found[1], r0) + angle_deg(found[0], r1)
    vecs = list(found) if direct <= swapped else [found[1], found[0]]
    fallback = []
    for i, (name, r) in enumerate(zip(names, (r0, r1), strict=True)):
        dev = angle_deg(vecs[i], r)
        if dev > max_deviation_deg:
            fallback.append(f"{name} ({dev:.1f} deg off)")
            vecs[i] = r
    if fallback:
        warnings.warn(
            f"estimate_stains: estimated {', '.join(fallback)} deviate from reference {ref.name!r} "
            f"by more than max_deviation_deg={max_deviation_deg}; the reference vector is used "
            "for them (too few pixels of that stain?)",
            stacklevel=2,
        )
    _require_separation(vecs, min_separation_deg, "estimated vectors", names)
    return StainMatrix(
        names,
        np.asarray(vecs),
        name=f"{ref.name} (estimated)",
        reference=(
            f"Macenko estimate from {od.shape[0]} stained pixels (percentile {percentile}, "
            f"min OD {min_od}), names from {ref.name}"
            + (f"; reference vector kept for {', '.join(fallback)}" if fallback else "")
        ),
        background=(float(bg[0]), float(bg[1]), float(bg[2])),
    )


def _require_separation(vectors: Any, min_separation_deg: float, what: str, names: Any) -> None:
    """StainError unless the two ``vectors`` are at least ``min_separation_deg`` apart."""
    sep = angle_deg(vectors[0], vectors[1])
    if sep < min_separation_deg:
        msg = (
            f"estimate_stains: the two {what} are only {sep:.1f} degrees apart "
            f"(< min_separation_deg={min_separation_deg}): the image does not show two distinct "
            f"stains {list(names)}; use a preset instead"
        )
        raise StainError(msg)


def estimate_slide_stains(
    reader: SlideReader,
    *,
    roi: Box | None = None,
    reference: StainMatrix | str = "H-DAB",
    tile_px: int = 512,
    n_tiles: int = 16,
    thumbnail_px: int = 1024,
    seed: int = 0,
) -> StainMatrix:
    """Background and two stain vectors of a slide, from level-0 pixels.

    The white point comes from the slide's thumbnail (:func:`estimate_background`). The
    vectors come from level-0 pixels (downsampling would mix stains and pull the vectors
    together): the ``roi`` when given (read at level 0, at most ``n_tiles`` tiles of
    ``tile_px``² when large), otherwise up to ``n_tiles`` tiles centred on random tissue
    pixels of the thumbnail (pixels darker than the background).

    Parameters
    ----------
    reader : SlideReader
        Open slide (``mmnst_path.io.open_slide``).
    roi : Box or None
        Level-0 region to estimate from.
    reference : StainMatrix or str
        Two-stain preset naming the stains (see :func:`estimate_stains`).
    tile_px, n_tiles, thumbnail_px, seed : int
        Sampling parameters (level-0 tile side, tile count, thumbnail long side, RNG seed).

    Returns
    -------
    StainMatrix
        With ``background`` set.
    """
    rng = np.random.default_rng(seed)
    rows, cols = reader.shape
    thumb = reader.thumbnail(max_size=thumbnail_px)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = estimate_background(thumb)
    area = Box(0, 0, rows, cols) if roi is None else roi.intersect(Box(0, 0, rows, cols))
    if area.area == 0:
        msg = f"roi {roi} does not overlap the slide {reader.describe()} of shape {(rows, cols)}"
        raise StainError(msg)
    if roi is not None and area.area <= n_tiles * tile_px * tile_px:
        pixels = reader.read_region(area, 0).reshape(-1, 3)
    else:
        centres = _tissue_centres(thumb, bg, area, (rows, cols), rng, n_tiles)
        half = tile_px // 2
        tiles = []
        for r, c in centres:
            r0 = int(min(max(r - half, area.row), max(area.row, area.row_end - tile_px)))
            c0 = int(min(max(c - half, area.col), max(area.col, area.col_end - tile_px)))
            box = Box(r0, c0, min(tile_px, area.height), min(tile_px, area.width))
            tiles.append(reader.read_region(box, 0).reshape(-1, 3))
        pixels = np.concatenate(tiles)
    matrix = estimate_stains(pixels, reference=reference, background=bg, seed=seed)
    return StainMatrix(
        matrix.names[:2],
        matrix.vectors[:2],
        name=matrix.name,
        reference=f"{matrix.reference}; slide {reader.describe()}" + (f", roi {roi}" if roi else ""),
        background=matrix.background,
    )


def _tissue_centres(
    thumb: np.ndarray,
    bg: tuple[float, float, float],
    area: Box,
    shape: tuple[int, int],
    rng: np.random.Generator,
    n: int,
) -> list[tuple[int, int]]:
    """Level-0 (row, col) of up to ``n`` random thumbnail pixels inside ``area`` that are tissue."""
    t_rows, t_cols = thumb.shape[:2]
    sr, sc = shape[0] / t_rows, shape[1] / t_cols
    od = od_from_rgb(thumb, background=bg)
    tissue = od.max(axis=2) > 0.15
    rr, cc = np.nonzero(tissue)
    l0_r = ((rr + 0.5) * sr).astype(np.int64)
    l0_c = ((cc + 0.5) * sc).astype(np.int64)
    inside = (l0_r >= area.row) & (l0_r < area.row_end) & (l0_c >= area.col) & (l0_c < area.col_end)
    l0_r, l0_c = l0_r[inside], l0_c[inside]
    if l0_r.size == 0:  # no tissue seen: sample the area uniformly
        l0_r = rng.integers(area.row, area.row_end, size=n)
        l0_c = rng.integers(area.col, area.col_end, size=n)
    pick = rng.choice(l0_r.size, size=min(n, l0_r.size), replace=False)
    return [(int(l0_r[i]), int(l0_c[i])) for i in pick]
