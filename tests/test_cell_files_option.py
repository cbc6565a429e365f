"""``--cell-files`` (session 42 H9, H5's walk #14): the per-nucleus table is written once or twice instead of
four times (cells.csv, .csv.gz, .parquet, .geojson: ~1 kB a nucleus in GeoJSON alone on a whole slide)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.cli import main

ARGS = ["--workers", "1", "--stains", "H-DAB", "--measures", "melanin", "--quiet"]


def test_only_the_files_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tif = tmp_path / "a.tif"
    tifffile.imwrite(tif, np.full((48, 48, 3), 240, np.uint8), photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--cell-files", "parquet", *ARGS]) == 0
    names = {p.name for p in (out / "a").iterdir()}
    assert "cells.parquet" in names
    assert not names & {"cells.csv", "cells.csv.gz", "cells.geojson"}
    assert "result.json" in names
    # --resume with the same choice: up to date (the files it did not write are not expected)
    assert main(["quantify", str(tif), "--out", str(out), "--cell-files", "parquet", "--resume",
                 "--workers", "1", "--stains", "H-DAB", "--measures", "melanin"]) == 0
    assert "up to date, skipped" in capsys.readouterr().err
    out2 = tmp_path / "none"
    assert main(["quantify", str(tif), "--out", str(out2), "--cell-files", "none", *ARGS]) == 0
    assert not [p for p in (out2 / "a").iterdir() if p.name.startswith("cells.")]
    assert next(csv.DictReader((out2 / "summary.csv").open()))["status"] == "ok"
    with pytest.raises(SystemExit) as exc:
        main(["quantify", str(tif), "--out", str(tmp_path / "x"), "--cell-files", "xlsx"])
    assert exc.value.code == 2
    assert "--cell-files: expected a comma list of csv,csv.gz,parquet,geojson or 'none', got 'xlsx'" in capsys.readouterr().err
