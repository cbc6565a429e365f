"""The tissue class map as QuPath annotations: ``tissue_classes.geojson`` beside ``tissue_classes.png``.

One annotation per class of the tissue model that ran (a lab's own classes too; background left out), its regions a
``MultiPolygon`` in level-0 pixels tracing the exact edges of the class map's blocks, with their holes, classified by
the class name and its picture colour, with the class's tissue area and % of tissue as measurements: the class part
of ``cells.geojson``'s region annotations (:func:`mmnst_path._geojson_regions.class_features`), in a small file of its
own, so QuPath's *File > Import objects* (or ``mmnst-path review``) reads the regions without the nuclei."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["CLASS_REGIONS_FILE", "class_regions_geojson"]

#: The file written beside ``tissue_classes.png`` when a tissue model ran.
CLASS_REGIONS_FILE = "tissue_classes.geojson"


def class_regions_geojson(result: Any, *, seed: str = "") -> str | None:
    """The text of ``tissue_classes.geojson`` of a result whose tissue model ran, else None (``seed``: the features'
    UUIDs, as in ``cells.geojson``)."""
    from ._geojson_regions import class_features

    features = class_features(result, seed=seed)
    if not features:
        return None
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False) + "\n"
