"""Adapter between napari layer data and the library's QuPath GeoJSON (:mod:`mmnst_path.geojson`).

Writing is entirely the library's: regions become :class:`mmnst_path.geojson.Roi` annotations
(with the Ki67 counts of the nuclei inside each one) and nuclei detections
(:func:`mmnst_path.geojson.feature_collection_chunks`), streamed to disk atomically. Regions are
read back with :func:`mmnst_path.geojson.read_rois` (QuPath 0.2-0.6 forms).

The library has no reader for detections yet, so :func:`read_detections` stays here: it takes
QuPath / mmnst_path detections and cells (``objectType`` ``"detection"`` / ``"cell"``, or the
QuPath 0.2 ``"id": "PathDetectionObject"`` / ``"PathCellObject"``) given as ``Point`` /
``MultiPoint`` (the plugin's own export) or as polygons (the octagons of
``mmnst-path quantify``'s ``cells.geojson``, QuPath's cell outlines), which become points at
their area centroid. Classifications ``Positive``, ``Negative``, ``Pigment``, ``Excluded`` (also
as the last part of a derived class such as ``Tumor: Positive``) and QuPath's intensity classes
``1+``, ``2+``, ``3+`` (positive with that bin) are understood; an unclassified detection is
negative, any other class excluded. Tiles are neither regions nor nuclei and are skipped.

Coordinates: QuPath's pixel ``i`` spans ``[i, i + 1)``, napari and mmnst_path put pixel centres
at integers, so ``x = col + 0.5``, ``y = row + 0.5``. The library writes positions rounded to
0.001 px.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmnst_path.aggregate import CELL_CLASSES, CellTable
from mmnst_path.errors import ConfigError
from mmnst_path.geojson import Roi

__all__ = ["read_detections", "read_geojson", "write_geojson"]

_CLASS_NAMES = {name: name for name in CELL_CLASSES}
#: QuPath measurement names (the library's first) of the columns a nuclei Points layer keeps
_MEASUREMENTS = {
    "dab_od_mean": ("DAB OD mean", "Nucleus: DAB OD mean", "DAB: Nucleus: Mean"),
    "area_um2": ("Area µm^2", "Nucleus: Area µm^2", "Nucleus: Area"),
    "intensity_bin": ("Intensity bin",),
}


def write_geojson(
    path: str | Path,
    *,
    cells: CellTable | None = None,
    rois: Sequence[Roi] = (),
    mpp: float | None = None,
    shape: str = "point",
) -> Path:
    """Write ``rois`` (annotations) and ``cells`` (detections) as a QuPath FeatureCollection.

    Parameters
    ----------
    path : str or Path
        Output file (written atomically).
    cells : CellTable, optional
        Nuclei, level-0 (row, col). Each ROI then carries the counts of the nuclei inside it.
    rois : sequence of Roi
        Regions, level-0 (row, col) outer rings.
    mpp : float, optional
        Level-0 µm per pixel; needed only for ``shape="polygon"``.
    shape : {"point", "polygon"}
        Nuclei as points (exact round trip to a Points layer) or as octagons of their area.

    Returns
    -------
    Path
        ``path``.
    """
    from mmnst_path.geojson import feature_collection_chunks, roi_features
    from mmnst_path.report import atomic_open_text, atomic_write_text

    path = Path(path)
    seed = path.stem
    if cells is None:  # regions only: no counts (nothing was measured)
        doc = {"type": "FeatureCollection", "features": roi_features(list(rois), None, seed=seed)}
        return atomic_write_text(path, json.dumps(doc, ensure_ascii=False))
    with atomic_open_text(path) as fh:
        for part in feature_collection_chunks(cells, list(rois), mpp=mpp, shape=shape, seed=seed):
            fh.write(part)
    return path


# ------------------------------------------------------------------------------------------------
# reading
def _features(path: Path) -> list[Mapping[str, Any]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        msg = f"GeoJSON file {str(path)!r}: expected a FeatureCollection, Feature or list of features, could not read it ({exc})"
        raise ConfigError(msg) from exc
    if isinstance(doc, Mapping) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features") or []
    elif isinstance(doc, Mapping) and doc.get("type") == "Feature":
        feats = [doc]
    elif isinstance(doc, Mapping) and ("coordinates" in doc or "geometries" in doc):
        feats = [{"type": "Feature", "geometry": doc, "properties": {}}]
    elif isinstance(doc, list):
        feats = doc
    else:
        msg = f"GeoJSON file {str(path)!r}: expected a FeatureCollection, Feature or list of features, got {type(doc).__name__}"
        raise ConfigError(msg)
    return [f for f in feats if isinstance(f, Mapping)]


def _kind(feature: Mapping[str, Any]) -> str:
    """Kind of a feature: ``"nucleus"`` (detection, cell), ``"tile"`` or ``""`` (a region candidate)."""
    props = feature.get("properties") or {}
    kind = props.get("objectType") or props.get("object_type") or ""
    if not kind and isinstance(feature.get("id"), str) and feature["id"].startswith("Path"):
        kind = feature["id"]  # QuPath 0.2
    kind = str(kind).lower()
    if "tile" in kind:
        return "tile"
    return "nucleus" if ("detection" in kind or "cell" in kind) else ""


def _class_and_bin(props: Mapping[str, Any]) -> tuple[str, int | None]:
    c = props.get("classification")
    name = str(c.get("name") or "") if isinstance(c, Mapping) else str(c or "")
    low = name.strip().lower()
    if not low:
        return "negative", None
    low = low.rsplit(":", 1)[-1].strip()  # derived QuPath class, e.g. "Tumor: Positive"
    if low in {"1+", "2+", "3+"}:
        return "positive", int(low[0])
    return _CLASS_NAMES.get(low, "excluded"), None


def _centroid(ring_xy: np.ndarray) -> tuple[float, float]:
    """Area centroid (x, y) of a closed or open ring (vertex mean when degenerate)."""
    p = ring_xy[:-1] if len(ring_xy) > 1 and np.allclose(ring_xy[0], ring_xy[-1]) else ring_xy
    x, y = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = cross.sum() / 2
    if abs(a) < 1e-9:
        return float(x.mean()), float(y.mean())
    return float(((x + x1) * cross).sum() / (6 * a)), float(((y + y1) * cross).sum() / (6 * a))


def _positions(geometry: Mapping[str, Any]) -> list[tuple[float, float]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if not coords:
        return []
    if kind == "Point":
        return [(float(coords[0]), float(coords[1]))]
    if kind == "MultiPoint":
        return [(float(p[0]), float(p[1])) for p in coords]
    if kind == "Polygon":
        rings = [coords[0]]
    elif kind == "MultiPolygon":
        rings = [max((poly[0] for poly in coords if poly), key=len)]  # one nucleus: its main part
    else:
        return []
    ring = np.asarray([p[:2] for p in rings[0]], dtype=np.float64)
    return [_centroid(ring)] if len(ring) else []


def _measurement(meas: Mapping[str, Any], key: str) -> float:
    for name in _MEASUREMENTS[key]:
        v = meas.get(name)
        if v is not None:
            try:
                return float(v)
            except (TypeError, ValueError):
                return math.nan
    return math.nan


def _detections(feats: Sequence[Mapping[str, Any]]) -> CellTable:
    rows, cols, codes, dab, area, bins = [], [], [], [], [], []
    for f in feats:
        if _kind(f) != "nucleus":
            continue
        props = f.get("properties") or {}
        cls, qbin = _class_and_bin(props)
        meas = props.get("measurements") or {}
        if isinstance(meas, list):  # QuPath 0.2: [{"name": ..., "value": ...}]
            meas = {m.get("name"): m.get("value") for m in meas if isinstance(m, Mapping)}
        b = _measurement(meas, "intensity_bin")
        if not math.isfinite(b):
            b = qbin if qbin is not None else float(cls == "positive")
        for x, y in _positions(f.get("geometry") or {}):
            rows.append(y - 0.5)
            cols.append(x - 0.5)
            codes.append(CELL_CLASSES.index(cls))
            dab.append(_measurement(meas, "dab_od_mean"))
            area.append(_measurement(meas, "area_um2"))
            bins.append(int(b))
    columns = {
        "dab_od_mean": np.asarray(dab, np.float64),
        "area_um2": np.asarray(area, np.float64),
        "intensity_bin": np.asarray(bins, np.int8),
    }
    return CellTable(
        np.asarray(rows, np.float64), np.asarray(cols, np.float64), np.asarray(codes, np.int8), columns
    )


def read_detections(path: str | Path) -> CellTable:
    """Nuclei (detections and cells) of a QuPath / mmnst_path GeoJSON file, as points.

    Returns
    -------
    CellTable
        Level-0 (row, col) positions (area centroid of polygons), classes, and the columns
        ``dab_od_mean``, ``area_um2`` (NaN when absent) and ``intensity_bin``.

    Raises
    ------
    ConfigError
        The file cannot be read or is not GeoJSON.
    """
    return _detections(_features(Path(path)))


def read_geojson(path: str | Path) -> tuple[CellTable, list[Roi]]:
    """Nuclei (:func:`read_detections`) and regions (:func:`mmnst_path.geojson.read_rois`) of a file.

    Returns
    -------
    cells : CellTable
        Detections as points, level-0 (row, col); empty when there are none.
    rois : list of Roi
        Annotation polygons (or every non-detection polygon when no annotation is marked);
        empty when the file holds only detections.

    Raises
    ------
    ConfigError
        The file cannot be read, is not GeoJSON, or holds neither nuclei nor regions.
    """
    from mmnst_path.geojson import read_rois

    path = Path(path)
    feats = _features(path)
    cells = _detections(feats)
    candidates = [f for f in feats if not _kind(f) and (f.get("geometry") or {}).get("type") in
                  ("Polygon", "MultiPolygon", "GeometryCollection")]  # fmt: skip
    rois: list[Roi] = []
    if candidates or not len(cells):
        try:
            rois = read_rois(path)
        except ConfigError:
            if not len(cells):
                msg = f"GeoJSON file {str(path)!r} holds neither detections nor polygon annotations (found {len(feats)} feature(s))"
                raise ConfigError(msg) from None
    return cells, rois
