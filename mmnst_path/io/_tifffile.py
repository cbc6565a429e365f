"""TIFF-family slides through tifffile, decoding only the tiles a region needs.

Covers Aperio SVS, generic tiled (or stripped) TIFF with a page-chain pyramid, and OME-TIFF
including SubIFD pyramids that OpenSlide does not see. A region read fetches the compressed
bytes of the intersecting tiles (or strips) with ``os.pread`` and decodes them with tifffile's
own segment decoder (imagecodecs underneath); decoded tiles are kept in a small LRU cache so
that overlapping reads (tiles with a halo) do not decode twice. On the real SVS files (JPEG and
JPEG 2000) the pixels are bit-identical to OpenSlide's (tested).

Formats whose TIFF container tifffile parses but whose geometry OpenSlide knows better
(Hamamatsu NDPI, Leica SCN, Philips TIFF, Ventana BIF) are handed to the OpenSlide backend
by :func:`mmnst_path.io.open_slide` (see :class:`PreferOpenSlide`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, MmnstPathError, UnsupportedFormatError
from ._base import EIGHT_BIT_HINT, SlideReader, composite_over_white
from ._metadata import (
    mpp_from_ome,
    mpp_from_pair,
    mpp_from_resolution,
    objective_from_ome,
    parse_float,
    svs_fields,
)

__all__ = ["PreferOpenSlide", "TiffSlideReader"]

# tifffile logs metadata complaints; keep them off stderr unless the application configures
# logging (the damage that matters is raised as CorruptFileError)
logging.getLogger("tifffile").addHandler(logging.NullHandler())

# TIFF flavours better served by OpenSlide (tifffile flag name -> vendor name)
_OPENSLIDE_FLAVOURS = {"is_ndpi": "hamamatsu", "is_scn": "leica", "is_philips": "philips", "is_bif": "ventana"}

# tifffile ERROR log messages that mean the file structure is cut or damaged (other ERRORs are
# about vendor metadata tifffile falls back from, and only become warnings)
_STRUCTURAL_DAMAGE = re.compile(
    r"invalid (page |next page |value )?offset|circular reference|incorrect Strip|corrupted tag list"
    r"|missing data|missing ByteCounts|does not match page shape|suspicious number of tags"
)

# default decoded-tile cache size per reader, bytes
DEFAULT_CACHE_BYTES = 32 * 2**20


class PreferOpenSlide(Exception):
    """Raised by :class:`TiffSlideReader` for TIFF flavours that the OpenSlide backend should read."""

    def __init__(self, vendor: str) -> None:
        super().__init__(vendor)
        self.vendor = vendor


class _TiffParseError(CorruptFileError):
    """tifffile could not parse the structure (another library might)."""


class _ErrorLog(logging.Handler):
    """Collects the ERROR records tifffile logs (it logs a cut IFD chain instead of raising)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _TileCache:
    """Least-recently-used cache of decoded segments, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[int, int]) -> np.ndarray | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: tuple[int, int], value: np.ndarray) -> None:
        if self.max_bytes <= 0 or value.nbytes > self.max_bytes:
            return
        self._data[key] = value
        self._bytes += value.nbytes
        while self._bytes > self.max_bytes:
            _, old = self._data.popitem(last=False)
            self._bytes -= old.nbytes


class TiffSlideReader(SlideReader):
    """Reader for TIFF-family slides through tifffile (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The TIFF file.
    mpp : float, optional
        Microns per pixel at level 0, overriding the metadata.
    cache_bytes : int
        Size of the decoded-tile cache (0 disables it).
    allow_openslide_flavours : bool
        When False (the default) NDPI/SCN/Philips/BIF files raise :class:`PreferOpenSlide`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mpp: float | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        allow_openslide_flavours: bool = False,
    ) -> None:
        import tifffile

        self.path = Path(path)
        self.backend = "tifffile"
        self._mpp_override = mpp
        self._cache_bytes = cache_bytes
        self._fd: int | None = None
        self._tif = None
        errors = _ErrorLog()
        tifffile_logger = logging.getLogger("tifffile")
        tifffile_logger.addHandler(errors)
        try:
            try:
                self._tif = tifffile.TiffFile(self.path)
                n_pages = len(self._tif.pages)  # walks the whole IFD chain
                n_series = len(self._tif.series)
            except Exception as exc:
                msg = f"{self.path}: cannot parse the TIFF structure ({type(exc).__name__}: {exc})"
                raise _TiffParseError(msg) from exc
            damage = [m for m in errors.messages if _STRUCTURAL_DAMAGE.search(m)]
            if damage or not n_pages or not n_series:
                reason = damage[0] if damage else "no image directory (IFD)"
                msg = f"{self.path}: truncated or damaged TIFF structure ({reason})"
                raise CorruptFileError(msg)
            for message in errors.messages:  # metadata tifffile could not interpret: not fatal
                warnings.warn(f"{self.path}: {message}", stacklevel=2)
            if not allow_openslide_flavours:
                for flag, vendor in _OPENSLIDE_FLAVOURS.items():
                    if getattr(self._tif, flag, False):
                        raise PreferOpenSlide(vendor)
            self._setup(mpp)
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except (PreferOpenSlide, MmnstPathError):
            self.close()
            raise
        except Exception as exc:  # tifffile raises TiffFileError, ValueError, struct.error...
            self.close()
            msg = f"{self.path}: cannot read the TIFF file ({type(exc).__name__}: {exc})"
            raise CorruptFileError(msg) from exc
        finally:
            tifffile_logger.removeHandler(errors)
        self._lock = threading.Lock()
        self._cache = _TileCache(cache_bytes)

    # ----------------------------------------------------------------------------------------
    # set-up
    def _setup(self, mpp: float | None) -> None:
        tif = self._tif
        assert tif is not None
        series = tif.series[0]
        pages = []
        for level in series.levels:
            if len(level.pages) != 1:
                msg = (
                    f"{self.path}: expected one RGB or greyscale image plane per pyramid level, "
                    f"got {len(level.pages)} planes (shape {level.shape}, axes {level.axes!r})"
                )
                raise UnsupportedFormatError(msg)
            pages.append(level.keyframe)
        for page in pages:
            self._check_page(page)
        self._pages = tuple(pages)
        self.level_shapes = tuple((int(p.imagelength), int(p.imagewidth)) for p in pages)
        rows0, cols0 = self.level_shapes[0]
        self.level_downsamples = tuple(
            1.0 if i == 0 else (rows0 / r + cols0 / c) / 2 for i, (r, c) in enumerate(self.level_shapes)
        )
        self._associated: dict[str, Any] = {}
        if tif.is_svs:
            self.vendor = "aperio"
            for other in tif.series[1:]:
                name = other.name.lower()
                if name in ("label", "macro", "thumbnail") and len(other.pages) == 1:
                    self._associated[name] = other.keyframe
        elif tif.is_ome:
            self.vendor = "ome"
        else:
            self.vendor = "generic-tiff"
        self._properties, meta_mpp, self.objective_power = self._read_metadata(pages[0])
        if mpp is not None:
            from ..geometry import require_mpp

            self.mpp = require_mpp(mpp, what=f"slide {self.path}")
        else:
            self.mpp = meta_mpp
            if meta_mpp is None:
                self.warn_unknown_mpp()

    def _check_page(self, page: Any) -> None:
        if page.dtype is None or np.dtype(page.dtype) != np.uint8:
            msg = (f"{self.path}: expected 8-bit pixels, got {page.dtype} (bits per sample {page.bitspersample}); "
                   f"{EIGHT_BIT_HINT}")
            raise UnsupportedFormatError(msg)
        if page.samplesperpixel not in (1, 3, 4):
            msg = f"{self.path}: expected 1, 3 or 4 samples per pixel, got {page.samplesperpixel}"
            raise UnsupportedFormatError(msg)
        photometric = int(page.photometric)
        if photometric not in (0, 1, 2, 3, 6) or (page.samplesperpixel == 4 and photometric != 2):
            msg = (
                f"{self.path}: expected RGB, greyscale or palette pixels, got photometric "
                f"{page.photometric!r} with {page.samplesperpixel} samples"
            )
            raise UnsupportedFormatError(msg)
        expected = int(np.prod(page.chunked)) if page.planarconfig == 1 else None
        if expected is not None and len(page.dataoffsets) != expected:
            msg = (
                f"{self.path}: corrupt header: a {page.imagelength}x{page.imagewidth} page needs "
                f"{expected} tiles/strips but the file lists {len(page.dataoffsets)}"
            )
            raise CorruptFileError(msg)
        size = Path(self.describe()).stat().st_size
        offsets = np.asarray(page.dataoffsets, dtype=np.int64)
        counts = np.asarray(page.databytecounts, dtype=np.int64)
        if offsets.size and int((offsets + counts).max()) > size:
            msg = (
                f"{self.path}: truncated file: image data of a {page.imagelength}x{page.imagewidth} "
                f"page extends to byte {int((offsets + counts).max())} but the file has {size} bytes"
            )
            raise CorruptFileError(msg)

    def _read_metadata(self, page: Any) -> tuple[dict[str, Any], float | None, float | None]:
        tif = self._tif
        assert tif is not None
        props: dict[str, Any] = {}
        mpp: float | None = None
        objective: float | None = None
        description = page.description or ""
        if tif.is_svs:
            fields = svs_fields(description)
            props.update({f"aperio.{k}": v for k, v in fields.items()})
            mpp = mpp_from_pair(fields.get("MPP"))
            if mpp is None and fields.get("MPP") is not None:
                self.mpp_note = f"the Aperio field MPP = {fields['MPP']} is not a usable pixel size (0.01-100 µm/px)"
            objective = parse_float(fields.get("AppMag"))
        elif tif.is_ome and tif.ome_metadata:
            mpp = mpp_from_ome(tif.ome_metadata)
            objective = objective_from_ome(tif.ome_metadata)
        if mpp is None:
            tags = page.tags
            x_res, y_res, unit = (tags.get(k) for k in ("XResolution", "YResolution", "ResolutionUnit"))
            if x_res is not None and unit is not None:
                mpp = mpp_from_resolution(x_res.value, y_res.value if y_res else None, unit.value)
                if mpp is None and int(getattr(unit.value, "value", unit.value) or 0) in (2, 3):
                    self.mpp_note = (f"the TIFF resolution {x_res.value} px per {'inch' if int(unit.value) == 2 else 'cm'}"
                                     " is not a plausible pixel size (0.01-100 µm/px)")
        if description and not tif.is_ome:
            props["tiff.ImageDescription"] = description
        return props, mpp, objective if objective and objective > 0 else None

    # ----------------------------------------------------------------------------------------
    # public extras
    @property
    def properties(self) -> Mapping[str, Any]:
        return dict(self._properties)

    @property
    def associated_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._associated))

    def associated_image(self, name: str) -> np.ndarray:
        page = self._associated.get(name)
        if page is None:
            return super().associated_image(name)
        with self._lock:
            return _to_rgb(page.asarray(), page)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._tif is not None:
            self._tif.close()
            self._tif = None

    def __reduce__(self) -> tuple[Any, ...]:
        # a reader travels to worker processes as its path; each process reopens the file
        return (_reopen, (str(self.path), self._mpp_override, self._cache_bytes))

    # ----------------------------------------------------------------------------------------
    # pixels
    def _rows_read_unit(self, level: int) -> int:
        page = self._pages[level]
        if page.is_tiled or not _direct_ok(page):
            return 0
        return min(int(page.rowsperstrip or page.imagelength), int(page.imagelength))

    def _read_level(self, level: int, row: int, col: int, height: int, width: int) -> np.ndarray:
        page = self._pages[level]
        if self._fd is None:
            msg = f"{self.path}: reader is closed"
            raise ValueError(msg)
        if not _direct_ok(page):
            return self._read_level_fallback(page, row, col, height, width)
        seg_h = int(page.tilelength) if page.is_tiled else int(page.rowsperstrip or page.imagelength)
        seg_w = int(page.tilewidth) if page.is_tiled else int(page.imagewidth)
        seg_h = min(seg_h, int(page.imagelength)) if not page.is_tiled else seg_h
        per_row = -(-int(page.imagewidth) // seg_w)
        out = np.empty((height, width, 3), dtype=np.uint8)
        offsets, counts = page.dataoffsets, page.databytecounts
        jpegtables = page.jpegtables
        for seg_r in range(row // seg_h, (row + height - 1) // seg_h + 1):
            for seg_c in range(col // seg_w, (col + width - 1) // seg_w + 1):
                index = seg_r * per_row + seg_c
                tile = self._segment(level, page, index, offsets, counts, jpegtables, seg_h, seg_w)
                t_r0, t_c0 = seg_r * seg_h, seg_c * seg_w
                r0, r1 = max(row, t_r0), min(row + height, t_r0 + tile.shape[0])
                c0, c1 = max(col, t_c0), min(col + width, t_c0 + tile.shape[1])
                if r1 <= r0 or c1 <= c0:
                    continue
                out[r0 - row : r1 - row, c0 - col : c1 - col] = tile[r0 - t_r0 : r1 - t_r0, c0 - t_c0 : c1 - t_c0]
        return out

    def _segment(
        self, level: int, page: Any, index: int, offsets: Any, counts: Any, jpegtables: Any,
        seg_h: int, seg_w: int,
    ) -> np.ndarray:
        key = (level, index)
        tile = self._cache.get(key)
        if tile is not None:
            return tile
        count = int(counts[index]) if index < len(counts) else 0
        if count == 0:  # sparse TIFF: a tile never written is background
            tile = np.full((seg_h, seg_w, 3), 255, dtype=np.uint8)
        else:
            data = os.pread(self._fd, count, int(offsets[index]))  # type: ignore[arg-type]
            if len(data) != count:
                msg = f"{self.path}: truncated file: tile {index} of level {level} is cut short"
                raise CorruptFileError(msg)
            try:
                decoded, _, _ = page.decode(data, index, jpegtables=jpegtables)
            except Exception as exc:
                msg = f"{self.path}: cannot decode tile {index} of level {level} ({type(exc).__name__}: {exc})"
                raise CorruptFileError(msg) from exc
            if decoded is None:
                msg = f"{self.path}: tile {index} of level {level} could not be decoded"
                raise CorruptFileError(msg)
            tile = _to_rgb(decoded.reshape(decoded.shape[-3:]), page)
        self._cache.put(key, tile)
        return tile

    def _read_level_fallback(self, page: Any, row: int, col: int, height: int, width: int) -> np.ndarray:
        """Layouts the direct path does not handle (planar-separate, ...): tifffile's zarr store."""
        import zarr

        with self._lock:
            store = page.aszarr()
            try:
                arr = zarr.open(store, mode="r")
                if str(page.axes).startswith("S"):  # planar-separate: (samples, rows, cols)
                    region = np.moveaxis(np.asarray(arr[:, row : row + height, col : col + width]), 0, 2)  # type: ignore[index]
                else:
                    region = np.asarray(arr[row : row + height, col : col + width])  # type: ignore[index]
            except Exception as exc:
                msg = f"{self.path}: cannot decode region ({type(exc).__name__}: {exc})"
                raise CorruptFileError(msg) from exc
            finally:
                store.close()
        return _to_rgb(region, page)


def _direct_ok(page: Any) -> bool:
    """True when the page's segments are chunky (interleaved) 2-D tiles or strips."""
    return int(page.planarconfig) == 1 or page.samplesperpixel == 1


def _to_rgb(pixels: np.ndarray, page: Any) -> np.ndarray:
    """(M, N[, S]) uint8 as stored -> (M, N, 3) uint8 RGB (grey replicated, alpha over white)."""
    import tifffile

    arr = np.asarray(pixels)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    photometric = int(page.photometric)
    if arr.ndim == 2:
        if photometric == int(tifffile.PHOTOMETRIC.PALETTE) and page.colormap is not None:
            cmap = np.asarray(page.colormap)
            cmap = (cmap // 257 if cmap.max() > 255 else cmap).astype(np.uint8)
            return np.ascontiguousarray(cmap[:, arr].transpose(1, 2, 0))
        if photometric == int(tifffile.PHOTOMETRIC.MINISWHITE):
            arr = 255 - arr
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        return composite_over_white(arr)
    return arr[:, :, :3]


def _reopen(path: str, mpp: float | None, cache_bytes: int) -> TiffSlideReader:
    return TiffSlideReader(path, mpp=mpp, cache_bytes=cache_bytes)
