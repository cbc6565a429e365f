"""Ctrl-C during a batch: summary.csv, summary.json and report.html say what was finished and what was not
(written whole, never half), and ``--resume`` completes the folder to what an uninterrupted run writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

import mmnst_path.pipeline
from mmnst_path.batch import NOT_ANALYSED, NOT_ANALYSED_REASON
from mmnst_path.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def _inputs(d: Path, n: int) -> Path:
    d.mkdir()
    for i in range(n):
        name = "ki67_primary.tif" if i % 2 else "ki67_recurrence.tif"
        rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / name)[128 * i : 128 * i + 256, :256])
        tifffile.imwrite(d / f"t{i}.tif", rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return d


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _no_seconds(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_ctrl_c_after_one_input_leaves_a_complete_folder_and_resume_fills_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    src = _inputs(tmp_path / "in", 3)
    args = ["quantify", str(src), "--workers", "1", "--measures", "ki67", "--quiet"]
    ref = tmp_path / "ref"
    assert main([*args, "--out", str(ref)]) == 0

    real, calls = mmnst_path.pipeline.analyze_slide, []

    def ctrl_c_on_the_second(*a: object, **kw: object) -> object:
        calls.append(a[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(mmnst_path.pipeline, "analyze_slide", ctrl_c_on_the_second)
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 130
    assert "summary.csv and report.html" in capsys.readouterr().err
    monkeypatch.setattr(mmnst_path.pipeline, "analyze_slide", real)

    rows = _rows(out)
    assert [Path(r["input"]).name for r in rows] == ["t0.tif", "t1.tif", "t2.tif"]
    assert [r["status"] for r in rows] == ["ok", NOT_ANALYSED, NOT_ANALYSED]
    assert rows[1]["error"] == NOT_ANALYSED_REASON
    assert _no_seconds(rows[:1]) == _no_seconds(_rows(ref)[:1])  # the finished input as an uninterrupted run has it
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["interrupted"] is True
    assert [r["status"] for r in doc["rows"]] == ["ok", NOT_ANALYSED, NOT_ANALYSED]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>")
    assert "This run was interrupted: 2 input(s) not analysed yet" in page
    assert "3 input(s): 1 ok, 0 failed, 2 not analysed." in page
    assert page.count('<span class="bad">not analysed</span>') == 2
    assert (out / "t0" / "result.json").is_file()
    assert not (out / "t1").exists()
    assert not (out / "t2").exists()
    assert not list(out.rglob("*.tmp"))
    assert not list(out.glob(".*.partial"))

    first = (out / "t0" / "result.json").stat().st_mtime_ns
    assert main([*args, "--out", str(out), "--resume"]) == 0
    assert (out / "t0" / "result.json").stat().st_mtime_ns == first  # kept, not redone
    assert _no_seconds(_rows(out)) == _no_seconds(_rows(ref))
    done = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "interrupted" not in done
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "not analysed" not in page
    assert "3 input(s): 3 ok, 0 failed." in page


def test_ctrl_c_before_any_input_finished_writes_no_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _inputs(tmp_path / "in", 1)

    def ctrl_c(*_a: object, **_kw: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(mmnst_path.pipeline, "analyze_slide", ctrl_c)
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--quiet"]) == 130
    assert sorted(p.name for p in out.iterdir()) == []  # a plain rerun is not refused (and no lock file is left)
