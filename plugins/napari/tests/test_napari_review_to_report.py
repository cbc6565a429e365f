"""A review made in napari reaches the quantify folder's summary and report (session 38 H11).

The reviewer opens a ``mmnst-path quantify`` result (the slide through the plugin's reader, Export's import of
its cells.geojson: the result folder is then known), corrects nuclei in Review, and presses Export's *save review
to result folder*: review.json beside the untouched result.json holds the panel's counts (the library computes
them from the saved edits, as ``mmnst-path review`` does), and ``mmnst-path report`` puts the panel's index in
summary.csv beside the measured one. A slide that is not the measured image is refused with one line.

Mutations caught: the review computed otherwise than the panel (near-black QC or the 1+ bin left out); the result
folder not taken from the import; result.json rewritten; another slide accepted.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from napari_helpers import button
from napari_helpers import open_plugin_widget as _open

from mmnst_path.cli import main
from mmnst_path.review import REVIEW_NAME

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"


def _quantified(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A 256-px tile cut from the sample Ki67 tile, another one, and the quantify folder of the first."""
    import tifffile

    rgb = tifffile.imread(SAMPLES / "ki67_primary.tif")
    paths = []
    for i in range(2):
        path = tmp_path / f"tile{i}.tif"
        tifffile.imwrite(path, np.ascontiguousarray(rgb[256 * i : 256 * i + 256, :256]), photometric="rgb",
                         resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
        paths.append(path)
    out = tmp_path / "out"
    assert main(["quantify", str(paths[0]), "--out", str(out)]) == 0
    return paths[0], paths[1], out


def test_save_review_in_napari_then_report_shows_the_panel_index(make_napari_viewer, tmp_path):
    tile, _other, out = _quantified(tmp_path)
    folder = out / "tile0"
    result_before = (folder / "result.json").read_bytes()
    viewer = make_napari_viewer()
    viewer.open(str(tile), plugin=PLUGIN)
    export = _open(viewer, "export_widget")
    review = _open(viewer, "review_widget")
    export.import_(folder / "cells.geojson")
    assert Path(export.result_folder.value) == folder  # the import names the result folder
    points = review.points.value
    classes = np.asarray(points.features["class"], dtype=object)
    negatives = np.flatnonzero(classes == "negative")[:3]
    positives = np.flatnonzero(classes == "positive")[:1]
    points.selected_data = set(negatives.tolist())
    review.toggle_button.changed.emit(True)  # three negatives made positive (bin 0: counted 1+)
    points.selected_data = set(positives.tolist())
    button(review, "→ not tumour").changed.emit(True)
    _, panel = review.metrics()
    export.reviewer.value = "Dr B"
    export.review_button.changed.emit(True)
    assert export.status.value.startswith("review saved"), export.status.value
    assert (folder / "result.json").read_bytes() == result_before
    doc = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))
    for key in ("positive", "negative", "excluded", "denominator", "h_score", "index_pct", "ci_low_pct"):
        assert doc["ki67_metrics"][key] == pytest.approx(panel[key], nan_ok=True), key
    assert doc["reviewer"] == "Dr B"
    assert main(["report", str(out)]) == 0
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    measured = json.loads(result_before)["metrics"]["ki67_index_pct"]
    assert float(row["ki67_index_pct"]) == pytest.approx(measured, rel=1e-5)
    assert float(row["ki67_index_reviewed_pct"]) == pytest.approx(panel["index_pct"], rel=1e-5)
    assert (row["reviewed"], row["reviewer"]) == ("yes", "Dr B")
    assert panel["index_pct"] != pytest.approx(measured)


def test_save_review_on_another_slide_is_refused(make_napari_viewer, tmp_path):
    _tile, other, out = _quantified(tmp_path)
    folder = out / "tile0"
    viewer = make_napari_viewer()
    viewer.open(str(other), plugin=PLUGIN)  # not the image tile0's result was measured on
    export = _open(viewer, "export_widget")
    _open(viewer, "review_widget")
    export.import_(folder / "cells.geojson")
    export.review_button.changed.emit(True)
    assert export.status.value.startswith("review not saved")
    assert "is not the image" in export.status.value
    assert "\n" not in export.status.value
    assert not (folder / REVIEW_NAME).exists()
    assert not list(folder.glob(".*.tmp"))
