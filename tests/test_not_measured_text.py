"""A "–" that means "this stain cannot give it" says so (session 40; H11's walk in session 39: IHC rows showed
necrosis "–" in the table and report with no reason, H&E rows Ki67 "–" in the table). Mutations caught: the reason
given for a measured-but-undefined value (a Ki67 row with chromogen and no nuclei), for a row without tissue, or
for a failed row; the report's necrosis cell without its note; the CLI without the line under its table."""

from __future__ import annotations

from mmnst_path._qc_text import not_measured_reasons
from mmnst_path.cli._quantify import _not_measured_lines, _print_table
from mmnst_path.html_report import render_report

IHC = {"input": "t/ki67_a.tif", "status": "ok", "stains": "H-DAB", "stain_names": ["hematoxylin", "dab", "residual"],
       "tissue_area_mm2": 0.2, "ki67_denominator": 100, "ki67_index_pct": 10.0, "necrosis_fraction_pct": None,
       "melanin_fraction_pct": 0.0}
HE = {"input": "t/he_a.tif", "status": "ok", "stains": "H&E", "stain_names": ["hematoxylin", "eosin", "residual"],
      "tissue_area_mm2": 0.2, "ki67_denominator": None, "ki67_index_pct": None, "necrosis_fraction_pct": 3.0,
      "necrosis_area_mm2": 0.006, "melanin_fraction_pct": 0.0}


def test_reasons_only_for_a_stain_that_cannot_give_the_measure():
    assert not_measured_reasons(IHC) == {"necrosis": "no eosin in H-DAB (necrosis is read on H&E)"}
    assert not_measured_reasons(HE) == {"ki67": "no chromogen in H&E (Ki67 is read on IHC)"}
    # IHC with chromogen and no nucleus counted: measured, undefined, no stain reason
    assert "ki67" not in not_measured_reasons({**IHC, "ki67_denominator": None, "ki67_index_pct": None})
    assert not_measured_reasons({**IHC, "tissue_area_mm2": 0.0}) == {}  # nothing measured: said elsewhere
    assert not_measured_reasons({**IHC, "status": "error"}) == {}
    assert not_measured_reasons({**IHC, "stain_names": []}) == {}  # an old row: no guess


def test_cli_line_under_the_table_and_report_note(capsys, tmp_path):
    rows = [IHC, {**IHC, "input": "t/ki67_b.tif"}, HE]
    assert _not_measured_lines(rows) == [
        "–  necrosis not measured on ki67_a.tif, ki67_b.tif: no eosin in H-DAB (necrosis is read on H&E)",
        "–  Ki67 not measured on he_a.tif: no chromogen in H&E (Ki67 is read on IHC)",
    ]
    _print_table(rows, tmp_path)
    out = capsys.readouterr().out
    assert "necrosis not measured on ki67_a.tif, ki67_b.tif: no eosin in H-DAB" in out
    page = render_report(rows)
    assert page.count("not measured: no eosin in H-DAB (necrosis is read on H&amp;E)") == 2
    assert "not measured: no chromogen in H&amp;E" in page
