"""QuPath-compatible GeoJSON of nuclei (detections) and regions of interest (annotations).

QuPath measures in level-0 pixels with pixel ``i`` spanning ``[i, i + 1)``; napari and
mmnst_path put pixel centres at integer coordinates. So QuPath ``x = col + 0.5`` and
``y = row + 0.5``, and a round trip is exact.

Nuclei are written as ``Point`` features with ``objectType: "detection"``, a classification
(``Positive``, ``Negative``, ``Pigment``, ``Excluded``) and measurements (DAB OD mean, area µm²,
intensity bin). ROIs are ``Polygon`` features with ``objectType: "annotation"``. On import,
QuPath detections/cells given as polygons become points at their vertex mean, and the
QuPath intensity classes ``1+``, ``2+``, ``3+`` count as positive with that bin.

This module is plain I/O (no algorithm); it belongs in the library's report module in the
long run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from mmnst_path.aggregate import CELL_CLASSES, CellTable

from ._layers import CLASS_COLORS

__all__ = ["features_from_cells", "features_from_rois", "read_geojson", "write_geojson"]

_QUPATH_NAMES = {"positive": "Positive", "negative": "Negative", "pigment": "Pigment", "excluded": "Excluded"}
_M_DAB = "DAB OD mean"
_M_AREA = "Area µm^2"
_M_BIN = "Intensity bin"


def _rgb255(name: str) -> list[int]:
    return [round(255 * c) for c in CLASS_COLORS[name][:3]]


def features_from_cells(cells: CellTable) -> list[dict[str, Any]]:
    """One QuPath detection ``Point`` feature per nucleus (x = col + 0.5, y = row + 0.5)."""
    out = []
    n = len(cells)
    names = cells.class_names() if n else np.zeros(0, object)
    nan = np.full(n, np.nan)
    measured = (
        (_M_DAB, np.asarray(cells.columns.get("dab_od_mean", nan), np.float64)),
        (_M_AREA, np.asarray(cells.columns.get("area_um2", nan), np.float64)),
        (_M_BIN, np.asarray(cells.columns.get("intensity_bin", nan), np.float64)),
    )
    for i in range(n):
        cls = str(names[i])
        meas: dict[str, float] = {}
        for key, arr in measured:
            v = float(arr[i])
            if math.isfinite(v):
                meas[key] = v
        props: dict[str, Any] = {"objectType": "detection", "measurements": meas}
        if cls in _QUPATH_NAMES:
            props["classification"] = {"name": _QUPATH_NAMES[cls], "color": _rgb255(cls)}
        out.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(cells.col[i]) + 0.5, float(cells.row[i]) + 0.5]},
            "properties": props,
        })  # fmt: skip
    return out


def features_from_rois(rois: list[np.ndarray], names: list[str] | None = None) -> list[dict[str, Any]]:
    """QuPath annotation ``Polygon`` features from (K, 2) (row, col) vertex arrays (napari frame)."""
    out = []
    for i, verts in enumerate(rois):
        v = np.asarray(verts, dtype=np.float64)[:, -2:]
        ring = [[float(c) + 0.5, float(r) + 0.5] for r, c in v]
        ring.append(ring[0])
        props: dict[str, Any] = {"objectType": "annotation"}
        if names and i < len(names) and names[i]:
            props["name"] = names[i]
        out.append(
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props}
        )
    return out


def write_geojson(
    path: str | Path,
    *,
    cells: CellTable | None = None,
    rois: list[np.ndarray] = (),
    roi_names: list[str] | None = None,
) -> Path:
    """Write a QuPath-importable FeatureCollection of ``rois`` (annotations) and ``cells`` (detections)."""
    features = features_from_rois(list(rois), roi_names)
    if cells is not None:
        features += features_from_cells(cells)
    path = Path(path)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _object_type(feature: dict[str, Any]) -> str:
    props = feature.get("properties") or {}
    kind = props.get("objectType") or props.get("object_type") or feature.get("id") or ""
    kind = str(kind).lower()
    if "detection" in kind or "cell" in kind or "tile" in kind:
        return "detection"
    return "annotation"


def _class_and_bin(props: dict[str, Any]) -> tuple[str, int | None]:
    c = props.get("classification") or {}
    name = str(c.get("name", "")) if isinstance(c, dict) else str(c)
    low = name.strip().lower()
    if low in {"1+", "2+", "3+"}:
        return "positive", int(low[0])
    if low in _QUPATH_NAMES:
        return low, None
    return ("excluded" if low else "negative"), None


def _rings(geometry: dict[str, Any]) -> list[np.ndarray]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polys = [coords]
    elif kind == "MultiPolygon":
        polys = coords
    elif kind == "LineString":
        polys = [[coords]]
    else:
        return []
    out = []
    for poly in polys:
        ring = np.asarray(poly[0], dtype=np.float64)  # outer ring, (x, y)
        if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
            ring = ring[:-1]
        out.append(np.column_stack([ring[:, 1] - 0.5, ring[:, 0] - 0.5]))
    return out


def read_geojson(path: str | Path) -> tuple[CellTable, list[np.ndarray], list[str]]:
    """Read QuPath (or our own) GeoJSON.

    Returns
    -------
    cells : CellTable
        Detections as points (level-0 row, col; napari pixel-centre frame).
    rois : list of (K, 2) float64
        Annotation polygons, (row, col) vertices.
    roi_names : list of str
        Annotation names ("" when absent).
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: expected a GeoJSON FeatureCollection or list of features, could not parse it ({exc})"
        raise ValueError(msg) from exc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features", [])
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        feats = [doc]
    elif isinstance(doc, list):
        feats = doc
    else:
        msg = f"{path}: expected a GeoJSON FeatureCollection, Feature or list of features, got {type(doc).__name__}"
        raise ValueError(msg)
    rows, cols, classes, dab, area, bins = [], [], [], [], [], []
    rois: list[np.ndarray] = []
    names: list[str] = []
    for f in feats:
        geom = f.get("geometry") or {}
        props = f.get("properties") or {}
        if _object_type(f) == "detection":
            if geom.get("type") == "Point":
                x, y = geom["coordinates"][:2]
            else:
                rings = _rings(geom)
                if not rings:
                    continue
                r, c = rings[0].mean(axis=0)
                x, y = c + 0.5, r + 0.5
            cls, qbin = _class_and_bin(props)
            meas = props.get("measurements") or {}
            if isinstance(meas, list):  # older QuPath: [{"name":..., "value":...}]
                meas = {m.get("name"): m.get("value") for m in meas}
            rows.append(float(y) - 0.5)
            cols.append(float(x) - 0.5)
            classes.append(cls)
            dab.append(float(meas.get(_M_DAB, meas.get("DAB: Nucleus: Mean", math.nan))))
            area.append(float(meas.get(_M_AREA, meas.get("Nucleus: Area µm^2", math.nan))))
            b = meas.get(_M_BIN)
            bins.append(int(b) if b is not None else (qbin if qbin is not None else int(cls == "positive")))
        else:
            for ring in _rings(geom):
                rois.append(ring)
                names.append(str(props.get("name", "")))
    codes = np.asarray([CELL_CLASSES.index(c) for c in classes], np.int8)
    columns = {
        "dab_od_mean": np.asarray(dab, np.float64),
        "area_um2": np.asarray(area, np.float64),
        "intensity_bin": np.asarray(bins, np.int8),
    }
    cells = CellTable(np.asarray(rows, np.float64), np.asarray(cols, np.float64), codes, columns)
    return cells, rois, names
