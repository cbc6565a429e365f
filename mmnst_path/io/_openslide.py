"""Slides through OpenSlide (MRXS, VMS/VMU, SCN, BIF, NDPI, Philips TIFF, ... and SVS on request).

OpenSlide's (x, y) coordinates and RGBA output live only inside this adapter: the reader speaks
(row, col) and returns RGB composited over white. OpenSlide handles cannot be pickled, so a
reader pickles as its path and reopens in the receiving process.

Levels above 0 with a non-integer downsample: OpenSlide takes the region origin in level-0
integers, so the origin used is ``round(level_col * downsample)`` and OpenSlide may shift the
result by a fraction of a level pixel there. Level-0 reads are exact.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, UnsupportedFormatError
from ._base import SlideReader, composite_over_white
from ._metadata import mpp_from_pair, parse_float

__all__ = ["OpenSlideReader", "openslide_vendor"]

_ASSOCIATED = ("label", "macro", "thumbnail")


def openslide_vendor(path: str | os.PathLike[str]) -> str | None:
    """OpenSlide's format name for ``path`` (``"aperio"``, ``"mirax"``...) or ``None``."""
    try:
        import openslide

        return openslide.OpenSlide.detect_format(os.fspath(path))
    except Exception:  # OpenSlide missing or unreadable file: not an OpenSlide format
        return None


class OpenSlideReader(SlideReader):
    """Reader for everything OpenSlide opens.

    Parameters
    ----------
    path : str or Path
        The slide file (for MRXS, the ``.mrxs`` file next to its data directory).
    mpp : float, optional
        Microns per pixel at level 0, overriding ``openslide.mpp-x`` / ``openslide.mpp-y``.
    """

    def __init__(self, path: str | os.PathLike[str], *, mpp: float | None = None) -> None:
        import openslide

        self.path = Path(path)
        self.backend = "openslide"
        self._mpp_override = mpp
        try:
            self._slide = openslide.OpenSlide(os.fspath(self.path))
        except openslide.OpenSlideUnsupportedFormatError as exc:
            msg = f"{self.path}: format not recognised by OpenSlide"
            raise UnsupportedFormatError(msg) from exc
        except openslide.OpenSlideError as exc:
            msg = f"{self.path}: OpenSlide cannot read the file ({exc})"
            raise CorruptFileError(msg) from exc
        slide = self._slide
        props = dict(slide.properties)
        self._properties = props
        self.vendor = props.get("openslide.vendor")
        self.level_shapes = tuple((int(h), int(w)) for w, h in slide.level_dimensions)
        self.level_downsamples = tuple(float(d) for d in slide.level_downsamples)
        power = parse_float(props.get("openslide.objective-power"))
        self.objective_power = power if power and power > 0 else None
        if mpp is not None:
            from ..geometry import require_mpp

            self.mpp = require_mpp(mpp, what=f"slide {self.path}")
        else:
            self.mpp = mpp_from_pair(props.get("openslide.mpp-x"), props.get("openslide.mpp-y"))
            if self.mpp is None and props.get("openslide.mpp-x") is not None:
                self.mpp_note = (f"openslide.mpp-x = {props.get('openslide.mpp-x')} is not a usable pixel size "
                                 "(0.01-100 µm/px)")
            if self.mpp is None:
                self.warn_unknown_mpp()

    @property
    def properties(self) -> Mapping[str, Any]:
        return dict(self._properties)

    @property
    def associated_names(self) -> tuple[str, ...]:
        return tuple(sorted(n for n in self._slide.associated_images if n in _ASSOCIATED))

    def associated_image(self, name: str) -> np.ndarray:
        if name not in self.associated_names:
            return super().associated_image(name)
        return _rgb_from_pil(self._slide.associated_images[name])

    def _read_level(self, level: int, row: int, col: int, height: int, width: int) -> np.ndarray:
        import openslide

        ds = self.level_downsamples[level]
        location = (round(col * ds), round(row * ds))
        try:
            image = self._slide.read_region(location, level, (width, height))
        except openslide.OpenSlideError as exc:
            msg = f"{self.path}: OpenSlide failed to read level {level} at (row {row}, col {col}) ({exc})"
            raise CorruptFileError(msg) from exc
        return _rgb_from_pil(image)

    def close(self) -> None:
        slide = getattr(self, "_slide", None)
        if slide is not None:
            slide.close()
            self._slide = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        # OpenSlide handles cannot be pickled: travel as the path, reopen on arrival
        return (_reopen, (str(self.path), self._mpp_override))


def _reopen(path: str, mpp: float | None) -> OpenSlideReader:
    return OpenSlideReader(path, mpp=mpp)


def _rgb_from_pil(image: Any) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 4:
        return composite_over_white(arr)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])
