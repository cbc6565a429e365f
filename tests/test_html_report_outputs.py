"""report.html and nuclei.html as a user reads them (session 32, H6's list): necrosis in mm² without
a tissue model, the nuclei legend in the rings' colours, B − A written one way, a run warning that
does not repeat the input's path in the input's own row."""

from __future__ import annotations

import re

from mmnst_path.html_report import render_nuclei_page, render_report
from mmnst_path.overlay import CLASS_RGB


def _he_row(**kw: object) -> dict[str, object]:
    row: dict[str, object] = {"input": "/data/wsi/he_necrosis.tif", "status": "ok", "stain_names": ["hematoxylin", "eosin"],
                              "melanin_fraction_pct": 0.01, "necrosis_fraction_pct": 37.56, "necrosis_area_mm2": 0.08534}
    row.update(kw)
    return row


def test_necrosis_cell_gives_mm2_and_of_tissue_without_a_tissue_model() -> None:
    """Mutation caught: the necrosis cell without the area (only the tissue-class legend had it)."""
    page = render_report([_he_row()])  # no tissue_classes: --tissue-model none
    cell = re.search(r'<td class="num" data-col="necrosis_fraction_pct"[^>]*>(.*?)</td>', page)
    assert cell is not None
    assert cell.group(1).startswith("37.6")
    assert '<div class="ci" data-col="necrosis_area_mm2" data-value="0.08534">% of tissue; 0.0853 mm²</div>' in cell.group(1)
    ihc = render_report([_he_row(necrosis_fraction_pct=None, necrosis_area_mm2=None)])  # not measured: a dash only
    assert re.search(r'data-col="necrosis_fraction_pct" data-value="">–</td>', ihc)
    assert "mm²</div>" not in ihc


def test_nuclei_legend_shows_the_rings_own_colours() -> None:
    """Mutation caught: "excluded" in #c89600 while the rings are (255, 200, 0)."""
    page = render_nuclei_page("a.tif", [], mpp=0.5)
    for cls, rgb in CLASS_RGB.items():
        assert f'background:#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}"></span>{cls}' in page


def test_comparison_says_b_minus_a_as_its_row_does() -> None:
    cmp = {"a": "x/a.tif", "b": "x/b.tif", "a_index_pct": 5.5, "b_index_pct": 39.2, "difference_pct": 33.7,
           "p_value": 1e-76, "method": "difference b - a; Newcombe hybrid score 95% CI; pooled two-proportion z test"}
    page = render_report([], comparison=cmp)
    assert "b - a" not in page
    assert "difference B − A; Newcombe" in page
    assert "<th>B − A</th>" in page


def test_a_run_warning_does_not_repeat_the_path_in_its_own_row() -> None:
    """Mutation caught: the warning shown as the run wrote it, full path first."""
    warning = "/data/wsi/he_necrosis.tif: --mpp 0.5 not used: the file gives 0.499 µm/px"
    page = render_report([_he_row(warnings=[warning, "he_necrosis.tif: second", "kept: as it is"])])
    assert "⚠ --mpp 0.5 not used: the file gives 0.499 µm/px</div>" in page
    assert "⚠ second</div>" in page
    assert "⚠ kept: as it is</div>" in page
    assert page.count("/data/wsi/he_necrosis.tif") == 1  # data-input
    assert page.count("/<wbr>data/<wbr>wsi/<wbr>he_necrosis.tif") == 1  # the row's own path line (wraps at "/")


def test_the_positivity_rule_shows_a_configured_threshold_as_it_is() -> None:
    """An azure B result records 0.225 (its tiles' threshold): the rule must not read "≥ 0.23".
    Mutation caught: the threshold always printed to 2 decimals. Adapted thresholds keep 2 decimals."""
    def rule(thr: float) -> str:
        row = {"input": "a.png", "status": "ok", "ki67_index_pct": 25.0, "ki67_denominator": 300,
               "ki67_positive_threshold_od": thr, "stain_names": ["azure_b", "dab"]}
        found = re.search(r'<div class="ci rule">(positive at [^<]*)</div>', render_report([row]))
        assert found is not None
        return found.group(1)

    assert rule(0.225) == "positive at DAB ≥ 0.225 OD"
    assert rule(0.35) == "positive at DAB ≥ 0.35 OD"
    assert rule(0.3275) == "positive at DAB ≥ 0.33 OD"  # a weak-stain adapted value: as before


def test_nuclei_page_describes_only_the_fields_it_has() -> None:
    """A real 640 px Ki67 tile has one field (the densest window): the page said "the others are random places
    with nuclei" above it (session 36 H6). Mutation caught: the fixed two-clause sentence."""
    field = {"file": "nuclei_hotspot.png", "title": "densest window", "box": (0, 0, 640, 640),
             "counts": {"positive": 32, "negative": 72}}
    one = render_nuclei_page("bcdata_0.png", [field], mpp=0.25)
    assert "The field is the densest part of the Ki67 hot-spot window." in one
    assert "the others" not in one
    three = render_nuclei_page("a.tif", [field, {**field, "file": "nuclei_field_1.png"},
                                         {**field, "file": "nuclei_field_2.png"}], mpp=0.25)
    assert "The first field is the densest part of the Ki67 hot-spot window; the others are random places" in three
    none = render_nuclei_page("a.tif", [], mpp=0.5, note="no nucleus counted")
    assert "No picture: no nucleus counted" in none
    assert "densest part" not in none
    assert "Click a picture" not in none


def test_an_option_in_an_error_text_stays_on_one_line_and_a_file_name_is_left_alone() -> None:
    """An interrupted input's row read "run the same command with --" / "resume" (session 37 H12's screenshot):
    browsers break after a hyphen. Mutation caught: the option left bare; a '--' inside a file name wrapped too."""
    row = {"input": "/data/slide--1.svs", "status": "not analysed",
           "error": "not analysed (interrupted): run the same command with --resume to analyse it"}
    page = render_report([row])
    cell = re.search(r'<td class="err">(.*?)</td>', page)
    assert cell is not None
    assert '<span class="opt">--resume</span>' in cell.group(1)
    assert ".opt{white-space:nowrap}" in page
    assert 'slide<span class="opt">' not in page
