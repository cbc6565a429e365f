"""Tissue detection on a low-resolution thumbnail.

The slide is never read at full resolution here: the mask is computed on a thumbnail of about
8 µm/px (configurable), which is enough to decide which analysis tiles hold tissue and to give
the tissue area in mm².

Rules, in the order they are applied to the thumbnail (RGB uint8, (row, col)):

1. **Glass.** The background (glass) colour is estimated from the bright, neutral pixels of the
   thumbnail (white when there are none, e.g. a tile that is all tissue). A pixel is tissue
   when its optical density relative to that background, ``OD = log10(background / I)`` taken
   on the most absorbing channel, reaches ``od_threshold``. Glass, and pale out-of-focus haze,
   stay below it.
2. **Pen ink.** Green ink (green channel above both red and blue: no histological stain is
   green), blue/cyan ink (blue well above red, green not below red, strongly saturated; the
   purple of haematoxylin has red above green) and black ink / scanner borders (very dark and
   neutral) are removed. Thin ink edges are removed by a one-pixel dilation of the ink mask.
3. **Dark slide edges.** Dark neutral regions that touch the thumbnail border (the edge of the
   slide, a black scanner border) are removed.
4. **Size filters.** Connected regions smaller than ``min_region_um2`` (dust, debris, small
   ink leftovers) are dropped and holes smaller than ``max_hole_um2`` are filled; larger holes
   (big lumens, fat, tears) stay background.

Heavily pigmented (melanin-laden) tissue is dark *brown*, not neutral, so rule 2's black ink
criterion (neutral and darker than ``black_max``) leaves it in; set ``remove_black=False`` for
slides where pigment is so dense it looks black at thumbnail scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._gauss_half import gaussian_half_kernel
from .._params import check_finite
from ..errors import ConfigError
from ..geometry import Box

__all__ = ["TissueParams", "TissueResult", "detect_tissue", "tissue_mask"]


@dataclass(frozen=True, slots=True)
class TissueParams:
    """Parameters of :func:`tissue_mask` (physical sizes in µm / µm²).

    Attributes
    ----------
    od_threshold : float
        Minimum optical density (log10, on the most absorbing channel, relative to the
        estimated glass colour) of a tissue pixel. 0.05 is about 11 % absorption.
    min_chroma : float
        A pixel whose chroma (max - min of R, G, B after the blur, 0-255) reaches this is
        tissue even when pale (loose pink stroma, oedema): glass is neutral.
    min_texture : float
        A pixel whose local standard deviation of brightness (0-255, Gaussian window of
        ``smooth_um``, at least one thumbnail pixel) reaches this is tissue even when pale and
        neutral (loose fibres): glass is flat.
    smooth_um : float
        Standard deviation (µm) of the Gaussian blur applied before the colour rules, so that
        decisions are made on tissue texture rather than single cells whatever the thumbnail
        resolution (skipped when below a third of a thumbnail pixel).
    min_region_um2 : float
        Connected tissue regions smaller than this (µm²) are removed (dust, debris); a region
        covering at least half of the image is kept (small crops) unless under ``MIN_FIELD_UM2``.
    max_hole_um2 : float
        Holes in the tissue smaller than this (µm²) are filled.
    min_region_fraction, max_hole_fraction : float
        The same filters as fractions of the thumbnail area, used only when the pixel size
        is unknown.
    remove_pen : bool
        Remove green and blue/cyan ink.
    remove_black : bool
        Remove black ink and dark neutral slide edges / scanner borders.
    pen_min_chroma : float
        Minimum chroma (max - min of R, G, B, in 0-255 units) of blue ink.
    black_max : float
        A pixel whose brightest channel is at most this (0-255) and is neutral is black ink.
    neutral_max_chroma : float
        Maximum chroma (0-255) of a "neutral" (grey/black) pixel.
    edge_dark_max : float
        Dark neutral regions touching the border with brightest channel at most this are
        slide edges.
    glass_min, glass_max_chroma : float
        A pixel whose darkest channel is at least ``glass_min`` and whose chroma is at most
        ``glass_max_chroma`` (0-255 units) is a glass candidate for the background estimate.
    count_margin_um : float
        A slide's cells and areas count only within this distance (µm) of the tissue mask (the
        mask grown by a disk of this radius, rounded to mask pixels): tiles are chosen by
        touching that region and count only what lies in it, so the results do not depend on
        the tile size. The margin keeps nuclei on the mask's pixelated edge; not used by
        :func:`tissue_mask` itself.
    """

    od_threshold: float = 0.05
    min_chroma: float = 14.0
    min_texture: float = 8.0
    smooth_um: float = 6.0
    min_region_um2: float = 10_000.0
    max_hole_um2: float = 10_000.0
    min_region_fraction: float = 1e-4
    max_hole_fraction: float = 1e-4
    remove_pen: bool = True
    remove_black: bool = True
    pen_min_chroma: float = 60.0
    black_max: float = 45.0
    neutral_max_chroma: float = 25.0
    edge_dark_max: float = 110.0
    glass_min: float = 215.0
    glass_max_chroma: float = 10.0
    count_margin_um: float = 16.0

    def __post_init__(self) -> None:
        check_finite(self, ("od_threshold", "min_chroma", "min_texture", "smooth_um", "min_region_um2", "max_hole_um2", "min_region_fraction",
                     "max_hole_fraction", "pen_min_chroma", "black_max", "neutral_max_chroma",
                     "edge_dark_max", "glass_min", "glass_max_chroma", "count_margin_um"), positive=False)


@dataclass(frozen=True, eq=False)
class TissueResult:
    """Tissue mask of a slide, on the thumbnail grid.

    Attributes
    ----------
    mask : (m, n) bool ndarray
        True where the thumbnail pixel is tissue.
    thumbnail : (m, n, 3) uint8 ndarray
        The RGB thumbnail the mask was computed on.
    scale : (float, float)
        Level-0 pixels per mask pixel along rows and columns (``slide_shape / mask.shape``).
    slide_shape : (int, int)
        Level-0 shape (rows, cols) of the slide.
    mask_mpp : float or None
        Microns per mask pixel (mean of both axes), ``None`` when the slide's mpp is unknown.
    area_mm2 : float or None
        Tissue area in mm², ``None`` when the slide's mpp is unknown.
    tissue_fraction : float
        Fraction of the slide area that is tissue, in [0, 1].
    params : TissueParams
        Parameters used.
    """

    mask: np.ndarray
    thumbnail: np.ndarray
    scale: tuple[float, float]
    slide_shape: tuple[int, int]
    mask_mpp: float | None
    area_mm2: float | None
    tissue_fraction: float
    params: TissueParams = field(default_factory=TissueParams)

    @property
    def downsample(self) -> float:
        """Mean level-0 pixels per mask pixel."""
        return 0.5 * (self.scale[0] + self.scale[1])

    def _mask_window(self, box: Box) -> tuple[slice, slice]:
        m, n = self.mask.shape
        sr, sc = self.scale
        r0 = min(m, max(0, math.floor(box.row / sr)))
        c0 = min(n, max(0, math.floor(box.col / sc)))
        r1 = min(m, max(0, math.ceil(box.row_end / sr)))
        c1 = min(n, max(0, math.ceil(box.col_end / sc)))
        return slice(r0, r1), slice(c0, c1)

    def fraction_in(self, box: Box) -> float:
        """Fraction of the mask pixels touched by the level-0 ``box`` that are tissue.

        Every mask pixel the box overlaps, even partly, counts (0.0 for a box outside the
        slide or of zero size).
        """
        if box.height == 0 or box.width == 0:
            return 0.0
        window = self.mask[self._mask_window(box)]
        return float(window.mean()) if window.size else 0.0

    def any_in(self, box: Box) -> bool:
        """True when a mask pixel overlapped by the level-0 ``box`` is tissue."""
        if box.height == 0 or box.width == 0:
            return False
        return bool(self.mask[self._mask_window(box)].any())


def _glass_colour(
    r: np.ndarray, g: np.ndarray, b: np.ndarray, lo: np.ndarray, chroma: np.ndarray, p: TissueParams
) -> np.ndarray:
    """Per-channel glass colour: median of the bright neutral pixels, white if there are few.

    Glass on scanned slides is neutral (chroma of a few units) and bright; pale tissue
    (cytoplasm, loose stroma) is tinted, so it does not pass for glass.
    """
    bright = (lo >= p.glass_min) & (chroma <= p.glass_max_chroma)
    n = int(np.count_nonzero(bright))
    if n < max(16, 0.01 * bright.size):
        return np.full(3, 255.0, dtype=np.float32)
    # a regular subsample is plenty for a median of a near-constant colour
    step = max(1, n // 200_000)
    return np.array([np.median(ch[bright][::step]) for ch in (r, g, b)], dtype=np.float32)


#: Smallest tissue region (µm²) kept however small the image: a region covering half of a small
#: crop is kept even under ``TissueParams.min_region_um2``, but never one under ~32 x 32 µm.
MIN_FIELD_UM2 = 1_000.0


def _remove_small(mask: np.ndarray, min_px: float) -> np.ndarray:
    """Drop 8-connected True regions with fewer than ``min_px`` pixels."""
    if min_px <= 1 or not mask.any():
        return mask
    labels, n = _labels(mask, eight=True)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= min_px
    keep[0] = False
    return keep[labels]


def _fill_small_holes(mask: np.ndarray, max_px: float) -> np.ndarray:
    """Fill 4-connected background regions not touching the border with <= ``max_px`` pixels."""
    if max_px < 1:
        return mask
    labels, n = _labels(~mask, eight=False)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    fill = sizes <= max_px
    fill[0] = False
    fill[border] = False
    return mask | fill[labels]


def _labels(mask: np.ndarray, *, eight: bool) -> tuple[np.ndarray, int]:
    """``ndi.label(mask)`` (4-connected; ``eight``: a 3x3 structure): with the compiled kernels
    (:data:`GAUSSIAN_BACKEND`) by runs (:func:`mmnst_path._numba_runs.component_labels`: the same
    int32 labels, numbering and count), else scipy itself."""
    from scipy import ndimage as ndi

    if GAUSSIAN_BACKEND != "scipy" and _kernels() is not None and mask.ndim == 2:
        from .._numba_runs import component_labels

        labels = np.zeros(mask.shape, np.int32)
        n = component_labels(np.ascontiguousarray(mask, dtype=bool), labels, eight)
        return labels, int(n)
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool) if eight else None)
    return labels, int(n)


def _window_counts(mask: np.ndarray, half: int, border: bool) -> np.ndarray:
    """Number of True pixels in the ``(2 half + 1)²`` square around each pixel of ``mask``, the
    pixels outside the image counted as ``border`` (an integral image: exact integers)."""
    m, n = mask.shape
    k = 2 * half + 1
    kern = _kernels() if GAUSSIAN_BACKEND != "scipy" else None
    if kern is not None and mask.ndim == 2 and mask.size:
        out = np.empty((m, n), dtype=np.int32)
        kern.window_counts(np.ascontiguousarray(mask, dtype=bool), half, int(border), out)
        return out
    padded = np.pad(mask, half, mode="constant", constant_values=border)
    total = np.zeros((m + k, n + k), dtype=np.int32)
    np.cumsum(np.cumsum(padded, axis=0, dtype=np.int32), axis=1, dtype=np.int32, out=total[1:, 1:])
    return total[k:, k:] - total[:-k, k:] - total[k:, :-k] + total[:-k, :-k]


def _square_erosion(mask: np.ndarray, half: int, *, border: bool) -> np.ndarray:
    """``ndi.binary_erosion(mask, structure=np.ones((3, 3)), iterations=half,
    border_value=border)``: erosion by the ``(2 half + 1)²`` square (3x3 erosions compose into
    it on a rectangular image; the pixels outside count as ``border``)."""
    if half < 1 or mask.size == 0:
        return mask.copy()
    return _window_counts(mask, half, border) == (2 * half + 1) ** 2


def _square_dilation(mask: np.ndarray, half: int) -> np.ndarray:
    """``ndi.binary_dilation(mask, structure=np.ones((2 half + 1,) * 2))`` (nothing outside)."""
    if half < 1 or mask.size == 0:
        return mask.copy()
    return _window_counts(mask, half, False) > 0


#: Gaussian and window counts of the tissue mask: "auto" = the numba kernels of :mod:`._numba`
#: when numba imports (bit-identical to scipy / the integral image, ~3x faster on a 256²
#: thumbnail), "scipy" = always scipy and numpy
GAUSSIAN_BACKEND = "auto"


def _kernels() -> Any:
    """The module of compiled kernels (:mod:`._numba`), or None without numba."""
    try:
        from . import _numba
    except ImportError:  # numba missing: scipy / numpy
        return None
    return _numba


def _gaussian_nearest(image: np.ndarray, sigma: float) -> np.ndarray:
    """``ndi.gaussian_filter(image, sigma, mode="nearest")`` (truncate 4) of a 2-D float32 image,
    through the compiled passes of :mod:`._numba` when numba imports (same values)."""
    from scipy import ndimage as ndi

    kern: Any = None
    if GAUSSIAN_BACKEND != "scipy" and image.dtype == np.float32 and image.ndim == 2 and image.size and sigma > 0:
        kern = _kernels()
    if kern is None:
        return ndi.gaussian_filter(image, sigma, mode="nearest")
    w = gaussian_half_kernel(float(sigma), 4.0).copy()  # cached once per sigma, shared with detection
    img = np.ascontiguousarray(image)
    tmp = np.empty_like(img)
    kern.gaussian_nearest_axis0(img, w, tmp)
    out = np.empty_like(img)
    kern.gaussian_nearest_axis1(tmp, w, out)
    return out


def tissue_mask(
    rgb: np.ndarray, *, mpp: float | None = None, params: TissueParams | None = None
) -> np.ndarray:
    """Tissue mask of a low-resolution RGB image (typically a slide thumbnail).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Thumbnail, RGB, (row, col).
    mpp : float, optional
        Microns per pixel of ``rgb`` (not of the slide's level 0). When ``None`` the size
        filters use ``params.min_region_fraction`` / ``params.max_hole_fraction``.
    params : TissueParams, optional
        Thresholds; ``TissueParams()`` by default.

    Returns
    -------
    (M, N) bool ndarray
        True for tissue.
    """
    p = params if params is not None else TissueParams()
    img = np.asarray(rgb)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        msg = f"tissue_mask: expected an (M, N, 3) uint8 RGB image, got shape {img.shape}, dtype {img.dtype}"
        raise ValueError(msg)
    if mpp is not None and (not math.isfinite(mpp) or mpp <= 0):
        msg = f"tissue_mask: mpp must be a positive number of microns per pixel, got {mpp!r}"
        raise ConfigError(msg)
    if img.size == 0:
        return np.zeros(img.shape[:2], dtype=bool)

    # planar float32 channels: reductions over a length-3 last axis are slow in numpy
    r, g, b = (np.ascontiguousarray(img[..., k], dtype=np.float32) for k in range(3))
    sigma = p.smooth_um / mpp if mpp is not None else 1.0
    texture_sigma = max(sigma, 1.0)
    grey = (r + g + b) / 3
    local_mean = _gaussian_nearest(grey, texture_sigma)
    local_sq = _gaussian_nearest(grey * grey, texture_sigma)
    texture = np.sqrt(np.maximum(local_sq - local_mean * local_mean, 0.0))
    if sigma >= 1 / 3:
        r, g, b = (_gaussian_nearest(ch, sigma) for ch in (r, g, b))
    hi = np.maximum(np.maximum(r, g), b)
    lo = np.minimum(np.minimum(r, g), b)
    chroma = hi - lo
    glass = _glass_colour(r, g, b, lo, chroma, p)
    od_max = np.maximum(
        np.maximum(glass[0] / np.maximum(r, 1.0), glass[1] / np.maximum(g, 1.0)),
        glass[2] / np.maximum(b, 1.0),
    )
    od_max = np.log10(od_max, out=od_max)
    # Texture alone must cover an area, not a line: stitching seams and the rims of glass
    # artefacts give thin bands of texture, loose tissue gives areas (opening). The window
    # also spreads texture ~2 sigma onto the glass around any edge: shrink it back by that
    # much (erosion) so that tissue borders do not grow a rim.
    # (= ndi.binary_opening(..., structure=np.ones((5, 5))), then ndi.binary_erosion(...,
    # structure=np.ones((3, 3)), iterations=rim, border_value=1): by window counts, same masks)
    textured = _square_dilation(_square_erosion(texture >= p.min_texture, 2, border=False), 2)
    rim = math.ceil(2 * texture_sigma)
    textured = _square_erosion(textured, rim, border=True)
    tissue = (od_max >= p.od_threshold) | (chroma >= p.min_chroma) | textured
    neutral = chroma <= p.neutral_max_chroma
    ink = np.zeros(tissue.shape, dtype=bool)
    if p.remove_pen:
        green = (g >= np.maximum(r, b) + 12.0) & (chroma >= 20.0)
        blue = (b >= r + 50.0) & (g >= r - 5.0) & (chroma >= p.pen_min_chroma)
        ink |= green | blue
    if p.remove_black:
        ink |= (hi <= p.black_max) & neutral
        dark = (hi <= p.edge_dark_max) & neutral
        if dark.any():
            labels, _ = _labels(dark, eight=True)
            border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
            border = border[border > 0]
            if border.size:
                ink |= np.isin(labels, border)
    if ink.any():  # (= ndi.binary_dilation(ink, structure=np.ones((3, 3))), by window counts)
        ink = _square_dilation(ink, 1)
        tissue &= ~ink

    area_px = tissue.size
    if mpp is not None:
        # a region covering half the image is never dust: a small image (a crop, a field of view
        # under ~0.02 mm² at the default 10,000 µm²) keeps its tissue instead of reading empty,
        # down to MIN_FIELD_UM2 (a field too small to hold a few whole cells still reads empty)
        min_px = min(p.min_region_um2 / mpp**2, max(0.5 * area_px, MIN_FIELD_UM2 / mpp**2))
        hole_px = p.max_hole_um2 / mpp**2
    else:
        min_px = p.min_region_fraction * area_px
        hole_px = p.max_hole_fraction * area_px
    tissue = _fill_small_holes(tissue, hole_px)
    return _remove_small(tissue, min_px)


def detect_tissue(
    reader: object,
    *,
    mask_mpp: float = 8.0,
    max_size: int = 4096,
    min_size: int = 256,
    assumed_mpp: float = 0.5,
    params: TissueParams | None = None,
    min_region_um2: float | None = None,
    max_hole_um2: float | None = None,
) -> TissueResult:
    """Detect tissue on a thumbnail of a slide.

    Parameters
    ----------
    reader : SlideReader
        Open slide (anything with ``shape``, ``mpp`` and ``thumbnail(max_size=...)``).
    mask_mpp : float
        Target resolution of the thumbnail, µm per pixel.
    max_size : int
        The thumbnail's longest side never exceeds this many pixels.
    min_size : int
        When the slide is small (a tile), the thumbnail is made finer than ``mask_mpp`` so its
        longest side has at least this many pixels (never finer than level 0); the colour
        rules still see a blur of ``params.smooth_um``, so the decision scale is unchanged.
    assumed_mpp : float
        Level-0 µm per pixel assumed, only to choose the thumbnail size and the blur and size
        filters, when the slide's mpp is unknown (0.5 = a 20x scan; a 40x scan is off by a
        factor 2, which a mask tolerates). ``area_mm2`` is then ``None``.
    params : TissueParams, optional
        Detection thresholds.
    min_region_um2, max_hole_um2 : float, optional
        Shortcuts overriding the same fields of ``params`` (smallest tissue region kept and
        largest hole filled, µm²).

    Returns
    -------
    TissueResult
        Mask, thumbnail, scale to level 0, area in mm² and tissue fraction.
    """
    for name, value in (("mask_mpp", mask_mpp), ("assumed_mpp", assumed_mpp)):
        if not (math.isfinite(value) and value > 0):
            msg = f"detect_tissue: {name} must be a positive number of µm per pixel, got {value!r}"
            raise ConfigError(msg)
    if max_size < 1 or min_size < 1:
        msg = f"detect_tissue: max_size and min_size must be >= 1, got {max_size!r}, {min_size!r}"
        raise ConfigError(msg)
    rows, cols = (int(v) for v in reader.shape)  # type: ignore[attr-defined]
    slide_mpp = reader.mpp  # type: ignore[attr-defined]
    mpp0 = float(slide_mpp) if slide_mpp is not None else float(assumed_mpp)
    long_side = max(rows, cols)
    # thumbnail long side at mask_mpp, clamped to [min_size, max_size] and to level 0
    size = long_side * mpp0 / mask_mpp
    size = min(max(size, min(min_size, long_side)), max_size, long_side)
    thumb = np.asarray(reader.thumbnail(max_size=max(1, round(size))))  # type: ignore[attr-defined]
    m, n = thumb.shape[:2]
    scale = (rows / m, cols / n)
    thumb_mpp = mpp0 * 0.5 * (scale[0] + scale[1])
    p = params if params is not None else TissueParams()
    if min_region_um2 is not None:
        p = replace(p, min_region_um2=float(min_region_um2))
    if max_hole_um2 is not None:
        p = replace(p, max_hole_um2=float(max_hole_um2))
    mask = tissue_mask(thumb, mpp=thumb_mpp, params=p)
    fraction = float(mask.mean()) if mask.size else 0.0
    area_mm2 = None
    if slide_mpp is not None:
        area_mm2 = fraction * rows * cols * float(slide_mpp) ** 2 / 1e6
    return TissueResult(
        mask=mask,
        thumbnail=thumb,
        scale=scale,
        slide_shape=(rows, cols),
        mask_mpp=thumb_mpp if slide_mpp is not None else None,
        area_mm2=area_mm2,
        tissue_fraction=fraction,
        params=p,
    )
