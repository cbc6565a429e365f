"""``--resume`` with ``--no-geojson-regions`` after a run with the regions (session 42 H11's finding 4).

The regions option changes the written cells.geojson, but it was not part of the request hash: a resumed run asked for
no regions kept the earlier cells.geojson with them and called the input up to date. Now the input is redone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from mmnst_path.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def _regions(folder: Path) -> int:
    doc = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))
    return sum(1 for f in doc["features"] if (f["properties"].get("metadata") or {}).get("mmnst_path") == "measured region")


def test_resume_without_regions_redoes_an_input_written_with_them(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in"
    src.mkdir()
    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / "he_necrosis.tif")[:256, :256])
    tifffile.imwrite(src / "he.tif", rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1"]) == 0
    assert _regions(out / "he") > 0
    capsys.readouterr()
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--resume", "--no-geojson-regions"]) == 0
    said = capsys.readouterr()
    assert "up to date" not in said.out + said.err
    assert _regions(out / "he") == 0
    # and the same request again is up to date
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--resume", "--no-geojson-regions"]) == 0
    said = capsys.readouterr()
    assert "up to date" in said.out + said.err  # the progress line (stderr) says it was skipped
