"""summary.csv and result.json say whether the hot spot's window held the minimum of tumour nuclei
(``ki67_hotspot_meets_min_nuclei``), next to ``ki67_hotspot_nuclei``, as pandas reads them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmnst_path.aggregate import CellTable, Hotspot, SlideResult, TileTable
from mmnst_path.geometry import Box
from mmnst_path.report import SUMMARY_COLUMNS, summary_row, write_result, write_summary_csv


def _result(meets: bool | None) -> SlideResult:
    metrics: dict[str, object] = {"melanin_fraction_pct": 2.0}
    hotspot = None
    if meets is not None:
        nuclei = 800 if meets else 289
        metrics.update(ki67_index_pct=20.0, ki67_hotspot_index_pct=30.0, ki67_hotspot_nuclei=nuclei, h_score=5.0)
        hotspot = Hotspot(Box(0, 0, 64, 64), 0.001, 3, 7, 30.0, 9.5, 60.0, meets, True)
    return SlideResult(
        input="a/tile.png", shape=(64, 64), mpp=0.5, analysis_mpp=0.5,
        measures=("ki67", "melanin") if meets is not None else ("melanin",), metrics=metrics, counts={},
        hotspot=hotspot, tiles=TileTable.from_rows([Box(0, 0, 64, 64)], [{"seconds": 0.1}]),
        cells=CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {}), maps={},
        config={"hotspot_min_nuclei": 500}, stains={}, versions={}, timings={},
    )


def test_summary_csv_tells_a_hot_spot_from_a_short_window(tmp_path: Path) -> None:
    """Mutations caught: the column missing from SUMMARY_COLUMNS; the flag not read from the hot spot
    (always True); written as 0 / 1 or for an input with no hot spot (H&E)."""
    i = SUMMARY_COLUMNS.index("ki67_hotspot_nuclei")
    assert SUMMARY_COLUMNS[i + 1] == "ki67_hotspot_meets_min_nuclei"
    rows = [summary_row(_result(True)), summary_row(_result(False)), summary_row(_result(None))]
    table = pd.read_csv(write_summary_csv(rows, tmp_path / "summary.csv"))
    assert table["ki67_hotspot_meets_min_nuclei"].iloc[:2].tolist() == [True, False]
    assert pd.isna(table["ki67_hotspot_meets_min_nuclei"].iloc[2])
    assert table["ki67_hotspot_nuclei"].iloc[:2].tolist() == [800, 289]


@pytest.mark.parametrize("meets", [True, False])
def test_result_json_metrics_carry_the_flag_next_to_the_nuclei(tmp_path: Path, meets: bool) -> None:
    doc = json.loads(write_result(_result(meets), tmp_path / "o", outputs=())["result"].read_text())
    keys = list(doc["metrics"])
    assert keys[keys.index("ki67_hotspot_nuclei") + 1] == "ki67_hotspot_meets_min_nuclei"
    assert doc["metrics"]["ki67_hotspot_meets_min_nuclei"] is meets
    he = json.loads(write_result(_result(None), tmp_path / "he", outputs=())["result"].read_text())
    assert "ki67_hotspot_meets_min_nuclei" not in he["metrics"]


def test_report_html_reads_the_column_and_the_older_name() -> None:
    """One name (the column) is read everywhere: report.html greys a short window from
    ``ki67_hotspot_meets_min_nuclei`` alone, and from the older ``hotspot_meets_min_nuclei`` of rows
    written before. Mutation caught: report.html reading only the older name (no note from the column)."""
    from mmnst_path.html_report import render_report
    from mmnst_path.report import hotspot_meets_min_nuclei

    row = summary_row(_result(False))
    column_only = {k: v for k, v in row.items() if k != "hotspot_meets_min_nuclei"}
    older = {**{k: v for k, v in row.items() if k != "ki67_hotspot_meets_min_nuclei"}, "hotspot_meets_min_nuclei": False}
    for r in (column_only, older):
        assert hotspot_meets_min_nuclei(r) is False
        assert "not a hot spot: densest window, 289 nuclei (&lt; 500 needed)" in render_report([r])
    assert hotspot_meets_min_nuclei(summary_row(_result(True))) is True
    assert hotspot_meets_min_nuclei(summary_row(_result(None))) is None


def test_summary_rows_carry_the_flag_under_one_name() -> None:
    """Mutation caught: summary_row writing the flag a second time under its older name."""
    for meets in (True, False):
        row = summary_row(_result(meets))
        assert row["ki67_hotspot_meets_min_nuclei"] is meets
        assert "hotspot_meets_min_nuclei" not in row
