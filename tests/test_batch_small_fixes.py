"""Small inconsistencies of H5's whole-slide walk (session 42 H9, #12): no lock file (with a dead pid) left in
--out; a manifest's mpp is labelled "manifest", not "--mpp"; a manifest's relative inputs are named as a folder
run from the same place names them; cells.parquet says the unit of x and y."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.batch import LOCK_NAME
from mmnst_path.cli import main

FAST = ["--workers", "1", "--stains", "H-DAB", "--measures", "melanin", "--quiet"]


def _tif(path: Path, mpp: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    res = {} if mpp is None else {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"}
    tifffile.imwrite(path, np.full((48, 48, 3), 240, np.uint8), photometric="rgb", **res)


def _rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "summary.csv").open()))


def test_no_lock_file_is_left(tmp_path: Path) -> None:
    _tif(tmp_path / "a.tif", 0.5)
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text("pid 999999, started 2026-12-01 10:00:00\n")  # a dead run's, unlocked
    assert main(["quantify", str(tmp_path / "a.tif"), "--out", str(out), *FAST]) == 0
    assert not (out / LOCK_NAME).exists()
    assert main(["quantify", str(tmp_path / "a.tif"), "--out", str(out), *FAST, "--resume"]) == 0
    assert not (out / LOCK_NAME).exists()


def test_manifest_inputs_and_mpp_as_a_folder_run_names_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _tif(tmp_path / "slides" / "own.tif", 0.5)
    _tif(tmp_path / "slides" / "bare.tif", None)
    (tmp_path / "list.csv").write_text("input,stains,mpp\nslides/own.tif,H-DAB,\nslides/bare.tif,H-DAB,0.5\n")
    assert main(["quantify", "--manifest", "list.csv", "--out", "m", *FAST]) == 0
    assert main(["quantify", "slides", "--out", "f", "--mpp", "0.5", *FAST]) == 0
    manifest = {r["input"]: r for r in _rows(tmp_path / "m")}
    folder = {r["input"]: r for r in _rows(tmp_path / "f")}
    assert set(manifest) == set(folder) == {os.path.join("slides", "own.tif"), os.path.join("slides", "bare.tif")}
    assert manifest[os.path.join("slides", "bare.tif")]["mpp_source"] == "manifest"
    assert folder[os.path.join("slides", "bare.tif")]["mpp_source"] == "--mpp"
    assert manifest[os.path.join("slides", "own.tif")]["mpp_source"] == "file"


def test_parquet_says_the_unit_of_x_and_y(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from mmnst_path.aggregate import CellTable
    from mmnst_path.report import cells_parquet_bytes

    cells = CellTable(np.array([1.0]), np.array([2.0]), np.array([0], np.int8))
    (tmp_path / "c.parquet").write_bytes(cells_parquet_bytes(cells))
    meta = pq.read_schema(tmp_path / "c.parquet").metadata
    units = json.loads(meta[b"mmnst_path.units"])
    assert units["x"].startswith("level-0 pixels, column")
    assert units["y"].startswith("level-0 pixels, row")
