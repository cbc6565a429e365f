"""Reading QuPath-compatible GeoJSON (regions of interest, cells, training annotations): the
tolerant reader described in :mod:`mmnst_path.geojson`, which re-exports it."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._geojson_names import _TYPE_OF_CLASS, MEASUREMENT_NAMES, STAIN_OF_NAME, STAINED_NAME_ALIASES, Roi
from ._geojson_regions import is_run_region
from .aggregate import CELL_CLASSES, CELL_TYPES, CellTable
from .errors import ConfigError, CorruptFileError

__all__ = ["cells_from_features", "feature_kind", "flag_values", "read_cells", "read_features", "read_rois", "rois_from_features",
           "stains_of_features"]


#: Column of each measurement name read back: the writer's names (by stain: "AEC OD mean",
#: "Fast Red OD max", "Azure B OD mean"... as well as the DAB / hematoxylin names files carried
#: before the names followed the stain), QuPath's own names (0.2 and 0.3+), and the column keys
#: themselves; earlier names win when a feature holds several.
_MEASUREMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "area_um2": ("Nucleus: Area µm^2", "Nucleus: Area"),
    "dab_od_mean": ("Nucleus: DAB OD mean", "DAB: Nucleus: Mean"),
    "dab_od_max": ("Nucleus: DAB OD max", "DAB: Nucleus: Max"),
    "hematoxylin_od_mean": ("Nucleus: Hematoxylin OD mean", "Hematoxylin: Nucleus: Mean"),
    "circularity": ("Nucleus: Circularity",),
    "eccentricity": ("Nucleus: Eccentricity",),
}
_COLUMN_OF: dict[str, tuple[str, int]] = {}
for _key, _name in MEASUREMENT_NAMES.items():
    for _rank, _alias in enumerate((_name, *STAINED_NAME_ALIASES.get(_key, ()), *_MEASUREMENT_ALIASES.get(_key, ()),
                                    _key)):
        _COLUMN_OF.setdefault(_alias, (_key, _rank))
_INTENSITY_CLASSES = {"1+": 1, "2+": 2, "3+": 3}


def read_features(path: str | Path, *, what: str = "GeoJSON file") -> list[Mapping[str, Any]]:
    """Features of a GeoJSON file, whatever form QuPath 0.2-0.6 or another tool wrote.

    Accepts a ``FeatureCollection``, a single ``Feature``, a bare list of features (QuPath 0.2)
    or a bare geometry (returned as one feature with no properties). A UTF-8 byte-order mark is
    allowed. Entries that are not JSON objects are dropped.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        How error messages name the file (e.g. ``"ROI file"``).

    Returns
    -------
    list of mapping
        The features, in file order.

    Raises
    ------
    ConfigError
        The file cannot be opened, or holds JSON that is not GeoJSON.
    CorruptFileError
        The file is not valid JSON / UTF-8 (truncated or damaged).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{what} {str(path)!r}: expected UTF-8 GeoJSON text, got undecodable bytes ({exc})"
        raise CorruptFileError(msg) from exc
    except OSError as exc:
        msg = f"{what} {str(path)!r}: expected a readable GeoJSON file, could not open it ({exc})"
        raise ConfigError(msg) from exc
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        msg = f"{what} {str(path)!r}: expected GeoJSON, the JSON is invalid or truncated ({exc})"
        raise CorruptFileError(msg) from exc
    if isinstance(doc, Mapping) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features") or []
    elif isinstance(doc, Mapping) and doc.get("type") == "Feature":
        feats = [doc]
    elif isinstance(doc, Mapping) and ("coordinates" in doc or "geometries" in doc):
        feats = [{"type": "Feature", "geometry": doc, "properties": {}}]
    elif isinstance(doc, list):
        feats = doc
    else:
        got = f"an object of type {doc.get('type')!r}" if isinstance(doc, Mapping) else type(doc).__name__
        msg = f"{what} {str(path)!r}: expected a GeoJSON FeatureCollection, Feature, list of features or geometry, got {got}"
        raise ConfigError(msg)
    if not isinstance(feats, list):
        msg = f"{what} {str(path)!r}: expected 'features' to be a list, got {type(feats).__name__}"
        raise ConfigError(msg)
    return [f for f in feats if isinstance(f, Mapping)]


def feature_kind(feature: Mapping[str, Any]) -> str:
    """QuPath object kind of a feature: ``"annotation"``, ``"detection"``, ``"tile"`` or ``""``.

    Read from ``properties.objectType`` (QuPath 0.3+: ``"annotation"``, ``"detection"``,
    ``"cell"``, ``"tile"``, ``"tma_core"``) or the QuPath 0.2 ``"id": "Path...Object"``. Cells are
    detections, TMA cores annotations; ``""`` when the feature does not say.
    """
    props = _props(feature)
    kind = props.get("objectType") or props.get("object_type") or ""
    if not kind and isinstance(feature.get("id"), str) and feature["id"].startswith("Path"):
        kind = feature["id"]  # QuPath 0.2: "id": "PathAnnotationObject" / "PathDetectionObject"
    kind = str(kind).lower()
    if "tile" in kind:
        return "tile"
    if "detection" in kind or "cell" in kind:
        return "detection"
    return "annotation" if "annotation" in kind or "tma" in kind else ""


def _props(feature: Mapping[str, Any]) -> Mapping[str, Any]:
    props = feature.get("properties")
    return props if isinstance(props, Mapping) else {}


def _polygon_rings(geometry: Mapping[str, Any]) -> list[list[np.ndarray]]:
    """Rings of each polygon of a geometry, level-0 (row, col): ``[[outer, hole, ...], ...]`` (one entry per
    ``Polygon`` / ``MultiPolygon`` part, also inside a ``GeometryCollection``); a ring of under 3 distinct
    vertices is dropped (a polygon whose outer ring is, with its holes)."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] if isinstance(g, Mapping) for p in _polygon_rings(g)]
    if kind == "Polygon":
        polys = [coords]
    elif kind == "MultiPolygon":
        polys = coords or []
    else:
        return []
    out = []
    for poly in polys:
        rings = []
        for k, raw in enumerate(poly or []):
            ring = np.asarray([p[:2] for p in raw], dtype=np.float64).reshape(-1, 2)
            if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
                ring = ring[:-1]
            if len(ring) < 3:
                if k == 0:
                    break
                continue
            rings.append(np.column_stack([ring[:, 1] - 0.5, ring[:, 0] - 0.5]))
        if rings:
            out.append(rings)
    return out


def rois_from_features(features: Sequence[Mapping[str, Any]], *, source: str = "GeoJSON") -> list[Roi]:
    """Regions of interest among ``features`` (as returned by :func:`read_features`).

    Annotations when the features mark any, else every polygon that is not a detection or tile; the regions a
    run wrote of what it measured (tissue classes, melanin, hot spot: :mod:`mmnst_path._geojson_regions`) are
    not regions of interest and are skipped. 2-D or 3-D positions, closed or open rings.

    Returns
    -------
    list of Roi
        One per polygon (a MultiPolygon gives several, sharing the name and classification), level-0
        (row, col), with the polygon's holes (:attr:`Roi.holes`: not inside it) and the feature's
        ``classification`` mapping; empty when there is none.

    Raises
    ------
    CorruptFileError
        A polygon's coordinates are malformed (the message names ``source`` and the feature).
    """
    kinds = [feature_kind(f) for f in features]
    wanted = "annotation" if "annotation" in kinds else ""
    rois: list[Roi] = []
    for i, (f, kind) in enumerate(zip(features, kinds, strict=True)):
        if kind in ("detection", "tile") or (wanted and kind != wanted):
            continue
        props = _props(f)
        if is_run_region(props):  # a run's tissue-class / melanin / hot-spot region: measured, not of interest
            continue
        name = props.get("name") or ""
        if not name and isinstance(props.get("classification"), Mapping):
            name = props["classification"].get("name") or ""
        geometry = f.get("geometry")
        try:
            polys = _polygon_rings(geometry) if isinstance(geometry, Mapping) else []
        except (TypeError, ValueError, IndexError) as exc:
            msg = f"{source}: feature {i} has malformed polygon coordinates, expected [[x, y], ...] rings ({exc})"
            raise CorruptFileError(msg) from exc
        cls = props.get("classification")
        cls = dict(cls) if isinstance(cls, Mapping) else None
        rois.extend(Roi(rings[0], str(name), tuple(rings[1:]), cls) for rings in polys)
    return rois


def read_rois(path: str | Path) -> list[Roi]:
    """Regions of interest of a GeoJSON file (QuPath 0.2-0.6 export or any GeoJSON polygons).

    Returns
    -------
    list of Roi
        One per polygon (a MultiPolygon gives several, sharing the name), level-0 (row, col), with its
        holes (not inside the region: :attr:`Roi.region` is what the analysis measures).

    Raises
    ------
    ConfigError
        The file cannot be read, is not (valid) GeoJSON, or holds no polygon.
    """
    path = Path(path)
    try:
        feats = read_features(path, what="ROI file")
        rois = rois_from_features(feats, source=f"ROI file {str(path)!r}")
    except CorruptFileError as exc:  # a bad --roi file is a bad option, as for every other ROI error
        raise ConfigError(str(exc)) from exc
    if not rois:
        msg = f"ROI file {str(path)!r} holds no polygon annotation (found {len(feats)} feature(s))"
        raise ConfigError(msg)
    return rois


def _class_name(props: Mapping[str, Any]) -> str:
    """The last part of a classification's name, lower case, any QuPath form ("" when unclassified)."""
    c = props.get("classification")
    if isinstance(c, Mapping):
        names = c.get("names")  # QuPath 0.4+ may split derived classes: ["Tumor", "Positive"]
        name = str(names[-1]) if isinstance(names, list) and names else str(c.get("name") or "")
    else:
        name = str(c or "")
    return name.rsplit(":", 1)[-1].strip().lower()  # derived QuPath class, e.g. "Tumor: Positive"


def _cell_type(props: Mapping[str, Any], low: str) -> int | None:
    """Index into CELL_TYPES of a detection: its ``metadata.cell_type`` (what the writer puts there),
    else the type a class name such as ``Stroma`` or ``Lymphocyte`` stands for; None when neither says."""
    meta = props.get("metadata")
    named = meta.get("cell_type") if isinstance(meta, Mapping) else None
    if isinstance(named, str) and named.strip().lower() in CELL_TYPES:
        return CELL_TYPES.index(named.strip().lower())
    return _TYPE_OF_CLASS.get(low)


def _class_and_bin(props: Mapping[str, Any]) -> tuple[str, int | None]:
    """Cell class and intensity bin (of a 1+/2+/3+ class) of a classification, any QuPath form."""
    low = _class_name(props)
    if not low:
        return "negative", None
    if low in _INTENSITY_CLASSES:
        return "positive", _INTENSITY_CLASSES[low]
    return (low if low in CELL_CLASSES else "excluded"), None


def _area_centroid(ring: Sequence[Sequence[Any]]) -> tuple[float, float, float]:
    """(x, y, |area|) of a closed or open ring of [x, y(, z)] (vertex mean and 0 when degenerate).

    Plain Python floats: a nucleus has a handful of vertices, where numpy's per-call overhead
    would dominate (a million detections per slide).
    """
    pts = [(float(p[0]), float(p[1])) for p in ring]
    if len(pts) > 1 and abs(pts[0][0] - pts[-1][0]) < 1e-9 and abs(pts[0][1] - pts[-1][1]) < 1e-9:
        pts.pop()
    if not pts:
        msg = "empty ring"
        raise ValueError(msg)
    a2 = cx = cy = 0.0
    x0, y0 = pts[0]  # shifted to the first vertex: no cancellation at large slide coordinates
    for (xa, ya), (xb, yb) in zip(pts, pts[1:] + pts[:1], strict=True):
        xa, ya, xb, yb = xa - x0, ya - y0, xb - x0, yb - y0
        cross = xa * yb - xb * ya
        a2 += cross
        cx += (xa + xb) * cross
        cy += (ya + yb) * cross
    if abs(a2) < 1e-9:
        return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts), 0.0
    return x0 + cx / (3 * a2), y0 + cy / (3 * a2), abs(a2) / 2


def _positions(geometry: Mapping[str, Any]) -> list[tuple[float, float]]:
    """QuPath (x, y) of a detection: its points, or the area centroid of its (largest) outline."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] if isinstance(g, Mapping) for p in _positions(g)]
    if coords is None or (isinstance(coords, list) and not coords):
        return []
    if kind == "Point":
        return [(float(coords[0]), float(coords[1]))]
    if kind == "MultiPoint":
        return [(float(p[0]), float(p[1])) for p in coords]
    if kind == "Polygon":
        parts = [coords]
    elif kind == "MultiPolygon":
        parts = [poly for poly in coords if poly]
    else:
        return []
    found = [_area_centroid(poly[0]) for poly in parts if poly[0]]
    if not found:
        return []
    x, y, _ = max(found, key=lambda t: t[2])  # one nucleus: its main part
    return [(x, y)]


def _number(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan



def flag_values(values: Any) -> np.ndarray:
    """A 1 / 0 flag column (``melanocytic``, ``near_black``, ``reviewed``...) as bool: a nucleus without the
    measurement (NaN as read from GeoJSON, e.g. one added in QuPath) is not flagged."""
    return np.asarray(values, dtype=np.float64) >= 0.5


def cells_from_features(features: Sequence[Mapping[str, Any]], *, source: str = "GeoJSON") -> CellTable:
    """Nuclei (detections and cells) among ``features`` (as returned by :func:`read_features`).

    Positions: ``Point`` / ``MultiPoint`` (one nucleus per point) or the area centroid of a
    polygon outline (the largest part of a ``MultiPolygon``; holes ignored; for QuPath cells the
    ``properties.nucleusGeometry`` when present, not the cell boundary), converted from
    QuPath's ``x = col + 0.5``, ``y = row + 0.5`` to level-0 (row, col). Classes:
    ``Positive``, ``Negative``, ``Pigment``, ``Excluded`` (case-insensitive, also as the last part
    of a derived class such as ``Tumor: Positive``), QuPath's intensity classes ``1+``/``2+``/``3+``
    (positive, with that bin); unclassified is negative, any other class excluded. Measurements
    as a map (QuPath 0.3+) or a ``[{"name", "value"}]`` list (0.2). Annotations and tiles are
    skipped, as are detections without geometry (with a ``UserWarning``).

    Returns
    -------
    CellTable
        One row per nucleus in file order. Columns: one float64 column per measurement found
        (the writer's names, whatever the stain, and QuPath's nucleus names map back to ``area_um2``,
        ``dab_od_mean``, ``dab_od_max``, ``hematoxylin_od_mean``, ``circularity``,
        ``eccentricity``, ``near_black``, ``in_spindle_sheet`` (1.0 / 0.0); other names are kept as
        they are), NaN where a nucleus lacks it;
        always ``intensity_bin`` (int8, 0-3): measured, else the 1+/2+/3+ class, else 1 for positive
        and 0 otherwise; and ``cell_type`` (int8, index into ``CELL_TYPES``) when some detection
        names its type (``properties.metadata.cell_type``, as the writer puts it, or a type class
        such as ``Stroma`` or ``Lymphocyte``), ``unclassified`` (0) for the others.

    Raises
    ------
    CorruptFileError
        A detection's coordinates are malformed (the message names ``source`` and the feature).
    """
    rows: list[float] = []
    cols: list[float] = []
    codes: list[int] = []
    bins: list[int] = []
    types: list[int] = []
    typed = False
    values: dict[str, list[float]] = {}
    no_geometry = 0
    for i, f in enumerate(features):
        if feature_kind(f) != "detection":
            continue
        props = _props(f)
        geometry = props.get("nucleusGeometry")  # a QuPath cell: its nucleus, not the cell outline
        if not isinstance(geometry, Mapping):
            geometry = f.get("geometry")
        try:
            xy = _positions(geometry) if isinstance(geometry, Mapping) else []
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            kind = geometry.get("type") if isinstance(geometry, Mapping) else None
            msg = f"{source}: detection feature {i} has malformed {kind} coordinates, expected numbers ({exc})"
            raise CorruptFileError(msg) from exc
        if not xy:
            no_geometry += 1
            continue
        cls, qbin = _class_and_bin(props)
        ctype = _cell_type(props, _class_name(props))
        typed = typed or ctype is not None
        meas = props.get("measurements") or {}
        if isinstance(meas, list):  # QuPath 0.2: [{"name": ..., "value": ...}]
            meas = {m.get("name"): m.get("value") for m in meas if isinstance(m, Mapping)}
        found: dict[str, tuple[int, float]] = {}
        if isinstance(meas, Mapping):
            for name, v in meas.items():
                key, rank = _COLUMN_OF.get(str(name), (str(name), 0))
                if key not in found or rank < found[key][0]:
                    found[key] = (rank, _number(v))
        for key in found:  # columns in the order the file first shows them
            if key not in values:
                values[key] = [] if key == "intensity_bin" else [math.nan] * len(rows)
        b = found.pop("intensity_bin", (0, math.nan))[1]
        if not math.isfinite(b):
            b = qbin if qbin is not None else float(cls == "positive")
        for x, y in xy:
            n = len(rows)
            for key, (_, v) in found.items():
                values[key].append(v)
            rows.append(y - 0.5)
            cols.append(x - 0.5)
            codes.append(CELL_CLASSES.index(cls))
            bins.append(min(max(int(b), 0), 3))
            types.append(ctype or 0)
            for key, arr in values.items():
                if len(arr) == n and key != "intensity_bin":  # this nucleus lacks the measurement
                    arr.append(math.nan)
    if no_geometry:
        warnings.warn(f"{source}: {no_geometry} detection(s) without a point or polygon were skipped", UserWarning,
                      stacklevel=2)  # fmt: skip
    values.setdefault("intensity_bin", [])
    columns = {key: np.asarray(bins if key == "intensity_bin" else v, np.int8 if key == "intensity_bin" else np.float64)
               for key, v in values.items()}  # fmt: skip
    if typed:
        columns["cell_type"] = np.asarray(types, np.int8)
    return CellTable(np.asarray(rows, np.float64), np.asarray(cols, np.float64), np.asarray(codes, np.int8), columns)


def stains_of_features(features: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The Ki67 chromogen and counterstain the detections' measurement names say were read.

    ``{"chromogen": "aec"}`` for a file whose nuclei carry ``"AEC OD mean"``, ``{"chromogen":
    "dab", "counterstain": "azure_b"}`` for ``"DAB OD mean"`` and ``"Azure B OD mean"``
    (:func:`mmnst_path._geojson_names.measurement_names`, the writer's names); a key is absent when
    no detection names it (QuPath's own names, a file without OD measurements). Files written
    before the names followed the stain say ``"dab"`` / ``"hematoxylin"`` whatever was read.
    """
    found: dict[str, str] = {}
    for f in features:
        if feature_kind(f) != "detection":
            continue
        meas = _props(f).get("measurements") or {}
        names = ([m.get("name") for m in meas if isinstance(m, Mapping)] if isinstance(meas, list)
                 else list(meas) if isinstance(meas, Mapping) else [])
        for name in names:
            which_stain = STAIN_OF_NAME.get(str(name))
            if which_stain is not None:
                found.setdefault(*which_stain)
        if names:  # one file, one stain: the first nucleus with measurements says it
            break
    return found


def read_cells(path: str | Path) -> CellTable:
    """Nuclei of a GeoJSON file: ``cells.geojson`` of ``mmnst-path quantify``, a QuPath 0.2-0.6
    export of detections or cells, or any GeoJSON of classified points / outlines.

    The inverse of :func:`feature_collection_chunks` for the nuclei: positions come back to the
    writer's 0.001 px rounding (area centroid of the octagons), classes and measurements exactly.
    See :func:`cells_from_features` for the forms understood.

    Parameters
    ----------
    path : str or Path
        The GeoJSON file.

    Returns
    -------
    CellTable
        Level-0 (row, col) nuclei; empty (with only ``intensity_bin``) when the file holds none.

    Raises
    ------
    ConfigError
        The file cannot be opened or holds JSON that is not GeoJSON.
    CorruptFileError
        The file is not valid JSON, or a detection's coordinates are malformed.
    """
    path = Path(path)
    return cells_from_features(read_features(path), source=f"GeoJSON file {str(path)!r}")
