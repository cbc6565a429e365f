"""The slide reader interface shared by every backend.

A reader exposes a pyramid of levels, each an RGB uint8 image in (row, col) order, plus the
slide's physical scale (microns per pixel at level 0) and its associated images. Coordinates
given to :meth:`SlideReader.read_region` are always level-0 pixels.
"""

from __future__ import annotations

import abc
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ..errors import RegionError
from ..geometry import Box

__all__ = ["SlideReader", "composite_over_white"]


def composite_over_white(rgba: np.ndarray) -> np.ndarray:
    """Alpha-composite an (M, N, 4) uint8 RGBA array over white; return (M, N, 3) uint8 RGB.

    Premultiplied or not does not matter for fully opaque or fully transparent pixels, which
    are the only kinds slide readers produce in practice.
    """
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        msg = f"expected an (M, N, 4) RGBA array, got shape {rgba.shape}"
        raise ValueError(msg)
    alpha = rgba[..., 3:4].astype(np.uint16)
    rgb = rgba[..., :3].astype(np.uint16)
    out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


class SlideReader(abc.ABC):
    """Abstract whole-slide (or single image) reader.

    Subclasses set the attributes below in ``__init__`` and implement :meth:`_read_level`.

    Attributes
    ----------
    path : Path or None
        File read, ``None`` for in-memory arrays.
    backend : str
        Short backend name (``"tifffile"``, ``"openslide"``, ``"image"``, ``"array"``).
    vendor : str or None
        Format / scanner vendor when known (``"aperio"``, ``"generic-tiff"``, ``"png"``...).
    level_shapes : tuple of (rows, cols)
        Shape of every pyramid level, level 0 first.
    level_downsamples : tuple of float
        Downsample of every level relative to level 0 (level 0 is 1.0).
    mpp : float or None
        Microns per pixel at level 0 (mean of both axes), ``None`` when unknown.
    objective_power : float or None
        Scanning objective magnification when known.
    """

    path: Path | None
    backend: str
    vendor: str | None
    level_shapes: tuple[tuple[int, int], ...]
    level_downsamples: tuple[float, ...]
    mpp: float | None
    objective_power: float | None

    # ----------------------------------------------------------------------------------------
    # to implement
    @abc.abstractmethod
    def _read_level(self, level: int, row: int, col: int, height: int, width: int) -> np.ndarray:
        """Read a rectangle given in *level* pixels, fully inside the level; (h, w, 3) uint8."""

    @property
    def associated_names(self) -> tuple[str, ...]:
        """Names of associated images (``label``, ``macro``, ``thumbnail``) present."""
        return ()

    def associated_image(self, name: str) -> np.ndarray:
        """The associated image ``name`` as (M, N, 3) uint8 RGB."""
        msg = f"{self.describe()} has no associated image {name!r}; available: {self.associated_names}"
        raise KeyError(msg)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release file handles."""

    # ----------------------------------------------------------------------------------------
    # shared behaviour
    @property
    def level_count(self) -> int:
        return len(self.level_shapes)

    @property
    def shape(self) -> tuple[int, int]:
        """Level-0 shape (rows, cols)."""
        return self.level_shapes[0]

    @property
    def properties(self) -> Mapping[str, Any]:
        """Raw metadata key/values when the backend exposes them."""
        return {}

    def describe(self) -> str:
        return str(self.path) if self.path is not None else f"<{self.backend} image>"

    def _check_level(self, level: int) -> int:
        if not isinstance(level, int | np.integer) or not 0 <= int(level) < self.level_count:
            msg = (
                f"level must be an integer in [0, {self.level_count - 1}] for {self.describe()}, "
                f"got {level!r}"
            )
            raise RegionError(msg)
        return int(level)

    def read_region(self, box: Box, level: int = 0) -> np.ndarray:
        """Read the level-0 rectangle ``box`` at pyramid ``level``.

        Parameters
        ----------
        box : Box
            Region in level-0 pixels. It may extend past the slide: the outside is white.
        level : int
            Pyramid level to read from.

        Returns
        -------
        (M, N, 3) uint8 ndarray
            RGB pixels, ``M = round(box.height / downsample)`` (at least 1 for a non-empty box),
            likewise ``N``; never RGBA.
        """
        level = self._check_level(level)
        ds = self.level_downsamples[level]
        l_rows, l_cols = self.level_shapes[level]
        l_r0 = math.floor(box.row / ds)
        l_c0 = math.floor(box.col / ds)
        out_h = max(1, round(box.height / ds)) if box.height else 0
        out_w = max(1, round(box.width / ds)) if box.width else 0
        r0, c0 = max(0, l_r0), max(0, l_c0)
        r1, c1 = min(l_rows, l_r0 + out_h), min(l_cols, l_c0 + out_w)
        if (r0, c0, r1, c1) == (l_r0, l_c0, l_r0 + out_h, l_c0 + out_w) and out_h and out_w:
            # fully inside: no white canvas; never hand out a view of a backend's buffer
            patch = self._read_level(level, r0, c0, out_h, out_w)
            return patch if patch.flags.owndata and patch.flags.c_contiguous else patch.copy()
        out = np.full((out_h, out_w, 3), 255, dtype=np.uint8)
        if r1 > r0 and c1 > c0:
            patch = self._read_level(level, r0, c0, r1 - r0, c1 - c0)
            out[r0 - l_r0 : r1 - l_r0, c0 - l_c0 : c1 - l_c0] = patch
        return out

    def best_level_for_downsample(self, downsample: float) -> int:
        """Highest level whose downsample is <= ``downsample`` (never upsample from a coarser level)."""
        best = 0
        for i, ds in enumerate(self.level_downsamples):
            if ds <= downsample * (1 + 1e-6):
                best = i
        return best

    def thumbnail(self, *, max_size: int | None = None, mpp: float | None = None) -> np.ndarray:
        """Whole-slide image scaled down to ``max_size`` pixels on its long side, or to ``mpp``.

        Exactly one of ``max_size`` and ``mpp`` must be given. Reads the smallest pyramid level
        that is at least as detailed as asked, in bands of rows (memory stays bounded whatever
        the level size), and area-averages it to the output shape.

        Returns
        -------
        (M, N, 3) uint8 ndarray
            ``M = round(rows / d)``, ``N = round(cols / d)`` with ``d`` the level-0 downsample
            asked for (never below 1: no upsampling).
        """
        if (max_size is None) == (mpp is None):
            msg = f"give exactly one of max_size and mpp, got max_size={max_size!r}, mpp={mpp!r}"
            raise ValueError(msg)
        rows, cols = self.shape
        if max_size is not None:
            if max_size <= 0:
                msg = f"max_size must be a positive number of pixels, got {max_size!r}"
                raise ValueError(msg)
            downsample = max(rows, cols) / max_size
        else:
            if self.mpp is None:
                msg = f"thumbnail(mpp=...) needs the slide's mpp, which is unknown for {self.describe()}"
                from ..errors import MissingMetadataError

                raise MissingMetadataError(msg)
            if not mpp > 0:  # type: ignore[operator]
                msg = f"mpp must be a positive number of microns per pixel, got {mpp!r}"
                raise ValueError(msg)
            downsample = float(mpp) / self.mpp  # type: ignore[arg-type]
        downsample = max(downsample, 1.0)
        out_shape = (max(1, round(rows / downsample)), max(1, round(cols / downsample)))
        return self._downsampled_level(self.best_level_for_downsample(downsample), out_shape)

    def _downsampled_level(self, level: int, out_shape: tuple[int, int], band_rows: int = 2048) -> np.ndarray:
        """Whole ``level`` area-averaged to ``out_shape``, read in bands of level rows.

        Exact area averaging (same as one :func:`resize_area` of the whole level): columns are
        resampled per band, rows through a running cumulative sum evaluated at the output row
        edges, so only one band of the level is ever held in memory.
        """
        from ._resample import resize_area, resize_area_axis

        l_rows, l_cols = self.level_shapes[level]
        o_rows, o_cols = out_shape
        if l_rows <= band_rows:
            return resize_area(self._read_level(level, 0, 0, l_rows, l_cols), out_shape)
        factor = l_rows / o_rows
        edges = np.arange(o_rows + 1, dtype=np.float64) * factor
        at_edges = np.zeros((o_rows + 1, o_cols, 3), dtype=np.float64)
        carry = np.zeros((1, o_cols, 3), dtype=np.float64)
        done = 0  # edges evaluated so far
        for r0 in range(0, l_rows, band_rows):
            h = min(band_rows, l_rows - r0)
            narrow = resize_area_axis(self._read_level(level, r0, 0, h, l_cols), o_cols, 1)
            csum = np.concatenate([carry, carry + np.cumsum(narrow, axis=0, dtype=np.float64)])
            last = r0 + h >= l_rows
            stop = o_rows + 1 if last else int(np.searchsorted(edges, r0 + h, side="left"))
            pos = edges[done:stop] - r0
            lo = np.minimum(np.floor(pos).astype(np.intp), h - 1)
            frac = (pos - lo)[:, None, None]
            at_edges[done:stop] = csum[lo] + frac * (csum[lo + 1] - csum[lo])
            done, carry = stop, csum[-1:]
        out = (at_edges[1:] - at_edges[:-1]) / factor
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def warn_unknown_mpp(self) -> None:
        warnings.warn(
            f"{self.describe()}: microns per pixel unknown (no usable resolution metadata); "
            "physical measurements need mpp=... / --mpp",
            stacklevel=3,
        )

    def __enter__(self) -> SlideReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(path={str(self.path)!r}, backend={self.backend!r}, "
            f"levels={self.level_shapes}, mpp={self.mpp})"
        )
