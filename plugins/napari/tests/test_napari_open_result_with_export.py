"""A result folder opened through its result.json (File > Open) while Export is docked: its layers once.

Export looks for the results of an image opened alone whenever a layer is inserted. The reader's slide layer is
inserted before the folder's nuclei and maps, so Export took the slide for an image opened alone, found the folder
(the reader had just remembered it) and opened it a second time: `nuclei [1]`, `tissue classes [1]` (session 42
H10's finding). Export now looks once the reader's layers are all in.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget

from mmnst_path.cli import main

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def test_result_json_opened_with_export_docked_gives_each_layer_once(make_napari_viewer, qtbot, tmp_path):
    from pathlib import Path

    samples = Path(__file__).resolve().parents[3] / "sample_tiles"
    tile = tmp_path / "slides" / "tile.tif"
    tile.parent.mkdir()
    rgb = np.ascontiguousarray(tifffile.imread(samples / "ki67_primary.tif")[:192, :192])
    tifffile.imwrite(tile, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    assert main(["quantify", str(tile), "--out", str(tmp_path / "results")]) == 0
    viewer = make_napari_viewer()
    export = open_plugin_widget(viewer, "export_widget")  # docked first, with nothing open
    viewer.open(str(tmp_path / "results" / "tile" / "result.json"), plugin=PLUGIN)
    qtbot.wait(200)  # events queued by the insertions run
    qtbot.waitUntil(lambda: export.find_worker is None, timeout=30_000)
    qtbot.wait(200)
    names = [lay.name for lay in viewer.layers]
    assert len(names) == len({n.split(" [")[0] for n in names}), names
    assert not any(n.endswith("[1]") for n in names), names
    # nor does Export say it looked for (or read the image for) the results of an image "opened alone"
    assert "not opened" not in export.status.value, export.status.value
    assert "no quantify result" not in export.status.value, export.status.value
