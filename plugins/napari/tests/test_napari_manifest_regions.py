"""npe2 manifest validity, and the Analyze widget's regions (current view, selected shapes)."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._widgets import AnalyzeWidget


def test_manifest_is_valid_and_every_command_imports():
    from npe2 import PluginManifest

    pm = PluginManifest.from_distribution("mmnst-path-napari")
    assert pm.name == "mmnst-path-napari"
    assert all(c.id.startswith("mmnst-path-napari.") for c in pm.contributions.commands)
    assert {w.display_name for w in pm.contributions.widgets} == {
        "Analyze",
        "Review",
        "Train tissue",
        "Train cells",
        "Train pigment",
        "Export",
    }
    assert "*.svs" in pm.contributions.readers[0].filename_patterns
    pm.validate_imports()  # raises when a python_name does not import


@pytest.mark.napari
def test_regions_current_view_and_selected_shapes(make_napari_viewer):
    viewer = make_napari_viewer()
    image = viewer.add_image(
        np.full((800, 1200, 3), 200, np.uint8), rgb=True, scale=(0.5, 0.5), units=("µm", "µm")
    )
    widget = AnalyzeWidget(viewer)
    assert widget.image.value is image
    assert widget.config().analysis_mpp == pytest.approx(0.5)
    assert widget.config().ki67.weak_stain_adaptation is True
    widget.weak_stain.value = False
    assert widget.config().ki67.weak_stain_adaptation is False

    widget.region.value = "whole image"
    assert widget.roi(image) is None

    # camera on world (100 µm, 200 µm) = pixel (200, 400); 2 screen px per µm
    viewer.scene.camera.center = (100.0, 200.0)
    viewer.scene.camera.zoom = 2.0
    widget.region.value = "current view"
    (poly,) = widget.roi(image)
    h, w = viewer.canvas.size
    half_rows, half_cols = h / 2 / 2.0 / 0.5, w / 2 / 2.0 / 0.5  # level-0 pixels
    assert poly[:, 0].min() == pytest.approx(max(0, 200 - half_rows) - 0.5, abs=1.01)
    assert poly[:, 1].max() == pytest.approx(min(1200, 400 + half_cols) - 0.5, abs=1.01)

    # shapes drawn on a layer with another scale map back to the image's level-0 pixels
    rect = np.array([[10.0, 20.0], [10.0, 60.0], [40.0, 60.0], [40.0, 20.0]])  # µm (scale 1)
    shapes = viewer.add_shapes([rect, rect + 100], shape_type="rectangle")
    widget.region.value = "selected shapes"
    with pytest.raises(ValueError, match="select"):
        widget.roi(image)
    shapes.selected_data = {1}
    (poly,) = widget.roi(image)
    np.testing.assert_allclose(poly, (rect + 100) / 0.5)

    widget.do_ki67.value = widget.do_melanin.value = widget.do_necrosis.value = False
    with pytest.raises(ValueError, match="none of the ticked measures"):
        widget.config()
