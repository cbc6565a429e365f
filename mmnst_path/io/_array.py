"""In-memory numpy array backend (single level)."""

from __future__ import annotations

import numpy as np

from ._base import SlideReader, composite_over_white

__all__ = ["ArrayReader"]


def as_rgb_uint8(image: np.ndarray, *, what: str = "image") -> np.ndarray:
    """Validate and convert an image array to (M, N, 3) uint8 RGB.

    Greyscale (M, N) is replicated to 3 channels, RGBA is composited over white. Other dtypes
    are refused rather than silently rescaled.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        msg = f"{what}: expected uint8 pixels, got dtype {arr.dtype}"
        raise ValueError(msg)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr
    if arr.ndim == 3 and arr.shape[2] == 4:
        return composite_over_white(arr)
    msg = f"{what}: expected an (M, N), (M, N, 3) or (M, N, 4) array, got shape {arr.shape}"
    raise ValueError(msg)


class ArrayReader(SlideReader):
    """A single-level reader over an RGB uint8 array held in memory."""

    def __init__(self, image: np.ndarray, *, mpp: float | None = None) -> None:
        self._image = as_rgb_uint8(image, what="array")
        self.path = None
        self.backend = "array"
        self.vendor = None
        self.level_shapes = (self._image.shape[:2],)  # type: ignore[assignment]
        self.level_downsamples = (1.0,)
        self.mpp = float(mpp) if mpp is not None else None
        self.objective_power = None

    def _read_level(self, level: int, row: int, col: int, height: int, width: int) -> np.ndarray:
        return self._image[row : row + height, col : col + width]
