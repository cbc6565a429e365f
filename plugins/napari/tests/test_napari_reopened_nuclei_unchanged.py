"""A reviewed result reopened in napari and saved again without editing its nuclei (session 39's leftover): the
nuclei stay the earlier reviewer's. Before, Export re-signed them as a new review by whoever saved (Dr B "reviewed"
nuclei Dr A had judged). Mutations caught: no fingerprint at open (unchanged nuclei re-signed), a fingerprint that
misses a reclassified or moved nucleus (an edit lost to the earlier review), refusing a painted map because the
nuclei did not change.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from mmnst_path_napari._result_folder import nuclei_fingerprint
from mmnst_path_napari._widgets._export import ExportWidget, unchanged_reviewed_nuclei
from test_napari_export_target_s39h13 import _geojson, _with_nuclei
from test_napari_review_fixes_s39h10 import _add, _class_layer, _result

from mmnst_path.review import read_review, write_review


def _nuclei(viewer):
    (layer,) = [lay for lay in viewer.layers if type(lay).__name__ == "Points"]
    return layer


def _reviewed_by_a(tmp_path: Path) -> Path:
    folder = _with_nuclei(_result(tmp_path, "a", 1), [10.0, 40.0])
    cells = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))["features"]
    cells[0]["properties"]["classification"]["name"] = "Negative"  # Dr A's edit: the first positive is negative
    write_review(folder, _geojson(tmp_path / "edits_a.geojson", cells), reviewer="Dr A")
    assert read_review(folder)[0]["ki67_metrics"]["positive"] == 1
    return folder


def test_unchanged_reviewed_nuclei_are_not_resigned_and_a_painted_map_keeps_them(tmp_path, qapp):
    from napari.components import ViewerModel

    a = _reviewed_by_a(tmp_path)
    before = (a / "review.json").read_bytes()
    viewer = ViewerModel()
    _add(viewer, a, image=True)
    widget = ExportWidget(viewer)
    widget.reviewer.value = "Dr B"
    points = _nuclei(viewer)
    assert widget.points.value is points
    assert unchanged_reviewed_nuclei(points).startswith("reviewed by Dr A")
    # nothing edited: refused, the review file untouched
    assert widget.save_review() is None
    assert "nothing changed since a was opened" in widget.status.value
    assert "reviewed by Dr A" in widget.status.value
    assert (a / "review.json").read_bytes() == before
    # the class map painted, nuclei untouched: a tissue review by Dr B, Dr A's nuclei kept as Dr A's
    lay = _class_layer(viewer, a)
    data = lay.data.copy()
    data[0, 3] = 3
    lay.data = data
    review = widget.save_review()
    assert review is not None, widget.status.value
    assert review["merged"]["kept"] == "nuclei"
    assert review["tissue_classes"]["reviewer"] == "Dr B"
    saved, reason = read_review(a)
    assert reason is None
    assert saved["ki67_metrics"]["positive"] == 1  # Dr A's reclassification still counts
    assert "kept the earlier review's nuclei (Dr A)" in widget.status.value


def test_a_reclassified_or_moved_nucleus_is_an_edit(tmp_path, qapp):
    from napari.components import ViewerModel

    a = _reviewed_by_a(tmp_path)
    viewer = ViewerModel()
    _add(viewer, a, image=True)
    widget = ExportWidget(viewer)
    widget.reviewer.value = "Dr B"
    points = _nuclei(viewer)
    at_open = points.metadata["mmnst_path"]["nuclei_at_open"]
    assert nuclei_fingerprint(points.data, points.features) == at_open
    moved = np.asarray(points.data).copy()
    moved[0, 0] += 1.0
    assert nuclei_fingerprint(moved, points.features) != at_open
    features = points.features.copy()
    row = int(np.flatnonzero(features["class"].astype(str) == "negative")[0])
    features.loc[row, "class"] = "positive"
    assert nuclei_fingerprint(points.data, features) != at_open
    points.features = features
    assert unchanged_reviewed_nuclei(points) is None
    review = widget.save_review()
    assert review is not None, widget.status.value
    assert review["reviewer"].startswith("Dr B")
    assert "merged" not in review or review["merged"].get("kept") != "nuclei"
    assert review["ki67_metrics"]["positive"] == 2


def test_replace_takes_the_earlier_review_over_whole(tmp_path, qapp):
    """Export's *replace the earlier review* (``mmnst-path review --replace`` in napari): the saver's review
    replaces Dr A's whole, unchanged nuclei included, and the status says what went."""
    from napari.components import ViewerModel

    a = _reviewed_by_a(tmp_path)
    viewer = ViewerModel()
    _add(viewer, a, image=True)
    widget = ExportWidget(viewer)
    widget.reviewer.value = "Dr B"
    lay = _class_layer(viewer, a)
    data = lay.data.copy()
    data[0, 3] = 3
    lay.data = data
    widget.replace.value = True
    review = widget.save_review()
    assert review is not None, widget.status.value
    assert "merged" not in review
    assert review["reviewer"] == "Dr B"
    assert review["ki67_metrics"]["positive"] == 1  # the nuclei as shown (Dr A's edit), now signed by Dr B
    assert review["tissue_classes"]["reviewer"] == "Dr B"
