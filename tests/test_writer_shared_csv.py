"""cells.csv and cells.csv.gz are written from one formatting of the table (session 27 H6), and the
GeoJSON ids are built without ``uuid.UUID`` objects: the files must not change."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mmnst_path import geojson, report
from mmnst_path._geojson_names import _NAMESPACE
from mmnst_path.aggregate import CellTable, LowResMap, SlideResult, TileTable
from mmnst_path.geometry import Box


def _result(n: int = 7) -> SlideResult:
    rng = np.random.default_rng(3)
    cells = CellTable(rng.uniform(0, 60, n), rng.uniform(0, 60, n), rng.integers(0, 3, n).astype(np.int8),
                      {"area_um2": rng.uniform(10, 60, n), "dab_od_mean": np.where(np.arange(n) == 2, np.nan,
                                                                                  rng.uniform(0, 1, n))})
    tiles = TileTable.from_rows([Box(0, 0, 64, 64)], [{"ki67_positive": 1, "ki67_negative": 1, "seconds": 0.1}])
    return SlideResult(input="a/tïle.png", shape=(64, 64), mpp=0.5, analysis_mpp=0.5, measures=("ki67",),
                       metrics={"ki67_index_pct": 50.0}, counts={}, hotspot=None, tiles=tiles, cells=cells,
                       maps={"ki67": LowResMap(np.zeros((1, 1)), 64.0)}, config={}, stains={}, versions={},
                       timings={})


@pytest.mark.parametrize("outputs", [("cells", "cells_gz"), ("cells_gz",), ("cells",)])
def test_csv_files_hold_the_table_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       outputs: tuple[str, ...]) -> None:
    res = _result(120)
    text = report.cells_csv_text(res.cells).encode()
    original = report._cells_csv_chunks
    monkeypatch.setattr(report, "_cells_csv_chunks", lambda cells: original(cells, chunk=16))  # several writes
    paths = report.write_result(res, tmp_path, outputs=outputs)
    assert ("cells" in paths) == ("cells" in outputs)
    assert ("cells_gz" in paths) == ("cells_gz" in outputs)
    if "cells" in outputs:
        assert paths["cells"].read_bytes() == text
    if "cells_gz" in outputs:
        assert gzip.decompress(paths["cells_gz"].read_bytes()) == text
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_failure_while_writing_leaves_both_files_as_they_were(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cells.csv").write_text("old csv")
    (tmp_path / "cells.csv.gz").write_bytes(b"old gz")

    def broken(cells: CellTable) -> Iterator[str]:
        yield "x,y,class\n"
        raise OSError("disk full")

    monkeypatch.setattr(report, "_cells_csv_chunks", broken)
    with pytest.raises(OSError, match="disk full"):
        report.write_result(_result(), tmp_path, outputs=("cells", "cells_gz"))
    assert (tmp_path / "cells.csv").read_text() == "old csv"
    assert (tmp_path / "cells.csv.gz").read_bytes() == b"old gz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.csv", "cells.csv.gz"]


@pytest.mark.parametrize("seed", ["", "a/tile.png", "/data/slïde 1.svs:roi", "C:\\x\\y.ndpi"])
def test_feature_ids_are_uuid5_of_the_input_and_index(seed: str) -> None:
    for i in (0, 1, 9, 12345, 10**7):
        assert geojson._uuid(seed, i) == str(uuid.uuid5(_NAMESPACE, f"{seed}:{i}"))
