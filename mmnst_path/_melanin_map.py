"""The melanin map of a quantify result folder (``melanin_map.npz``) and a review's melanin corrections of it.

A run that measured melanin keeps, beside ``tissue_classes.png``, the block map a reviewer corrects
(:mod:`mmnst_path._review_melanin`): ``melanin`` (float, the run's ``SlideResult.maps["melanin"]`` as it is: the
melanin share of each block's tissue, NaN without tissue) and ``block_tissue_mm2`` (float64, the tissue area of each
block, :func:`~mmnst_path._review_melanin.block_tissue_mm2` of the run's tissue map), lossless, in a deflated
zip of ``.npy`` arrays with fixed times (the same run writes the same bytes). result.json records it as
``melanin_map: {"file", "shape", "downsample", "block_um", "sha256"}``; :func:`read_melanin_map` reads it back.

A review's corrections (``review_melanin.png``, :data:`REVIEW_MELANIN_MAP`: 8-bit grey PNG on the same grid, 0 the
run's block, 1 melanin, 2 no melanin) come from napari (painted blocks) or from QuPath annotations classified
``Melanin`` / ``No melanin`` (:data:`MELANIN_NAMES`; a block takes the class of the last annotation holding its
centre, as the tissue-class review does).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._review_melanin import MELANIN_ADD, MELANIN_REMOVE, block_tissue_mm2, reviewed_melanin
from .errors import ConfigError

__all__ = [
    "MELANIN_MAP",
    "MELANIN_NAMES",
    "REVIEW_MELANIN_MAP",
    "corrections_png",
    "melanin_annotations",
    "melanin_map_npz",
    "melanin_review_part",
    "read_corrections",
    "read_melanin_map",
    "result_block_tissue",
    "write_melanin_map",
]

#: the run's melanin block map in a result folder
MELANIN_MAP = "melanin_map.npz"
#: a review's melanin corrections (0 the run's, 1 melanin, 2 no melanin)
REVIEW_MELANIN_MAP = "review_melanin.png"
#: annotation class names (lower case) read as melanin corrections, and the value they give a block
MELANIN_NAMES = {"melanin": MELANIN_ADD, "pigment": MELANIN_ADD, "no melanin": MELANIN_REMOVE,
                 "no pigment": MELANIN_REMOVE, "not melanin": MELANIN_REMOVE}
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def melanin_map_npz(result: Any) -> bytes | None:
    """``melanin_map.npz`` bytes of a SlideResult (``melanin`` and ``block_tissue_mm2``), None when the run has no
    melanin or tissue map."""
    maps = getattr(result, "maps", {})
    if "melanin" not in maps or "tissue" not in maps:
        return None
    melanin = np.asarray(maps["melanin"].image)
    tissue = result_block_tissue(result)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, arr in (("melanin", melanin), ("block_tissue_mm2", tissue)):
            part = io.BytesIO()
            np.lib.format.write_array(part, np.ascontiguousarray(arr), allow_pickle=False)
            z.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME), part.getvalue(),
                       compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def result_block_tissue(result: Any) -> np.ndarray:
    """(M, N) tissue area (mm²) of every block of a SlideResult's melanin map, from its tissue map:
    :func:`~mmnst_path._review_melanin.block_tissue_mm2` when a block is a whole number of tissue map pixels, else
    each tissue pixel shared among the blocks it overlaps by the overlap's area (the tissue map of a Ki67 run is at
    the analysis resolution, 1.25 level-0 px per pixel at 0.4 µm/px)."""
    m, t = result.maps["melanin"], result.maps["tissue"]
    grid = np.asarray(m.image).shape
    d, td, mpp = float(m.downsample), float(t.downsample), float(result.mpp)
    k = round(d / td)
    if k >= 1 and abs(d / td - k) <= 1e-6:
        return block_tissue_mm2(t.image, tissue_downsample=td, downsample=d, grid=grid, mpp=mpp)
    share = np.nan_to_num(np.asarray(t.image, np.float64), nan=0.0)

    def overlap(n_blocks: int, n_px: int) -> np.ndarray:  # (blocks, pixels) overlap length, level-0 px
        b0 = np.arange(n_blocks)[:, None] * d
        p0 = np.arange(n_px)[None, :] * td
        return np.clip(np.minimum(b0 + d, p0 + td) - np.maximum(b0, p0), 0.0, None)

    rows, cols = overlap(grid[0], share.shape[0]), overlap(grid[1], share.shape[1])
    return rows @ share @ cols.T * (mpp / 1000.0) ** 2


def write_melanin_map(result: Any, out: Path, doc: dict[str, Any]) -> dict[str, Path]:
    """Write :data:`MELANIN_MAP` of ``result`` into ``out`` and record it in the result.json document ``doc``
    (``doc["melanin_map"]``); nothing without a melanin map. Returns ``{"melanin_map": path}`` or ``{}``."""
    from ._atomic import atomic_write_bytes

    data = melanin_map_npz(result)
    if data is None:
        return {}
    m = result.maps["melanin"]
    path = atomic_write_bytes(Path(out) / MELANIN_MAP, data)
    doc["melanin_map"] = {"file": MELANIN_MAP, "shape": list(np.asarray(m.image).shape),
                          "downsample": float(m.downsample), "block_um": float(m.downsample) * float(result.mpp),
                          "sha256": hashlib.sha256(data).hexdigest()}
    return {"melanin_map": path}


def read_melanin_map(folder: str | Path, doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The melanin map of a result folder, None when result.json records none: ``{"melanin", "block_tissue_mm2",
    "downsample", "mpp", "block_um", "area_mm2", "tissue_mm2"}`` (the last two: the run's ``melanin_area_mm2`` /
    ``melanin_tissue_mm2``). ConfigError naming the file when it is missing, changed (SHA-256) or of another shape."""
    rec = doc.get("melanin_map") or {}
    if not rec.get("file"):
        return None
    path = Path(folder) / str(rec["file"])
    try:
        data = path.read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            melanin, tissue = np.asarray(z["melanin"]), np.asarray(z["block_tissue_mm2"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        msg = f"{path}: the melanin map cannot be read ({exc})"
        raise ConfigError(msg) from exc
    if rec.get("sha256") and hashlib.sha256(data).hexdigest() != rec["sha256"]:
        msg = f"{path}: changed since the run (sha256 differs from result.json's melanin_map.sha256)"
        raise ConfigError(msg)
    shape = [int(v) for v in rec.get("shape", melanin.shape)]
    if list(melanin.shape) != shape or tissue.shape != melanin.shape:
        msg = f"{path}: shapes {melanin.shape} / {tissue.shape} differ from result.json's melanin_map shape {shape}"
        raise ConfigError(msg)
    metrics = doc.get("metrics") or {}

    def num(key: str) -> float:
        v = metrics.get(key)
        return float("nan") if v is None else float(v)

    return {"melanin": melanin, "block_tissue_mm2": tissue, "downsample": float(rec["downsample"]),
            "mpp": float(doc["mpp"]), "block_um": float(rec.get("block_um") or float(rec["downsample"]) * float(doc["mpp"])),
            "area_mm2": num("melanin_area_mm2"), "tissue_mm2": num("melanin_tissue_mm2")}


def melanin_annotations(features: Sequence[Mapping[str, Any]]) -> tuple[list[tuple[int, list[np.ndarray]]], list[int]]:
    """The polygon annotations of ``features`` classified as :data:`MELANIN_NAMES`: ``([(value, rings)], their
    indices in features)`` (value :data:`~mmnst_path._review_melanin.MELANIN_ADD` or ``MELANIN_REMOVE``); the run's
    own regions (a lab tissue model's ``melanin`` class region, a region of interest) are not corrections."""
    from ._geojson_read import _props
    from ._geojson_regions import is_run_region, is_run_roi
    from ._review_tissue import _annotation_class, _rings

    out, where = [], []
    for i, f in enumerate(features):
        name = _annotation_class(f)
        value = MELANIN_NAMES.get((name or "").strip().lower())
        if value is None:
            continue
        if is_run_region(_props(f)) or is_run_roi(_props(f)):  # the run's own region (a lab model's `melanin` class
            continue  # region, a ROI): a tissue-class region or where it measured, never a melanin correction
        rings = _rings(f["geometry"])
        if rings:
            out.append((value, rings))
        where.append(i)
    return out, where


def melanin_review_part(folder: Path, doc: Mapping[str, Any], polygons: Sequence[tuple[int, Sequence[np.ndarray]]],
                        painted: Any, *, edits: str) -> tuple[dict[str, Any] | None, bytes | None]:
    """The melanin part of a review and its corrections PNG: the blocks ``painted`` in napari ((M, N) 0 / 1 / 2),
    else the ``polygons`` of :func:`melanin_annotations` painted on the run's grid; ``(None, None)`` with neither.
    ConfigError when both are given or the result keeps no melanin map."""
    from ._review_tissue import paint_annotations

    if painted is None and not polygons:
        return None, None
    if painted is not None and polygons:
        msg = f"edits={edits!r} holds melanin annotations and the melanin map was painted: give one of them"
        raise ConfigError(msg)
    mmap = read_melanin_map(folder, doc)
    if mmap is None:
        msg = (f"edits={edits!r}: {Path(folder) / 'result.json'} keeps no melanin map ({MELANIN_MAP}: melanin not "
               "measured, or quantify of an earlier version; run quantify again), so melanin corrections cannot apply")
        raise ConfigError(msg)
    grid = mmap["melanin"].shape
    if painted is not None:
        corrections = np.asarray(painted)
        source = "painted (napari)"
        if corrections.shape != grid:
            msg = f"melanin_map: shape {corrections.shape} differs from the result's melanin map {grid}"
            raise ConfigError(msg)
    else:
        corrections = paint_annotations(np.zeros(grid, np.int16), list(polygons), downsample=mmap["downsample"],
                                        shape=tuple(doc["shape"]))
        source = "annotations"
    try:
        part = reviewed_melanin(mmap["melanin"], corrections, mmap["block_tissue_mm2"], area_mm2=mmap["area_mm2"],
                                tissue_mm2=mmap["tissue_mm2"])
    except ValueError as exc:
        raise ConfigError(f"melanin_map: {exc}") from exc
    part.update(source=source, block_um=mmap["block_um"])
    if source == "annotations":
        part["annotations"] = len(polygons)
    return part, corrections_png(corrections)


def corrections_png(corrections: Any) -> bytes:
    """The corrections grid as :data:`REVIEW_MELANIN_MAP` bytes (8-bit grey PNG, 0 / 1 / 2)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(corrections).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def read_corrections(folder: str | Path) -> np.ndarray | None:
    """The corrections grid of a folder's :data:`REVIEW_MELANIN_MAP` (uint8), None without one."""
    from PIL import Image

    path = Path(folder) / REVIEW_MELANIN_MAP
    if not path.is_file():
        return None
    with Image.open(path) as img:
        return np.asarray(img).astype(np.uint8)
