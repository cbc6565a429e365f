"""Each percentage of tissue names the tissue it is of (session 37 H7's N1): summary.csv carries
``necrosis_tissue_mm2`` and ``melanin_tissue_mm2`` beside the fractions, and report.html writes the base under
the % when it is not the row's ``tissue_area_mm2`` (each stage measures its own tissue: necrosis read
"26.5 % of tissue; 0.063 mm²" under a 0.256 mm² tissue row while its base was 0.237 mm²)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmnst_path.aggregate import CellTable, SlideResult, TileTable
from mmnst_path.geometry import Box
from mmnst_path.html_report import render_report
from mmnst_path.quantify._necrosis_params import NecrosisCounts, necrosis_metrics
from mmnst_path.report import SUMMARY_COLUMNS, summary_row, write_summary_csv


def _counts(**kw: float) -> NecrosisCounts:
    values = dict.fromkeys((f.name for f in NecrosisCounts.__dataclass_fields__.values()), 0.0)
    values.update(kw)
    return NecrosisCounts(**values)


def _result(metrics: dict, counts: dict) -> SlideResult:
    return SlideResult(
        input="a/he.tif", shape=(64, 64), mpp=0.5, analysis_mpp=0.5, measures=("necrosis", "melanin"),
        metrics=metrics, counts=counts, hotspot=None,
        tiles=TileTable.from_rows([Box(0, 0, 64, 64)], [{"seconds": 0.1}]),
        cells=CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {}), maps={}, config={}, stains={},
        versions={}, timings={},
    )


def test_necrosis_metrics_carry_their_base_and_the_summary_writes_both_bases(tmp_path: Path) -> None:
    """Mutations caught: the base missing from the metrics or the columns; the base taken from the region."""
    m = necrosis_metrics(_counts(necrosis_um2=62976.0, tissue_um2=237248.0, region_um2=259788.0))
    assert m["necrosis_tissue_mm2"] == pytest.approx(0.237248)
    assert m["necrosis_fraction_pct"] == pytest.approx(100 * 0.062976 / m["necrosis_tissue_mm2"])
    for fraction, base in (("necrosis_fraction_pct", "necrosis_tissue_mm2"), ("melanin_fraction_pct", "melanin_tissue_mm2")):
        assert SUMMARY_COLUMNS.index(base) == SUMMARY_COLUMNS.index(fraction) + 1
    metrics = {"tissue_area_mm2": 0.255904, "melanin_area_mm2": 0.0, "melanin_fraction_pct": 0.0,
               "melanin_tissue_mm2": 0.2397245, **m}
    old = {k: v for k, v in metrics.items() if k != "necrosis_tissue_mm2"}  # a result.json of before the column
    rows = [summary_row(_result(metrics, {})),
            summary_row(_result(old, {"necrosis": {"necrosis_um2": 62976.0, "tissue_um2": 237248.0}})),
            summary_row(_result(old, {"necrosis": _counts(necrosis_um2=62976.0, tissue_um2=237248.0)})),
            summary_row(_result({"melanin_fraction_pct": 1.0}, {}))]  # no necrosis measured: no base
    table = pd.read_csv(write_summary_csv(rows, tmp_path / "summary.csv"))
    assert table["necrosis_tissue_mm2"].iloc[:3].tolist() == pytest.approx([0.237248] * 3, rel=1e-5)
    assert pd.isna(table["necrosis_tissue_mm2"].iloc[3])
    assert table["melanin_tissue_mm2"].iloc[0] == pytest.approx(0.2397245, rel=1e-5)  # csv: 6 digits


def _row(**kw: object) -> dict[str, object]:
    row: dict[str, object] = {"input": "/data/he.tif", "status": "ok", "stain_names": ["hematoxylin", "eosin"],
                              "tissue_area_mm2": 0.255904, "melanin_fraction_pct": 0.0, "melanin_area_mm2": 0.0,
                              "necrosis_fraction_pct": 26.5444, "necrosis_area_mm2": 0.062976}
    row.update(kw)
    return row


def _cell(page: str, col: str) -> str:
    found = re.search(rf'<td class="num" data-col="{col}"[^>]*>(.*?)</td>', page)
    assert found is not None
    return found.group(1)


def test_the_report_names_a_base_that_is_not_the_tissue_row() -> None:
    """Mutations caught: the base never written; written when it reads as the tissue row's own area."""
    page = render_report([_row(necrosis_tissue_mm2=0.237248, melanin_tissue_mm2=0.2397245)])
    assert '">% of 0.237 mm² tissue; 0.063 mm²</div>' in _cell(page, "necrosis_fraction_pct")
    assert '">% of 0.24 mm² tissue; 0 mm²</div>' in _cell(page, "melanin_fraction_pct")
    same = render_report([_row(necrosis_tissue_mm2=0.2561, melanin_tissue_mm2=0.0)])  # 0.256 as the row: no repeat
    assert '">% of tissue; 0.063 mm²</div>' in _cell(same, "necrosis_fraction_pct")
    assert '">% of tissue; 0 mm²</div>' in _cell(same, "melanin_fraction_pct")  # an empty base: not named
    older = render_report([_row()])  # rows of before the columns
    assert '">% of tissue; 0.063 mm²</div>' in _cell(older, "necrosis_fraction_pct")
