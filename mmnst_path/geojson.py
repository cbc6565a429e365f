"""QuPath-compatible GeoJSON: nuclei as detections, regions of interest as annotations.

Coordinates
    QuPath measures in level-0 pixels with pixel ``i`` spanning ``[i, i + 1)``; mmnst_path puts
    pixel centres at integer (row, col). So a QuPath point is ``x = col + 0.5``,
    ``y = row + 0.5`` and the round trip is exact.

Writing (:func:`cell_features`, :func:`roi_features`, :func:`feature_collection_chunks`)
    A ``FeatureCollection`` whose features carry a UUID ``id``, ``properties.objectType``
    (``"detection"`` for nuclei, ``"annotation"`` for regions), ``properties.classification``
    with ``name`` and ``color`` ([r, g, b], 0-255) and ``properties.measurements`` as a map of
    name -> number (the QuPath >= 0.3 form; a bool column such as ``near_black`` is 1 / 0).
    When the cell model ran, each nucleus also carries ``properties.metadata.cell_type`` (its
    type name, a string: QuPath keeps string metadata, and :func:`cells_from_features` reads it
    back), and a nucleus the model took out of the index is classed by its type (``Stroma``...).
    Nuclei are small polygons (an octagon of the nucleus' area) or points. Each region carries ``Num Positive``, ``Num Negative``,
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

from .aggregate import CELL_CLASSES, CELL_TYPES, CellTable
from .errors import ConfigError, CorruptFileError

__all__ = [
    "CLASS_COLORS",
    "QUPATH_CLASS_NAMES",
    "Roi",
    "cell_features",
    "cells_from_features",
    "feature_collection_chunks",
    "feature_kind",
    "read_cells",
    "read_features",
    "read_rois",
    "roi_counts",
    "roi_features",
    "rois_from_features",
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
#: QuPath class (and colour) of a nucleus the cell model took out of the Ki67 index, by type.
TYPE_CLASS_NAMES = {"lymphocyte": ("Lymphocyte", (40, 80, 220)), "stromal": ("Stroma", (40, 170, 60)),
                    "macrophage": ("Macrophage", (220, 150, 20)), "other": ("Other", (130, 130, 130))}
#: Measurement names written for each CellTable column (QuPath-style names).
MEASUREMENT_NAMES = {
    "area_um2": "Area µm^2",
    "dab_od_mean": "DAB OD mean",
    "dab_od_max": "DAB OD max",
    "hematoxylin_od_mean": "Hematoxylin OD mean",
    "circularity": "Circularity",
    "eccentricity": "Eccentricity",
    "intensity_bin": "Intensity bin",
    # QC flag (1 / 0): at least half the nucleus near-black, strong DAB or melanin without granules
    # (Ki67Cells.near_black); QuPath filters or classifies on it like any measurement
    "near_black": "Near-black",
    # double stain (Ki67 / MART-1 or SOX10): 1 / 0, the nucleus is melanocytic (its marker read around or in it)
    "melanocytic": "Melanocytic",
    # 1 / 0: the cell model called the nucleus stromal, but it lies in a spindle-cell sheet and was counted
    # as tumour ([ki67] spindle_sheet)
    "in_spindle_sheet": "In spindle sheet",
}
#: The cell type of a QuPath class name that :data:`TYPE_CLASS_NAMES` writes (lower case), for reading.
_TYPE_OF_CLASS = {name.lower(): CELL_TYPES.index(t) for t, (name, _) in TYPE_CLASS_NAMES.items()}
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
    """Closed GeoJSON ring [x, y] (pixel corners at integers, 3 decimals) of (row, col) vertices."""
    ring = [[round(c + 0.5, 3), round(r + 0.5, 3)] for r, c in np.asarray(polygon, np.float64).tolist()]
    ring.append(ring[0])
    return ring


def _round3(values: np.ndarray) -> np.ndarray:
    """``round(x, 3)`` of every element: the same float64 as Python's (correctly rounded) ``round``.

    ``rint(1000 x) / 1000`` is the float nearest to ``k / 1000`` as Python's is; the two ``k`` can
    differ only where the product ``1000 x`` lies within its rounding error of a half-integer, and
    those elements (and NaN, infinities, huge values) are rounded by Python itself.
    """
    a = np.asarray(values, np.float64)
    scaled = a * 1000.0
    out = np.rint(scaled) / 1000.0
    off_half = np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6
    doubt = np.flatnonzero(~(off_half & (np.abs(a) < 1e9)))
    if doubt.size:
        flat, src = out.reshape(-1), a.reshape(-1)
        flat[doubt] = [round(v, 3) for v in src[doubt].tolist()]
    return out


#: one encoder for every feature (``json.dumps(..., ensure_ascii=False)`` builds one per call)
_ENCODER = json.JSONEncoder(ensure_ascii=False)


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
    from .detect.outlines import star_polygons

    n = len(cells)
    names = cells.class_names() if n else np.zeros(0, object)
    columns = [(MEASUREMENT_NAMES.get(k, k), np.asarray(v, np.float64)) for k, v in cells.columns.items()
               if np.ndim(v) == 1 and k != "cell_type"]
    area = np.asarray(cells.columns.get("area_um2", np.full(n, np.nan)), np.float64)
    types = np.asarray(cells.columns["cell_type"], np.intp) if "cell_type" in cells.columns else None
    radii = cells.columns.get("outline_radii")
    outlines = (star_polygons(cells.row, cells.col, radii) if shape == "polygon" and radii is not None
                and np.ndim(radii) == 2 and n else None)
    if outlines is not None:  # shift each outline so its area centroid is the nucleus centroid (read back exactly)
        y, x = outlines[..., 0], outlines[..., 1]
        y1, x1 = np.roll(y, -1, axis=1), np.roll(x, -1, axis=1)
        cross = x * y1 - x1 * y
        a6 = 3.0 * cross.sum(axis=1)
        ok = np.abs(a6) > 1e-9
        cy = np.where(ok, ((y + y1) * cross).sum(axis=1) / np.where(ok, a6, 1.0), y.mean(axis=1))
        cx = np.where(ok, ((x + x1) * cross).sum(axis=1) / np.where(ok, a6, 1.0), x.mean(axis=1))
        outlines = outlines + np.stack([cells.row - cy, cells.col - cx], axis=-1)[:, None, :]
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    # Python floats, column by column (the same values as float(arr[i]), without a numpy scalar each)
    values = [(key, arr.tolist()) for key, arr in columns]
    outline_list = None
    if outlines is not None:  # closed [x, y] rings (:func:`_ring_xy` of every outline at once)
        xy = _round3(outlines[..., ::-1] + 0.5)
        outline_list = np.concatenate([xy, xy[:, :1]], axis=1).tolist()
    isfinite = math.isfinite
    for i in range(n):
        cls = str(names[i])
        meas = {key: vals[i] for key, vals in values if isfinite(vals[i])}
        r, c = float(cells.row[i]), float(cells.col[i])
        if outline_list is not None:  # the nucleus' own outline (16-ray star polygon of its label)
            geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [outline_list[i]]}
        elif shape == "polygon":
            a_px = area[i] / (mpp * mpp) if math.isfinite(area[i]) and area[i] > 0 else 12.0  # type: ignore[operator]
            rad = math.sqrt(a_px / (2 * math.sqrt(2)))  # regular octagon of area a_px
            poly = np.column_stack([r + rad * np.sin(angles), c + rad * np.cos(angles)])
            geometry = {"type": "Polygon", "coordinates": [_ring_xy(poly)]}
        else:
            geometry = {"type": "Point", "coordinates": [round(c + 0.5, 3), round(r + 0.5, 3)]}
        name, colour = QUPATH_CLASS_NAMES.get(cls, cls), CLASS_COLORS.get(cls, (128, 128, 128))
        props: dict[str, Any] = {"objectType": "detection", "classification": {}, "measurements": meas}
        if types is not None and 0 <= types[i] < len(CELL_TYPES):
            if cls == "excluded":
                name, colour = TYPE_CLASS_NAMES.get(CELL_TYPES[types[i]], (name, colour))
            props["metadata"] = {"cell_type": CELL_TYPES[types[i]]}
        props["classification"] = {"name": name, "color": list(colour)}
        yield {"type": "Feature", "id": _uuid(seed, i), "geometry": geometry, "properties": props}


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
    encode = _ENCODER.encode
    for feature in roi_features(rois, cells, seed=seed):
        buf.append(encode(feature))
    for feature in cell_features(cells, mpp=mpp, shape=shape, seed=seed):
        buf.append(encode(feature))
        if len(buf) >= chunk:
            yield ("" if first else ",\n") + ",\n".join(buf)
            first, buf = False, []
    if buf:
        yield ("" if first else ",\n") + ",\n".join(buf)
    yield "]}\n"


# ------------------------------------------------------------------------------------------------
# reading
#: Column of each measurement name read back: the writer's names, QuPath's own names (0.2 and
#: 0.3+), and the column keys themselves; earlier names win when a feature holds several.
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
    for _rank, _alias in enumerate((_name, *_MEASUREMENT_ALIASES.get(_key, ()), _key)):
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


def _polygons(geometry: Mapping[str, Any], where: str) -> list[np.ndarray]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] if isinstance(g, Mapping) for p in _polygons(g, where)]
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
        ring = np.asarray([p[:2] for p in poly[0]], dtype=np.float64).reshape(-1, 2)
        if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
            ring = ring[:-1]
        if len(ring) >= 3:
            out.append(np.column_stack([ring[:, 1] - 0.5, ring[:, 0] - 0.5]))
    return out


def rois_from_features(features: Sequence[Mapping[str, Any]], *, source: str = "GeoJSON") -> list[Roi]:
    """Regions of interest among ``features`` (as returned by :func:`read_features`).

    Annotations when the features mark any, else every polygon that is not a detection or tile.
    Polygon holes are dropped with a ``UserWarning``; 2-D or 3-D positions, closed or open rings.

    Returns
    -------
    list of Roi
        One per polygon (a MultiPolygon gives several, sharing the name), level-0 (row, col);
        empty when there is none.

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
        name = props.get("name") or ""
        if not name and isinstance(props.get("classification"), Mapping):
            name = props["classification"].get("name") or ""
        geometry = f.get("geometry")
        try:
            polys = _polygons(geometry, source) if isinstance(geometry, Mapping) else []
        except (TypeError, ValueError, IndexError) as exc:
            msg = f"{source}: feature {i} has malformed polygon coordinates, expected [[x, y], ...] rings ({exc})"
            raise CorruptFileError(msg) from exc
        rois.extend(Roi(poly, str(name)) for poly in polys)
    return rois


def read_rois(path: str | Path) -> list[Roi]:
    """Regions of interest of a GeoJSON file (QuPath 0.2-0.6 export or any GeoJSON polygons).

    Returns
    -------
    list of Roi
        One per polygon (a MultiPolygon gives several, sharing the name), level-0 (row, col).

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
        (the writer's names and QuPath's nucleus names map back to ``area_um2``,
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
