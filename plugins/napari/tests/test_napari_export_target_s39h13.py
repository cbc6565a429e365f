"""Session 39 H13: Export's *save review* with several result folders open (H12's findings 1-3,
/work/notes/s39/h12_review.md), through the real ExportWidget on a headless viewer.

Result folders made by hand as in ``test_napari_review_fixes_s39h10`` (its helpers), with nuclei (cells.geojson)
where a finding needs them. Mutations caught: *result folder* filled from the first folder's class layer and
trusted, so another folder's painted map is lost and the first folder's review re-attributed; another folder's
nuclei layer saved as the target folder's review; a reopened reviewed map unchanged since opening saved as a new
painted review; a class map painted back to the run's dropped, so the earlier correction comes back (merged).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from mmnst_path_napari._widgets._export import ExportWidget
from test_napari_review_fixes_s39h10 import _add, _class_layer, _result

from mmnst_path.review import REVIEW_EDITS, read_review, write_review

RING = [[0, 0], [64, 0], [64, 64], [0, 64], [0, 0]]


def _geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _necrosis(path: Path) -> Path:
    return _geojson(path, [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [RING]},
                            "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}}}])


def _with_nuclei(folder: Path, xs: list[float]) -> Path:
    """cells.geojson of the folder: one positive and one negative nucleus per x."""
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
              "properties": {"objectType": "detection", "classification": {"name": c}}}
             for x in xs for y, c in ((20.0, "Positive"), (90.0, "Negative"))]
    _geojson(folder / "cells.geojson", feats)
    return folder


def test_save_review_follows_the_painted_layers_folder_not_the_first_one(tmp_path, qapp):
    from napari.components import ViewerModel

    a, b = _result(tmp_path, "a", 1), _result(tmp_path, "b", 2)
    write_review(a, _necrosis(tmp_path / "a.geojson"), reviewer="Dr A")
    before = (a / "review.json").read_bytes()
    viewer = ViewerModel()
    _add(viewer, a, image=True)
    _add(viewer, b, image=True)
    widget = ExportWidget(viewer)  # opened after the folders, the usual order
    lb = _class_layer(viewer, b)
    data = lb.data.copy()
    data[0, 3] = 3  # one stroma block of b painted necrosis
    lb.data = data
    widget.reviewer.value = "Dr B"
    review = widget.save_review()
    assert review is not None, widget.status.value
    assert "saved in b" in widget.status.value
    assert read_review(b)[0]["tissue_classes"]["changed_blocks"] == 1
    assert (a / "review.json").read_bytes() == before  # Dr A's review untouched
    # the field naming a, b's map painted: refused, naming both
    widget.result_folder.value = a
    assert widget.save_review() is None
    assert "result folder is" in widget.status.value
    assert "read from" in widget.status.value
    assert str(b) in widget.status.value
    assert (a / "review.json").read_bytes() == before


def test_another_folders_nuclei_are_not_saved_as_the_target_folders_review(tmp_path, qapp):
    from napari.components import ViewerModel

    x = _with_nuclei(_result(tmp_path, "x", 1), [10.0, 40.0])
    y = _with_nuclei(_result(tmp_path, "y", 2), [100.0])
    viewer = ViewerModel()
    _add(viewer, x, image=True)
    _add(viewer, y, image=True)
    widget = ExportWidget(viewer)
    (xp,) = [lay for lay in viewer.layers if type(lay).__name__ == "Points"
             and lay.metadata["mmnst_path"]["result_folder"] == str(x)]
    widget.points.value = xp
    widget.result_folder.value = y
    assert widget.save_review() is None
    assert "nuclei layer" in widget.status.value
    assert str(x) in widget.status.value
    assert not (y / "review.json").exists()
    # x's nuclei and y's painted map at once: refused, naming both folders
    widget.result_folder.value = Path()
    ly = _class_layer(viewer, y)
    data = ly.data.copy()
    data[0, 3] = 3
    ly.data = data
    assert widget.save_review() is None
    assert "2 result folders" in widget.status.value
    assert not (x / "review.json").exists()


def test_erasing_a_correction_back_to_the_run_replaces_it_and_an_unchanged_one_is_kept(tmp_path, qapp):
    from napari.components import ViewerModel

    a = _with_nuclei(_result(tmp_path, "a", 1), [10.0, 40.0])
    first = write_review(a, _necrosis(tmp_path / "a.geojson"), reviewer="Dr N")
    assert first["tissue_classes"]["changed_blocks"] == 4
    viewer = ViewerModel()
    _add(viewer, a, image=True)
    widget = ExportWidget(viewer)
    widget.reviewer.value = "Dr A"
    # nuclei saved, the reopened corrected map not touched: Dr N's correction kept as Dr N's
    review = widget.save_review()
    assert review is not None, widget.status.value
    assert review["tissue_classes"]["changed_blocks"] == 4
    assert review["tissue_classes"]["reviewer"] == "Dr N"
    assert review["merged"]["kept"] == "tissue"
    assert "kept the earlier review's tissue (Dr N)" in widget.status.value
    assert review["reviewer"] == "Dr A, Dr N"
    # the correction erased: the class layer painted back to the run's map, saved: the correction is gone
    lay = _class_layer(viewer, a)
    lay.data = np.asarray(lay.metadata["mmnst_path"]["labels_at_run"]).copy()
    review = widget.save_review()
    assert review is not None, widget.status.value
    assert review["tissue_classes"]["changed_blocks"] == 0
    assert review["tissue_classes"]["reviewer"] == "Dr A"
    assert "merged" not in review
    assert "earlier correction undone" in widget.status.value
    saved, reason = read_review(a)
    assert reason is None
    assert saved["tissue_classes"]["area_mm2"]["necrosis"] == 0.003  # the run's necrosis area (0.001 x (2 + 1))
    assert saved["tissue_classes"]["area_mm2"]["necrosis"] != first["tissue_classes"]["area_mm2"]["necrosis"]
    assert (a / REVIEW_EDITS).is_file()
