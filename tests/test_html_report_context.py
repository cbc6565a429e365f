"""report.html says how to read each number: the stains, the pixel size and where it came from,
the tissue area; a window with too few nuclei is not called a hot spot; no tissue is a warning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmnst_path.cli import main
from mmnst_path.html_report import render_report

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "wsi"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def _row(**kw):
    base = {"input": "/data/a.svs", "status": "ok", "ki67_index_pct": 20.0, "ki67_denominator": 100,
            "ki67_hotspot_index_pct": 35.0, "ki67_hotspot_nuclei": 120, "hotspot_min_nuclei": 500,
            "ki67_hotspot_meets_min_nuclei": False, "mpp": 0.499, "tissue_area_mm2": 1.234, "stains": "H&E"}  # fmt: skip
    base.update(kw)
    return base


def test_small_window_is_not_called_a_hot_spot():
    html = render_report([_row()])
    assert "not a hot spot: densest window, 120 nuclei (&lt; 500 needed)" in html
    assert '<td class="num dim" data-col="ki67_hotspot_index_pct"' in html
    real = render_report([_row(ki67_hotspot_meets_min_nuclei=True, ki67_hotspot_nuclei=800)])
    assert "not a hot spot" not in real
    assert 'class="num dim"' not in real


def test_stains_pixel_size_source_and_tissue_area_are_shown():
    html = render_report([_row(mpp_source="file", stains_source="detected")])
    assert "stains H&amp;E (detected)" in html
    assert "0.499 µm/px (file)" in html
    assert "tissue 1.23 mm²" in html
    plain = render_report([_row()])
    assert "stains H&amp;E" in plain
    assert "0.499 µm/px" in plain


def test_no_tissue_is_a_warning_not_a_plain_ok():
    html = render_report([_row(tissue_area_mm2=0.0)])
    assert "no tissue found (0 mm²)" in html
    assert 'class="row-warn"' in html
    assert "no tissue" not in render_report([_row()])
    # a failed input is not warned about tissue
    failed = render_report([{"input": "b.svs", "status": "error", "error": "x", "tissue_area_mm2": 0.0}])
    assert "no tissue" not in failed


def test_quantify_report_on_the_tiny_svs_and_a_sample_tile(tmp_path):
    """End to end: the 16x16 SVS has no tissue (warned), the tile shows its stains and mpp."""
    import shutil

    src = tmp_path / "in"
    src.mkdir()
    tiny = SHARED / "openslide-python_small.svs"
    if not tiny.is_file():
        pytest.fail(f"real test data not found at {tiny}")
    shutil.copy(tiny, src / "tiny.svs")
    shutil.copy(SAMPLES / "ki67_primary.tif", src / "ki67_primary.tif")
    out = tmp_path / "out"
    rc = main(["quantify", str(src), "--out", str(out), "--workers", "1", "--quiet"])
    assert rc in (0, 1)
    html = (out / "report.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="(row-\w+)" data-input="([^"]+)"', html)
    kinds = {Path(name).name: cls for cls, name in rows}
    assert kinds.get("tiny.svs") in ("row-warn", "row-error")
    if kinds.get("tiny.svs") == "row-warn":
        assert "no tissue found (0 mm²)" in html
    assert kinds["ki67_primary.tif"] in ("row-ok", "row-warn")
    assert "stains H-DAB" in html
    assert "µm/px" in html
    assert "tissue " in html


def test_ki67_not_measured_on_he_says_why():
    html = render_report([_row(ki67_index_pct=None, ki67_denominator=None, stain_names=["hematoxylin", "eosin", "residual"])])
    assert "not measured: no chromogen in H&amp;E" in html
    ihc = render_report([_row(stain_names=["hematoxylin", "dab", "residual"])])
    assert "no chromogen" not in ihc
    # since session 40 the IHC row's necrosis "–" says why (no eosin), the Ki67 one has nothing to say
    assert ihc.count("not measured") == ihc.count("not measured: no eosin")


def test_pigment_hiding_nuclei_gives_the_index_range_and_the_chromogen_is_named():
    html = render_report([_row(ki67_pigment_obscured_pct=28.0, ki67_index_if_obscured_negative_pct=11.2,
                               ki67_index_if_obscured_positive_pct=36.5)])
    assert "pigment hides 28 % of the tumour nuclei" in html
    assert "the index would be 11.2 % if they were all negative, 36.5 % if all positive" in html
    assert "pigment hides" not in render_report([_row(ki67_pigment_obscured_pct=2.0,
                                                      ki67_index_if_obscured_negative_pct=10.0,
                                                      ki67_index_if_obscured_positive_pct=11.0)])
    red = render_report([_row(stain_names=["hematoxylin", "fast_red"], ki67_positive_threshold_od=0.3)])
    assert "positive at Fast Red ≥ 0.30 OD" in red
    assert "no chromogen" not in red


def test_warnings_span_the_table_in_a_row_below_their_input():
    # long QC sentences (the spindle-cell one is ~300 characters) get a full-width row right after their
    # input's row; the status cell only says how many there are
    long = "the cell model left 68 % of the detected nuclei out of the index as stromal: " + "x" * 200
    html = render_report([_row(input="a.tif", warnings=[long, "second"]), _row(input="b.tif")])
    a = html.index('data-input="a.tif"')
    below = html.index('<tr class="warnrow">', a)
    assert below < html.index('data-input="b.tif"')
    assert html.count('<tr class="warnrow">') == 1
    assert "⚠ 2 warnings below" in html[a:below]
    assert long in html[below:]
    assert "second" in html[below:]
    assert 'colspan="10"' in html[below:]
    assert html[a:below].count("<td") == 11  # the input's own row keeps its 11 columns
