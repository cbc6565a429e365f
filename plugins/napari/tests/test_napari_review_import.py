"""Review after Export's import (both opened from the Plugins menu): the panel follows the newly
imported detections layer (not the one it hides), says which stains the file was read as, and keeps
room for its text with Export docked below it.

Mutations caught: Review not following an inserted nuclei layer (it stays on "nuclei": the first
test's layer and counts fail); no stains line for a file-loaded layer; no minimum height on the
panel (it shrank to 3 lines in session 33's napari pass)."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._layers import points_layer
from mmnst_path_napari._widgets._review import PANEL_LINES
from napari_helpers import assert_keeps_lines

from mmnst_path.aggregate import CellTable
from mmnst_path.geojson import Roi, feature_collection_chunks

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _file(tmp_path, n_pos: int, n_neg: int, *, counterstain: str = "azure_b", rename: bool = False):  # type: ignore[no-untyped-def]
    n = n_pos + n_neg
    cells = CellTable(np.arange(n, dtype=float) * 3, np.arange(n, dtype=float) * 2,
                      np.array([0] * n_pos + [1] * n_neg, np.int8),
                      {"dab_od_mean": np.full(n, 0.3), "hematoxylin_od_mean": np.full(n, 0.4)})
    whole = Roi(np.array([[-0.5, -0.5], [-0.5, 99.5], [99.5, 99.5], [99.5, -0.5]]), "Image")
    text = "".join(feature_collection_chunks(cells, [whole], mpp=0.5, shape="point", counterstain=counterstain))
    if rename:  # QuPath's own nucleus names: no stain named
        text = text.replace('"DAB OD mean"', '"Nucleus: DAB OD mean"').replace(
            '"Hematoxylin OD mean"', '"Nucleus: Hematoxylin OD mean"')
    path = tmp_path / "cells.geojson"
    path.write_text(text, encoding="utf-8")
    return path


def _viewer_with_widgets(make_napari_viewer):  # type: ignore[no-untyped-def]
    import napari

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1700, 1100)
    first = CellTable(np.arange(5.0), np.arange(5.0), np.array([0, 1, 1, 1, 1], np.int8), {})
    viewer.add_layer(napari.layers.Layer.create(*points_layer(first, mpp=0.5, name="nuclei")))
    _, review = viewer.window.add_plugin_dock_widget(PLUGIN, "Review")
    _, export = viewer.window.add_plugin_dock_widget(PLUGIN, "Export")
    return viewer, review, export


def test_review_follows_the_imported_detections_and_says_their_stains(make_napari_viewer, tmp_path):
    viewer, review, export = _viewer_with_widgets(make_napari_viewer)
    assert review.points.value.name == "nuclei"
    assert "positive 1, negative 4" in review.results.value
    assert "stains:" not in review.results.value  # an analysed / drawn layer: no file to name
    viewer.layers["nuclei"].visible = False
    (_, points) = export.import_(_file(tmp_path, 3, 7))
    assert points.name == "cells detections"
    assert review.points.value.name == "cells detections"
    assert "positive 3, negative 7" in review.results.value
    assert review.results.value.splitlines()[-1] == "stains: DAB + Azure B (from the file's measurement names)"


def test_review_says_when_the_file_names_no_stain(make_napari_viewer, tmp_path):
    _, review, export = _viewer_with_widgets(make_napari_viewer)
    export.import_(_file(tmp_path, 2, 2, counterstain="hematoxylin", rename=True))
    assert review.points.value.name == "cells detections"
    assert review.results.value.splitlines()[-1] == "stains: DAB + Hematoxylin (the file names no stain: assumed)"
    review.load(_file(tmp_path, 4, 1))  # Review's own load: the same line
    assert review.results.value.splitlines()[-1] == "stains: DAB + Azure B (from the file's measurement names)"


def test_the_review_panel_keeps_room_with_export_docked(make_napari_viewer, qtbot):
    _, review, _ = _viewer_with_widgets(make_napari_viewer)
    # the layout must honour it (docked above Export in a 1700 x 1100 window on a 1920 x 1200 screen:
    # 75 px, 5 lines, without it)
    assert_keeps_lines(qtbot, review.results, PANEL_LINES)


def test_export_follows_the_layer_it_imported(make_napari_viewer, tmp_path):
    """Export's own nuclei layer box moves to the detections it imported (session 33 H13; it stayed
    on the hidden "nuclei", so the next export wrote the old layer). Mutation caught: no switch."""
    import json

    viewer, _, export = _viewer_with_widgets(make_napari_viewer)
    assert export.points.value.name == "nuclei"
    viewer.layers["nuclei"].visible = False
    export.import_(_file(tmp_path, 3, 7))
    assert export.points.value.name == "cells detections"
    export.kind.value = "GeoJSON (QuPath)"
    doc = json.loads(export.export(tmp_path / "again.geojson").read_text(encoding="utf-8"))
    detections = [f for f in doc["features"] if f["properties"].get("objectType") == "detection"]
    assert len(detections) == 10  # the imported layer's, not the first layer's 5
