"""Analyze's melanocyte marker choice (session 43 H7's walk, defect 4, napari part): a Ki67 double stain's marker is
chosen as the CLI's ``--melanocyte-marker`` chooses it, the choice shown only where a marker can be read.

Fails before: Analyze had no marker choice (the run always read the red marker as cytoplasmic, MART-1, unless the
image was detected as SOX10), so a SOX10 double stain named H-DAB-FastRed was read as MART-1.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
from mmnst_path_napari._analysis import plan_analysis
from napari_helpers import open_plugin_widget, wait_idle

from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.synthetic_double import double_stain_tile

pytestmark = pytest.mark.napari


def test_marker_choice_follows_the_stains(make_napari_viewer):
    """Shown for auto and double-stain presets, hidden (and left out of the run) for a single stain."""
    viewer = make_napari_viewer()
    analyze = open_plugin_widget(viewer, "analyze_widget")
    marker = analyze.marker
    assert [c[0] if isinstance(c, tuple) else c for c in marker.choices] == ["auto", "cytoplasmic", "nuclear"]
    assert [marker.native.itemText(i) for i in range(marker.native.count())] == [
        "auto", "cytoplasmic (MART-1, Melan-A)", "nuclear (SOX10)"]
    assert marker.value == "auto"
    assert not marker.native.isHidden()  # stains auto: the run may find a double stain
    for stains, shown in (("H-DAB", False), ("H-DAB-FastRed", True), ("H&E", False), ("H-DAB-AEC", True),
                          ("H-FastRed", False)):
        analyze.stains.value = stains
        assert marker.native.isHidden() is not shown, stains
    analyze.stains.value = "H-DAB-AEC"
    marker.value = "nuclear"
    assert analyze.mapping()["ki67"]["melanocyte_marker"] == "nuclear"
    analyze.stains.value = "H-DAB"  # hidden: a single stain has no marker (the CLI refuses one named for it)
    assert analyze.mapping()["ki67"]["melanocyte_marker"] == "auto"


def test_a_marker_chosen_while_auto_is_dropped_on_a_single_stain(tmp_path):
    """Stains auto, marker chosen, the image found a single stain: the marker is left out, no error (the CLI's
    ``--melanocyte-marker`` with ``--stains auto``)."""
    from napari_helpers import ki67_tile

    rgb = tifffile.imread(ki67_tile(tmp_path / "ki67.tif"))
    m = AnalysisConfig().to_mapping()
    m["stains"] = "auto"
    m["ki67"] = {**m["ki67"], "melanocyte_marker": "nuclear"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = plan_analysis(ArrayReader(rgb, mpp=0.5), m, ticked=("ki67",))
    assert plan.stains == "H-DAB"
    assert plan.config.ki67.melanocyte_marker == "auto"


def test_chosen_nuclear_marker_is_read_and_said(make_napari_viewer, qtbot):
    """Named H-DAB-FastRed with the marker chosen nuclear (SOX10): the run reads it so, its source "chosen", as
    ``quantify --stains H-DAB-FastRed --melanocyte-marker SOX10``; left auto it is said assumed."""
    tile = double_stain_tile(0, marker="cytoplasmic", chromogen="fast_red", size=256)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, name="double stain")
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.region.value = "whole image"
    analyze.mpp.value = tile.mpp
    analyze.stains.value = "H-DAB-FastRed"
    analyze.marker.value = "nuclear"
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    m = analyze.result.metrics
    assert m["ki67_melanocyte_marker"] == "nuclear"
    assert m["ki67_melanocyte_marker_source"] == "chosen"
    assert len([ln for ln in analyze.results.value.splitlines() if ln.startswith("Ki67 in melanocytes (SOX10+)")]) == 1
    analyze.marker.value = "auto"
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    assert analyze.result.metrics["ki67_melanocyte_marker"] == "cytoplasmic"
    assert analyze.result.metrics["ki67_melanocyte_marker_source"] == "assumed"
    assert np.isfinite(analyze.result.metrics["ki67_melanocytic_denominator"])
