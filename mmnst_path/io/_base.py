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

__all__ = ["EIGHT_BIT_HINT", "SlideReader", "composite_over_white"]

#: What a refusal of 16-bit / float pixels tells the user to do (brightfield analysis reads 8-bit RGB).
EIGHT_BIT_HINT = "save it as 8-bit RGB (e.g. Fiji: Image > Type > RGB Color) and analyse that copy"


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
    #: why the metadata's pixel size was not usable (e.g. ``MPP = nan``), when it was present
    mpp_note: str | None = None

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
        (l_r0, l_c0, out_h, out_w), (r0, c0, r1, c1) = self._window(box, level)
        if (r0, c0, r1, c1) == (l_r0, l_c0, l_r0 + out_h, l_c0 + out_w) and out_h and out_w:
            # fully inside: no white canvas; never hand out a view of a backend's buffer
            patch = self._read_level(level, r0, c0, out_h, out_w)
            return patch if patch.flags.owndata and patch.flags.c_contiguous else patch.copy()
        out = np.full((out_h, out_w, 3), 255, dtype=np.uint8)
        if r1 > r0 and c1 > c0:
            patch = self._read_level(level, r0, c0, r1 - r0, c1 - c0)
            out[r0 - l_r0 : r1 - l_r0, c0 - l_c0 : c1 - l_c0] = patch
        return out

    def _window(self, box: Box, level: int) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """The read of ``box`` at ``level`` in level pixels: (first row, first col, rows, cols) of the
        whole read and (r0, c0, r1, c1) of its part inside the level (empty when r1 <= r0 or c1 <= c0)."""
        ds = self.level_downsamples[level]
        l_rows, l_cols = self.level_shapes[level]
        l_r0 = math.floor(box.row / ds)
        l_c0 = math.floor(box.col / ds)
        out_h = max(1, round(box.height / ds)) if box.height else 0
        out_w = max(1, round(box.width / ds)) if box.width else 0
        r0, c0 = max(0, l_r0), max(0, l_c0)
        r1, c1 = min(l_rows, l_r0 + out_h), min(l_cols, l_c0 + out_w)
        return (l_r0, l_c0, out_h, out_w), (r0, c0, r1, c1)

    def read_region_part(self, box: Box, level: int = 0, margin: int = 0
                         ) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
        """The part of :meth:`read_region` ``(box, level)`` that holds the slide, with a white margin.

        A read past the slide's edge is white outside the slide; this returns only the slide's
        pixels plus up to ``margin`` white pixels on each side (within the read), so the white
        canvas is neither filled nor scanned (a lone tile's halo is most of its read).

        Parameters
        ----------
        box : Box
            Region in level-0 pixels, as for :meth:`read_region`.
        level : int
            Pyramid level to read from.
        margin : int
            White pixels kept around the slide's part on the sides where the read extends past
            the slide (>= 0).

        Returns
        -------
        part : (m, n, 3) uint8 ndarray
            ``read_region(box, level)[row : row + m, col : col + n]``; the rest of the read is
            white (255). The whole read when it lies inside the slide or misses it.
        at : (int, int)
            ``(row, col)`` of ``part[0, 0]`` in the read.
        shape : (int, int)
            ``(rows, cols)`` of the whole read.
        """
        if margin < 0:
            msg = f"margin must be >= 0 white pixels, got {margin!r}"
            raise ValueError(msg)
        level = self._check_level(level)
        (l_r0, l_c0, out_h, out_w), (r0, c0, r1, c1) = self._window(box, level)
        inside = (r0, c0, r1, c1) == (l_r0, l_c0, l_r0 + out_h, l_c0 + out_w)
        if inside or r1 <= r0 or c1 <= c0:
            return self.read_region(box, level), (0, 0), (out_h, out_w)
        pr0, pc0 = max(l_r0, r0 - margin), max(l_c0, c0 - margin)
        pr1, pc1 = min(l_r0 + out_h, r1 + margin), min(l_c0 + out_w, c1 + margin)
        part = np.empty((pr1 - pr0, pc1 - pc0, 3), dtype=np.uint8)  # every pixel written once:
        part[: r0 - pr0] = 255  # the white margin above, below, left and right of the slide's pixels
        part[r1 - pr0 :] = 255
        part[r0 - pr0 : r1 - pr0, : c0 - pc0] = 255
        part[r0 - pr0 : r1 - pr0, c1 - pc0 :] = 255
        part[r0 - pr0 : r1 - pr0, c0 - pc0 : c1 - pc0] = self._read_level(level, r0, c0, r1 - r0, c1 - c0)
        return part, (pr0 - l_r0, pc0 - l_c0), (out_h, out_w)

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
        that is at least as detailed as asked, in blocks (memory stays bounded whatever the
        level size), and area-averages it to the output shape. A level of more than
        :attr:`MAX_THUMBNAIL_SOURCE_PX` pixels is refused
        (:class:`~mmnst_path.errors.UnsupportedFormatError`).

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

    #: Most level pixels a thumbnail may decode (about 65 000 x 65 000). A larger level with no
    #: smaller pyramid level is refused with a clear error instead of decoding for many minutes.
    MAX_THUMBNAIL_SOURCE_PX = 2**32

    #: Pixels held per block while a thumbnail is computed (memory stays bounded by a few
    #: hundred MB whatever the level size).
    THUMBNAIL_BLOCK_PX = 2**23

    def _rows_read_unit(self, level: int) -> int:
        """Rows a read of ``level`` decodes at once across the whole width (strips), 0 if none."""
        return 0

    def _downsampled_level(self, level: int, out_shape: tuple[int, int], band_rows: int | None = None,
                           col_chunk: int | None = None) -> np.ndarray:
        """Whole ``level`` area-averaged to ``out_shape``, read in bounded blocks.

        Exact area averaging (same as one :func:`resize_area` of the whole level up to float
        rounding): blocks of ``band_rows`` x ``col_chunk`` level pixels are read one at a time;
        columns are resampled through a running cumulative sum evaluated at the output column
        edges, rows likewise at the output row edges, so neither the level nor a full-width
        band of it is ever held in memory (only a stripped TIFF's strips, which decode whole).

        Raises
        ------
        UnsupportedFormatError
            The level has more than :attr:`MAX_THUMBNAIL_SOURCE_PX` pixels (a huge image with no
            usable pyramid).
        """
        from ._resample import resize_area

        l_rows, l_cols = self.level_shapes[level]
        o_rows, o_cols = out_shape
        if l_rows * l_cols > self.MAX_THUMBNAIL_SOURCE_PX:
            from ..errors import UnsupportedFormatError

            msg = (f"{self.describe()}: level {level} is {l_rows} x {l_cols} px (rows x cols) and the file has no "
                   f"smaller pyramid level to make a thumbnail from; decoding {l_rows * l_cols:.3g} px exceeds the "
                   f"limit of {self.MAX_THUMBNAIL_SOURCE_PX:.3g} px. Save it as a pyramidal (tiled, multi-resolution) "
                   "TIFF, e.g. vips tiffsave IN OUT --tile --pyramid")
            raise UnsupportedFormatError(msg)
        budget = self.THUMBNAIL_BLOCK_PX
        if band_rows is None and l_rows * l_cols <= budget:
            return resize_area(self._read_level(level, 0, 0, l_rows, l_cols), out_shape)
        unit = self._rows_read_unit(level)
        if band_rows is None:
            band_rows = max(1, min(l_rows, budget // max(l_cols if unit else 1, o_cols, 1), 2048))
            if unit:
                band_rows = max(unit, band_rows // unit * unit)
        if col_chunk is None:
            col_chunk = l_cols if unit else max(1, budget // band_rows)
        factor = l_rows / o_rows
        edges = np.arange(o_rows + 1, dtype=np.float64) * factor
        out = np.empty((o_rows, o_cols, 3), dtype=np.uint8)
        carry = np.zeros((1, o_cols, 3), dtype=np.float64)  # row-cumulative sum up to the band
        prev = np.zeros((1, o_cols, 3), dtype=np.float64)  # its value at the last edge evaluated
        done = 1  # edge 0 (value 0) is known
        for r0 in range(0, l_rows, band_rows):
            h = min(band_rows, l_rows - r0)
            narrow = self._columns_area(level, r0, h, o_cols, col_chunk)
            csum = np.concatenate([carry, carry + np.cumsum(narrow, axis=0, dtype=np.float64)])
            del narrow
            stop = o_rows + 1 if r0 + h >= l_rows else int(np.searchsorted(edges, r0 + h, side="left"))
            if stop > done:
                pos = edges[done:stop] - r0
                lo = np.minimum(np.floor(pos).astype(np.intp), h - 1)
                frac = (pos - lo)[:, None, None]
                vals = csum[lo] + frac * (csum[lo + 1] - csum[lo])
                both = np.concatenate([prev, vals])
                out[done - 1 : stop - 1] = np.clip((both[1:] - both[:-1]) / factor + 0.5, 0, 255).astype(np.uint8)
                prev, done = vals[-1:], stop
            carry = csum[-1:]
        return out

    def _columns_area(self, level: int, r0: int, h: int, o_cols: int, col_chunk: int) -> np.ndarray:
        """Rows ``r0:r0+h`` of ``level`` area-averaged along columns to ``o_cols``: (h, o_cols, 3) float64."""
        l_cols = self.level_shapes[level][1]
        factor = l_cols / o_cols
        edges = np.arange(o_cols + 1, dtype=np.float64) * factor
        at_edges = np.empty((h, o_cols + 1, 3), dtype=np.float64)
        carry = np.zeros((h, 1, 3), dtype=np.float64)
        done = 0
        piece = max(1, self.THUMBNAIL_BLOCK_PX // max(h, 1))  # float64 temporaries stay bounded
        for c0 in range(0, l_cols, col_chunk):
            block = self._read_level(level, r0, c0, h, min(col_chunk, l_cols - c0))
            for s0 in range(0, block.shape[1], piece):
                part = block[:, s0 : s0 + piece]
                start, w = c0 + s0, part.shape[1]
                # integer prefix sums (one uint32 pass, exact), gathered at the edges only
                csum = np.cumsum(part, axis=1, dtype=np.uint32 if w < 2**24 else np.uint64)
                stop = o_cols + 1 if start + w >= l_cols else int(np.searchsorted(edges, start + w, side="left"))
                pos = edges[done:stop] - start
                lo = np.minimum(np.floor(pos).astype(np.intp), w - 1)
                frac = (pos - lo)[None, :, None]
                before = np.where((lo > 0)[None, :, None], csum[:, np.maximum(lo - 1, 0)], 0)
                at_edges[:, done:stop] = carry + before + frac * part[:, lo]
                done, carry = stop, carry + csum[:, -1:].astype(np.float64)
        return (at_edges[:, 1:] - at_edges[:, :-1]) / factor

    def warn_unknown_mpp(self) -> None:
        why = self.mpp_note or "no usable resolution metadata"
        warnings.warn(
            f"{self.describe()}: microns per pixel unknown ({why}); physical measurements need mpp=... / --mpp",
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
