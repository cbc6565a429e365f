"""napari's GeoJSON files name every measurement readably ("Reviewed", not ``reviewed``), and files
written before (raw keys) still load with their flags, in Review and through Export's import.

Mutations caught: ``reviewed`` dropped from ``MEASUREMENT_NAMES`` (the raw key is written again);
the library reader not taking the raw key (old files lose the reviewed flags)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mmnst_path_napari._layers import points_layer
from mmnst_path_napari._widgets import ExportWidget, ReviewWidget

from mmnst_path.aggregate import CellTable

pytestmark = pytest.mark.napari


def _cells() -> CellTable:
    n = 4
    return CellTable(np.arange(n, dtype=float) * 5, np.arange(n, dtype=float) * 4, np.array([0, 1, 1, 2], np.int8),
                     {"dab_od_mean": np.array([0.6, 0.05, 0.1, 0.3]), "area_um2": np.full(n, 30.0),
                      "near_black": np.array([1.0, 0.0, 0.0, 1.0]), "reviewed": np.array([1.0, 0.0, 1.0, 0.0])})


def _review(viewer):  # type: ignore[no-untyped-def]
    import napari

    viewer.add_layer(napari.layers.Layer.create(*points_layer(_cells(), mpp=0.5)))
    return ReviewWidget(viewer)


def _measurements(path) -> set[str]:  # type: ignore[no-untyped-def]
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {k for f in doc["features"] for k in f["properties"].get("measurements", {})}


def _as_old_file(path, tmp_path):  # type: ignore[no-untyped-def]
    """The same file as napari wrote it before session 33: the flag under its raw key."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    for f in doc["features"]:
        meas = f["properties"].get("measurements", {})
        if "Reviewed" in meas:
            meas["reviewed"] = meas.pop("Reviewed")
    old = tmp_path / "old.geojson"
    old.write_text(json.dumps(doc), encoding="utf-8")
    return old


def test_review_saves_reviewed_under_a_readable_name_and_loads_old_files(make_napari_viewer, tmp_path):
    review = _review(make_napari_viewer())
    path = review.save(tmp_path / "edits.geojson")
    names = _measurements(path)
    assert "Reviewed" in names
    assert "reviewed" not in names
    old = _as_old_file(path, tmp_path)
    assert "reviewed" in _measurements(old)
    for file in (path, old):
        layer = review.load(file)
        assert list(layer.features["reviewed"]) == [True, False, True, False]
        assert list(layer.features["near_black"]) == [True, False, False, True]


def test_export_writes_the_readable_name_and_imports_old_files(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    review = _review(viewer)
    old = _as_old_file(review.save(tmp_path / "edits.geojson"), tmp_path)
    export = ExportWidget(viewer)
    (points,) = [lay for lay in export.import_(old) if type(lay).__name__ == "Points"]
    assert list(points.features["reviewed"]) == [True, False, True, False]
    export.points.value = points
    export.kind.value = "GeoJSON (QuPath)"
    out = export.export(tmp_path / "export.geojson")
    assert "Reviewed" in _measurements(out)
    assert not {k for k in _measurements(out) if k[0].islower()}
