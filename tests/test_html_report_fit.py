"""report.html at 1400 px (session 42 H9, H5's walk #11): the table fits the window, so no cell may hold a long
unbreakable line. Seen in headless Chromium on H5's four slides: 1494 px wide before (melanin 223, necrosis
209, tissue classes 227 px), 1385 px after; the tissue-class legend and the area texts under melanin % and
necrosis % wrap."""

from __future__ import annotations

import re

from mmnst_path.html_report import _CSS, render_report


def _rule(selector: str) -> str:
    found = re.findall(r"(?:^|[\s}])" + re.escape(selector) + r"\{([^}]*)\}", _CSS)
    return ";".join(found)


def test_the_wide_cells_wrap() -> None:
    assert "nowrap" not in _rule("td.classes")  # the class legend wraps between classes and inside a long one
    assert "white-space:normal" in _rule("td.num .ci")  # "% of 0.624 mm² tissue; 0.00211 mm²" wraps
    row = {"input": "/x/he.svs", "status": "ok", "stains": "H&E", "stain_names": ["hematoxylin", "eosin"],
           "melanin_fraction_pct": 0.34, "melanin_area_mm2": 0.00211, "tissue_area_mm2": 0.624,
           "tissue_classes": [{"name": "inflammatory", "colour": [0, 0, 255], "area_mm2": 0.0314,
                               "pct_of_tissue": 5.1}]}
    page = render_report([row])
    assert '<td class="classes"><div class="cls"' in page
    cell = re.search(r'<td class="num"[^>]*data-col="melanin_fraction_pct".*?</td>', page, re.S)
    assert cell is not None
    assert '<div class="ci"' in cell.group(0)  # the area text sits in a .ci under td.num: the rule above applies
