"""Choosing an image in Train tissue / Train cells raises it (session 42 H8's leftover, session 43 H6).

Two images opened at the same place: choosing the lower one in the Train widget showed its training layer but left
the other image over it, so the pathologist saw (and painted over) the wrong image. Now the chosen image is shown,
moved just above the other image, its training layer above it and selected (the image itself selected while it has
none).
"""

from __future__ import annotations

import pytest
import tifffile
from mmnst_path_napari._widgets._cells import TRAIN_POINTS
from mmnst_path_napari._widgets._tissue import TRAIN_LABELS
from mmnst_path_napari._widgets._training_layers import training_layer
from napari_helpers import open_plugin_widget

from mmnst_path.synthetic import he_necrosis_tile

pytestmark = pytest.mark.napari


def _open(viewer, path, seed: int):  # type: ignore[no-untyped-def]
    rgb = he_necrosis_tile(seed, size=128, mpp=1.0).rgb
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    (layer,) = viewer.open(str(path), plugin="mmnst-path-napari")
    return layer


def _seen_on_top(viewer, image, others) -> bool:  # type: ignore[no-untyped-def]
    return image.visible and all(viewer.layers.index(image) > viewer.layers.index(o) for o in others)


@pytest.mark.parametrize(("name", "prefix", "new"), [("train_tissue_widget", TRAIN_LABELS, "new_labels"),
                                                     ("train_cells_widget", TRAIN_POINTS, "new_points")])
def test_the_chosen_image_is_raised_with_its_training_layer(make_napari_viewer, qtbot, tmp_path, name, prefix, new):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    a = _open(viewer, tmp_path / "slide_a.tif", 21)
    b = _open(viewer, tmp_path / "slide_b.tif", 22)  # opened last: over slide_a
    widget = open_plugin_widget(viewer, name)
    if hasattr(widget, "live"):
        widget.live.value = False
    widget.image.value = b
    widget.image.value = a
    assert _seen_on_top(viewer, a, [b])  # slide_a chosen: over slide_b now
    assert viewer.layers.selection.active is a  # no training layer yet: the image itself
    getattr(widget, new).changed.emit(True)
    mine = training_layer(viewer, prefix, a)
    assert mine is not None
    assert viewer.layers.selection.active is mine
    widget.image.value = b
    assert _seen_on_top(viewer, b, [a])
    b.visible = False  # hidden by the user meanwhile
    widget.image.value = a
    assert _seen_on_top(viewer, a, [b])
    assert _seen_on_top(viewer, mine, [a, b])  # its training layer over it, selected to paint / click on
    assert viewer.layers.selection.active is mine
    widget.image.value = b
    assert _seen_on_top(viewer, b, [a])  # shown again and raised
    assert not mine.visible
