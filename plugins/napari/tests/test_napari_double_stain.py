"""Analyze finds a Ki67 double stain and its marker's place as the CLI does (where the chromogen
sits, not colour alone), and says so in its results."""

from __future__ import annotations

import warnings

import pytest
from mmnst_path_napari._analysis import plan_analysis
from napari_helpers import wait_idle

from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.synthetic_double import double_stain_tile

PLUGIN = "mmnst-path-napari"


def _mapping() -> dict:
    m = AnalysisConfig().to_mapping()
    m["stains"] = "auto"
    return m


def test_plan_detects_a_mart1_double_stain_and_its_cytoplasmic_marker():
    """A generated Ki67 / MART-1 Fast Red tile (seed 0): by colour alone H&E (Ki67 refused before),
    with where the chromogen sits the double-stain preset, its marker read in the cytoplasm."""
    tile = double_stain_tile(0, marker="cytoplasmic", chromogen="fast_red", size=384)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an ambiguous guess warns
        plan = plan_analysis(ArrayReader(tile.rgb, mpp=tile.mpp), _mapping(), ticked=("ki67",))
    assert plan.stains == "H-DAB-FastRed"
    assert plan.config.ki67.melanocyte_marker == "cytoplasmic"
    assert plan.stains_source == "detected from the image, MART-1 (cytoplasmic marker)"
    assert plan.config.measures == ("ki67",)
    assert not plan.refused


def test_a_user_marker_is_kept():
    """The marker the user chose is not replaced by the detected one."""
    tile = double_stain_tile(0, marker="cytoplasmic", chromogen="fast_red", size=384)
    m = _mapping()
    m["ki67"] = {**m["ki67"], "melanocyte_marker": "nuclear"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = plan_analysis(ArrayReader(tile.rgb, mpp=tile.mpp), m, ticked=("ki67",))
    assert plan.stains == "H-DAB-FastRed"
    assert plan.config.ki67.melanocyte_marker == "nuclear"
    assert plan.stains_source == "detected from the image"


@pytest.mark.napari
def test_analyze_from_the_plugin_manager_shows_the_double_stain(make_napari_viewer, qtbot):
    """Opened through napari's plugin machinery, Analyze on the MART-1 tile reports the double
    stain it detected and the melanocyte-restricted index."""
    from mmnst_path_napari._widgets._analyze import AUTO

    tile = double_stain_tile(0, marker="cytoplasmic", chromogen="fast_red", size=384)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, name="double stain")
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze.region.value = "whole image"
    assert analyze.stains.value == AUTO
    analyze.mpp.value = tile.mpp
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    assert analyze.result is not None, analyze.controls.status.value
    assert analyze.plan.stains == "H-DAB-FastRed"
    text = analyze.results.value
    assert "stains: H-DAB-FastRed (detected from the image, MART-1 (cytoplasmic marker))" in text
    assert analyze.result.metrics["ki67_melanocyte_marker"] == "cytoplasmic"
