"""report.html at a laptop's width (session 34, seen in headless Chromium at 1400 px): long texts wrap, so
the tissue-class and error columns stay on screen; an error reads without its path twice and without
words cut in the middle; melanin % says what it is a percentage of and its area, as necrosis % does."""

from __future__ import annotations

import re

from mmnst_path.html_report import _CSS, render_report

LONG = "/work/shared/data/wsi/tcga-cr-7395-01a-01-ts1.svs"


def _rows() -> list[dict[str, object]]:
    he = {"input": LONG, "status": "ok", "stains": "H&E", "stain_names": ["hematoxylin", "eosin"], "mpp": 1.0,
          "mpp_source": "--mpp", "tissue_area_mm2": 10.1, "melanin_fraction_pct": 0.04, "melanin_area_mm2": 0.0043,
          "melanin_tumour_fraction_pct": 0.01, "necrosis_fraction_pct": 1.9, "necrosis_area_mm2": 0.187}
    dab = {"input": "/data/tiles/a_rather_long_folder_name/ki67_primary.tif", "status": "ok", "stains": "H-DAB",
           "stain_names": ["hematoxylin", "dab"], "ki67_index_pct": 5.5, "ki67_ci_low_pct": 4.2,
           "ki67_ci_high_pct": 7.0, "ki67_denominator": 1045, "ki67_hotspot_index_pct": 5.5,
           "ki67_hotspot_ci_low_pct": 4.2, "ki67_hotspot_ci_high_pct": 7.0, "hotspot_whole_image": True,
           "ki67_positive_threshold_od": 0.35}
    bad = {"input": "/tmp/in/mixed/notes.svs", "status": "error",
           "error": "UnsupportedFormatError: /tmp/in/mixed/notes.svs: unsupported format (not TIFF, PNG or JPEG)"}
    return [he, dab, bad]


def test_long_texts_are_never_in_a_nowrap_class() -> None:
    """``.ci`` does not wrap: only short texts (a CI, "% of tissue; X mm²") may use it alone. Mutations
    caught: the input's path, "not measured: no chromogen in H&E" and "whole image (smaller than the
    window)" in plain ``ci`` (the 1400 px screenshot of the TCGA slide lost the error column)."""
    assert re.search(r"\.ci\{[^}]*white-space:nowrap", _CSS)
    page = render_report(_rows())
    nowrap = re.findall(r'<div class="ci"[^>]*>(.*?)</div>', page)
    assert nowrap
    assert max(map(len, nowrap)) <= 32, max(nowrap, key=len)
    assert f'<div class="path">{LONG.replace("/", "/<wbr>")}</div>' in page  # wraps between folders (session 36)
    assert re.search(r"\.path\{[^}]*overflow-wrap:anywhere", _CSS)
    assert "white-space:nowrap" not in re.search(r"\.path\{[^}]*\}", _CSS).group(0)  # type: ignore[union-attr]


def test_an_error_drops_its_leading_path_and_breaks_words_only_when_it_must() -> None:
    """Mutations caught: the error cell repeating the path the input column shows; ``word-break:break-all``
    ("UnsupportedFormatEr / ror" in the screenshot)."""
    page = render_report(_rows())
    cell = re.search(r'<td class="err">([^<]*)</td></tr>', page.split('data-input="/tmp/in/mixed/notes.svs"')[1])
    assert cell is not None
    assert cell.group(1) == "UnsupportedFormatError: unsupported format (not TIFF, PNG or JPEG)"
    assert "break-all" not in _CSS
    assert re.search(r"td\.err\{[^}]*overflow-wrap:anywhere", _CSS)


def test_melanin_cell_says_percent_of_tissue_and_its_area() -> None:
    """Mutation caught: melanin % with no unit base nor area (necrosis % had both)."""
    page = render_report(_rows())
    cell = re.search(r'<td class="num" data-col="melanin_fraction_pct"[^>]*>(.*?)</td>', page)
    assert cell is not None
    assert cell.group(1).startswith("0.04")
    assert '<div class="ci" data-col="melanin_area_mm2" data-value="0.0043">% of tissue; 0.0043 mm²</div>' in cell.group(1)
    assert "0.01 % of tumour" in cell.group(1)
    no_melanin = render_report([{**_rows()[0], "melanin_fraction_pct": None, "melanin_area_mm2": None}])
    assert 'data-col="melanin_area_mm2"' not in no_melanin


def test_the_page_says_what_the_h_score_and_the_area_percentages_are() -> None:
    """Mutation caught: an H-score column with no scale, melanin % with no base, in the page's key."""
    sub = re.search(r'<p class="sub">(.*?)</p>', render_report(_rows()), re.S)
    assert sub is not None
    assert "H-score (0–300) = 1 × % weak + 2 × % moderate + 3 × % strong of the tumour nuclei" in sub.group(1)
    assert "melanin % and necrosis % are of the tissue area" in sub.group(1)
