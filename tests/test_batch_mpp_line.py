"""``--mpp`` in a batch (session 42 H9, H5's walk #4): used for the inputs whose file gives no pixel size; the
files that give their own are not each warned about when some input needed ``--mpp`` (one line for the batch),
and are warned about where no input needed it and their value differs by more than 10 %."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.cli import main

FAST = ["--workers", "1", "--stains", "H-DAB", "--measures", "melanin", "--quiet"]


def _tif(path: Path, mpp: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    res = {} if mpp is None else {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"}
    tifffile.imwrite(path, np.full((48, 48, 3), 240, np.uint8), photometric="rgb", **res)


def _warnings(out: Path) -> dict[str, str]:
    return {Path(r["input"]).name: r["warnings"] for r in csv.DictReader((out / "summary.csv").open())}


def test_one_line_when_some_input_needs_mpp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, mpp in (("a.tif", 0.25), ("b.tif", 0.5), ("c.tif", 0.499), ("bare.tif", None)):
        _tif(tmp_path / "in" / name, mpp)
    out = tmp_path / "out"
    assert main(["quantify", str(tmp_path / "in"), "--out", str(out), "--mpp", "1.0", *FAST]) == 0
    err = capsys.readouterr().err
    assert err.count("--mpp 1 used for 1 input whose file gives no pixel size (bare.tif)") == 1
    assert "3 inputs (a.tif, b.tif, c.tif) use the file's own 0.25-0.5 µm/px" in err
    assert "not used" not in err
    rows = _warnings(out)
    assert [rows[n] for n in ("a.tif", "b.tif", "c.tif")] == ["", "", ""]  # plain ok rows
    assert "analysing at 1 µm/px without upsampling" in rows["bare.tif"]  # the one that matters


def test_rows_warn_when_no_input_needs_mpp_and_the_values_differ(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _tif(tmp_path / "in" / "far.tif", 0.25)
    _tif(tmp_path / "in" / "near.tif", 0.499)
    out = tmp_path / "out"
    assert main(["quantify", str(tmp_path / "in"), "--out", str(out), "--mpp", "0.5", *FAST]) == 0
    err = capsys.readouterr().err
    rows = _warnings(out)
    assert "--mpp 0.5 not used: the file gives 0.25 µm/px" in rows["far.tif"]
    assert rows["near.tif"] == ""  # 0.2 % apart: the same pixel size
    assert "used for" not in err
