"""Plain images (PNG, JPEG, BMP, GIF, WebP) as single-level slides, decoded whole with Pillow.

The image is decoded once when opened (these are tiles, not slides), so a truncated file is
reported at open time. The header is checked before decoding: images too large to hold in
memory are refused, and a header whose pixel count the file is far too small to encode is
reported as corrupt instead of allocating the claimed size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, UnsupportedFormatError
from ._base import EIGHT_BIT_HINT, SlideReader, composite_over_white
from ._metadata import mpp_from_resolution

__all__ = ["MAX_IMAGE_PIXELS", "ImageReader"]

#: largest plain image decoded into memory (about 0.8 GB as RGB); larger ones belong in a tiled TIFF
MAX_IMAGE_PIXELS = 2**28

# no image codec here compresses raw 8-bit RGB better than this (deflate tops out near 1032:1)
_MAX_COMPRESSION_RATIO = 2000


class ImageReader(SlideReader):
    """Single-level reader over a PNG/JPEG/BMP/GIF/WebP file.

    Parameters
    ----------
    path : str or Path
        The image file.
    mpp : float, optional
        Microns per pixel, overriding the file's density metadata (PNG pHYs, JFIF density, BMP
        pixels per metre), which is used only when plausible (72 dpi screen defaults are not).
    """

    def __init__(self, path: str | os.PathLike[str], *, mpp: float | None = None) -> None:
        from PIL import Image

        self.path = Path(path)
        self.backend = "image"
        self.objective_power = None
        self._mpp_override = mpp
        size = self.path.stat().st_size
        try:
            with Image.open(self.path) as im:
                self.vendor = (im.format or "image").lower()
                cols, rows = im.size
                self._check_size(rows, cols, size)
                info = dict(im.info)
                im.load()
                self._image = _rgb_from_pil(im, self.path)
        except Image.DecompressionBombError as exc:
            # Pillow refuses before we see the size: it is at least twice Pillow's limit
            claimed = 2 * (Image.MAX_IMAGE_PIXELS or MAX_IMAGE_PIXELS)
            if size * _MAX_COMPRESSION_RATIO < 3 * claimed:
                msg = f"{self.path}: corrupt header: {exc} but the file has only {size} bytes"
                raise CorruptFileError(msg) from exc
            msg = f"{self.path}: image header claims more pixels than can be decoded in memory ({exc})"
            raise UnsupportedFormatError(msg) from exc
        except Image.UnidentifiedImageError as exc:
            msg = f"{self.path}: not an image format Pillow can read"
            raise UnsupportedFormatError(msg) from exc
        except (UnsupportedFormatError, CorruptFileError):
            raise
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            msg = f"{self.path}: truncated or corrupt image ({type(exc).__name__}: {exc})"
            raise CorruptFileError(msg) from exc
        self.level_shapes = (self._image.shape[:2],)  # type: ignore[assignment]
        self.level_downsamples = (1.0,)
        self._properties: dict[str, Any] = {
            str(k): v for k, v in info.items() if isinstance(v, str | int | float | tuple)
        }
        if mpp is not None:
            from ..geometry import require_mpp

            self.mpp = require_mpp(mpp, what=f"image {self.path}")
        else:
            dpi = info.get("dpi")
            self.mpp = mpp_from_resolution(dpi[0], dpi[1], "inch") if dpi else None
            if self.mpp is None:
                self.warn_unknown_mpp()

    def _check_size(self, rows: int, cols: int, file_size: int) -> None:
        if rows * cols > MAX_IMAGE_PIXELS:
            raw = rows * cols * 3
            if file_size * _MAX_COMPRESSION_RATIO < raw:
                msg = (
                    f"{self.path}: corrupt header: claims {rows}x{cols} pixels but the file has only "
                    f"{file_size} bytes"
                )
                raise CorruptFileError(msg)
            msg = (
                f"{self.path}: {rows}x{cols} pixels is too large for the plain-image reader "
                f"(limit {MAX_IMAGE_PIXELS} pixels); convert it to a tiled pyramidal TIFF"
            )
            raise UnsupportedFormatError(msg)

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self._properties)

    def _read_level(self, level: int, row: int, col: int, height: int, width: int) -> np.ndarray:
        return self._image[row : row + height, col : col + width]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reopen, (str(self.path), self._mpp_override))


def _reopen(path: str, mpp: float | None) -> ImageReader:
    return ImageReader(path, mpp=mpp)


def _rgb_from_pil(im: Any, path: Path) -> np.ndarray:
    """Pillow image -> (M, N, 3) uint8 RGB; transparency composited over white."""
    mode = im.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "F", "CMYK", "YCbCr", "LAB", "HSV"):
        if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            return np.asarray(im.convert("RGB"))
        msg = f"{path}: expected 8-bit pixels, got Pillow mode {mode!r}; {EIGHT_BIT_HINT}"
        raise UnsupportedFormatError(msg)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        return composite_over_white(np.asarray(im.convert("RGBA")))
    if mode == "L":
        arr = np.asarray(im)
        return np.repeat(arr[:, :, None], 3, axis=2)
    return np.asarray(im.convert("RGB"))
