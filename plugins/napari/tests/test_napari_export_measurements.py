"""napari's exports keep the chromogen's OD max ("DAB OD max" / "AEC OD max"), Circularity and
Eccentricity of a layer that has them (the CLI's cells.geojson imported, or loaded in Review), round
trip: CLI file -> layer -> export -> read back -> layer -> export; a layer without them writes none.

Mutations caught: the Points layer not carrying them (the export loses them: session 33's napari
pass); cells_from_points not writing them back; the layer adding them (NaN) to a table without them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mmnst_path_napari._layers import OPTIONAL_MEASUREMENTS, points_layer
from mmnst_path_napari._widgets import ExportWidget, ReviewWidget

from mmnst_path.aggregate import CellTable
from mmnst_path.geojson import Roi, feature_collection_chunks, read_cells

pytestmark = pytest.mark.napari

VALUES = {"dab_od_max": [0.9, 0.1, 0.25], "circularity": [0.91, 0.77, 0.85], "eccentricity": [0.3, 0.62, 0.45]}


def _cells(optional: bool = True) -> CellTable:
    cols = {"dab_od_mean": np.array([0.61, 0.04, 0.1]), "hematoxylin_od_mean": np.array([0.3, 0.5, 0.4]),
            "area_um2": np.array([30.0, 40.0, 35.0])}
    if optional:
        cols |= {k: np.array(v) for k, v in VALUES.items()}
    return CellTable(np.array([10.0, 30.0, 50.0]), np.array([12.0, 40.0, 60.0]), np.array([0, 1, 1], np.int8), cols)


def _cli_file(tmp_path, chromogen: str = "dab", optional: bool = True):  # type: ignore[no-untyped-def]
    whole = Roi(np.array([[-0.5, -0.5], [-0.5, 99.5], [99.5, 99.5], [99.5, -0.5]]), "Image")
    path = tmp_path / f"cells_{chromogen}_{optional}.geojson"
    path.write_text("".join(feature_collection_chunks(_cells(optional), [whole], mpp=0.5, shape="polygon",
                                                      chromogen=chromogen)), encoding="utf-8")
    return path


def _names(path) -> set[str]:  # type: ignore[no-untyped-def]
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {k for f in doc["features"] if f["properties"]["objectType"] == "detection"
            for k in f["properties"]["measurements"]}


def _check(path) -> None:  # type: ignore[no-untyped-def]
    back = read_cells(path)
    for key, want in VALUES.items():
        np.testing.assert_allclose(back.columns[key], want, rtol=1e-6)


@pytest.mark.parametrize(("chromogen", "od_max"), [("dab", "DAB OD max"), ("aec", "AEC OD max")])
def test_export_keeps_od_max_circularity_and_eccentricity(make_napari_viewer, tmp_path, chromogen, od_max):
    widget = ExportWidget(make_napari_viewer())
    (_, points) = widget.import_(_cli_file(tmp_path, chromogen))
    assert set(OPTIONAL_MEASUREMENTS) <= set(points.features.columns)
    widget.points.value = points
    widget.kind.value = "GeoJSON (QuPath)"
    out = widget.export(tmp_path / "export.geojson")
    assert {od_max, "Circularity", "Eccentricity"} <= _names(out)
    _check(out)
    (again,) = [lay for lay in widget.import_(out) if type(lay).__name__ == "Points"]
    widget.points.value = again
    _check(widget.export(tmp_path / "again.geojson"))
    widget.kind.value = "CSV (cells)"
    header = widget.export(tmp_path / "cells.csv").read_text(encoding="utf-8").splitlines()[0]
    assert all(key in header for key in OPTIONAL_MEASUREMENTS)


def test_review_saves_them_too_and_a_layer_without_them_writes_none(make_napari_viewer, tmp_path):
    import napari

    viewer = make_napari_viewer()
    viewer.add_layer(napari.layers.Layer.create(*points_layer(_cells(optional=False), mpp=0.5)))
    review = ReviewWidget(viewer)
    plain = review.save(tmp_path / "plain.geojson")
    assert not {"DAB OD max", "Circularity", "Eccentricity"} & _names(plain)
    assert not set(OPTIONAL_MEASUREMENTS) & set(review.points.value.features.columns)
    review.load(_cli_file(tmp_path))
    _check(review.save(tmp_path / "edits.geojson"))
