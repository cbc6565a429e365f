"""H7's walk of session 43, fixed by H8: the marker per input (#4), double-stain advice on close calls (#6), the
pigment QC bound in every output (#8), preset references and the shipped presets' conditioning words (#9, #10), why
``auto`` chose the stains (#12) and QuPath classes that carry the melanocyte status (#15)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from mmnst_path._batch_stains import input_options, marker_setting, read_manifest
from mmnst_path._qc_text import (
    marker_label,
    melanocytic_pigment_warning,
    melanocytic_text,
    pigment_note,
    qc_notes,
    stains_note,
)
from mmnst_path.aggregate import CELL_CLASSES, CellTable, SlideResult, TileTable
from mmnst_path.batch import BatchOptions
from mmnst_path.cli import main
from mmnst_path.errors import ConfigError
from mmnst_path.geojson import cell_features, cells_from_features, image_measurements, image_metadata
from mmnst_path.geometry import Box
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._results import melanocyte_metrics
from mmnst_path.quantify import Ki67Counts
from mmnst_path.report import summary_row
from mmnst_path.stain import PRESETS, StainConditioningWarning, get_preset
from mmnst_path.stain._guess_warn import warn_if_ambiguous
from mmnst_path.stain._stain_guess import StainGuess
from mmnst_path.stain.places import ChromogenPlaces

#: a Ki67 row where pigment hides 3 of 100 nuclei (3 %: under the 5 % of the warning sentence)
SMALL_BOUND = {"ki67_pigment": 3, "ki67_pigment_obscured_pct": 3.0, "ki67_index_if_obscured_negative_pct": 9.7,
               "ki67_index_if_obscured_positive_pct": 12.6, "ki67_ci_low_pct": 5.5, "ki67_ci_high_pct": 17.4}
DOUBLE = {"ki67_melanocyte_marker": "cytoplasmic", "ki67_melanocytic_index_pct": 20.0,
          "ki67_melanocytic_denominator": 40, "ki67_melanocytic_pigment": 10,
          "ki67_melanocytic_index_if_obscured_negative_pct": 16.0,
          "ki67_melanocytic_index_if_obscured_positive_pct": 36.0}


def _manifest(tmp_path: Path, lines: list[str]) -> Path:
    (tmp_path / "a.tif").write_bytes(b"x")
    (tmp_path / "b.tif").write_bytes(b"x")
    m = tmp_path / "m.csv"
    m.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return m


# ---- #4: the marker per input --------------------------------------------------------------------------------------
def test_manifest_marker_column_per_input(tmp_path: Path) -> None:
    m = _manifest(tmp_path, ["input,stains,marker", "a.tif,H-DAB-AEC,SOX10", "b.tif,H-DAB-FastRed,"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", StainConditioningWarning)  # the check is silent: the run says it once
        rows = read_manifest(m)
    assert [r.marker for r in rows] == ["nuclear", None]
    options = BatchOptions(out_dir=tmp_path / "o", config=AnalysisConfig(stains="auto"),
                           input_stains={str(r.input): r.stains for r in rows},
                           input_marker={str(rows[0].input): "nuclear"})
    assert input_options(options, rows[0].input).config.ki67.melanocyte_marker == "nuclear"
    assert input_options(options, rows[1].input).config.ki67.melanocyte_marker == "auto"


@pytest.mark.parametrize(("line", "said"), [("a.tif,H-DAB,nuclear", "needs a double stain"),
                                            ("a.tif,H-DAB-AEC,membrane", "must be auto, cytoplasmic")])
def test_manifest_marker_refused_naming_the_line(tmp_path: Path, line: str, said: str) -> None:
    m = _manifest(tmp_path, ["input,stains,marker", line])
    with pytest.raises(ConfigError, match="line 2") as info:
        read_manifest(m)
    assert said in str(info.value)


def test_marker_words() -> None:
    assert marker_setting("MART-1", "--melanocyte-marker") == "cytoplasmic"
    assert marker_setting(" sox10 ", "--melanocyte-marker") == "nuclear"
    with pytest.raises(ConfigError, match="--melanocyte-marker must be"):
        marker_setting("brown", "--melanocyte-marker")


def test_an_assumed_marker_is_not_called_mart1() -> None:
    assumed = {**DOUBLE, "ki67_melanocyte_marker_source": "assumed"}
    assert marker_label(assumed) == "cytoplasmic marker, assumed"
    assert "MART-1" not in melanocytic_text(assumed)
    assert melanocytic_text({**DOUBLE, "ki67_melanocyte_marker_source": "chosen"}).startswith(
        "Ki67 in melanocytes (MART-1+)")
    assert melanocytic_text({**DOUBLE, "ki67_melanocyte_marker": "nuclear"}).startswith("Ki67 in melanocytes (SOX10+)")


def _cells(classes: list[str], melanocytic: list[bool]) -> CellTable:
    n = len(classes)
    return CellTable(np.arange(n, dtype=float), np.arange(n, dtype=float),
                     np.array([CELL_CLASSES.index(c) for c in classes], np.int8),
                     {"melanocytic": np.array(melanocytic, dtype=float)})


def test_melanocyte_metrics_source_and_pigment_bound() -> None:
    cells = _cells(["positive", "negative", "negative", "pigment", "pigment", "pigment"],
                   [True, True, False, True, True, False])
    counts = Ki67Counts(positive=1, negative=2, pigment=3, positive_1plus=1, melanocytic_positive=1,
                        melanocytic_negative=1)
    m = melanocyte_metrics(cells, counts, "auto", None)
    assert m["ki67_melanocyte_marker_source"] == "assumed"
    assert m["ki67_melanocytic_pigment"] == 2
    assert m["ki67_melanocytic_index_if_obscured_negative_pct"] == pytest.approx(25.0)
    assert m["ki67_melanocytic_index_if_obscured_positive_pct"] == pytest.approx(75.0)
    assert melanocyte_metrics(cells, counts, "nuclear", None)["ki67_melanocyte_marker_source"] == "chosen"
    assert melanocyte_metrics(cells, counts, "nuclear", {"marker": "nuclear"})["ki67_melanocyte_marker_source"] == (
        "detected")
    none = melanocyte_metrics(_cells([], []), Ki67Counts(), "auto", None)
    assert math.isnan(none["ki67_melanocytic_index_if_obscured_negative_pct"])


# ---- #8: the pigment QC bound in every output ---------------------------------------------------------------------
def test_qc_notes_say_a_small_bound_and_the_melanocytic_one() -> None:
    notes = qc_notes({**SMALL_BOUND, **DOUBLE})
    assert notes[0] == ("pigment hides 3 of the tumour nuclei (3.0 %): the index would be 9.7 % if they were all "
                        "negative, 12.6 % if all positive")  # under 5 %: said, without advice
    big = {**SMALL_BOUND, "ki67_pigment": 30, "ki67_pigment_obscured_pct": 23.0}
    assert qc_notes(big)[0].startswith("pigment hides 23 % of the tumour nuclei")  # the warning's own sentence
    assert notes[-1] == melanocytic_pigment_warning(DOUBLE)
    assert "pigment hides 10 of the melanocytic nuclei (MART-1+, 20.0 %)" in notes[-1]
    assert qc_notes({**SMALL_BOUND, "ki67_pigment": 0}) == []
    assert pigment_note(SMALL_BOUND) == "3 hidden by pigment (3.0 %): index 9.7–12.6 %"
    assert pigment_note({**SMALL_BOUND, "ki67_pigment": 0}) == ""


def _result(metrics: dict[str, object], cells: CellTable | None = None) -> SlideResult:
    cells = cells if cells is not None else CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {})
    return SlideResult(input="a/t.png", shape=(64, 64), mpp=0.5, analysis_mpp=0.5, measures=("ki67",),
                       metrics=metrics, counts={}, hotspot=None,
                       tiles=TileTable.from_rows([Box(0, 0, 64, 64)], [{"seconds": 0.1}]), cells=cells, maps={},
                       config={}, stains={"name": "H-DAB-FastRed", "detection": {"reason": "why it was chosen"}},
                       versions={}, timings={})


def test_summary_api_and_geojson_carry_the_bound(tmp_path: Path) -> None:
    result = _result({**SMALL_BOUND, **DOUBLE})
    row = summary_row(result)
    assert row["qc"] == qc_notes(row) == result.qc
    assert row["qc"][0].startswith("pigment hides 3 of the tumour nuclei")
    measures = image_measurements(result.metrics)
    assert measures["Ki67 95% CI low %"] == 5.5
    assert measures["Ki67 nuclei hidden by pigment %"] == 3.0
    assert measures["Ki67 % if hidden positive"] == 12.6
    assert measures["Melanocytic Ki67 % if hidden negative"] == 16.0
    assert image_metadata(result.metrics)["qc"].startswith("pigment hides 3 of")
    from mmnst_path.report import write_result

    paths = write_result(result, tmp_path / "out", outputs=("geojson",))
    doc = json.loads(paths["geojson"].read_text(encoding="utf-8"))
    (image,) = [f for f in doc["features"] if f["properties"]["objectType"] == "annotation"]
    assert image["properties"]["measurements"]["Ki67 95% CI high %"] == 17.4
    assert image["properties"]["metadata"]["qc"] == " | ".join(result.qc)


def test_report_html_says_a_small_bound_beside_the_ci() -> None:
    from mmnst_path.html_report import _melanocytic_note, _pigment_note

    assert "3 hidden by pigment (3.0 %): index 9.7–12.6 %" in _pigment_note(SMALL_BOUND)
    assert _pigment_note({**SMALL_BOUND, "ki67_pigment": 0}) == ""
    assert "10 of them hidden by pigment: 16.0–36.0 %" in _melanocytic_note(DOUBLE)


# ---- #6: close calls name the double stain ------------------------------------------------------------------------
def _places(**kw: float) -> ChromogenPlaces:
    base = {"brown_bodies_mm2": 20.0, "red_bodies_mm2": 10.0, "red_ring_share": 0.0, "brown_body_deg": 5.0,
            "red_body_deg": -12.0, "dab_bodies_mm2": 0.0}
    return ChromogenPlaces(**{**base, **kw})  # type: ignore[arg-type]


def _said(guess: StainGuess) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_ambiguous(guess, source="t.tif")
    (w,) = caught
    return str(w.message)


def test_a_single_red_close_call_with_a_sox10_candidate_names_the_double_stain() -> None:
    guess = StainGuess("H-AEC", True, "r", -12.0, 0.05, (255.0, 255.0, 255.0), alternative="H-DAB",
                       places=_places(red_bodies_mm2=300.0, dab_bodies_mm2=200.0))
    text = _said(guess)
    assert "pass --stains H-DAB (Python: stains='H-DAB')" in text  # command-line words, the Python form in brackets
    assert "--stains H-DAB-AEC --melanocyte-marker nuclear" in text
    plain = _said(StainGuess("H-AEC", True, "r", -12.0, 0.05, (255.0, 255.0, 255.0), alternative="H-DAB",
                             places=_places()))
    assert "melanocyte-marker" not in plain  # no double-stain candidate: the advice as before


def test_a_double_stain_close_call_says_how_to_keep_it_first() -> None:
    guess = StainGuess("H-DAB-FastRed", True, "r", -30.0, 0.3, (255.0, 255.0, 255.0), alternative="H-AEC",
                       marker="nuclear", places=_places())
    text = _said(guess)
    keep = text.index("keep auto or pass --stains H-DAB-FastRed --melanocyte-marker nuclear")
    assert keep < text.index("; otherwise if the slide is H-AEC, pass --stains H-AEC")
    assert "if it is a single stain, if" not in text  # H12's finding 6: garbled


def test_a_chosen_marker_is_the_one_the_close_call_names_without_keep_auto() -> None:
    # H12's finding 6: --melanocyte-marker nuclear was answered "keep auto or pass ... --melanocyte-marker cytoplasmic"
    guess = StainGuess("H-DAB-FastRed", True, "r", -30.0, 0.3, (255.0, 255.0, 255.0), alternative="H&E",
                       marker="cytoplasmic", places=_places())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_ambiguous(guess, source="t.tif", marker="nuclear")
    text = str(caught[0].message)
    assert "keep auto" not in text
    assert ("if it is a Ki67 / SOX10 double stain (the marker chosen), pass --stains H-DAB-FastRed "
            "--melanocyte-marker nuclear") in text
    assert "cytoplasmic" not in text
    assert "otherwise if the slide is H&E, pass --stains H&E (Python: stains='H&E')" in text


# ---- #9 / #10: presets with references; the shipped preset's conditioning ------------------------------------------
def test_stains_presets_print_each_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stains", "presets"]) == 0
    out = capsys.readouterr().out
    assert out.count("reference: ") == len(PRESETS)
    assert "Landini" in out
    assert "Kamino" in out
    assert "use a preset" not in out  # the flag says what the overlap costs, not to use the preset it is


def test_the_shipped_double_aec_preset_does_not_tell_to_use_a_preset() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        get_preset("H-DAB-AEC")
    (w,) = [w for w in caught if issubclass(w.category, StainConditioningWarning)]
    assert "use a preset" not in str(w.message)
    assert "shipped preset" in str(w.message)
    assert "H-DAB-FastRed" in str(w.message)


# ---- #12 / #15: the auto reason, QuPath melanocyte classes ----------------------------------------------------------
def test_a_confident_calls_reason_is_said() -> None:
    row = summary_row(_result({}))
    assert row["stains_reason"] == "why it was chosen"
    assert stains_note({**row, "stains_source": "detected"}) == "stains H-DAB-FastRed detected: why it was chosen"
    assert stains_note({**row, "stains_source": "detected, a close call: check"}) == ""
    assert stains_note({**row, "stains_source": "chosen"}) == ""


def test_melanocytic_nuclei_get_a_derived_qupath_class_read_back_as_theirs() -> None:
    cells = _cells(["positive", "positive", "negative", "pigment"], [True, False, True, True])
    feats = list(cell_features(cells, shape="point"))
    names = [f["properties"]["classification"]["name"] for f in feats]
    assert names == ["Melanocyte: Positive", "Positive", "Melanocyte: Negative", "Melanocyte: Pigment"]
    back = cells_from_features(feats)
    assert [CELL_CLASSES[c] for c in back.cls] == ["positive", "positive", "negative", "pigment"]


def test_hidden_shares_never_print_zero_nor_round_across_the_warning_line() -> None:
    # H12's finding 4: "1 hidden by pigment (0 %)" and "(SOX10+, 5 %)" for 4.65 % under the 5 % line
    from mmnst_path._qc_text import share_text

    assert share_text(0.2) == "0.2"
    assert share_text(0.04) == "0.04"
    assert share_text(0.0004) == "< 0.001"
    assert share_text(4.65) == "4.7"
    assert share_text(4.96) == "4.96"
    assert share_text(4.9996) == "4.9996"
    assert share_text(5.0) == "5.0"
    one = {**SMALL_BOUND, "ki67_pigment": 1, "ki67_pigment_obscured_pct": 0.2}
    assert pigment_note(one).startswith("1 hidden by pigment (0.2 %)")
    double = {**DOUBLE, "ki67_melanocytic_pigment": 47, "ki67_melanocytic_denominator": 964}
    assert "(MART-1+, 4.6 %)" in melanocytic_pigment_warning(double)  # 47 of 1011 = 4.649 %
