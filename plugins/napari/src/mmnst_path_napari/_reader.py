"""napari reader contribution: a slide or tile becomes ONE lazy multiscale RGB image layer.

Every pyramid level is a dask array whose chunks call the library reader's
:meth:`~mmnst_path.io.SlideReader.read_region` only when napari asks for them, so opening a
slide reads its metadata and nothing else. When the slide's own pyramid stops while its
smallest level is still large, coarser levels are derived lazily (area average of the smallest
native level, chunk by chunk) so a zoomed-out view never pulls a huge level at once.

The layer's ``scale`` is the level-0 pixel size in µm (units ``"µm"``) when the slide's mpp is
known, else 1 pixel.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._units import follow_current_viewer

__all__ = [
    "SUFFIXES",
    "DerivedLevel",
    "NativeLevel",
    "layer_data_from_reader",
    "napari_get_reader",
    "read_slide",
]

#: File name endings the library opens (OpenSlide formats, TIFF family, plain images).
SUFFIXES: tuple[str, ...] = (
    ".svs", ".tif", ".tiff", ".ome.tif", ".ome.tiff", ".ndpi", ".vms", ".vmu", ".scn", ".mrxs",
    ".bif", ".svslide", ".png", ".jpg", ".jpeg",
)  # fmt: skip

#: Chunk edge (pixels) of the lazy levels; one chunk = one read_region call.
CHUNK = 512
#: Derive coarser levels until the smallest one fits in this many pixels on its long side.
SMALLEST_LEVEL_MAX = 2048

LayerData = tuple[Any, dict[str, Any], str]


class NativeLevel:
    """Array-like view of one pyramid level of a :class:`~mmnst_path.io.SlideReader`.

    Indexing with slices returns the level pixels (rows, cols, 3) uint8, read through
    ``reader.read_region`` (level-0 boxes). Reads are serialised with a per-reader lock because
    not every backend is safe to call from several threads.

    Parameters
    ----------
    reader : SlideReader
        Open library reader.
    level : int
        Pyramid level index.
    lock : threading.Lock
        Lock shared by every level of ``reader``.
    """

    def __init__(self, reader: Any, level: int, lock: threading.Lock) -> None:
        self.reader = reader
        self.level = int(level)
        self.downsample = float(reader.level_downsamples[level])
        rows, cols = reader.level_shapes[level]
        self.shape = (int(rows), int(cols), 3)
        self.dtype = np.dtype(np.uint8)
        self.ndim = 3
        self._lock = lock

    def read(self, row: int, col: int, height: int, width: int) -> np.ndarray:
        """Read ``height`` x ``width`` level pixels at level (row, col); (height, width, 3) uint8."""
        from mmnst_path.geometry import Box

        ds = self.downsample
        # level-0 box whose read_region output starts exactly at level pixel (row, col) and has
        # exactly (height, width) pixels: ceil keeps floor(r0/ds) == row, round keeps the size.
        box = Box(math.ceil(row * ds), math.ceil(col * ds), round(height * ds), round(width * ds))
        with self._lock:
            out = np.asarray(self.reader.read_region(box, self.level))
        if out.shape[:2] != (height, width):  # defensive: a backend rounding differently
            fixed = np.full((height, width, 3), 255, np.uint8)
            h, w = min(height, out.shape[0]), min(width, out.shape[1])
            fixed[:h, :w] = out[:h, :w, :3]
            out = fixed
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        rows, cols, chans = _normalise_key(key, self.shape)
        if rows.stop <= rows.start or cols.stop <= cols.start:
            return np.zeros((max(0, rows.stop - rows.start), max(0, cols.stop - cols.start), 3), np.uint8)[
                :, :, chans
            ]
        img = self.read(rows.start, cols.start, rows.stop - rows.start, cols.stop - cols.start)
        return img[:, :, chans]


class DerivedLevel:
    """A coarser level made by ``factor`` x ``factor`` area averaging of a :class:`NativeLevel`.

    Pixels past the native level's edge count as white, as the library's readers do.
    """

    def __init__(self, base: NativeLevel, factor: int) -> None:
        self.base = base
        self.factor = int(factor)
        self.downsample = base.downsample * self.factor
        rows, cols, _ = base.shape
        self.shape = (math.ceil(rows / self.factor), math.ceil(cols / self.factor), 3)
        self.dtype = np.dtype(np.uint8)
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray:
        rows, cols, chans = _normalise_key(key, self.shape)
        h, w = rows.stop - rows.start, cols.stop - cols.start
        if h <= 0 or w <= 0:
            return np.zeros((max(0, h), max(0, w), 3), np.uint8)[:, :, chans]
        f = self.factor
        b_rows, b_cols = self.base.shape[:2]
        r0, c0 = rows.start * f, cols.start * f
        r1, c1 = min(b_rows, rows.stop * f), min(b_cols, cols.stop * f)
        full = np.full((h * f, w * f, 3), 255, np.uint8)
        full[: r1 - r0, : c1 - c0] = self.base.read(r0, c0, r1 - r0, c1 - c0)
        mean = full.reshape(h, f, w, f, 3).mean(axis=(1, 3), dtype=np.float32)
        return np.rint(mean).astype(np.uint8)[:, :, chans]


def _normalise_key(key: Any, shape: tuple[int, int, int]) -> tuple[slice, slice, Any]:
    """Turn a dask chunk key (tuple of step-1 slices) into clipped (rows, cols, channels)."""
    if not isinstance(key, tuple):
        key = (key,)
    key = key + (slice(None),) * (3 - len(key))
    rows, cols, chans = key[:3]
    out = []
    for sl, n in ((rows, shape[0]), (cols, shape[1])):
        if not isinstance(sl, slice) or sl.step not in (None, 1):
            msg = f"lazy slide levels support step-1 slices only, got {sl!r}"
            raise IndexError(msg)
        start, stop, _ = sl.indices(n)
        out.append(slice(start, max(start, stop)))
    return out[0], out[1], chans


def lazy_levels(reader: Any, *, chunk: int = CHUNK, smallest_max: int = SMALLEST_LEVEL_MAX) -> list[Any]:
    """Dask arrays (rows, cols, 3) uint8 for every native level, plus derived coarser levels.

    Nothing is read: each chunk calls ``read_region`` when computed.
    """
    import dask.array as da

    lock = threading.Lock()
    sources: list[Any] = [NativeLevel(reader, i, lock) for i in range(len(reader.level_shapes))]
    # napari wants strictly shrinking levels; drop native levels that do not shrink
    kept: list[Any] = [sources[0]]
    for lev in sources[1:]:
        if lev.shape[0] < kept[-1].shape[0] or lev.shape[1] < kept[-1].shape[1]:
            kept.append(lev)
    smallest = kept[-1]
    factor = 2
    while max(kept[-1].shape[:2]) > smallest_max:
        kept.append(DerivedLevel(smallest, factor))
        factor *= 2
    return [
        da.from_array(
            lev,
            chunks=(chunk, chunk, 3),
            asarray=False,
            fancy=False,
            name=False,
            meta=np.empty((0, 0, 3), np.uint8),
        )
        for lev in kept
    ]


def layer_data_from_reader(reader: Any, *, name: str | None = None) -> LayerData:
    """Layer data tuple of an open library reader: a lazy multiscale RGB image.

    Parameters
    ----------
    reader : SlideReader
        Open reader (kept alive by the layer's dask graph and in ``metadata["reader"]``).
    name : str, optional
        Layer name; defaults to the file name.

    Returns
    -------
    (list of dask arrays, dict, "image")
        ``scale`` is (mpp, mpp) µm per level-0 pixel with units "µm" when mpp is known.
    """
    levels = lazy_levels(reader)
    mpp = reader.mpp
    path = getattr(reader, "path", None)
    kwargs: dict[str, Any] = {
        "name": name or (Path(path).name if path is not None else "image"),
        "rgb": True,
        "multiscale": len(levels) > 1,
        "contrast_limits": [0, 255],
        "metadata": {
            "mmnst_path": {
                "path": str(path) if path is not None else None,
                "mpp": mpp,
                "level_shapes": [tuple(map(int, s)) for s in reader.level_shapes],
                "level_downsamples": [float(d) for d in reader.level_downsamples],
                "backend": getattr(reader, "backend", None),
            },
            "reader": reader,
        },
    }
    if mpp is not None:
        kwargs["scale"] = (float(mpp), float(mpp))
        kwargs["units"] = ("µm", "µm")
    data = levels if len(levels) > 1 else levels[0]
    return (data, kwargs, "image")


def _open(path: str) -> Any | None:
    """Open ``path`` with the library or return None when it is not a slide it can open."""
    from mmnst_path import open_slide
    from mmnst_path.errors import MmnstPathError

    try:
        return open_slide(path)
    except (MmnstPathError, OSError, ValueError):
        return None


def read_slide(path: str | Path) -> list[LayerData]:
    """Open one slide or tile as layer data; raises the library's error when it cannot."""
    from mmnst_path import open_slide

    follow_current_viewer()  # a layer the user adds beside the slide takes its µm scale and units
    return [layer_data_from_reader(open_slide(str(path)))]


def napari_get_reader(path: str | Sequence[str]) -> Callable[[Any], list[LayerData]] | None:
    """npe2 reader hook: a reader function for slide / tile paths and for a ``mmnst-path quantify`` result folder
    (:func:`~mmnst_path_napari._result_folder.read_result_folder`: the slide, its nuclei and class map, as
    reviewed when the folder holds a review), None for anything else.

    The file is opened here (metadata only) so napari can try another plugin when the library
    cannot read it; the returned function reuses that open reader.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    if not paths:
        return None
    one = Path(paths[0])
    if len(paths) == 1 and (one.is_dir() or one.name == "result.json"):  # a quantify result (OUT/<input>)
        from ._result_folder import read_result_folder, result_folder_problem

        folder = one if one.is_dir() else one.parent
        problem = result_folder_problem(folder)
        if problem is not None and one.is_dir():
            return None  # another folder: napari's other readers may open it
        if problem is not None:  # a result.json that is not a quantify result: say why, not "no reader"

            def _refuse(_path: Any) -> list[LayerData]:
                from mmnst_path.errors import ConfigError

                raise ConfigError(f"mmnst_path cannot open it as a quantify result: {problem}")

            return _refuse

        def _read_folder(_path: Any) -> list[LayerData]:
            from ._result_find import remember_place

            follow_current_viewer()
            layers = read_result_folder(folder)
            remember_place(folder)  # a slide of this --out opened alone later finds its result here
            return layers

        return _read_folder
    readers = []
    for p in paths:
        if not str(p).lower().endswith(SUFFIXES):
            return None
        reader = _open(str(p))
        if reader is None:
            return None
        readers.append(reader)

    def _read(_path: Any) -> list[LayerData]:
        follow_current_viewer()  # a layer the user adds beside the slide takes its µm scale and units
        return [layer_data_from_reader(r) for r in readers]

    return _read
