"""report.html and nuclei.html as a user reads them (session 32, H6's list): necrosis in mm² without
a tissue model, the nuclei legend in the rings' colours, B − A written one way, a run warning that
does not repeat the input's path in the input's own row."""

from __future__ import annotations

import re

from mmnst_path.html_report import render_report


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
