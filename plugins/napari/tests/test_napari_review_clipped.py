"""A tissue annotation partly off the image, reviewed with ``mmnst-path review``: napari says how much was clipped
(session 41 H4, review leftover 2), whether the result is opened through its result.json or found for the slide
opened alone (leftover 1).

Fails before: Export's status line named the review and the reviewed necrosis only (nothing of the 62.5 % of the
annotation outside the image), and the slide opened alone opened no result.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget as _open

from mmnst_path.cli import main
from mmnst_path.review import REVIEW_NAME

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"
SAID = "annotation 1 (necrosis): 62.5 % of its"


def test_clipped_annotation_said_in_export_status(make_napari_viewer, qtbot, tmp_path):
    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[:256, :256]
    tile = tmp_path / "slides" / "he.tif"
    tile.parent.mkdir()
    tifffile.imwrite(tile, np.ascontiguousarray(rgb), photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")
    assert main(["quantify", str(tile), "--out", str(tile.parent / "results")]) == 0
    folder = tile.parent / "results" / "he"
    ring = [[-100, 0], [60, 0], [60, 96], [-100, 96], [-100, 0]]  # 160 x 96 px drawn, 100 x 96 off the left edge
    edits = tmp_path / "qupath.geojson"
    edits.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}}}]}), encoding="utf-8")
    assert main(["review", str(folder), str(edits), "--reviewer", "Dr N"]) == 0
    (rec,) = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))["tissue_classes"]["annotations_clipped"]
    assert rec["outside_pct"] == pytest.approx(62.5)
    # opened through its result.json
    viewer = make_napari_viewer()
    viewer.open(str(folder / "result.json"), plugin=PLUGIN)
    export = _open(viewer, "export_widget")
    assert export.status.value.startswith("REVIEWED: by Dr N, "), export.status.value
    assert SAID in export.status.value, export.status.value
    # the slide opened alone: its result found beside it, and the same said
    alone = make_napari_viewer()
    alone.open(str(tile), plugin=PLUGIN)
    export2 = _open(alone, "export_widget")
    qtbot.waitUntil(lambda: export2.find_worker is None, timeout=30_000)  # the image read in a worker (session 42)
    status = export2.status.value
    assert status.startswith("opened results/he (the only result of he.tif"), status
    assert "REVIEWED: by Dr N, " in status, status
    assert SAID in status, status
    (classes,) = [lay for lay in alone.layers if lay.metadata.get("mmnst_path", {}).get("kind") == "tissue classes"]
    assert classes.name.startswith("tissue classes reviewed by Dr N")
