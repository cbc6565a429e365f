"""QuPath-compatible GeoJSON: nuclei as detections, regions of interest as annotations.

Coordinates
    QuPath measures in level-0 pixels with pixel ``i`` spanning ``[i, i + 1)``; mmnst_path puts
    pixel centres at integer (row, col). So a QuPath point is ``x = col + 0.5``,
    ``y = row + 0.5`` and the round trip is exact.

Writing (:func:`cell_features`, :func:`roi_features`, :func:`feature_collection_chunks`)
    A ``FeatureCollection`` whose features carry a UUID ``id``, ``properties.objectType``
    (``"detection"`` for nuclei, ``"annotation"`` for regions), ``properties.classification``
    with ``name`` and ``color`` ([r, g, b], 0-255) and ``properties.measurements`` as a map of
    name -> number (the QuPath >= 0.3 form; a bool column such as ``near_black`` is 1 / 0), named
    by the stain read: ``DAB OD mean`` / ``max`` and ``Hematoxylin OD mean`` for H-DAB, the
    chromogen's name on AEC / Fast Red (``AEC OD mean``), ``Azure B OD mean`` on azure B.
    When the cell model ran, each nucleus also carries ``properties.metadata.cell_type`` (its
    type name, a string: QuPath keeps string metadata, and :func:`cells_from_features` reads it
    back), and a nucleus the model took out of the index is classed by its type (``Stroma``...).
    Class colours ([r, g, b]): Positive (250, 62, 62) and Negative (112, 112, 225) as QuPath's own
    defaults for those names (its constants (200, 50, 50) / (90, 90, 180) scaled by 1.25), Pigment
    (120, 72, 24), Excluded teal (0, 160, 160), Lymphocyte magenta (230, 70, 230), Stroma
    (150, 200, 150) and Other (255, 200, 0) as QuPath's own, Macrophage olive (150, 150, 0).
    Nuclei are small polygons (the nucleus' outline, else an octagon of its area) or points, placed so each
    polygon's area centroid is the nucleus centroid: the readers (napari's import, ``--annotations``) place a
    nucleus there. Given ``image_shape`` (opt-in; ``write_result`` does not) an outline that reaches past the image
    border is clipped to the image (:func:`mmnst_path._ring_clip.clip_ring`), so a viewer holds no object partly
    outside the image, at the cost of that round trip: a clipped border nucleus reads back at its clipped
    outline's centroid (session 36's CI: napari's import test). Each region carries ``Num Positive``, ``Num Negative``,
    ``Num Pigment``, ``Num Excluded`` and ``Positive %`` of the nuclei whose centroid it holds (none of them when
    Ki67 was not measured). The whole-image annotation ``Image`` (written when no ROI was given) also
    carries the slide's area measures as measured (:func:`image_measurements`: ``Necrosis %``,
    ``Necrosis area mm^2``, ``Melanin %``, ``Melanin area mm^2``, ``Tumour %``, ``Stroma %``...), so an
    H&E input's necrosis and melanin show in QuPath's measurement table.

Reading (:func:`read_rois`)
    Tolerant of the forms QuPath 0.2-0.6 and other tools write: a FeatureCollection, a single
    Feature, a bare list of features or a bare geometry; ``objectType`` in the properties (0.3+)
    or the 0.2 ``"id": "PathAnnotationObject"``; ``Polygon`` / ``MultiPolygon`` (outer rings;
    holes are dropped with a warning) and ``GeometryCollection``; 2-D or 3-D positions; closed
    or open rings. Detections, cells and tiles are ignored; when a file holds no annotation,
    every polygon is taken.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeGuard

import numpy as np

from ._geojson_names import (
    _NAMESPACE,
    CLASS_COLORS,
    IMAGE_MEASUREMENT_NAMES,
    MELANOCYTE_CLASS_NAMES,
    MODEL_KEYS,
    QUPATH_CLASS_NAMES,
    TYPE_CLASS_NAMES,
    Roi,
    keyhole_ring,
    measurement_names,
)
from ._geojson_read import (
    cells_from_features,
    feature_kind,
    flag_values,
    read_cells,
    read_features,
    read_rois,
    rois_from_features,
    stains_of_features,
)
from ._ring_clip import clip_ring, ring_inside
from .aggregate import CELL_CLASSES, CELL_TYPES, CellTable
from .errors import ConfigError

__all__ = [
    "CLASS_COLORS",
    "QUPATH_CLASS_NAMES",
    "Roi",
    "cell_features",
    "cells_from_features",
    "feature_collection_chunks",
    "feature_kind",
    "image_measurements",
    "image_metadata",
    "keyhole_ring",
    "read_cells",
    "read_features",
    "read_rois",
    "roi_counts",
    "roi_features",
    "rois_from_features",
    "stains_of_features",
]

_NAMESPACE_BYTES = _NAMESPACE.bytes
_CLASS_PCT = re.compile(r"^class_(.+)_pct$")  # a tissue class's % of the classed tissue (metrics)


def _uuid(seed: str, i: int) -> str:
    """Deterministic UUID: the same input and cell give the same id in every run.

    The string of ``uuid.uuid5(_NAMESPACE, f"{seed}:{i}")`` (RFC 4122 version 5: the first 16
    bytes of the SHA-1 of the namespace and the UTF-8 name, version and variant bits set), built
    without a ``uuid.UUID`` object per cell (about a third of its CPU; a slide has 10^4-10^6 nuclei).
    """
    h = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{seed}:{i}".encode(), usedforsecurity=False).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


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


#: one encoder for every feature (``json.dumps(..., ensure_ascii=False)`` builds one per call); no
#: check for circular references: a feature is a fresh tree of dicts, lists and scalars, and the
#: check costs a tenth of the encoding (the text is the same)
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def cell_features(
    cells: CellTable, *, mpp: float | None = None, shape: str = "polygon", seed: str = "", chromogen: str = "dab",
    counterstain: str = "hematoxylin", image_shape: tuple[int, int] | None = None,
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
    chromogen, counterstain : str
        The Ki67 chromogen (``"dab"``, ``"aec"``, ``"fast_red"``) and counterstain (``"hematoxylin"``,
        ``"azure_b"``) read: they name the OD measurements (``"AEC OD mean"``, ``"Azure B OD mean"``;
        :func:`mmnst_path._geojson_names.measurement_names`).
    image_shape : (rows, cols), optional
        Level-0 image size: a polygon reaching past the image (QuPath's ``[0, cols] x [0, rows]``) is
        clipped to it (a nucleus whose outline has no area inside becomes a point). None: not clipped.
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
    names_of = measurement_names(chromogen, counterstain)
    columns = [(names_of.get(k, k), np.asarray(v, np.float64)) for k, v in cells.columns.items()
               if np.ndim(v) == 1 and k != "cell_type"]
    area = np.asarray(cells.columns.get("area_um2", np.full(n, np.nan)), np.float64)
    types = np.asarray(cells.columns["cell_type"], np.intp) if "cell_type" in cells.columns else None
    # a double stain: marker-positive nuclei as "Melanocyte: Positive" / "Negative" / "Pigment" (QuPath derived classes)
    melanocytic = flag_values(cells.columns["melanocytic"]).tolist() if "melanocytic" in cells.columns else None
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
    outside: set[int] = set()  # outlines reaching past the image, clipped below
    if outlines is not None:  # closed [x, y] rings (:func:`_ring_xy` of every outline at once)
        xy = _round3(outlines[..., ::-1] + 0.5)
        outline_list = np.concatenate([xy, xy[:, :1]], axis=1).tolist()
        if image_shape is not None:
            past = (xy < 0).any(axis=(1, 2)) | (xy[..., 0] > image_shape[1]).any(axis=1) | (
                xy[..., 1] > image_shape[0]).any(axis=1)
            outside = set(np.flatnonzero(past).tolist())
    isfinite = math.isfinite
    for i in range(n):
        cls = str(names[i])
        meas = {key: vals[i] for key, vals in values if isfinite(vals[i])}
        r, c = float(cells.row[i]), float(cells.col[i])
        ring: list[list[float]] | None = None
        if outline_list is not None:  # the nucleus' own outline (16-ray star polygon of its label)
            ring = clip_ring(outline_list[i], image_shape[1], image_shape[0]) if i in outside else outline_list[i]  # type: ignore[index]
        elif shape == "polygon":
            a_px = area[i] / (mpp * mpp) if math.isfinite(area[i]) and area[i] > 0 else 12.0  # type: ignore[operator]
            rad = math.sqrt(a_px / (2 * math.sqrt(2)))  # regular octagon of area a_px
            poly = np.column_stack([r + rad * np.sin(angles), c + rad * np.cos(angles)])
            ring = _ring_xy(poly)
            if image_shape is not None and not ring_inside(ring, image_shape[1], image_shape[0]):
                ring = clip_ring(ring, image_shape[1], image_shape[0])
        if ring is not None:
            geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [ring]}
        else:  # a point asked for, or no polygon area inside the image
            geometry = {"type": "Point", "coordinates": [round(c + 0.5, 3), round(r + 0.5, 3)]}
        name, colour = QUPATH_CLASS_NAMES.get(cls, cls), CLASS_COLORS.get(cls, (128, 128, 128))
        if melanocytic is not None and melanocytic[i] and cls in MELANOCYTE_CLASS_NAMES:
            name, colour = MELANOCYTE_CLASS_NAMES[cls]
        props: dict[str, Any] = {"objectType": "detection", "classification": {}, "measurements": meas}
        if types is not None and 0 <= types[i] < len(cells.cell_types):  # a lab's own cell class by its name
            ctype = cells.cell_types[types[i]]
            if cls == "excluded":
                own = ctype.replace("_", " ").capitalize() if ctype not in CELL_TYPES else name
                name, colour = TYPE_CLASS_NAMES.get(ctype, (own, colour))
            props["metadata"] = {"cell_type": ctype}
        props["classification"] = {"name": name, "color": list(colour)}
        yield {"type": "Feature", "id": _uuid(seed, i), "geometry": geometry, "properties": props}


def roi_counts(cells: CellTable, polygon: np.ndarray) -> dict[str, float]:
    """``Num Positive``, ``Num Negative``, ``Num Pigment``, ``Num Excluded`` (detected, left out of the index
    as not tumour) and ``Positive %`` of the nuclei inside."""
    from skimage.measure import points_in_poly

    inside = points_in_poly(np.column_stack([cells.row, cells.col]), polygon) if len(cells) else np.zeros(0, bool)
    n = {name: int(np.count_nonzero(inside & (cells.cls == CELL_CLASSES.index(name)))) for name in CELL_CLASSES}
    total = n["positive"] + n["negative"]
    out: dict[str, float] = {"Num Positive": n["positive"], "Num Negative": n["negative"], "Num Pigment": n["pigment"],
                             "Num Excluded": n["excluded"]}
    if total:
        out["Positive %"] = 100.0 * n["positive"] / total
    if "melanocytic" in cells.columns:  # a double stain: the melanocyte-restricted index and its denominator
        mel = inside & np.asarray(cells.columns["melanocytic"], dtype=bool)
        mp = int(np.count_nonzero(mel & (cells.cls == CELL_CLASSES.index("positive"))))
        mn = int(np.count_nonzero(mel & (cells.cls == CELL_CLASSES.index("negative"))))
        out |= {"Num Melanocytic Positive": mp, "Num Melanocytic Negative": mn}
        if mp + mn:
            out["Melanocytic Positive %"] = 100.0 * mp / (mp + mn)
    return out  # "Positive %" left out when undefined (QuPath shows NaN), never 0


def image_measurements(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The whole-image annotation's area measures from a result's ``metrics``, under
    :data:`~mmnst_path._geojson_names.IMAGE_MEASUREMENT_NAMES` (% of tissue, areas mm²); a measure not
    run or undefined (missing, None, NaN) is left out, never 0."""
    def defined(value: Any) -> TypeGuard[float]:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

    out: dict[str, float] = {}
    for key, name in IMAGE_MEASUREMENT_NAMES.items():
        value = metrics.get(key)
        if defined(value):
            out[name] = float(value)
    for key, value in metrics.items():  # each class of the tissue model (a lab's own too): "Bone class %"
        hit = _CLASS_PCT.match(str(key))
        if hit and hit.group(1) != "background" and defined(value):
            label = hit.group(1).replace("_", " ").capitalize()
            out[f"{label} class %"] = float(value)
            area = metrics.get(f"class_{hit.group(1)}_area_mm2")
            if defined(area):
                out[f"{label} class area mm^2"] = float(area)
    return out


def image_metadata(metrics: Mapping[str, Any]) -> dict[str, str]:
    """The models that made a result's numbers, as the annotations' ``metadata`` (QuPath keeps it with the object):
    ``cell_model``, ``tissue_model`` ... as ``id name version`` (:data:`MODEL_KEYS`), those the run used; and ``qc``,
    the QC sentences of the numbers (:func:`mmnst_path.report.qc_notes`: the pigment bound first), when any applies."""
    from ._qc_text import qc_notes

    out = {key: str(metrics[key]) for key in MODEL_KEYS if isinstance(metrics.get(key), str) and metrics[key]}
    notes = qc_notes(metrics)
    if notes:
        out["qc"] = " | ".join(notes)
    return out


def roi_features(rois: Sequence[Roi], cells: CellTable | None = None, *, seed: str = "",
                 extra: Mapping[str, float] | None = None,
                 metadata: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """QuPath annotation features, with the Ki67 counts of ``cells`` inside each one and the
    measurements ``extra`` (e.g. :func:`image_measurements`, for a whole-image region) after them;
    ``metadata`` (e.g. :func:`image_metadata`: the models) goes into each one's ``metadata``."""
    out = []
    for i, roi in enumerate(rois):
        props: dict[str, Any] = {"objectType": "annotation", "isLocked": False}
        if roi.name:
            props["name"] = roi.name
        if roi.classification is not None:
            props["classification"] = dict(roi.classification)
        if cells is not None or extra:
            props["measurements"] = {**(roi_counts(cells, roi.region) if cells is not None else {}), **(extra or {})}
        if metadata:
            props["metadata"] = dict(metadata)
        out.append({
            "type": "Feature",
            "id": _uuid(f"{seed}:roi", i),
            "geometry": {"type": "Polygon", "coordinates": [_ring_xy(ring) for ring in roi.rings]},
            "properties": props,
        })  # fmt: skip
    return out


def feature_collection_chunks(
    cells: CellTable, rois: Sequence[Roi], *, mpp: float | None, shape: str = "polygon", seed: str = "",
    chunk: int = 20_000, ki67: bool = True, chromogen: str = "dab", counterstain: str = "hematoxylin",
    region_measurements: Mapping[str, float] | None = None, image_shape: tuple[int, int] | None = None,
    regions: Sequence[Mapping[str, Any]] = (),
    region_metadata: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Text of a FeatureCollection (annotations first, then detections), yielded in chunks.

    Streamed so a slide with millions of nuclei is never held as one string. ``ki67=False`` (Ki67
    was not measured, e.g. an H&E input) leaves the annotations' Ki67 counts out: undefined, not 0.
    ``chromogen`` and ``counterstain`` name the nuclei's OD measurements (:func:`cell_features`).
    ``region_measurements`` are added to every annotation's (:func:`roi_features`' ``extra``), and
    ``region_metadata`` (the models, :func:`image_metadata`) is every annotation's ``metadata``.
    ``image_shape`` (level-0 rows, cols) clips the nuclei's polygons to the image (:func:`cell_features`);
    the annotations are written as given. ``regions``: more annotation features, written after the ROIs
    (:func:`mmnst_path._geojson_regions.region_features`: tissue classes, melanin, the hot spot).
    """
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    buf: list[str] = []
    encode = _ENCODER.encode
    for feature in roi_features(rois, cells if ki67 else None, seed=seed, extra=region_measurements,
                                metadata=region_metadata):
        buf.append(encode(feature))
    buf.extend(encode(feature) for feature in regions)
    for feature in cell_features(cells, mpp=mpp, shape=shape, seed=seed, chromogen=chromogen,
                                 counterstain=counterstain, image_shape=image_shape):
        buf.append(encode(feature))
        if len(buf) >= chunk:
            yield ("" if first else ",\n") + ",\n".join(buf)
            first, buf = False, []
    if buf:
        yield ("" if first else ",\n") + ",\n".join(buf)
    yield "]}\n"
