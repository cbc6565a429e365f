"""Analyze's "follow weak staining" check box says what the slide's weak-stain step does with the
chosen stains (H8 left it saying DAB's 0.25 OD whatever the stain): it names the chromogen and the
floor where the step lowers the threshold (DAB, AEC), and says "no effect" where the tiles already count
at or below that floor (Fast Red 0.25, azure B counterstain 0.225). The text is checked against the
library's own slide step on weakly stained nuclei.

Mutations caught: a fixed text (the Azure B, Fast Red and AEC cases fail); a widget that does not
update the text when the stains change (the widget test fails); a widget that updates it only on a
stains change or a run, not when the user types a threshold (test_the_widget_box_follows_the_threshold_typed)."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._analysis import weak_stain_text

from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.quantify.ki67 import Ki67Params, chromogen_of, counterstain_of, slide_positive_threshold

PLUGIN = "mmnst-path-napari"
CASES = [
    ("H-DAB", "follow weak DAB staining down to 0.25 OD"),
    ("H-AEC", "follow weak AEC staining down to 0.25 OD"),
    ("H-FastRed", "follow weak staining (no effect with Fast Red)"),
    ("AzureB-DAB", "follow weak staining (no effect with Azure B)"),
]
#: weakly stained nuclei: 80 unstained, 40 at 0.27 OD (0.7 x median = 0.19: clipped to the 0.25 floor)
WEAK = np.r_[np.full(80, 0.05), np.full(40, 0.27)]


def _counted_at(stains: str, adapt: bool, **params: float) -> float:
    """The threshold the pipeline counts a weak slide at: the slide step's (on ``for_chromogen``'s
    parameters) or the tiles' own where lower (``_slide._threshold_used``); ``params``: Ki67Params fields."""
    matrix = AnalysisConfig(stains=stains).stain_matrix()
    p = Ki67Params(weak_stain_adaptation=adapt, **params).for_chromogen(chromogen_of(matrix))
    tiles = p.for_counterstain(counterstain_of(matrix)).positive_threshold_od
    return min(slide_positive_threshold(WEAK, p), tiles)


@pytest.mark.parametrize(("stains", "text"), CASES)
def test_the_text_says_what_the_slide_step_does(stains, text):
    matrix = AnalysisConfig(stains=stains).stain_matrix()
    assert weak_stain_text(matrix, Ki67Params()) == text
    moved = _counted_at(stains, True) < _counted_at(stains, False)
    assert moved == ("no effect" not in text)
    if moved:
        assert _counted_at(stains, True) == pytest.approx(0.25)


def test_a_red_margin_gives_fast_red_its_own_floor():
    matrix = AnalysisConfig(stains="H-FastRed").stain_matrix()
    text = weak_stain_text(matrix, Ki67Params(red_baseline_margin_od=0.1))
    assert text == "follow weak Fast Red staining down to 0.1 OD"


@pytest.mark.napari
def test_the_widget_box_follows_the_stains(make_napari_viewer):
    _, widget = make_napari_viewer().window.add_plugin_dock_widget(PLUGIN, "Analyze")
    assert widget.weak_stain.text == "follow weak staining to 0.25 OD (DAB, AEC)"  # stains auto
    for stains, text in CASES:
        widget.stains.value = stains
        assert widget.weak_stain.text == text
    widget.stains.value = widget.stains.choices[0]
    assert widget.weak_stain.text.endswith("(DAB, AEC)")


#: (stains, threshold typed into the box, the box's text then): below the 0.25 floor the step has nothing to do
TYPED = [
    ("H-DAB", 0.2, "follow weak staining (no effect with DAB)"),
    ("H-DAB", 0.3, "follow weak DAB staining down to 0.25 OD"),
    ("AzureB-DAB", 0.3, "follow weak DAB staining down to 0.25 OD"),
    ("AzureB-DAB", 0.2, "follow weak staining (no effect with Azure B)"),
]


@pytest.mark.napari
def test_the_widget_box_follows_the_threshold_typed(make_napari_viewer):
    _, widget = make_napari_viewer().window.add_plugin_dock_widget(PLUGIN, "Analyze")
    widget.positive_od.value = 0.2  # stains auto: the value entered for the detected stains
    assert widget.weak_stain.text == "follow weak staining to 0.2 OD (DAB, AEC)"
    for stains, od, text in TYPED:
        widget.stains.value = stains
        widget.positive_od.value = od  # what the user types (the box's change signal)
        assert widget.weak_stain.text == text, (stains, od)
        field = widget._od_field
        assert widget.mapping()["ki67"][field] == pytest.approx(od)
        # the library's slide step agrees: it moves the threshold exactly when the text says it does
        moved = _counted_at(stains, True, **{field: od}) < _counted_at(stains, False, **{field: od})
        assert moved == ("no effect" not in text), (stains, od)
