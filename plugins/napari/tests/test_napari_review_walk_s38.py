"""Session 38 H5's review-and-correct walk: what a pathologist met correcting a quantified result in napari
(the widgets opened through their Plugins menu commands).

- "add as positive" added a *negative* after the reviewer had selected a negative nucleus: napari copies a
  selected point's features (class, DAB, area, cell type, reviewed) to the next point added, and the
  added nucleus carried another nucleus's measurements into cells.csv. (Mutation: no ``added`` handling.)
- a counted nucleus that is not tumour (a stromal nucleus) could only be deleted: it vanished from every
  export. "→ not tumour" (key 4) keeps it as excluded, out of the index, "Excluded" in QuPath.
- edits reopened on the slide (Review's "load edits" before any nuclei layer) were placed at scale 1 on a
  0.5 µm/px slide: the nuclei lay at twice their place, under an "Inconsistent units" toast.
- Export's import of cells.geojson gave its annotations Shapes layer no unit: "Inconsistent units" toast.
- Export's result.json "review" counted near-black nuclei as the panel does not (no near-black QC).
- Export's result.json of nuclei read from a file said ``"input": null``: not which slide nor which file the
  reviewed counts are of (now ``input`` = the slide's file, ``nuclei_from`` = the GeoJSON's).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mmnst_path_napari._layers import CLASS_COLORS, points_layer
from napari_helpers import button
from napari_helpers import open_plugin_widget as _open

from mmnst_path.aggregate import CELL_CLASSES, CELL_TYPES, CellTable
from mmnst_path.geojson import Roi, feature_collection_chunks

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
MPP = 0.5
INCONSISTENT = "Inconsistent units"


def _tile(tmp_path: Path) -> Path:
    import tifffile

    rgb = np.full((200, 300, 3), 220, np.uint8)
    path = tmp_path / "slide.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(1e4 / MPP, 1e4 / MPP), resolutionunit="CENTIMETER")
    return path


def _cells(classes: list[str], types: list[str], near_black: list[int] | None = None) -> CellTable:
    n = len(classes)
    cols = {
        "dab_od_mean": np.linspace(0.05, 0.6, n),
        "hematoxylin_od_mean": np.full(n, 0.4),
        "area_um2": np.full(n, 40.0),
        "intensity_bin": np.array([1 if c == "positive" else 0 for c in classes], np.int8),
        "cell_type": np.array([CELL_TYPES.index(t) for t in types], np.int8),
    }
    if near_black is not None:
        cols["near_black"] = np.array(near_black, np.int8)
    return CellTable(np.arange(n) * 20.0 + 10, np.arange(n) * 15.0 + 10,
                     np.array([CELL_CLASSES.index(c) for c in classes], np.int8), cols)


def _notices() -> list[str]:
    from napari.utils.notifications import notification_manager

    seen: list[str] = []
    notification_manager.notification_ready.connect(lambda n: seen.append(str(n.message)))
    return seen


def _viewer(make_napari_viewer, tmp_path: Path, cells: CellTable):  # type: ignore[no-untyped-def]
    import napari

    viewer = make_napari_viewer()
    viewer.open(str(_tile(tmp_path)), plugin=PLUGIN)
    points = viewer.add_layer(napari.layers.Layer.create(*points_layer(cells, mpp=MPP, name="nuclei")))
    return viewer, points, _open(viewer, "review_widget")


def test_add_as_holds_after_a_selection_and_the_added_nucleus_has_no_borrowed_measurements(make_napari_viewer,
                                                                                          tmp_path):
    viewer, points, review = _viewer(make_napari_viewer, tmp_path,
                                     _cells(["negative", "positive", "negative"], ["stromal", "tumour", "tumour"]))
    assert review.add_class.value == "positive"
    assert "positive 1, negative 2" in review.results.value
    points.selected_data = {0}  # the reviewer looked at the stromal negative first
    points.add(np.array([[60.0, 90.0]]))  # then added a missed positive in add mode
    feats = points.features
    assert feats["class"].iloc[-1] == "positive"
    assert feats["intensity_bin"].iloc[-1] == 1
    assert np.isnan(feats["dab_od"].iloc[-1])  # not measured, not the selected nucleus's DAB
    assert np.isnan(feats["area_um2"].iloc[-1])
    assert feats["cell_type"].iloc[-1] == "tumour"
    assert bool(feats["reviewed"].iloc[-1])
    np.testing.assert_allclose(points.border_color[-1], CLASS_COLORS["positive"])
    assert "positive 2, negative 2" in review.results.value
    review.add_class.value = "negative"
    points.selected_data = {1}  # a positive selected, then a negative added
    points.add(np.array([[80.0, 100.0]]))
    assert points.features["class"].iloc[-1] == "negative"
    assert points.features["intensity_bin"].iloc[-1] == 0
    assert "positive 2, negative 3" in review.results.value
    assert len(viewer.layers["nuclei"].data) == 5


def test_not_tumour_keeps_the_nucleus_out_of_the_index_and_in_every_export(make_napari_viewer, tmp_path):
    viewer, points, review = _viewer(make_napari_viewer, tmp_path,
                                     _cells(["positive", "negative", "negative", "negative"], ["tumour"] * 4))
    assert "Ki67 index: 25.0 %" in review.results.value
    points.selected_data = {1}
    button(review, "→ not tumour").changed.emit(True)
    assert points.features["class"].iloc[1] == "excluded"
    assert "Ki67 index: 33.3 % (1 of 3" in review.results.value
    assert "excluded 1" in review.results.value
    export = _open(viewer, "export_widget")
    export.points.value = points
    export.kind.value = "CSV (cells)"
    table = pd.read_csv(export.export(tmp_path / "cells.csv"))
    assert table["class"].tolist() == ["positive", "excluded", "negative", "negative"]
    export.kind.value = "GeoJSON (QuPath)"
    doc = json.loads(export.export(tmp_path / "cells.geojson").read_text(encoding="utf-8"))
    names = [f["properties"]["classification"]["name"] for f in doc["features"]
             if f["properties"].get("objectType") == "detection"]
    assert names.count("Excluded") == 1
    assert len(names) == 4
    export.kind.value = "JSON (result)"
    review_doc = json.loads(export.export(tmp_path / "result.json").read_text(encoding="utf-8"))["review"]
    assert review_doc["ki67_counts"]["excluded"] == 1
    assert review_doc["ki67_metrics"]["index_pct"] == pytest.approx(100 / 3)


def test_edits_reopened_on_the_slide_lie_on_their_nuclei(make_napari_viewer, tmp_path):
    cells = _cells(["positive", "negative"], ["tumour", "tumour"])
    whole = Roi(np.array([[-0.5, -0.5], [-0.5, 299.5], [199.5, 299.5], [199.5, -0.5]]), "Image")
    edits = tmp_path / "edits.geojson"
    edits.write_text("".join(feature_collection_chunks(cells, [whole], mpp=MPP, shape="point")), encoding="utf-8")
    viewer = make_napari_viewer()
    seen = _notices()
    (image,) = viewer.open(str(_tile(tmp_path)), plugin=PLUGIN)
    review = _open(viewer, "review_widget")
    assert review.points.value is None  # no nuclei layer yet: the edits are reopened on the slide
    layer = review.load(edits)
    np.testing.assert_array_equal(layer.scale, image.scale)
    assert [str(u) for u in layer.units] == [str(u) for u in image.units]
    # the first nucleus at level-0 (row 10, col 10) is at 5 µm, 5 µm in the world, on the slide's pixel
    np.testing.assert_allclose(layer.data_to_world(layer.data[0]), image.data_to_world(np.array([10.0, 10.0])),
                               atol=0.01)
    export = _open(viewer, "export_widget")  # Export's import of the same file: annotations in µm too
    shapes, _ = export.import_(edits)
    assert [str(u) for u in shapes.units] == [str(u) for u in image.units]
    # the exported result.json says what the reviewed counts are of: the slide and the nuclei's file
    export.kind.value = "JSON (result)"
    doc = json.loads(export.export(tmp_path / "result.json").read_text(encoding="utf-8"))
    assert doc["input"] == str(tmp_path / "slide.tif")
    assert doc["nuclei_from"] == str(edits)
    assert doc["review"]["ki67_counts"]["positive"] == 1
    viewer.screenshot(canvas_only=True)  # a draw: napari checks the units there
    assert not [m for m in seen if INCONSISTENT in m], seen


def test_the_exported_review_counts_are_the_panels_with_near_black_nuclei(make_napari_viewer, tmp_path):
    viewer, points, review = _viewer(make_napari_viewer, tmp_path,
                                     _cells(["positive", "positive", "negative", "negative"], ["tumour"] * 4,
                                            near_black=[1, 1, 0, 0]))
    counts, metrics = review.metrics()
    assert counts.near_black_positive == 2
    export = _open(viewer, "export_widget")
    export.points.value = points
    export.kind.value = "JSON (result)"
    doc = json.loads(export.export(tmp_path / "result.json").read_text(encoding="utf-8"))["review"]
    assert doc["ki67_counts"] == json.loads(json.dumps(counts.to_mapping()))
    assert doc["ki67_metrics"]["near_black_positive_pct"] == pytest.approx(metrics["near_black_positive_pct"])
    set_to = button(review, "→ positive")
    points.selected_data = {0}
    set_to.changed.emit(True)  # the reviewer judged one: it leaves the near-black QC
    doc = json.loads(export.export(tmp_path / "result.json").read_text(encoding="utf-8"))["review"]
    assert doc["ki67_counts"]["near_black_positive"] == 1
