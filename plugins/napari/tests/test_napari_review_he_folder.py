"""Review on an H&E result folder (no nuclei): the box reviews the class map (session 42 H5's walk, item 7).

Opened through its result.json, an H&E result has a class map and no nuclei. Review showed an empty box, an empty
nuclei choice and the Ki67 buttons, and said nothing of the necrosis being painted until Export saved it. Now the Ki67
controls are hidden while only a class map is open, and the box gives the class areas as painted (the necrosis %
beside the measured one), stroke by stroke, as Export then saves them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget

from mmnst_path.cli import main

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"


def test_review_of_an_he_folder_follows_the_painted_class_map(make_napari_viewer, qtbot, tmp_path):
    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / "he_necrosis.tif")[:512, :512])
    tile = tmp_path / "he.tif"
    tifffile.imwrite(tile, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    assert main(["quantify", str(tile), "--out", str(tmp_path / "out")]) == 0
    viewer = make_napari_viewer(show=True)  # shown: a widget's `visible` is what the user sees
    viewer.open(str(tmp_path / "out" / "he" / "result.json"), plugin=PLUGIN)
    review = open_plugin_widget(viewer, "review_widget")
    qtbot.wait(200)
    (classes,) = [lay for lay in viewer.layers if lay.metadata.get("mmnst_path", {}).get("kind") == "tissue classes"]
    assert review.points.value is None
    assert review.results.visible
    assert not review.toggle_button.visible  # the nuclei controls are hidden: there are no nuclei to review
    assert not review.add_class.visible
    text = review.results.value
    assert "tissue classes of he as painted (0 blocks changed" in text, text
    assert "measured" in text
    # one block painted necrosis: the box follows the stroke
    necrosis = classes.metadata["mmnst_path"]["classes"].index("necrosis") + 1
    r, c = np.argwhere(np.asarray(classes.data) != necrosis)[0]
    data = np.asarray(classes.data).copy()
    data[r, c] = necrosis
    classes.data = data
    assert "(1 blocks changed" in review.results.value, review.results.value
    # the class map closed: the box empties and the nuclei controls come back
    viewer.layers.remove(classes)
    qtbot.wait(100)
    assert review.results.value == ""
    assert review.toggle_button.visible
