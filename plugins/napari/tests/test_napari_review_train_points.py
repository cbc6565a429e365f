"""Review docked beside Train cells (found by session 43 H6 while stacking docks): "new training points" made the
training Points layer (its ``class`` feature is a cell type) the nuclei Review reviewed, and Review's panel failed on
it (KeyError 'intensity_bin' in a layer-inserted callback). Training points and Train cells' preview are not nuclei:
Review and Export leave them out of their nuclei choices.
"""

from __future__ import annotations

import pytest
from mmnst_path_napari._widgets._cells import TRAIN_POINTS
from mmnst_path_napari._widgets._training_layers import training_layer
from napari_helpers import ki67_tile, open_plugin_widget

pytestmark = pytest.mark.napari


def test_training_points_are_not_the_nuclei_reviewed_or_exported(make_napari_viewer, tmp_path):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    (image,) = viewer.open(str(ki67_tile(tmp_path / "ki67.tif")), plugin="mmnst-path-napari")
    review = open_plugin_widget(viewer, "review_widget")
    export = open_plugin_widget(viewer, "export_widget")
    cells = open_plugin_widget(viewer, "train_cells_widget")
    cells.new_points.changed.emit(True)
    points = training_layer(viewer, TRAIN_POINTS, image)
    assert points is not None
    assert review.points.value is not points
    assert export.points.value is not points
    assert all(lay is not points for lay in review.points.choices)  # (the layers a choice offers)
    assert all(lay is not points for lay in export.points.choices)
