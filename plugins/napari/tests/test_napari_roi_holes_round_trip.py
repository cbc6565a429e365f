"""A QuPath ROI with holes through napari and back (session 42's "what is left", session 43 H6).

napari Shapes hold no holes: Export's import drew a ROI's outer ring only (and said so) and an export wrote no hole, so
a fold or a bleed a pathologist left out of a ROI in QuPath was measured again after a round trip through napari.
Now the holes are imported on a Shapes layer of their own (``<file> ROI holes``), a hole drawn on it in napari is
one more, and an export writes each as an interior of the ROI whose outer ring holds it; ``quantify --roi`` reads
them back as holes (the even-odd region it measures leaves them out). A hole inside no ROI is said, not written.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from napari_helpers import open_plugin_widget
from skimage.draw import polygon2mask

from mmnst_path.geojson import read_rois

pytestmark = pytest.mark.napari


def _square(r0: float, c0: float, side: float) -> list[list[float]]:
    """A closed GeoJSON ring (x, y) of a square, its corner at row ``r0``, column ``c0``."""
    return [[c0, r0], [c0 + side, r0], [c0 + side, r0 + side], [c0, r0 + side], [c0, r0]]


def _feature(name: str, *rings: list[list[float]]) -> dict:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": list(rings)},
            "properties": {"objectType": "annotation", "name": name}}


def _area(roi, shape=(600, 600)) -> int:  # type: ignore[no-untyped-def]
    """Pixels inside the region quantify measures (the even-odd test of the ROI's one ring)."""
    return int(polygon2mask(shape, roi.region).sum())


def test_roi_holes_are_shown_drawn_and_exported_as_holes(make_napari_viewer, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "qupath.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature("tumour", _square(0, 0, 200), _square(50, 50, 50)),  # a fold left out in QuPath
        _feature("margin", _square(300, 300, 200)),
    ]}), encoding="utf-8")
    viewer = make_napari_viewer()
    export = open_plugin_widget(viewer, "export_widget")
    layers = export.import_(path)
    rois, holes = (viewer.layers[n] for n in ("qupath annotations", "qupath ROI holes"))
    assert {lay.name for lay in layers} == {rois.name, holes.name}
    assert len(rois.data) == 2
    assert len(holes.data) == 1  # the hole is shown
    assert "1 ROI hole(s) on 'qupath ROI holes'" in export.status.value, export.status.value
    assert export.rois.value is rois
    assert export.holes.value is holes
    # the pathologist draws a bleed in the margin ROI, and one more polygon outside every ROI
    holes.add_polygons([np.array([[350.0, 350.0], [350.0, 400.0], [400.0, 400.0], [400.0, 350.0]]),
                        np.array([[250.0, 250.0], [250.0, 270.0], [270.0, 270.0], [270.0, 250.0]])])
    out = tmp_path / "from_napari.geojson"
    export.kind.value = "GeoJSON (QuPath)"
    export.export(out)
    assert "with 2 ROI hole(s)" in export.status.value, export.status.value
    assert "1 hole(s) of 'qupath ROI holes' inside no ROI: left out" in export.status.value
    back = {r.name: r for r in read_rois(out)}  # as `quantify --roi` reads the file
    assert [len(back[n].holes) for n in ("tumour", "margin")] == [1, 1]
    original = {r.name: r for r in read_rois(path)}
    np.testing.assert_allclose(back["tumour"].holes[0], original["tumour"].holes[0], atol=1e-3)
    assert _area(back["tumour"]) == _area(original["tumour"])  # the QuPath hole kept, exactly
    assert _area(back["margin"]) < int(polygon2mask((600, 600), back["margin"].polygon).sum())  # the new hole out
