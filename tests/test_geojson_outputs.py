"""GeoJSON as a QuPath user reads it: class colours that do not pass for another class, Ki67
counts only where Ki67 was measured, measurement names that follow the stain (read back either way)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mmnst_path._geojson_names import (
    CLASS_COLORS,
    QUPATH_CLASS_NAMES,
    QUPATH_DEFAULT_COLORS,
    TYPE_CLASS_NAMES,
)
from mmnst_path.aggregate import CELL_TYPES, CellTable, SlideResult, TileTable
from mmnst_path.geojson import cell_features, read_cells
from mmnst_path.geometry import Box
from mmnst_path.report import write_result


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


def _qupath_scaled(rgb: tuple[int, int, int], scale: float = 1.25) -> tuple[int, int, int]:
    """QuPath's ``ColorTools.makeScaledRGB``: each channel times ``scale``, truncated, capped at 255."""
    return tuple(min(255, int(c * scale)) for c in rgb)  # type: ignore[return-value]


def test_positive_and_negative_carry_the_colours_qupath_gives_those_classes() -> None:
    """QuPath colours a class named "Positive" / "Negative" (no parent) with its constants (200, 50, 50)
    / (90, 90, 180) scaled by 1.25 (``PathClass.getDefaultColor``; the unscaled ones are "Tumor: Positive"
    / "Tumor: Negative"). Mutations caught: Positive back to (200, 50, 50); Negative set to (90, 90, 180)."""
    want = {"Positive": _qupath_scaled((200, 50, 50)), "Negative": _qupath_scaled((90, 90, 180))}
    assert want == {"Positive": (250, 62, 62), "Negative": (112, 112, 225)}
    cells = CellTable(np.array([5.0, 9.0]), np.array([5.0, 9.0]), np.array([0, 1], np.int8), {})
    written = {f["properties"]["classification"]["name"]: tuple(f["properties"]["classification"]["color"])
               for f in cell_features(cells, shape="point")}
    assert written == want
    assert {k: QUPATH_DEFAULT_COLORS[k] for k in want} == want


def _slide(measures: tuple[str, ...], metrics: dict[str, object] | None = None,
           cells: CellTable | None = None) -> SlideResult:
    if cells is None:
        cells = CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {})
    return SlideResult(
        input="a/tile.png", shape=(64, 64), mpp=0.5, analysis_mpp=0.5, measures=measures, metrics=dict(metrics or {}),
        counts={}, hotspot=None, tiles=TileTable.from_rows([Box(0, 0, 64, 64)], [{"seconds": 0.1}]), cells=cells,
        maps={}, config={}, stains={}, versions={}, timings={},
    )


def _annotation(tmp_path: Path, result: SlideResult) -> dict[str, object]:
    paths = write_result(result, tmp_path / "out", outputs=("geojson",))
    doc = json.loads(paths["geojson"].read_text(encoding="utf-8"))
    (image,) = [f for f in doc["features"] if f["properties"]["objectType"] == "annotation"]
    return image["properties"]


def test_an_he_image_annotation_carries_no_ki67_counts(tmp_path: Path) -> None:
    """H&E (Ki67 not measured): no ``Num Positive 0`` (undefined is not 0). Mutation caught: the
    counts written whatever the measures (``ki67=True`` in write_result)."""
    props = _annotation(tmp_path / "he", _slide(("melanin", "necrosis")))
    assert props["name"] == "Image"
    assert "measurements" not in props
    ki67 = _annotation(tmp_path / "ihc", _slide(("ki67",)))
    assert ki67["measurements"] == {"Num Positive": 0, "Num Negative": 0, "Num Pigment": 0, "Num Excluded": 0}


@pytest.mark.parametrize(("metrics", "names"), [
    ({"ki67_chromogen": "dab", "ki67_counterstain": "hematoxylin"},
     ("DAB OD mean", "DAB OD max", "Hematoxylin OD mean")),
    ({"ki67_chromogen": "aec", "ki67_counterstain": "hematoxylin"},
     ("AEC OD mean", "AEC OD max", "Hematoxylin OD mean")),
    ({"ki67_chromogen": "fast_red", "ki67_counterstain": "hematoxylin"},
     ("Fast Red OD mean", "Fast Red OD max", "Hematoxylin OD mean")),
    ({"ki67_chromogen": "dab", "ki67_counterstain": "azure_b"}, ("DAB OD mean", "DAB OD max", "Azure B OD mean")),
    ({}, ("DAB OD mean", "DAB OD max", "Hematoxylin OD mean")),  # a result from before the keys: DAB
])
def test_measurement_names_follow_the_stain_and_read_back(tmp_path: Path, metrics: dict[str, str],
                                                          names: tuple[str, ...]) -> None:
    """Mutations caught: DAB names on every stain (write_result not passing the stain); a reader that
    does not know the new names (the OD columns come back as "AEC OD mean"...)."""
    cells = CellTable(np.array([10.0]), np.array([12.0]), np.array([0], np.int8),
                      {"dab_od_mean": np.array([0.61]), "dab_od_max": np.array([0.9]),
                       "hematoxylin_od_mean": np.array([0.3])})
    paths = write_result(_slide(("ki67",), metrics, cells), tmp_path / "out", outputs=("geojson",))
    doc = json.loads(paths["geojson"].read_text(encoding="utf-8"))
    (det,) = [f for f in doc["features"] if f["properties"]["objectType"] == "detection"]
    assert tuple(det["properties"]["measurements"]) == names
    back = read_cells(paths["geojson"])
    assert set(back.columns) == {"dab_od_mean", "dab_od_max", "hematoxylin_od_mean", "intensity_bin"}
    assert back.columns["dab_od_mean"][0] == 0.61
    assert back.columns["hematoxylin_od_mean"][0] == 0.3
