"""Tests of mmnst_path.report: JSON/CSV serialisation, NaN handling, atomic writes."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.aggregate import CellTable, Hotspot, LowResMap, SlideResult, TileTable
from mmnst_path.geometry import Box
from mmnst_path.report import (
    SCHEMA_VERSION,
    SUMMARY_COLUMNS,
    atomic_write_text,
    cells_csv_text,
    error_row,
    json_ready,
    output_stems,
    summary_row,
    write_result,
    write_summary_csv,
)


def _result(index: float = 25.0) -> SlideResult:
    cells = CellTable(
        np.array([10.0, 20.5]),
        np.array([30.25, 40.0]),
        np.array([0, 1], np.int8),
        {"area_um2": np.array([33.0, 41.5]), "dab_od_mean": np.array([0.5, 0.01]), "intensity_bin": np.array([2, 0])},
    )
    tiles = TileTable.from_rows([Box(0, 0, 64, 64)], [{"ki67_positive": 1, "ki67_negative": 1, "seconds": 0.1}])
    return SlideResult(
        input="a/tile.png",
        shape=(64, 64),
        mpp=0.5,
        analysis_mpp=0.5,
        measures=("ki67",),
        metrics={"ki67_positive": 1, "ki67_negative": 1, "ki67_index_pct": index, "h_score": math.nan,
                 "tissue_area_mm2": 0.001},
        counts={},
        hotspot=Hotspot(Box(0, 0, 64, 64), 0.001, 1, 1, 50.0, 9.5, 90.5, False, True),
        tiles=tiles,
        cells=cells,
        maps={"ki67": LowResMap(np.zeros((1, 1)), 64.0)},
        config={"analysis_mpp": 0.5, "stains": "H-DAB"},
        stains={"name": "H-DAB", "names": ["hematoxylin", "dab"], "vectors": [[0.65, 0.7, 0.29], [0.27, 0.57, 0.78]]},
        versions={"mmnst_path": "0.1.0"},
        timings={"total": 1.5},
    )


def test_json_ready_turns_nan_into_null_and_numpy_into_python() -> None:
    doc = json_ready({"a": np.float32(np.nan), "b": np.arange(3), "c": (np.int64(2), np.bool_(True)), "d": math.inf})
    assert doc == {"a": None, "b": [0, 1, 2], "c": [2, True], "d": None}
    json.dumps(doc, allow_nan=False)


def test_write_result_writes_json_with_schema_config_stains_versions(tmp_path: Path) -> None:
    paths = write_result(_result(), tmp_path / "tile")
    doc = json.loads(paths["result"].read_text())
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["metrics"]["ki67_index_pct"] == 25.0
    assert doc["metrics"]["h_score"] is None  # undefined stays undefined
    assert doc["config"]["stains"] == "H-DAB"
    assert doc["stains"]["names"] == ["hematoxylin", "dab"]
    assert doc["versions"]["mmnst_path"] == "0.1.0"
    assert doc["hotspot"]["box"] == {"row": 0, "col": 0, "height": 64, "width": 64}
    assert doc["cells_by_class"]["positive"] == 1
    assert not list((tmp_path / "tile").glob(".*tmp"))  # no temp file left


def test_cells_csv_has_x_as_column_and_y_as_row() -> None:
    rows = list(csv.DictReader(cells_csv_text(_result().cells).splitlines()))
    assert list(rows[0])[:3] == ["x", "y", "class"]
    assert float(rows[0]["x"]) == 30.25
    assert float(rows[0]["y"]) == 10.0
    assert rows[0]["class"] == "positive"
    assert rows[1]["class"] == "negative"
    assert rows[1]["area_um2"] == "41.5"
    assert rows[0]["intensity_bin"] == "2"
    assert cells_csv_text(CellTable.empty(["area_um2"])) == "x,y,class,area_um2\n"


def test_summary_rows_and_error_rows(tmp_path: Path) -> None:
    ok = summary_row(_result())
    bad = error_row("b/broken.svs", ValueError("not a slide:\n truncated"))
    undefined = summary_row(_result(index=math.nan))
    path = write_summary_csv([ok, bad, undefined], tmp_path / "summary.csv")
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    assert rows[0]["status"] == "ok"
    assert rows[0]["ki67_index_pct"] == "25"
    assert rows[0]["mpp"] == "0.5"
    assert rows[1]["status"] == "error"
    assert rows[1]["error"] == "ValueError: not a slide: truncated"
    assert rows[1]["ki67_index_pct"] == ""
    assert rows[2]["ki67_index_pct"] == ""  # NaN is empty, never 0


def test_atomic_write_replaces_and_cleans_up_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "three")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_output_stems_are_unique() -> None:
    assert output_stems(["a/x.svs", "b/x.svs", "c/X.tif", "y.ome.tif"]) == ["x", "x-2", "X-3", "y.ome"]


def test_cells_csv_streams_in_chunks_identically(tmp_path: Path) -> None:
    from mmnst_path.report import _cells_csv_chunks

    n = 120
    cells = CellTable(np.arange(n, dtype=float), np.arange(n, dtype=float) * 2, np.zeros(n, np.int8),
                      {"area_um2": np.full(n, np.nan)})
    assert "".join(_cells_csv_chunks(cells, chunk=7)) == cells_csv_text(cells)
    rows = list(csv.DictReader(cells_csv_text(cells).splitlines()))
    assert len(rows) == n
    assert rows[-1]["x"] == "238.00"
    assert rows[-1]["area_um2"] == ""  # NaN feature: empty, not "nan"
