"""Per-slide (or per-image) glass and stain reference for the tissue features (#13, opt-in).

A tissue model trained with ``TissueFeatureSettings.image_reference`` reads its stain level relative
to the slide it is applied to rather than as an absolute amount: a pale slide (thin section, weak
hematoxylin and eosin, a bright scanner) then looks like a normally stained one. The reference has
two parts, both computed once per slide, from the tissue-detection thumbnail, and passed to every
tile, so that all tiles of a slide see the same reference and the class map stays tile-invariant:

- ``white``: the colour of the slide's glass (8-bit R, G, B; :func:`mmnst_path.stain.guess.estimate_white_point`),
  255 in every channel when no glass is visible. The tissue features take their optical density
  against it, so the glass-white fraction (``white_od``) is measured above the slide's own glass.
- ``level``: log10 of the median total optical density (sum of the three channels, against
  ``white``) of the tissue on a grid of about :data:`REFERENCE_UM` µm (the default tissue-detection
  thumbnail's pixel size), the slide's stain level.

A plain image (an RGB array with no slide around it) is its own reference: :func:`image_reference` of
the whole image, averaged to the same grid first so that it reads like a thumbnail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["DEFAULT_LEVEL", "REFERENCE_UM", "ImageReference", "image_reference"]

#: grid (µm) the reference is measured on: the default ``[tissue] tissue_mpp`` thumbnail pixel
REFERENCE_UM = 8.0
#: stain level (log10 total OD) used when an image shows no tissue at all
DEFAULT_LEVEL = -0.3
#: total OD (log10 units, against the glass) below which a reference pixel counts as glass
GLASS_OD = 0.15
#: fewer tissue pixels than this share of the image: the stain level is :data:`DEFAULT_LEVEL`
MIN_TISSUE_SHARE = 0.01


@dataclass(frozen=True)
class ImageReference:
    """Glass colour and stain level of one slide or image (see the module doc).

    Attributes
    ----------
    white : tuple of 3 float
        Glass white point, 8-bit R, G, B (each in (0, 255]).
    level : float
        log10 of the median total OD of the tissue against ``white``.
    """

    white: tuple[float, float, float] = (255.0, 255.0, 255.0)
    level: float = DEFAULT_LEVEL

    def __post_init__(self) -> None:
        w = tuple(self.white)
        if len(w) != 3 or not all(isinstance(v, int | float) and math.isfinite(v) and 0 < v <= 255 for v in w):
            msg = f"ImageReference.white must be three 8-bit levels in (0, 255], got {self.white!r}"
            raise ConfigError(msg)
        if not (isinstance(self.level, int | float) and math.isfinite(self.level)):
            msg = f"ImageReference.level must be a finite log10 OD, got {self.level!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "white", (float(w[0]), float(w[1]), float(w[2])))
        object.__setattr__(self, "level", float(self.level))

    def to_mapping(self) -> dict[str, Any]:
        """``{"white": [r, g, b], "level": x}`` (result.json)."""
        return {"white": [round(v, 3) for v in self.white], "level": round(self.level, 5)}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ImageReference:
        """Inverse of :meth:`to_mapping`."""
        unknown = sorted(set(mapping) - {"white", "level"})
        if unknown:
            msg = f"unknown image reference keys {unknown}; known: ['level', 'white']"
            raise ConfigError(msg)
        white = mapping.get("white", (255.0, 255.0, 255.0))
        if not isinstance(white, list | tuple) or len(white) != 3:
            msg = f"image reference 'white': expected three numbers, got {white!r}"
            raise ConfigError(msg)
        return cls(white=(float(white[0]), float(white[1]), float(white[2])),
                   level=float(mapping.get("level", DEFAULT_LEVEL)))


def image_reference(rgb: np.ndarray, *, mpp: float | None = None, tissue: np.ndarray | None = None,
                    eps_od: float = 0.05) -> ImageReference:
    """The :class:`ImageReference` of a slide's thumbnail or of a whole plain image.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        A tissue-detection thumbnail, or a whole image.
    mpp : float or None
        µm per pixel of ``rgb``. Finer than :data:`REFERENCE_UM`: the image is first averaged (in
        intensity, as a thumbnail is) over blocks of about that size. None: taken as it is.
    tissue : (M, N) bool ndarray or None
        Tissue pixels of ``rgb`` (the thumbnail's mask): never glass, and the stain level is taken
        over them. None: the glass comes from the brightest plateau of the image, the tissue is every
        pixel whose total OD against the glass is at least :data:`GLASS_OD`.
    eps_od : float
        Added to the total OD before the logarithm (the tissue features' ``eps_od``).

    Returns
    -------
    ImageReference
    """
    from ..stain import od_from_rgb
    from ..stain.guess import estimate_white_point

    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        msg = f"image_reference: expected an (M, N, 3) uint8 image, got {rgb.shape} {rgb.dtype}"
        raise ValueError(msg)
    mask = None if tissue is None else np.asarray(tissue, bool)
    if mask is not None and mask.shape != rgb.shape[:2]:
        msg = f"image_reference: tissue mask {mask.shape} does not match the image {rgb.shape[:2]}"
        raise ValueError(msg)
    f = 1 if mpp is None or mpp <= 0 else max(1, round(REFERENCE_UM / mpp))
    if f > 1:
        rgb, mask = _averaged(rgb, mask, f)
    found = estimate_white_point(rgb, mask)
    white = found if found is not None else (255.0, 255.0, 255.0)
    white = (max(white[0], 1.0), max(white[1], 1.0), max(white[2], 1.0))
    total = od_from_rgb(rgb, background=white).sum(axis=-1)
    inside = (total >= GLASS_OD) if mask is None else (mask & (total >= 0.0))
    if inside.sum() < max(1, MIN_TISSUE_SHARE * inside.size):
        return ImageReference(white=white, level=DEFAULT_LEVEL)
    level = float(np.median(np.log10(np.maximum(total[inside], 0.0) + eps_od)))
    return ImageReference(white=white, level=level)


def _averaged(rgb: np.ndarray, mask: np.ndarray | None, f: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``rgb`` averaged over ``f`` x ``f`` blocks (edge-padded to whole blocks), rounded to uint8;
    the mask by majority."""
    from .tissue_features import block_mean

    img = block_mean(rgb, f)  # float32 accumulator of the block grid only (no float copy of the image)
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if mask is None:
        return out, None
    return out, block_mean(mask.astype(np.float32), f) >= 0.5
