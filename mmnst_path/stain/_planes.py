"""One image's float64 optical-density planes, computed once per white point (session 44 H8, #16).

The stain guess on a tile fine enough to resolve nuclei (:func:`mmnst_path.stain.guess.guess_stains_detail` with
``mpp`` at most :data:`~mmnst_path.stain.places.PLACES_MAX_MPP`) reads the same thumbnail's OD, its norm and its
hematoxylin-free residual up to three times: the colour guess at the glass's white point, again at 255 when the
white point came from no glass, and where the chromogen sits (:func:`mmnst_path.stain.places.chromogen_places`)
at the guess's white point. :class:`ODPlanes` computes each white point's planes once over the whole image; the
colour guess takes its tissue pixels from them. Every value is the one each reader computed itself (the OD is a
per-pixel table look-up, the norm a sum over each pixel's three channels, the residual a per-pixel product), so the
guess is unchanged to the bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ODPlanes"]


class ODPlanes:
    """The OD norm, residual norm and residual angle (degrees from DAB) of every pixel of one (M, N, 3) uint8
    image, per white point, each computed on first use (as :func:`mmnst_path.stain.places.chromogen_places`
    computes them)."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb
        self._at: dict[tuple[float, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def __call__(self, white: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(norm, m, theta)``, each (M, N), of the OD taken against ``white`` (8-bit R, G, B)."""
        key = tuple(float(w) for w in white)
        if key not in self._at:
            from . import od_from_rgb
            from .guess import od_residual

            od = od_from_rgb(self.rgb, background=key).astype(np.float64)
            norm = np.linalg.norm(od, axis=2)
            m, theta = od_residual(od)
            self._at[key] = (norm, m, theta)
        return self._at[key]
