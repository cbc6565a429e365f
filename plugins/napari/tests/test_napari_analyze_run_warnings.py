"""Analyze's warning line carries the run's own warnings, as the CLI's row does (session 42 H7's leftover).

A run at an analysis µm/px outside the shipped models' range warns (``mmnst-path quantify`` records it in the row,
result.json and report.html); napari raised it in its worker thread and showed it nowhere near the figures. Now the
orange line under Analyze's buttons says it, each sentence once, after the refused measures and the QC sentences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget, wait_idle

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"


def test_a_runs_warning_is_in_the_analyze_warning_line(make_napari_viewer, qtbot, tmp_path):
    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / "ki67_primary.tif")[:256, :256])
    path = tmp_path / "ki67.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin=PLUGIN)
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.stains.value = "H-DAB"
    analyze.region.value = "whole image"
    analyze.do_melanin.value = False
    analyze.analysis_mpp.value = 1.0  # outside the models' 0.425-0.59 µm/px
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    assert analyze.result is not None, analyze.controls.status.value
    lines = analyze.notice.value.splitlines()
    said = [s for s in lines if "analysed at 1 µm/px" in s]
    assert len(said) == 1, analyze.notice.value  # once
    assert said[0].startswith("⚠ ")
