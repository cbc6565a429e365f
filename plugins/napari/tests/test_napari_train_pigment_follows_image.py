"""Train pigment follows its image (session 44 H11, H5's leftover): choosing an image raises it with its polygon
layers, as Train tissue / Train cells do (session 43 "Train raises its image"), and the polygon layers are linked to
the image by its napari id, as their training layers are, not by its name.

Fails at 04f0fd0: the chosen image stayed under the other one; the polygon layers were found by the image's name, so
a renamed image lost its polygons (training said "no polygons") and another image given the old name got them.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget

from mmnst_path.synthetic import pigment_family_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SQUARE = np.array([[0, 0], [0, 127], [127, 127], [127, 0]], dtype=float)


def _open(viewer, path, seed: int):  # type: ignore[no-untyped-def]
    tile = pigment_family_tile(seed, "dusty", chromogen="aec", size=128, drawn_melanin=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                     resolutionunit="CENTIMETER")
    (layer,) = viewer.open(str(path), plugin=PLUGIN)
    return layer


def _on_top(viewer, layer, others) -> bool:  # type: ignore[no-untyped-def]
    return layer.visible and all(viewer.layers.index(layer) > viewer.layers.index(o) for o in others)


def _trained_counts(train, qtbot):  # type: ignore[no-untyped-def]
    train.model = None
    assert train.train() is not None, train.status.value
    qtbot.waitUntil(lambda: train.model is not None or train.status.value.startswith("error"), timeout=240_000)
    assert train.model is not None, train.status.value
    return dict(train.model.card["training_counts"])


def test_the_chosen_image_is_raised_with_its_polygon_layers(make_napari_viewer, tmp_path):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    a = _open(viewer, tmp_path / "slide_a.tif", 801)
    b = _open(viewer, tmp_path / "slide_b.tif", 802)  # opened last: over slide_a
    train = open_plugin_widget(viewer, "train_pigment_widget")
    train.image.value = b
    train.image.value = a
    assert _on_top(viewer, a, [b])  # slide_a chosen: over slide_b now
    assert viewer.layers.selection.active is a  # no polygons yet: the image itself
    other = train.polygons_layer("Other")
    other.add_polygons([SQUARE])
    melanin = train.polygons_layer("Melanin")
    assert viewer.layers.selection.active is melanin
    train.image.value = b
    assert _on_top(viewer, b, [a])
    assert not other.visible  # slide_a's polygons do not show over slide_b
    assert not melanin.visible
    mine = train.polygons_layer("Other", b)
    viewer.layers.move(viewer.layers.index(a), len(viewer.layers))  # the user drags slide_a to the top meanwhile
    train.image.value = a
    assert _on_top(viewer, a, [b])
    assert _on_top(viewer, other, [a, b])  # its polygons over it, shown
    assert _on_top(viewer, melanin, [a, b])
    assert viewer.layers.index(melanin) > viewer.layers.index(other)  # in their order
    assert not mine.visible
    train.image.value = b
    assert _on_top(viewer, b, [a])
    assert _on_top(viewer, mine, [a, b])
    a.name = "slide_a (renamed).tif"  # renamed: still chosen, raised, with its polygons (the image box's entry
    train.image.value = a  # kept the old name and choosing it snapped back to slide_b)
    assert train.image.value is a
    assert _on_top(viewer, a, [b])
    assert melanin.visible
    assert not mine.visible


def test_polygons_follow_a_renamed_image_and_not_its_old_name(make_napari_viewer, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    a = _open(viewer, tmp_path / "tile.tif", 801)
    train = open_plugin_widget(viewer, "train_pigment_widget")
    train.stains.value = "H-AEC"
    train.image.value = a
    train.polygons_layer("Other").add_polygons([SQUARE])
    melanin = train.polygons_layer("Melanin")
    melanin.add_polygons([np.array([[20, 20], [20, 60], [60, 60], [60, 20]], dtype=float)])
    before = _trained_counts(train, qtbot)

    a.name = "renamed.tif"  # the link survives a rename
    assert train.polygons_layer("Melanin") is melanin  # the same layer again, not a new one
    assert _trained_counts(train, qtbot) == before

    # another image given the old name (the first one closed): none of the first image's polygons are its own
    viewer.layers.remove(a)
    c = _open(viewer, tmp_path / "other" / "tile.tif", 802)
    assert c.name == "tile.tif"
    train.image.value = c
    assert train.polygons_layer("Melanin") is not melanin
    assert len(train.polygons_layer("Melanin").data) == 0
    assert train.train() is None  # c has no polygons of its own; the closed image's are not trained on
    assert train.status.value.startswith("error: no polygons"), train.status.value
