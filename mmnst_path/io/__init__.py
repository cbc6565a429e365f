"""Slide and image readers: :func:`open_slide` and the :class:`SlideReader` interface.

Backend order (first match wins; ``backend=`` forces one):

1. a numpy array -> :class:`ArrayReader` (in memory, single level);
2. a TIFF-family file, recognised by its magic bytes (``II*\\0``, ``MM\\0*``, BigTIFF), whatever
   its extension -> ``"tifffile"`` backend (Aperio SVS, generic tiled or stripped TIFF with a
   page-chain pyramid, OME-TIFF including SubIFD pyramids, single-page TIFF). It decodes only
   the tiles a region needs and is bit-identical to OpenSlide on SVS (JPEG and JPEG 2000).
   TIFF flavours whose layout OpenSlide knows better (Hamamatsu NDPI, Leica SCN, Philips TIFF,
   Ventana BIF) go to the OpenSlide backend, as does a TIFF tifffile cannot parse but OpenSlide can;
3. any other file OpenSlide recognises (``openslide.OpenSlide.detect_format``: MRXS, VMS/VMU,
   ...) -> ``"openslide"`` backend;
4. PNG, JPEG, BMP, GIF, WebP (by magic bytes) -> ``"image"`` backend (decoded whole with Pillow).

Errors: a missing path raises :class:`~mmnst_path.errors.SlideNotFoundError`; an empty file or
an unknown format :class:`~mmnst_path.errors.UnsupportedFormatError`; a recognised but truncated
or damaged file :class:`~mmnst_path.errors.CorruptFileError`. Messages name the file and reason.

Readers are cheap to open; open one per worker process (file readers pickle as their path).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, SlideNotFoundError, UnsupportedFormatError
from ._array import ArrayReader
from ._base import SlideReader

__all__ = ["BACKENDS", "ArrayReader", "SlideReader", "detect_kind", "open_slide"]

#: names accepted by ``open_slide(..., backend=...)``
BACKENDS = ("tifffile", "openslide", "image", "array")

# leading bytes -> kind
_MAGIC = (
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"BM", "bmp"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
# extensions of formats that only OpenSlide reads even if the bytes look like a plain image
_OPENSLIDE_EXTENSIONS = {".mrxs", ".vms", ".vmu", ".svslide", ".scn", ".bif", ".ndpi"}


def detect_kind(path: str | os.PathLike[str]) -> str | None:
    """File kind from its first bytes: ``"tiff"``, ``"png"``, ``"jpeg"``, ``"bmp"``, ``"gif"``,
    ``"webp"`` or ``None`` (unknown). The extension is not looked at."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _head_words(head: bytes) -> str:
    """What a file's first bytes look like, in words a user reads: empty, text, or the bytes in hex."""
    if not head:
        return "the file is empty"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        text = head.decode("ascii").replace("\n", " ").replace("\r", " ").replace("\t", " ")
        return f'it starts with the text "{text}"'
    return "first bytes " + " ".join(f"{b:02x}" for b in head)


def open_slide(
    source: str | os.PathLike[str] | np.ndarray,
    *,
    mpp: float | None = None,
    backend: str | None = None,
) -> SlideReader:
    """Open a whole-slide image, a plain image or an in-memory array as a :class:`SlideReader`.

    Parameters
    ----------
    source : path or (M, N[, 3|4]) uint8 ndarray
        Slide or image file, or RGB(A)/greyscale pixels.
    mpp : float, optional
        Microns per pixel at level 0. Overrides the file's metadata; when neither gives it the
        reader's ``mpp`` is ``None`` and a warning is issued.
    backend : {"tifffile", "openslide", "image", "array"}, optional
        Force a backend instead of the documented automatic order (module docstring).

    Returns
    -------
    SlideReader
        Close it (or use it as a context manager) to release the file.

    Raises
    ------
    SlideNotFoundError
        ``source`` does not exist or is not a file.
    UnsupportedFormatError
        Empty file, unknown format, or content the chosen backend cannot represent.
    CorruptFileError
        A recognised format that is truncated or damaged.
    """
    if backend is not None and backend not in BACKENDS:
        msg = f"backend must be one of {BACKENDS}, got {backend!r}"
        raise ValueError(msg)
    if isinstance(source, np.ndarray):
        if backend not in (None, "array"):
            msg = f"an in-memory array can only use the 'array' backend, got backend={backend!r}"
            raise ValueError(msg)
        return ArrayReader(source, mpp=mpp)
    if backend == "array":
        msg = f"backend='array' needs a numpy array, got {type(source).__name__}"
        raise ValueError(msg)
    path = Path(os.fspath(source))
    if not path.exists():
        msg = f"{path}: no such file"
        raise SlideNotFoundError(msg)
    if not path.is_file():
        msg = f"{path}: not a regular file"
        raise SlideNotFoundError(msg)
    try:
        size = path.stat().st_size
        kind = detect_kind(path)
    except OSError as exc:
        msg = f"{path}: cannot read the file ({exc})"
        raise SlideNotFoundError(msg) from exc
    if size == 0:
        msg = f"{path}: empty file (0 bytes)"
        raise UnsupportedFormatError(msg)
    if backend is None:
        return _open_auto(path, kind, mpp)
    return _open_with(backend, path, mpp)


def _open_with(backend: str, path: Path, mpp: float | None) -> SlideReader:
    if backend == "tifffile":
        from ._tifffile import TiffSlideReader

        if detect_kind(path) != "tiff":
            msg = f"{path}: backend='tifffile' needs a TIFF file, but the file does not start with a TIFF header"
            raise UnsupportedFormatError(msg)
        return TiffSlideReader(path, mpp=mpp, allow_openslide_flavours=True)
    if backend == "openslide":
        from ._openslide import OpenSlideReader

        return OpenSlideReader(path, mpp=mpp)
    from ._image import ImageReader

    return ImageReader(path, mpp=mpp)


def _open_auto(path: Path, kind: str | None, mpp: float | None) -> SlideReader:
    from ._openslide import OpenSlideReader, openslide_vendor

    if kind == "tiff":
        from ._tifffile import PreferOpenSlide, TiffSlideReader, _TiffParseError

        try:
            return TiffSlideReader(path, mpp=mpp)
        except PreferOpenSlide:
            return OpenSlideReader(path, mpp=mpp)
        except _TiffParseError:
            # a TIFF variant tifffile cannot parse may still be one OpenSlide reads
            if openslide_vendor(path) is None:
                raise
            try:
                return OpenSlideReader(path, mpp=mpp)
            except (UnsupportedFormatError, CorruptFileError):
                pass
            raise
    if kind is None or path.suffix.lower() in _OPENSLIDE_EXTENSIONS:
        if openslide_vendor(path) is not None:
            return OpenSlideReader(path, mpp=mpp)
    if kind is None:
        with open(path, "rb") as fh:
            head = fh.read(8)
        msg = (
            f"{path}: unsupported format (not TIFF, PNG, JPEG, BMP, GIF or WebP, and not a format "
            f"OpenSlide recognises; {_head_words(head)})"
        )
        raise UnsupportedFormatError(msg)
    from ._image import ImageReader

    return ImageReader(path, mpp=mpp)
