"""``quantify --resume`` with a narrower ``--cell-files`` than the earlier run (session 42's "what is left", session 43 H6).

The earlier run's per-nucleus tables that the resumed request does not ask for stayed in the result folder, so the
folder no longer matched its request (a fresh run writes only the tables asked for). A resumed input that is up to
date now keeps its result and drops the tables the request left out; the tables it asks for, result.json and the
summary row are the earlier run's, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.cli import main

ARGS = ["--workers", "1", "--stains", "H-DAB", "--measures", "ki67"]
TABLES = {"cells.csv", "cells.csv.gz", "cells.parquet", "cells.geojson"}


def _tile(path: Path) -> Path:
    rng = np.random.default_rng(7)
    rgb = np.full((64, 64, 3), 235, np.uint8)
    for r, c in rng.integers(8, 56, size=(6, 2)):  # a few dark blue nuclei
        rgb[r - 3:r + 3, c - 3:c + 3] = (70, 80, 150)
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return path


def _tables(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} & TABLES


def test_resume_with_fewer_cell_files_leaves_only_the_tables_asked_for(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    tif = _tile(tmp_path / "a.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--quiet", *ARGS]) == 0
    assert _tables(out / "a") == TABLES
    before = {n: (out / "a" / n).read_bytes() for n in ("result.json", "cells.parquet")}
    row = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    capsys.readouterr()
    assert main(["quantify", str(tif), "--out", str(out), "--resume", "--cell-files", "parquet", *ARGS]) == 0
    assert "up to date, skipped" in capsys.readouterr().err  # not re-analysed
    assert _tables(out / "a") == {"cells.parquet"}  # as a fresh run with --cell-files parquet writes
    assert {n: (out / "a" / n).read_bytes() for n in before} == before
    after = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert after["rows"] == row["rows"]  # the stored row, reused
    # a fresh run with the same request writes the same set of files
    fresh = tmp_path / "fresh"
    assert main(["quantify", str(tif), "--out", str(fresh), "--quiet", "--cell-files", "parquet", *ARGS]) == 0
    assert {p.name for p in (fresh / "a").iterdir()} == {p.name for p in (out / "a").iterdir()}
    # 'none' after that: no table left; a wider request again re-analyses and writes them all
    assert main(["quantify", str(tif), "--out", str(out), "--resume", "--cell-files", "none", "--quiet", *ARGS]) == 0
    assert _tables(out / "a") == set()
    assert main(["quantify", str(tif), "--out", str(out), "--resume", *ARGS]) == 0
    assert "up to date" not in capsys.readouterr().err
    assert _tables(out / "a") == TABLES
