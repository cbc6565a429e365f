"""The spindle-cell QC sentence: the cell model leaving many detected nuclei out of the index as
stromal is said in plain words by the summary, the CLI and the HTML report (issue #14: the tumour
this project exists for is epithelioid to spindle, and the nucleus models take many spindle
tumour nuclei for fibroblasts)."""

from __future__ import annotations

import math
import warnings

import pytest

from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.report import STROMA_WARN_MIN, STROMA_WARN_PCT, qc_warnings, stroma_warning, summary_row
from mmnst_path.synthetic import pigment_family_tile

ROW = {"ki67_positive": 30, "ki67_negative": 40, "ki67_pigment": 0, "ki67_excluded": 130, "ki67_stromal": 120}


def _row(family: str, seed: int) -> dict:
    tile = pigment_family_tile(seed, family, chromogen="dab", size=384)
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return summary_row(analyze_region(tile.rgb, cfg, mpp=tile.mpp))


def test_the_sentence_gives_the_share_of_all_detected_nuclei_and_what_to_do():
    text = stroma_warning(ROW)
    assert text.startswith("the cell model left 60 % of the detected nuclei out of the index as stromal")
    assert "spindle-cell tumour" in text
    assert "--cell-model none" in text
    assert 'spindle_sheet = "auto"' in text
    assert qc_warnings(ROW) == [text]


def test_where_the_spindle_sheet_rule_ran_and_took_none_the_sentence_does_not_advise_turning_it_on():
    for rule in ("auto", "true"):
        text = stroma_warning({**ROW, "ki67_spindle_sheet_nuclei": 0, "ki67_spindle_sheet_rule": rule})
        assert text.startswith("the cell model left 60 %")
        assert "none of them lies in a crowded sheet of spindle nuclei" in text
        assert "spindle_sheet =" not in text
        assert "--cell-model none" in text
    off = stroma_warning({**ROW, "ki67_spindle_sheet_nuclei": 0, "ki67_spindle_sheet_rule": "false"})
    assert 'spindle_sheet = "auto"' in off


def test_thresholds_and_undefined_figures_give_no_sentence():
    assert STROMA_WARN_PCT == 50.0
    # 99 of 200 detected: below 50 %
    assert stroma_warning({**ROW, "ki67_stromal": 99}) == ""
    assert stroma_warning({**ROW, "ki67_stromal": 100}).startswith("the cell model left 50 %")
    # too few nuclei to say anything
    few = {"ki67_positive": 1, "ki67_negative": 1, "ki67_pigment": 0, "ki67_excluded": STROMA_WARN_MIN - 1,
           "ki67_stromal": STROMA_WARN_MIN - 1}
    assert stroma_warning(few) == ""
    assert stroma_warning({**few, "ki67_excluded": STROMA_WARN_MIN, "ki67_stromal": STROMA_WARN_MIN}) != ""
    # missing, NaN or no nucleus at all: no sentence, never "nan"
    assert stroma_warning({}) == ""
    assert stroma_warning({k: v for k, v in ROW.items() if k != "ki67_pigment"}) == ""
    assert stroma_warning({**ROW, "ki67_stromal": math.nan}) == ""
    assert stroma_warning({**ROW, "ki67_stromal": None}) == ""
    zero = dict.fromkeys(ROW, 0)
    assert stroma_warning(zero) == ""


def test_a_generated_spindle_cell_tumour_gets_it_in_summary_report_and_cli_and_a_round_cell_one_does_not():
    from mmnst_path.cli._quantify import _result_notes
    from mmnst_path.html_report import render_report

    spindle = {**_row("spindle", 1), "input": "spindle.tif", "status": "ok"}
    assert spindle["ki67_spindle_sheet_rule"] == "auto"  # the default, carried to the row the advice reads
    text = stroma_warning(spindle)
    # the shipped H-DAB nucleus model leaves most of the spindle tumour nuclei out (known fault)
    assert text.startswith("the cell model left ")
    share = float(text.split("left ")[1].split(" %")[0])
    assert share >= STROMA_WARN_PCT
    assert text in render_report([spindle])
    assert any(note == f"spindle.tif: {text}" for note in _result_notes([spindle]))

    plain = {**_row("none", 0), "input": "nest.tif", "status": "ok"}
    assert stroma_warning(plain) == ""
    assert "out of the index as stromal" not in render_report([plain])
    assert not any("stromal" in n for n in _result_notes([plain]))


@pytest.mark.parametrize("key", ["ki67_stromal", "ki67_excluded"])
def test_the_metric_keys_are_those_of_the_summary_row(key):
    from mmnst_path.report import SUMMARY_COLUMNS

    assert key in SUMMARY_COLUMNS
