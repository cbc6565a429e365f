"""The results box says what the Ki67 index is of, as the CLI table's and the HTML report's ``n`` (positive +
negative tumour nuclei), and how many nuclei the cell model left out as not tumour: "Ki67 index: 27.3 % (6 of
22 tumour nuclei; 5 excluded as not tumour)" (session 34's shots: the box explained 104 of the 129 rings).

Mutation caught: ``tumour_nuclei_words`` returning "" (the box without the counts) or the excluded clause
dropped; the Analyze box's counts without ``excluded`` (``COUNTED_CLASSES`` back to three classes)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from mmnst_path_napari._layers import results_text
from test_napari_notice_once import _run_result

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _result() -> tuple[SimpleNamespace, SimpleNamespace]:
    """(plan, result) of a run: 6 positive, 16 negative, 2 pigment, 5 excluded nuclei."""
    return _run_result(["positive"] * 6 + ["negative"] * 16 + ["pigment"] * 2 + ["excluded"] * 5)


def test_results_text_says_what_the_index_is_of():
    counts = {"positive": 212, "negative": 337, "pigment": 4, "excluded": 37}
    text = results_text({"index_pct": 38.61, "ci_low_pct": 34.6, "ci_high_pct": 42.7, "denominator": 549}, counts)
    assert text.splitlines()[0] == "Ki67 index: 38.6 % (212 of 549 tumour nuclei; 37 excluded as not tumour)"
    assert "95% CI 34.6 – 42.7 %" in text
    assert "nuclei: positive 212, negative 337, pigment 4 (not counted), excluded 37 (not tumour, not counted)" in text


def test_analyze_and_review_count_the_excluded_nuclei(make_napari_viewer):
    from mmnst_path_napari._widgets._review import set_classes

    viewer = make_napari_viewer()
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze.stains.value = "AzureB-DAB"
    analyze._mpp, analyze._display_mpp = (0.5, "entered by the user"), None  # (what run() sets)
    plan, result = _result()
    analyze._on_result((plan, result))
    line = "Ki67 index: 27.3 % (6 of 22 tumour nuclei; 5 excluded as not tumour)"
    assert line in analyze.results.value.splitlines()
    assert result.metrics["ki67_denominator"] == 22  # the CLI table's n
    assert "excluded 5 (not tumour, not counted)" in analyze.results.value
    _, review = viewer.window.add_plugin_dock_widget(PLUGIN, "Review")
    assert line in review.results.value.splitlines()
    set_classes(viewer.layers["nuclei"], {0}, "negative")  # the pathologist calls one positive negative
    assert "Ki67 index: 22.7 % (5 of 22 tumour nuclei; 5 excluded as not tumour)" in review.results.value.splitlines()
