"""QuPath-compatible GeoJSON: nuclei as detections, regions of interest as annotations.

Coordinates
    QuPath measures in level-0 pixels with pixel ``i`` spanning ``[i, i + 1)``; mmnst_path puts
    pixel centres at integer (row, col). So a QuPath point is ``x = col + 0.5``,
    ``y = row + 0.5`` and the round trip is exact.

Writing (:func:`cell_features`, :func:`roi_features`, :func:`feature_collection_chunks`)
    A ``FeatureCollection`` whose features carry a UUID ``id``, ``properties.objectType``
    (``"detection"`` for nuclei, ``"annotation"`` for regions), ``properties.classification``
    with ``name`` and ``color`` ([r, g, b], 0-255) and ``properties.measurements`` as a map of
    name -> number (the QuPath >= 0.3 form). Nuclei are small polygons (an octagon of the
    nucleus' area) or points. Each region carries ``Num Positive``, ``Num Negative``,
    ``Num Pigment`` and ``Positive %`` of the nuclei whose centroid it holds.

Reading (:func:`read_rois`)
    Tolerant of the forms QuPath 0.2-0.6 and other tools write: a FeatureCollection, a single
    Feature, a bare list of features or a bare geometry; ``objectType`` in the properties (0.3+)
    or the 0.2 ``"id": "PathAnnotationObject"``; ``Polygon`` / ``MultiPolygon`` (outer rings;
    holes are dropped with a warning) and ``GeometryCollection``; 2-D or 3-D positions; closed
    or open rings. Detections, cells and tiles are ignored; when a file holds no annotation,
    every polygon is taken.
"""

from __future__ import annotations

import json
import math
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .aggregate import CELL_CLASSES, CellTable
from .errors import ConfigError

__all__ = [
    "CLASS_COLORS",
    "QUPATH_CLASS_NAMES",
    "Roi",
    "cell_features",
    "feature_collection_chunks",
    "read_rois",
    "roi_counts",
    "roi_features",
]

#: QuPath classification name of each cell class.
QUPATH_CLASS_NAMES = {"positive": "Positive", "negative": "Negative", "pigment": "Pigment", "excluded": "Excluded"}
#: Classification colour of each cell class, [r, g, b] 0-255 (QuPath's defaults for Positive/Negative).
CLASS_COLORS = {
    "positive": (200, 50, 50),
    "negative": (112, 112, 225),
    "pigment": (120, 72, 24),
    "excluded": (160, 160, 160),
}
#: Measurement names written for each CellTable column (QuPath-style names).
MEASUREMENT_NAMES = {
    "area_um2": "Area µm^2",
    "dab_od_mean": "DAB OD mean",
    "dab_od_max": "DAB OD max",
    "hematoxylin_od_mean": "Hematoxylin OD mean",
    "circularity": "Circularity",
    "eccentricity": "Eccentricity",
    "intensity_bin": "Intensity bin",
}
_NAMESPACE = uuid.UUID("6f1c1f0e-0d1b-4f54-9a39-3b7e1d2c5a11")


@dataclass(frozen=True, eq=False)
class Roi:
    """A region of interest.

    Attributes
    ----------
    polygon : (K, 2) float64 ndarray
        Outer-ring vertices in level-0 (row, col) pixels (pixel centres at integers), not closed.
    name : str
        The annotation's name ("" when it has none).
    """

    polygon: np.ndarray
    name: str = ""


def _uuid(seed: str, i: int) -> str:
    """Deterministic UUID: the same input and cell give the same id in every run."""
    return str(uuid.uuid5(_NAMESPACE, f"{seed}:{i}"))


def _ring_xy(polygon: np.ndarray) -> list[list[float]]:
    ring = [[round(float(c) + 0.5, 3), round(float(r) + 0.5, 3)] for r, c in np.asarray(polygon, np.float64)]
    ring.append(ring[0])
    return ring


def cell_features(
    cells: CellTable, *, mpp: float | None = None, shape: str = "polygon", seed: str = ""
) -> Iterator[dict[str, Any]]:
    """One QuPath detection feature per nucleus, in the table's order.

    Parameters
    ----------
    cells : CellTable
        Nuclei, level-0 (row, col) centroids.
    mpp : float, optional
        Level-0 µm per pixel: sizes the polygons from ``area_um2`` (required for ``"polygon"``).
    shape : {"polygon", "point"}
        Octagon of the nucleus' area (QuPath then measures it as an area) or a point.
    seed : str
        Makes the UUIDs deterministic per input (the same file gives the same ids).
    """
    if shape not in ("polygon", "point"):
        msg = f"cell_features: shape must be 'polygon' or 'point', got {shape!r}"
        raise ConfigError(msg)
    if shape == "polygon" and not (mpp and math.isfinite(mpp) and mpp > 0):
        msg = f"cell_features: polygons need the level-0 mpp (µm per pixel), got {mpp!r}"
        raise ConfigError(msg)
    n = len(cells)
    names = cells.class_names() if n else np.zeros(0, object)
    columns = [(MEASUREMENT_NAMES.get(k, k), np.asarray(v, np.float64)) for k, v in cells.columns.items()]
    area = np.asarray(cells.columns.get("area_um2", np.full(n, np.nan)), np.float64)
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    for i in range(n):
        cls = str(names[i])
        meas = {key: float(arr[i]) for key, arr in columns if math.isfinite(float(arr[i]))}
        r, c = float(cells.row[i]), float(cells.col[i])
        if shape == "polygon":
            a_px = area[i] / (mpp * mpp) if math.isfinite(area[i]) and area[i] > 0 else 12.0  # type: ignore[operator]
            rad = math.sqrt(a_px / (2 * math.sqrt(2)))  # regular octagon of area a_px
            poly = np.column_stack([r + rad * np.sin(angles), c + rad * np.cos(angles)])
            geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [_ring_xy(poly)]}
        else:
            geometry = {"type": "Point", "coordinates": [round(c + 0.5, 3), round(r + 0.5, 3)]}
        yield {
            "type": "Feature",
            "id": _uuid(seed, i),
            "geometry": geometry,
            "properties": {
                "objectType": "detection",
                "classification": {"name": QUPATH_CLASS_NAMES.get(cls, cls), "color": list(CLASS_COLORS.get(cls, (128, 128, 128)))},
                "measurements": meas,
            },
        }


def roi_counts(cells: CellTable, polygon: np.ndarray) -> dict[str, float]:
    """``Num Positive``, ``Num Negative``, ``Num Pigment`` and ``Positive %`` of the nuclei inside."""
    from skimage.measure import points_in_poly

    inside = points_in_poly(np.column_stack([cells.row, cells.col]), polygon) if len(cells) else np.zeros(0, bool)
    n = {name: int(np.count_nonzero(inside & (cells.cls == CELL_CLASSES.index(name)))) for name in CELL_CLASSES}
    total = n["positive"] + n["negative"]
    out: dict[str, float] = {"Num Positive": n["positive"], "Num Negative": n["negative"], "Num Pigment": n["pigment"]}
    if total:
        out["Positive %"] = 100.0 * n["positive"] / total
    return out  # "Positive %" left out when undefined (QuPath shows NaN), never 0


def roi_features(rois: Sequence[Roi], cells: CellTable | None = None, *, seed: str = "") -> list[dict[str, Any]]:
    """QuPath annotation features, with the Ki67 counts of ``cells`` inside each one."""
    out = []
    for i, roi in enumerate(rois):
        props: dict[str, Any] = {"objectType": "annotation", "isLocked": False}
        if roi.name:
            props["name"] = roi.name
        if cells is not None:
            props["measurements"] = roi_counts(cells, roi.polygon)
        out.append({
            "type": "Feature",
            "id": _uuid(f"{seed}:roi", i),
            "geometry": {"type": "Polygon", "coordinates": [_ring_xy(roi.polygon)]},
            "properties": props,
        })  # fmt: skip
    return out


def feature_collection_chunks(
    cells: CellTable, rois: Sequence[Roi], *, mpp: float | None, shape: str = "polygon", seed: str = "",
    chunk: int = 20_000,
) -> Iterator[str]:
    """Text of a FeatureCollection (annotations first, then detections), yielded in chunks.

    Streamed so a slide with millions of nuclei is never held as one string.
    """
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    buf: list[str] = []
    for feature in roi_features(rois, cells, seed=seed):
        buf.append(json.dumps(feature, ensure_ascii=False))
    for feature in cell_features(cells, mpp=mpp, shape=shape, seed=seed):
        buf.append(json.dumps(feature, ensure_ascii=False))
        if len(buf) >= chunk:
            yield ("" if first else ",\n") + ",\n".join(buf)
            first, buf = False, []
    if buf:
        yield ("" if first else ",\n") + ",\n".join(buf)
    yield "]}\n"


# ------------------------------------------------------------------------------------------------
# reading
def _object_type(feature: Mapping[str, Any]) -> str:
    props = feature.get("properties") or {}
    kind = props.get("objectType") or props.get("object_type") or ""
    if not kind and isinstance(feature.get("id"), str) and feature["id"].startswith("Path"):
        kind = feature["id"]  # QuPath 0.2: "id": "PathAnnotationObject" / "PathDetectionObject"
    kind = str(kind).lower()
    if any(k in kind for k in ("detection", "cell", "tile")):
        return "detection"
    return "annotation" if "annotation" in kind or "tma" in kind else ""


def _polygons(geometry: Mapping[str, Any], where: str) -> list[np.ndarray]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] for p in _polygons(g, where)]
    if kind == "Polygon":
        polys = [coords]
    elif kind == "MultiPolygon":
        polys = coords or []
    else:
        return []
    out = []
    for poly in polys:
        if not poly:
            continue
        if len(poly) > 1:
            warnings.warn(f"{where}: polygon holes are ignored (the outer ring is used)", UserWarning, stacklevel=4)
        ring = np.asarray([p[:2] for p in poly[0]], dtype=np.float64)
        if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
            ring = ring[:-1]
        if len(ring) >= 3:
            out.append(np.column_stack([ring[:, 1] - 0.5, ring[:, 0] - 0.5]))
    return out


def read_rois(path: str | Path) -> list[Roi]:
    """Regions of interest of a GeoJSON file (QuPath 0.2-0.6 export or any GeoJSON polygons).

    Returns
    -------
    list of Roi
        One per polygon (a MultiPolygon gives several, sharing the name), level-0 (row, col).

    Raises
    ------
    ConfigError
        The file cannot be read, is not GeoJSON, or holds no polygon.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        msg = f"ROI file {str(path)!r}: expected GeoJSON (a FeatureCollection of polygons), could not read it ({exc})"
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
        msg = f"ROI file {str(path)!r}: expected a GeoJSON FeatureCollection, Feature or geometry, got {type(doc).__name__}"
        raise ConfigError(msg)
    feats = [f for f in feats if isinstance(f, Mapping)]
    kinds = [_object_type(f) for f in feats]
    wanted = "annotation" if "annotation" in kinds else ""
    rois: list[Roi] = []
    for f, kind in zip(feats, kinds, strict=True):
        if kind == "detection" or (wanted and kind != wanted):
            continue
        props = f.get("properties") or {}
        name = props.get("name") or ""
        if not name and isinstance(props.get("classification"), Mapping):
            name = props["classification"].get("name") or ""
        for poly in _polygons(f.get("geometry") or {}, str(path)):
            rois.append(Roi(poly, str(name)))
    if not rois:
        msg = f"ROI file {str(path)!r} holds no polygon annotation (found {len(feats)} feature(s))"
        raise ConfigError(msg)
    return rois
