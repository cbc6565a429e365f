"""A row where nothing was measured (no tissue) says so once and shows no measurement (session 36 H11, L3),
and the command line's table notes are whole lines in a log (L8). Each test fails on the code before:
the no-tissue row of openslide-python_small.svs showed the DAB positivity rule, n 0 and a hot-spot note,
summary.csv held its zero counts and no note, and the hot-spot caption wrapped mid-sentence."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from mmnst_path.cli._quantify import _print_table, _result_notes
from mmnst_path.html_report import render_report
from mmnst_path.report import NO_TISSUE_TEXT, nothing_measured, write_summary_csv, write_summary_json


def _empty_row() -> dict[str, Any]:
    """The summary row of a 16 x 16 px SVS without tissue read as H-DAB (as summary_row builds it)."""
    return {
        "input": "/data/wsi/small.svs", "status": "ok", "error": "", "mpp": 0.499, "tissue_area_mm2": 0.0,
        "ki67_positive": 0, "ki67_negative": 0, "ki67_pigment": 0, "ki67_excluded": 0, "ki67_lymphocyte": 0,
        "ki67_stromal": 0, "ki67_denominator": 0, "ki67_index_pct": float("nan"), "ki67_hotspot_nuclei": 0,
        "ki67_hotspot_meets_min_nuclei": False, "ki67_positive_threshold_od": 0.35, "ki67_nuclear_contrast_od": 0.12,
        "ki67_near_black_positive": 0, "ki67_chromogen": "dab", "ki67_counterstain": "hematoxylin",
        "melanin_area_mm2": 0.0, "n_tiles": 0, "seconds": 0.26, "stains": "H-DAB",
        "stain_names": ["hematoxylin", "dab"], "hotspot_min_nuclei": 500, "hotspot_whole_image": True,
        "cell_model": "sha256:7506 nucleus classifier",
        "warnings": ["stains detected as H-DAB, but ambiguous: no chromogen seen"],
    }


def _tile_row(meets: bool = True) -> dict[str, Any]:
    return {
        "input": "tiles/ki67.tif", "status": "ok", "error": "", "mpp": 0.5, "tissue_area_mm2": 0.25,
        "ki67_positive": 30, "ki67_negative": 70, "ki67_denominator": 100, "ki67_excluded": 4, "ki67_index_pct": 30.0,
        "ki67_ci_low_pct": 21.9, "ki67_ci_high_pct": 39.6, "ki67_hotspot_index_pct": 41.0,
        "ki67_hotspot_nuclei": 90, "ki67_hotspot_meets_min_nuclei": meets, "hotspot_min_nuclei": 500,
        "ki67_positive_threshold_od": 0.35, "melanin_fraction_pct": 0.0, "melanin_area_mm2": 0.0,
        "stains": "H-DAB", "stain_names": ["hematoxylin", "dab"], "n_tiles": 1, "seconds": 3.0,
    }


def test_only_an_ok_row_with_zero_tissue_is_empty() -> None:
    assert nothing_measured(_empty_row())
    assert not nothing_measured(_tile_row())
    assert not nothing_measured({**_empty_row(), "status": "error"})
    assert not nothing_measured({**_empty_row(), "tissue_area_mm2": None})


def test_summary_files_leave_the_measures_empty_and_say_why(tmp_path: Path) -> None:
    rows = [_empty_row(), _tile_row()]
    write_summary_csv(rows, tmp_path / "summary.csv")
    empty, tile = list(csv.DictReader((tmp_path / "summary.csv").open(encoding="utf-8")))
    assert empty["status"] == "ok"
    assert empty["tissue_area_mm2"] == "0"
    assert empty["mpp"] == "0.499"
    assert empty["error"] == ""  # not an error: a user filtering the column for failures finds none
    stain_keys = {"ki67_chromogen", "ki67_counterstain", "ki67_melanocyte_marker"}
    measured = [k for k, v in empty.items() if v and k.startswith(("ki67_", "melanin_", "necrosis_", "h_score"))
                and k not in stain_keys]
    assert measured == []  # no "0" count, threshold or hot-spot flag where nothing was counted
    # what the stains were read as is not a measurement: kept (session 36 H16's review)
    assert (empty["ki67_chromogen"], empty["ki67_counterstain"]) == ("dab", "hematoxylin")
    assert empty["cell_model"]
    assert empty["n_tiles"] == "0"
    assert tile["ki67_positive"] == "30"
    assert tile["error"] == ""
    assert tile["ki67_hotspot_meets_min_nuclei"] == "true"
    write_summary_json(rows, tmp_path / "summary.json")
    doc = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert doc["n_ok"] == 2
    assert doc["failures"] == []
    assert doc["rows"][0]["ki67_denominator"] is None
    assert doc["rows"][0]["error"] == ""
    assert rows[0]["ki67_denominator"] == 0  # the caller's row is not changed


def test_report_row_says_nothing_was_measured_once() -> None:
    page = render_report([_empty_row(), _tile_row()])
    empty, tile = _rows(page)
    assert empty.count("nothing was measured") == 1
    assert "positive at DAB" not in empty  # no positivity rule, hot-spot note or "whole image" for nothing
    assert "not a hot spot" not in empty
    assert "whole image" not in empty
    assert 'data-col="ki67_denominator" data-value="">–' in empty
    assert "no chromogen seen" in empty  # the run's own warning stays
    assert "positive at DAB ≥ 0.35 OD" in tile
    assert 'data-value="100">100' in tile


def _rows(page: str) -> tuple[str, str]:
    """The HTML of the two inputs' rows (each with its warning row)."""
    body = page.split("<tbody>", 1)[1]
    first = body.index('data-input="/data/wsi/small.svs"')
    second = body.index('data-input="tiles/ki67.tif"')
    return body[first:second], body[second:]


def _table_lines(capsys: pytest.CaptureFixture[str], rows: list[dict[str, Any]]) -> list[str]:
    _print_table(rows, Path("/tmp/out"))
    for line in _result_notes(rows):
        print(line)
    return capsys.readouterr().out.splitlines()


def test_command_line_row_shows_dashes_and_one_note(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _table_lines(capsys, [_empty_row(), _tile_row()])
    (row,) = [ln for ln in lines if "small.svs" in ln and "│" in ln]
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[1] == "ok ⚠"  # its row carries a warning (the ambiguous stains), as report.html marks it
    assert cells[2] == "H-DAB"  # the stains column (session 41 H8)
    assert cells[3:] == ["–"] * 7, cells
    assert [ln for ln in lines if "nothing was measured" in ln] == [f"small.svs: {NO_TISSUE_TEXT}"]


def test_hot_spot_note_is_one_whole_line_in_a_log(capsys: pytest.CaptureFixture[str]) -> None:
    """stdout is captured (not a terminal): the caption a rich table wraps to its width is one line."""
    lines = _table_lines(capsys, [_tile_row(meets=False)])
    note = ("(hot spot %): not a hot spot, no window holds the 500 tumour nuclei one needs; "
            "the number is the densest window's")
    assert note in lines
    assert any("(41.0)" in ln for ln in lines)


def test_report_paths_break_between_folders() -> None:
    """L9: a path wraps after a "/" (``<wbr>``), never mid-name (the CSS broke it "anywhere")."""
    path = "/tmp/a_rather_long_folder_name/another_long_folder_name_here/notes.png"
    error = {"input": path, "status": "error", "error": f"UnsupportedFormatError: {path}: not an image; see /tmp/x/y"}
    page = render_report([{**_tile_row(), "input": path}, error])
    assert '<div class="path">/<wbr>tmp/<wbr>a_rather_long_folder_name/<wbr>another_long_folder_name_here/<wbr>notes.png</div>' in page
    assert '<td class="err">UnsupportedFormatError: not an image; see /<wbr>tmp/<wbr>x/<wbr>y</td>' in page
    assert f'data-input="{path}"' in page  # the attribute keeps the path as it is
