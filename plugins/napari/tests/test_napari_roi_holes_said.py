"""A QuPath ROI with a hole imported in napari: the hole is said, not dropped in silence (session 42 H11's finding 3;
since session 43 H6 it is shown, on a Shapes layer of ROI holes).

The library measures ROI holes since session 42 (``--roi``); napari Shapes hold none, so Export's import shows the outer
ring only and an export of the layer writes only that. The status line now says how many holes are not shown and how to
keep them (the GeoJSON file itself as ``--roi``).
"""

from __future__ import annotations

import json

import pytest
from napari_helpers import open_plugin_widget

pytestmark = pytest.mark.napari


def test_export_import_says_the_roi_holes_it_cannot_show(make_napari_viewer, tmp_path):
    outer = [[0, 0], [200, 0], [200, 200], [0, 200], [0, 0]]
    hole = [[50, 50], [100, 50], [100, 100], [50, 100], [50, 50]]
    path = tmp_path / "roi.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [outer, hole]},
        "properties": {"objectType": "annotation", "name": "my roi"}}]}), encoding="utf-8")
    viewer = make_napari_viewer()
    export = open_plugin_widget(viewer, "export_widget")
    (shapes, holes) = export.import_(path)
    assert len(shapes.data) == 1
    # session 43 H6: the hole is shown on a layer of its own (it was "not shown" before), and an export writes it
    # back as a hole (test_napari_roi_holes_round_trip.py)
    assert len(holes.data) == 1
    assert "1 ROI hole(s) on 'roi ROI holes'" in export.status.value, export.status.value
