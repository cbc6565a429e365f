"""The Train widgets' buttons as a user clicks them (session 37 walk): a refused save or load is told on
the status line (Train cells raised through the button's signal, a traceback in napari), an empty file box
is named, a model trained on a handful of clicks carries a caution."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._widgets._cells import TrainCellsWidget
from mmnst_path_napari._widgets._tissue import TrainTissueWidget

from mmnst_path.classify import load_model
from mmnst_path.detect.nuclei import detect_nuclei
from mmnst_path.synthetic import ki67_pigment_tile

pytestmark = pytest.mark.napari


def _click(button) -> None:
    button.changed.emit(True)  # what a click emits; an exception in the callback would propagate here


def test_train_cells_save_and_load_buttons_report_refusals_on_the_status_line(make_napari_viewer, tmp_path):
    tile = ki67_pigment_tile(5, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(tile.mpp, tile.mpp), units=("µm", "µm"), name="ki67")
    widget = TrainCellsWidget(viewer)
    widget.file.value = tmp_path / "cells.mmnst"
    _click(widget.save_button)
    assert widget.status.value == "error: no cell model: train one or load a model file first"
    assert not (tmp_path / "cells.mmnst").exists()
    bad = tmp_path / "damaged.mmnst"
    bad.write_bytes(b"PK\x03\x04 not a model")
    widget.file.value = bad
    _click(widget.load_button)
    assert widget.status.value.startswith("error: ")
    assert "damaged.mmnst" in widget.status.value
    assert widget.model is None
    widget.file.value = ""
    _click(widget.load_button)
    assert widget.status.value == "error: model file: choose a .mmnst file first"
    # a handful of clicks trains, with a caution; saved without the suffix, the file gets it
    pts = widget.add_training_points()
    nuc = detect_nuclei(tile.rgb, mpp=tile.mpp)
    for i, (r, c) in enumerate(zip(nuc.row[:12], nuc.col[:12], strict=True)):
        widget.cls.value = "tumour" if i % 2 else "stromal"
        pts.add([r, c])
    widget.train()
    assert "trained on" in widget.status.value
    assert "; caution: few examples (" in widget.status.value
    widget.file.value = tmp_path / "missing_folder" / "cells.mmnst"
    _click(widget.save_button)
    assert widget.status.value.startswith("error: model file ")
    assert "does not exist" in widget.status.value
    widget.file.value = tmp_path / "mine"
    _click(widget.save_button)
    assert load_model(tmp_path / "mine.mmnst").model_id == widget.model.model_id
    assert widget.status.value.startswith(f"saved {tmp_path / 'mine.mmnst'}")


def test_train_tissue_empty_file_box_and_missing_folder_are_named(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.full((64, 64, 3), 200, np.uint8), rgb=True, name="he")
    widget = TrainTissueWidget(viewer)
    widget.model = widget.base_model("H&E")
    widget.file.value = ""
    _click(widget.save_button)
    assert widget.status.value == "error: model file: choose a .mmnst file first"
    _click(widget.load_button)
    assert widget.status.value == "error: model file: choose a .mmnst file first"
    widget.file.value = tmp_path / "nowhere" / "t.mmnst"
    _click(widget.save_button)
    assert widget.status.value.startswith("error: model file ")
    assert "does not exist" in widget.status.value



def test_train_tissue_import_of_a_saved_shapes_layer_says_what_to_do_in_napari(make_napari_viewer, tmp_path):
    """The refusal of a napari layer file is read in napari too: it must not send the user to the command line."""
    viewer = make_napari_viewer()
    viewer.add_image(np.full((64, 64, 3), 200, np.uint8), rgb=True, scale=(0.5, 0.5), units=("µm", "µm"), name="he")
    widget = TrainTissueWidget(viewer)
    saved = tmp_path / "boxes.csv"
    saved.write_text("index,shape-type,vertex-index,axis-0,axis-1\n0,rectangle,0,5,5\n")
    widget.annotations.value = saved
    _click(widget.import_button)
    assert widget.status.value.startswith(f"error: annotation file {str(saved)!r}: expected QuPath GeoJSON")
    assert "command line" not in widget.status.value
    assert "paint selected Shapes layer" in widget.status.value
