"""Analyze's positive-threshold box follows the stains: it edits the threshold their Ki67 tiles count
at (azure B tiles: ``azure_positive_threshold_od``, 0.225; Fast Red: ``fast_red_positive_threshold_od``,
0.25; DAB and AEC: ``positive_threshold_od``, 0.35), names the chromogen, and, with the stains detected,
sets the detected stains' threshold. The widget is opened through napari's plugin machinery.

Mutations caught: the box writing ``positive_threshold_od`` whatever the stain (the azure B and
Fast Red cases fail, and the detected run counts at 0.225 instead of the value entered); a label
(the line under the box) that does not follow the stain; a box with 2 decimals (shows 0.225 as 0.23 and sets 0.23).
"""

from __future__ import annotations

import pytest
from mmnst_path_napari._widgets._analyze import threshold_words

from mmnst_path.quantify.ki67 import Ki67Params
from mmnst_path.synthetic_azure import azure_b_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
#: stains, the Ki67Params field the box edits, the label's chromogen, that field's default
CASES = [
    ("AzureB-DAB", "azure_positive_threshold_od", "positive DAB OD ≥ (Azure B)", 0.225),
    ("H-FastRed", "fast_red_positive_threshold_od", "positive Fast Red OD ≥", 0.25),
    ("H-AEC", "positive_threshold_od", "positive AEC OD ≥", 0.35),
    ("H-DAB", "positive_threshold_od", "positive DAB OD ≥", 0.35),
]


def _analyze(viewer):  # type: ignore[no-untyped-def]
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    return widget


def _tile_threshold(config, stains: str) -> float:  # type: ignore[no-untyped-def]
    """The positive threshold a Ki67 tile of these stains counts at (as the pipeline derives it)."""
    from mmnst_path.quantify.ki67 import chromogen_of, counterstain_of

    matrix = config.stain_matrix()
    k = config.ki67.for_chromogen(chromogen_of(matrix)).for_counterstain(counterstain_of(matrix))
    return float(k.positive_threshold_od)


@pytest.mark.parametrize(("stains", "field", "label", "default"), CASES)
def test_the_box_edits_the_threshold_the_stains_tiles_count_at(make_napari_viewer, stains, field, label, default):
    widget = _analyze(make_napari_viewer())
    assert getattr(Ki67Params(), field) == default
    widget.stains.value = stains
    assert widget.positive_od.label == "positive OD ≥"  # fixed: the line under it names the chromogen
    assert widget.od_info.value == threshold_words(label, stains)  # in words; the config key in its tooltip
    assert widget.od_info.tooltip == f"config key: [ki67] {field}"
    assert widget.positive_od.value == pytest.approx(default)  # its own default, shown to 3 decimals
    assert _tile_threshold(widget.config(stains), stains) == pytest.approx(default)
    widget.positive_od.value = 0.305
    config = widget.config(stains)
    assert getattr(config.ki67, field) == pytest.approx(0.305)
    assert _tile_threshold(config, stains) == pytest.approx(0.305)  # the tiles count at the value entered
    if field != "positive_threshold_od":  # the DAB-unit threshold (the slide step's ceiling) is left alone
        assert config.ki67.positive_threshold_od == pytest.approx(0.35)


def test_each_stain_keeps_its_own_value_when_the_choice_changes(make_napari_viewer):
    widget = _analyze(make_napari_viewer())
    widget.stains.value = "AzureB-DAB"
    widget.positive_od.value = 0.2
    widget.stains.value = "H-DAB"
    assert widget.positive_od.value == pytest.approx(0.35)
    widget.positive_od.value = 0.4
    widget.stains.value = "AzureB-DAB"
    assert widget.positive_od.value == pytest.approx(0.2)
    ki67 = widget.config("AzureB-DAB").ki67
    assert (ki67.azure_positive_threshold_od, ki67.positive_threshold_od) == pytest.approx((0.2, 0.4))


def test_detected_azure_b_stains_count_at_the_value_entered(make_napari_viewer, qtbot):
    """Stains "auto" on an azure B tile: the value entered before the run sets azure B's threshold
    (detected), the result records it, and the box then shows azure B's label and value."""
    tile = azure_b_tile(41, "whole_cell", size=384, positive_fraction=0.4)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, name="azure tile")
    widget = _analyze(viewer)
    widget.mpp.value = tile.mpp
    widget.region.value = "whole image"
    widget.do_melanin.value = widget.do_necrosis.value = False
    assert widget.stains.value.startswith("auto")
    assert widget.od_info.value.startswith("stains auto: the detected stains' own threshold")
    widget.positive_od.value = 0.2
    worker = widget.run()
    assert worker is not None, widget.controls.status.value
    qtbot.waitUntil(lambda: widget.result is not None or widget.controls.status.value.startswith("error"),
                    timeout=240_000)  # fmt: skip
    assert widget.result is not None, widget.controls.status.value
    assert widget.plan.stains == "AzureB-DAB"
    ki67 = widget.plan.config.ki67
    assert ki67.azure_positive_threshold_od == pytest.approx(0.2)
    assert ki67.positive_threshold_od == pytest.approx(0.35)
    assert widget.result.metrics["ki67_positive_threshold_od"] == pytest.approx(0.2)
    assert widget.od_info.value.startswith(
        "a nucleus counts as positive from this DAB OD (Azure B) up (the stains detected: AzureB-DAB")
    assert widget.od_info.tooltip == "config key: [ki67] azure_positive_threshold_od"
    assert widget.positive_od.value == pytest.approx(0.2)
