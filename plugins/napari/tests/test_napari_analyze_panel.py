"""Analyze's results box keeps room for more of a run's panel (about 12 lines: stains, pixel size,
models, index, counts, melanin, hot spot, QC sentences): H8's azure B shot showed it 4 lines high. It
keeps 6 (``RESULT_LINES``; 12 made the docked form push the window past a 1200-line screen).

Mutation caught: no minimum height on the box (fails: minimum 0 < 90 px)."""

from __future__ import annotations

import pytest
from mmnst_path_napari._widgets._analyze import RESULT_LINES
from napari_helpers import assert_keeps_lines

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def test_the_analyze_results_box_keeps_room(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1700, 1100)
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    assert_keeps_lines(qtbot, analyze.results, RESULT_LINES)
