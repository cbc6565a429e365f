"""The tissue class map as QuPath annotations: ``tissue_classes.geojson`` beside ``tissue_classes.png``, one
annotation per class of the tissue model that ran (a lab's own classes too), its regions as a MultiPolygon in
level-0 pixels with their holes, classified by the class name and colour, with the class's area and % of the
classed tissue as measurements. QuPath's *File > Import objects* reads it for review, as its pixel classifier's
*Create objects* would make them. The outlines follow the map's blocks (through the middles of their edges, so a
corner is cut by half a block's diagonal) (``result.json``'s ``tissue_classes.map``
downsample, level-0 px per map pixel); background is left out."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["CLASS_REGIONS_FILE", "class_region_features", "class_regions_geojson"]

#: The file written beside ``tissue_classes.png`` when a tissue model ran.
CLASS_REGIONS_FILE = "tissue_classes.geojson"


def _signed_area(rc: np.ndarray) -> float:
    return 0.5 * float(np.dot(rc[:-1, 0], rc[1:, 1]) - np.dot(rc[1:, 0], rc[:-1, 1]))


def _rings(mask: np.ndarray, downsample: float) -> list[list[list[list[float]]]]:
    """Polygons (outer ring, then its holes) of a boolean map in level-0 (x, y) px, closed rings.

    :func:`skimage.measure.find_contours` keeps the mask on one side of every contour, so outer rings and holes
    turn opposite ways: the largest ring is an outer one and gives the outer rings' sign; each hole goes to the
    smallest outer ring holding it."""
    from skimage.measure import find_contours, points_in_poly

    padded = np.pad(mask.astype(np.uint8), 1)
    rings = [(c - 1 + 0.5) * downsample for c in find_contours(padded, 0.5)]  # map boundary -> level-0 (row, col)
    rings = [r for r in rings if len(r) >= 4 and abs(_signed_area(r)) > 0]
    if not rings:
        return []
    outer_sign = math.copysign(1.0, _signed_area(max(rings, key=lambda r: abs(_signed_area(r)))))
    polygons = [[r] for r in rings if math.copysign(1.0, _signed_area(r)) == outer_sign]
    for hole in (r for r in rings if math.copysign(1.0, _signed_area(r)) != outer_sign):
        owners = [p for p in polygons if points_in_poly(hole[:1], p[0])[0]]
        if owners:
            min(owners, key=lambda p: abs(_signed_area(p[0]))).append(hole)
    return [[[[round(float(x), 2), round(float(y), 2)] for y, x in ring] for ring in poly] for poly in polygons]


def class_region_features(class_map: Any, classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One QuPath annotation per class of ``classes`` (``result.tissue_classes["classes"]``) present on
    ``class_map`` (the :class:`~mmnst_path.aggregate.LowResMap` ``maps["tissue_classes"]``), background left out,
    in the colour the pictures draw the class (:func:`~mmnst_path._picture_style.class_display_colour`)."""
    from ._picture_style import class_display_colour

    image = np.asarray(class_map.image)
    out = []
    for c in classes:
        if c.get("name") == "background":
            continue
        polygons = _rings(image == int(c["index"]), float(class_map.downsample))
        if not polygons:
            continue
        measurements = {}
        for key, label in (("area_mm2", "Area mm^2"), ("pct_of_tissue", "% of classed tissue")):
            value = c.get(key)
            if isinstance(value, int | float) and math.isfinite(value):
                measurements[label] = float(value)
        name = str(c["name"]).replace("_", " ").capitalize()
        colour = [int(v) for v in class_display_colour(str(c["name"]), c.get("colour", (0, 0, 0)))]  # as the pictures
        out.append({"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": polygons},
                    "properties": {"objectType": "annotation", "name": name, "isLocked": False,
                                   "classification": {"name": name, "color": colour},
                                   "measurements": measurements}})
    return out


def class_regions_geojson(result: Any) -> str | None:
    """The text of ``tissue_classes.geojson`` of a result whose tissue model ran, else None."""
    cmap = result.maps.get("tissue_classes") if result.maps else None
    if cmap is None or not result.tissue_classes:
        return None
    features = class_region_features(cmap, list(result.tissue_classes["classes"]))
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False) + "\n"
