"""GeoJSON as a QuPath user reads it: class colours that do not pass for another class, Ki67
counts only where Ki67 was measured, measurement names that follow the stain (read back either way)."""

from __future__ import annotations

import numpy as np

from mmnst_path._geojson_names import CLASS_COLORS, QUPATH_CLASS_NAMES, QUPATH_DEFAULT_COLORS, TYPE_CLASS_NAMES
from mmnst_path.aggregate import CELL_TYPES, CellTable
from mmnst_path.geojson import cell_features


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(np.linalg.norm(np.subtract(a, b, dtype=float)))


def _written_classes() -> dict[str, tuple[int, int, int]]:
    out = {QUPATH_CLASS_NAMES[k]: c for k, c in CLASS_COLORS.items()}
    out.update(TYPE_CLASS_NAMES.values())
    return out


def test_excluded_and_type_classes_do_not_pass_for_positive_negative_or_a_qupath_class() -> None:
    """Mutation caught: Lymphocyte back to (40, 80, 220) (28 from the Negative blue), or Excluded grey."""
    ours = _written_classes()
    for name, colour in ours.items():
        if name in ("Positive", "Negative", "Pigment"):  # the Ki67 classes themselves
            continue
        for other in ("Positive", "Negative"):
            assert _distance(colour, ours[other]) >= 100, (name, other)
            assert _distance(colour, QUPATH_DEFAULT_COLORS[other]) >= 100, (name, other)
        if name in QUPATH_DEFAULT_COLORS:  # QuPath shows its own colour for a class it knows: write that one
            assert colour == QUPATH_DEFAULT_COLORS[name], name
            continue
        for qname, qcolour in QUPATH_DEFAULT_COLORS.items():
            assert _distance(colour, qcolour) >= 75, (name, qname)
        for oname, ocolour in ours.items():
            if oname != name:
                assert _distance(colour, ocolour) >= 75, (name, oname)


def test_a_lymphocyte_detection_carries_its_own_colour() -> None:
    cells = CellTable(np.array([5.0, 9.0]), np.array([5.0, 9.0]), np.array([1, 3], np.int8),
                      {"cell_type": np.array([CELL_TYPES.index("tumour"), CELL_TYPES.index("lymphocyte")], np.int8)})
    neg, lym = (f["properties"]["classification"] for f in cell_features(cells, shape="point"))
    assert neg == {"name": "Negative", "color": [112, 112, 225]}
    assert lym == {"name": "Lymphocyte", "color": [230, 70, 230]}
