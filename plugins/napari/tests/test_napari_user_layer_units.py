"""A layer the user adds beside the plugin's µm image takes the image's scale and units (session 37 N3).

napari's defaults (scale 1, units "pixel") beside a µm image made napari warn "Inconsistent units
across layers" at the next draw, and a shape typed in pixel numbers landed at 1 / mpp times its place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
MPP = 0.5
INCONSISTENT = "Inconsistent units"


def _tile(tmp_path: Path) -> Path:
    """A small RGB tile whose TIFF resolution says 0.5 µm per pixel."""
    import tifffile

    rng = np.random.default_rng(7)
    rgb = np.clip(rng.normal(200, 20, size=(96, 128, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "tile.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(1e4 / MPP, 1e4 / MPP), resolutionunit="CENTIMETER")
    return path


def _notices() -> list[str]:
    """Messages of the napari notifications dispatched from now on (the toasts a user sees)."""
    from napari.utils.notifications import notification_manager

    seen: list[str] = []
    notification_manager.notification_ready.connect(lambda n: seen.append(str(n.message)))
    return seen


def _units(layer: Any) -> list[str]:
    return [str(u) for u in layer.units]


def _assert_follows(layer: Any, image: Any) -> None:
    np.testing.assert_array_equal(layer.scale, image.scale)
    np.testing.assert_array_equal(layer.translate, image.translate)
    assert _units(layer) == _units(image) == ["micrometer", "micrometer"]


def test_layers_added_from_the_plugins_menu_session_take_the_image_units(make_napari_viewer, tmp_path):
    from napari._app_model import get_app_model

    viewer = make_napari_viewer()
    app = get_app_model()
    seen = _notices()
    app.commands.execute_command(f"{PLUGIN}.analyze_widget").result()  # Plugins > Analyze
    (image,) = viewer.open(str(_tile(tmp_path)), plugin=PLUGIN)
    assert tuple(image.scale) == (MPP, MPP)
    # a map as Analyze adds one: one channel, 8 pixels a block (its own scale and translate)
    viewer.add_image(np.zeros((12, 16), dtype=np.float32), scale=(8 * MPP, 8 * MPP), translate=(1.75, 1.75),
                     units=("µm", "µm"), name="map")

    shapes = viewer.add_shapes()  # as from the console
    _assert_follows(shapes, image)
    # typed in pixel numbers: the rectangle covers those image pixels (world µm = pixels * mpp)
    shapes.add_rectangles(np.array([[10.0, 20.0], [50.0, 100.0]]))
    np.testing.assert_allclose(shapes.data_to_world(np.array([50.0, 100.0])), [50.0 * MPP, 100.0 * MPP])

    labels = viewer.add_labels(np.zeros((96, 128), dtype=np.uint8))  # a mask painted in image pixels
    _assert_follows(labels, image)
    viewer.layers.selection.clear()  # File > New Layer > Labels with nothing selected: napari's 512 x 512
    app.commands.execute_command("napari.window.file.new_layer.new_labels").result()
    _assert_follows(viewer.layers[-1], image)
    assert viewer.layers[-1].data.shape == (96, 128)  # the whole image in its pixels (session 38 H5: was 512 x 512)
    assert not viewer.layers[-1].data.any()
    # Points / Shapes of that menu with nothing selected come as napari makes them (scale 1 in the
    # image's unit: world µm, napari's own choice), without the warning
    viewer.layers.selection.clear()
    app.commands.execute_command("napari.window.file.new_layer.new_points").result()
    assert _units(viewer.layers[-1]) == _units(image)
    np.testing.assert_array_equal(viewer.layers[-1].scale, [1.0, 1.0])
    viewer.layers.selection.active = image  # with the image selected: napari copies its placement
    app.commands.execute_command("napari.window.file.new_layer.new_shapes").result()
    _assert_follows(viewer.layers[-1], image)
    from napari.layers import Shapes

    below = Shapes(name="below")  # inserted under the image (not appended)
    viewer.layers.insert(0, below)
    _assert_follows(below, image)
    assert viewer.layers.extent.units is not None  # one unit across the layers

    viewer.screenshot(canvas_only=True)  # a draw: napari checks the units there
    assert not [m for m in seen if INCONSISTENT in m], seen


def test_a_layer_with_its_own_placement_is_left_as_it_came(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    (image,) = viewer.open(str(_tile(tmp_path)), plugin=PLUGIN)  # the reader alone (no widget open)
    own_scale = viewer.add_points(np.array([[1.0, 2.0]]), scale=(2.0, 2.0))
    own_units = viewer.add_shapes(units=("mm", "mm"))
    own_shift = viewer.add_labels(np.zeros((8, 8), dtype=np.uint8), translate=(5.0, 5.0))
    plain_image = viewer.add_image(np.zeros((8, 8), dtype=np.uint8))  # an image: not an annotation layer
    np.testing.assert_array_equal(own_scale.scale, [2.0, 2.0])
    assert _units(own_scale) == ["pixel", "pixel"]
    np.testing.assert_array_equal(own_units.scale, [1.0, 1.0])
    assert _units(own_units) == ["millimeter", "millimeter"]
    np.testing.assert_array_equal(own_shift.translate, [5.0, 5.0])
    assert _units(own_shift) == ["pixel", "pixel"]
    assert _units(plain_image) == ["pixel", "pixel"]
    # shapes or points a script adds with data: their numbers are world µm as napari reads them (the lead's
    # revert of the first version: it rescaled these too, and two plugin tests' µm rectangles moved)
    rect = np.array([[10.0, 20.0], [10.0, 60.0], [40.0, 60.0], [40.0, 20.0]])
    scripted = viewer.add_shapes([rect], shape_type="rectangle")
    np.testing.assert_array_equal(scripted.scale, [1.0, 1.0])
    points = viewer.add_points(np.array([[3.0, 4.0]]))
    np.testing.assert_array_equal(points.scale, [1.0, 1.0])
    _assert_follows(viewer.add_shapes(), image)  # while a default one still follows the image


def test_nothing_changes_without_a_micrometre_image(make_napari_viewer, tmp_path):
    from mmnst_path_napari._units import adopt_image_units, follow_image_units

    viewer = make_napari_viewer()
    follow_image_units(viewer)
    follow_image_units(viewer)  # twice: one connection
    assert sum(getattr(cb, "_mmnst_path_follows_units", False) for cb in viewer.layers.events.inserted.callbacks) == 1
    viewer.add_image(np.zeros((8, 8, 3), dtype=np.uint8), rgb=True)  # pixel units
    shapes = viewer.add_shapes()
    np.testing.assert_array_equal(shapes.scale, [1.0, 1.0])
    assert _units(shapes) == ["pixel", "pixel"]
    # two µm slides placed differently: which one is meant is unknown, so nothing is changed
    viewer.add_image(np.zeros((8, 8, 3), dtype=np.uint8), rgb=True, scale=(0.5, 0.5), units=("µm", "µm"))
    viewer.add_image(np.zeros((8, 8, 3), dtype=np.uint8), rgb=True, scale=(0.25, 0.25), units=("µm", "µm"))
    points = viewer.add_points()
    assert not adopt_image_units(points, viewer.layers)
    np.testing.assert_array_equal(points.scale, [1.0, 1.0])


def test_new_labels_with_nothing_selected_covers_a_big_slide_on_a_coarser_grid(make_napari_viewer):
    """Session 38 H5: napari's *New Labels* with no layer selected made a 512 x 512 pixel layer, which the
    units hook put at the slide's µm scale: a 256 µm corner of a 10 mm slide. It now covers the slide,
    on Train tissue's grid (a power of two of level-0 pixels a label pixel), so painting reaches every part."""
    import dask.array as da
    from napari._app_model import get_app_model

    viewer = make_napari_viewer()
    app = get_app_model()
    app.commands.execute_command(f"{PLUGIN}.review_widget").result()  # Plugins > Review
    rows, cols = 20_000, 12_000
    levels = [da.zeros((rows // 2**k, cols // 2**k, 3), dtype=np.uint8, chunks=512) for k in range(4)]
    slide = viewer.add_image(levels, multiscale=True, rgb=True, scale=(MPP, MPP), units=("µm", "µm"), name="slide")
    viewer.layers.selection.clear()
    app.commands.execute_command("napari.window.file.new_layer.new_labels").result()
    labels = viewer.layers[-1]
    assert labels.data.shape == (5000, 3000)  # 4 level-0 pixels a label pixel (longest side <= 8192)
    np.testing.assert_allclose(labels.scale, [4 * MPP, 4 * MPP])
    assert _units(labels) == _units(slide)
    # its pixels lie on the slide's: label pixel (r, c) is centred on level-0 pixels 4r..4r+3
    np.testing.assert_allclose(labels.data_to_world(np.array([0.0, 0.0])), [1.5 * MPP, 1.5 * MPP])
    np.testing.assert_allclose(labels.data_to_world(np.array([4999.0, 2999.0])), [(rows - 2.5) * MPP, (cols - 2.5) * MPP])
    # a script's empty 512 x 512 mask is its own pixels: it follows the units, keeps its shape
    mask = viewer.add_labels(np.zeros((512, 512), dtype=np.uint8))
    assert mask.data.shape == (512, 512)
    np.testing.assert_array_equal(mask.scale, [MPP, MPP])
