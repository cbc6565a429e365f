"""An image opened alone finds its quantify result (session 41 H4, review leftover 1).

The pathologist drags only the tile into napari and opens Export from the Plugins menu: the newest result of that
image in the tile's folder's ``results*/`` folders is opened (its nuclei, reviewed when reviewed), the others are
offered in *results of the image*, and the status says which was opened and why; a result measured on an earlier
version of the file (same path, another SHA-256) is not offered; a result kept elsewhere is found once its ``--out``
folder was used before (a result.json opened there).

Fails before: Export had no *results of the image* and opened nothing (no nuclei layer).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import tifffile
from napari_helpers import ki67_tile, nuclei_of, search_done
from napari_helpers import open_plugin_widget as _open

from mmnst_path.cli import main

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def test_image_opened_alone_opens_its_newest_result(make_napari_viewer, qtbot, tmp_path):
    tile = ki67_tile(tmp_path / "slides" / "tile.tif")
    assert main(["quantify", str(tile), "--out", str(tile.parent / "results_a")]) == 0
    assert main(["quantify", str(tile), "--out", str(tile.parent / "results_b")]) == 0
    old = tile.parent / "results_a" / "tile" / "result.json"
    os.utime(old, (time.time() - 3600, time.time() - 3600))  # results_a written an hour before results_b
    viewer = make_napari_viewer()
    viewer.open(str(tile), plugin=PLUGIN)
    export = search_done(qtbot, _open(viewer, "export_widget"))
    newest = tile.parent / "results_b" / "tile"
    (nuclei,) = nuclei_of(viewer)
    assert nuclei.metadata["mmnst_path"]["result_folder"] == str(newest)
    assert Path(export.result_folder.value) == newest
    assert export.points.value is nuclei
    want = json.loads((newest / "result.json").read_text(encoding="utf-8"))["n_cells"]
    assert len(nuclei.data) == want
    status = export.status.value
    assert status.startswith("opened results_b/tile (the newest of 2 results of tile.tif"), status
    assert "same SHA-256" in status
    assert [str(c) for c in export.found.choices] == [str(newest), str(tile.parent / "results_a" / "tile")]
    # the other one, offered: opened in place of the first (one nuclei layer, of results_a)
    export.found.value = str(tile.parent / "results_a" / "tile")
    export.open_found.changed.emit(True)
    (nuclei,) = nuclei_of(viewer)
    assert nuclei.metadata["mmnst_path"]["result_folder"] == str(tile.parent / "results_a" / "tile")
    assert Path(export.result_folder.value) == tile.parent / "results_a" / "tile"


def test_earlier_version_not_offered_and_remembered_place_found(make_napari_viewer, qtbot, tmp_path):
    tile = ki67_tile(tmp_path / "slides" / "tile.tif")
    assert main(["quantify", str(tile), "--out", str(tile.parent / "results")]) == 0
    elsewhere = ki67_tile(tmp_path / "elsewhere" / "tile.tif")
    assert main(["quantify", str(elsewhere), "--out", str(tmp_path / "batch")]) == 0
    rgb = tifffile.imread(tile)
    rgb[:8, :8] = 255  # the file changed since it was measured: the results beside it are of an earlier version
    tifffile.imwrite(tile, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    viewer = make_napari_viewer()
    viewer.open(str(tile), plugin=PLUGIN)
    export = search_done(qtbot, _open(viewer, "export_widget"))
    assert nuclei_of(viewer) == []
    assert export.status.value.startswith("no quantify result of tile.tif found (looked in results)"), \
        export.status.value
    assert "1 result(s) of an earlier version of the file (another SHA-256) not offered" in export.status.value
    # a result.json opened from tmp/batch: that --out folder is remembered; the same image moved elsewhere is
    # found there when opened alone later
    second = make_napari_viewer()
    second.open(str(tmp_path / "batch" / "tile" / "result.json"), plugin=PLUGIN)
    third = make_napari_viewer()
    moved = tmp_path / "moved" / "copy.tif"
    moved.parent.mkdir()
    moved.write_bytes(elsewhere.read_bytes())
    third.open(str(moved), plugin=PLUGIN)
    export3 = search_done(qtbot, _open(third, "export_widget"))
    (nuclei,) = nuclei_of(third)
    assert nuclei.metadata["mmnst_path"]["result_folder"] == str(tmp_path / "batch" / "tile")
    assert export3.status.value.startswith(f"opened {tmp_path / 'batch' / 'tile'} (the only result of copy.tif")
