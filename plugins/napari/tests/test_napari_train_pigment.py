"""Train pigment (session 43 H14; H5's ``train_pigment``): melanin and other polygons drawn on two images in napari
train a lab pigment model, saved as .mmnst (asking before replacing another model's file), which Analyze's pigment
model field runs.

Fails before: no Train pigment widget in the plugin's menu, no pigment model field in Analyze.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget, wait_idle

from mmnst_path.classify import load_model
from mmnst_path.synthetic import pigment_family_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _open_tile(viewer, tmp_path, seed, family):  # type: ignore[no-untyped-def]
    tile = pigment_family_tile(seed, family, chromogen="aec", size=256, drawn_melanin=True)
    path = tmp_path / f"t{seed}.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                     resolutionunit="CENTIMETER")
    (layer,) = viewer.open(str(path), plugin=PLUGIN)
    return layer, tile


def _contours(mask):  # type: ignore[no-untyped-def]
    from skimage.measure import find_contours

    return [c - 1.0 for c in find_contours(np.pad(mask.astype(np.uint8), 1), 0.5) if len(c) >= 4]


def test_train_pigment_from_drawn_polygons_and_analyze_with_it(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    viewer = make_napari_viewer()
    train = open_plugin_widget(viewer, "train_pigment_widget")
    for seed, family in ((801, "dusty"), (802, "coarse")):
        image, tile = _open_tile(viewer, tmp_path, seed, family)
        train.image.value = image
        other = train.polygons_layer("Other")
        other.add_polygons([np.array([[0, 0], [0, 255], [255, 255], [255, 0]], dtype=float)])
        melanin = train.polygons_layer("Melanin")
        assert melanin.mode == "add_polygon"
        melanin.add_polygons(_contours(tile.masks["melanin_drawn"]))
    assert train.polygons_layer("Melanin") is melanin  # the image's layer again, not a second one
    train.stains.value = "H-AEC"
    assert train.train() is not None, train.status.value
    qtbot.waitUntil(lambda: train.model is not None or train.status.value.startswith("error"), timeout=240_000)
    assert train.model is not None, train.status.value
    assert train.model.settings["target"] == "pigment"
    assert train.model.card["training_images"] == 2
    counts = train.model.card["training_counts"]  # both classes drawn reached the trainer
    assert counts["melanin"] > 0, counts
    assert counts["background"] > 0, counts
    assert "trained" in train.status.value
    out = train.save(tmp_path / "lab_pigment.mmnst")
    assert out is not None
    assert load_model(out).model_id == train.model.model_id
    # a file holding something else: asked before it is replaced; No keeps it, Yes replaces it
    from qtpy.QtWidgets import QMessageBox

    kept = tmp_path / "kept.mmnst"
    kept.write_bytes(b"not a model")
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answers.pop(0))
    assert train.save(kept) is None
    assert kept.read_bytes() == b"not a model"
    assert train.status.value.startswith("not saved")
    assert "not a readable model" in asked[0]
    assert train.save(kept) == kept
    assert load_model(kept).model_id == train.model.model_id
    assert len(asked) == 2
    # Analyze runs it: the result names the lab model
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.image.value = image
    analyze.region.value = "whole image"
    analyze.stains.value = "H-AEC"
    analyze.do_ki67.value = False
    analyze.pigment_model.value = "file"
    analyze.pigment_model_file.value = str(out)
    assert analyze.mapping()["pigment"]["model"] == str(out)
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    assert analyze.result is not None, analyze.controls.status.value
    assert load_model(out).model_id in str(analyze.result.metrics["pigment_model"])
