"""A second Ctrl-C while an interrupted ``quantify`` writes its summaries (session 38 H5).

After the first Ctrl-C the batch writes summary.csv, summary.json and report.html, which then say what
was finished and what was not. A second Ctrl-C in that moment used to stop it between the files:
summary.csv said "not analysed" for the rest while summary.json did not and report.html was missing, and
the one message the user got said "summary.csv and report.html list them". Ctrl-C is now held until all
three are written; the user still gets one message. A Ctrl-C while a complete run writes its final
summaries likewise waits, and the run ends as usual.

Mutations caught: no hold around the interrupted writes (summary.json without ``interrupted``, no
report.html); no hold around the final writes (exit 130, no report.html).
"""

from __future__ import annotations

import csv
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import tifffile

import mmnst_path.pipeline
import mmnst_path.report
from mmnst_path.batch import NOT_ANALYSED
from mmnst_path.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def _inputs(d: Path, n: int) -> Path:
    d.mkdir()
    rgb = tifffile.imread(SAMPLES / "ki67_primary.tif")
    for i in range(n):
        tile = np.ascontiguousarray(rgb[128 * i : 128 * i + 192, :192])
        tifffile.imwrite(d / f"t{i}.tif", tile, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return d


def _ctrl_c_in_summary_csv(monkeypatch: pytest.MonkeyPatch, when: list[bool]) -> list[int]:
    """Press Ctrl-C (a real SIGINT to this process) as summary.csv starts to be written while ``when[0]``."""
    real, pressed = mmnst_path.report.write_summary_csv, []

    def write(*a: object, **kw: object) -> object:
        if when[0] and not pressed:
            pressed.append(1)
            os.kill(os.getpid(), signal.SIGINT)
        return real(*a, **kw)

    monkeypatch.setattr(mmnst_path.report, "write_summary_csv", write)
    return pressed


def test_a_second_ctrl_c_while_the_interrupted_summaries_are_written_leaves_all_three_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    src = _inputs(tmp_path / "in", 3)
    real, calls, interrupted = mmnst_path.pipeline.analyze_slide, [], [False]

    def ctrl_c_on_the_second(*a: object, **kw: object) -> object:
        calls.append(a[0])
        if len(calls) == 2:
            interrupted[0] = True
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(mmnst_path.pipeline, "analyze_slide", ctrl_c_on_the_second)
    pressed = _ctrl_c_in_summary_csv(monkeypatch, interrupted)
    out = tmp_path / "out"
    handler_before = signal.getsignal(signal.SIGINT)  # (SIG_IGN where the suite runs as a background job)
    rc = main(["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67", "--quiet"])
    assert pressed == [1]  # the second Ctrl-C did come
    assert rc == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("mmnst-path: interrupted; ")
    assert "summary.csv and report.html list them" in err[0]
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        assert [r["status"] for r in csv.DictReader(fh)] == ["ok", NOT_ANALYSED, NOT_ANALYSED]
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["interrupted"] is True
    assert [r["status"] for r in doc["rows"]] == ["ok", NOT_ANALYSED, NOT_ANALYSED]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>")
    assert "3 input(s): 1 ok, 0 failed, 2 not analysed." in page
    assert not list(out.rglob("*.tmp"))
    assert signal.getsignal(signal.SIGINT) is handler_before  # Ctrl-C handled again as before the run


def test_a_ctrl_c_while_a_complete_run_writes_its_summaries_waits_and_the_run_ends_as_usual(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    src = _inputs(tmp_path / "in", 2)
    real, calls, last_done = mmnst_path.pipeline.analyze_slide, [], [False]

    def count(*a: object, **kw: object) -> object:
        calls.append(a[0])
        return real(*a, **kw)

    monkeypatch.setattr(mmnst_path.pipeline, "analyze_slide", count)
    real_json = mmnst_path.report.write_summary_json

    def json_then_arm(*a: object, **kw: object) -> object:  # armed once the second input's summaries are out
        done = real_json(*a, **kw)
        if len(calls) == 2:
            last_done[0] = True
        return done

    monkeypatch.setattr(mmnst_path.report, "write_summary_json", json_then_arm)
    pressed = _ctrl_c_in_summary_csv(monkeypatch, last_done)
    out = tmp_path / "out"
    handler_before = signal.getsignal(signal.SIGINT)  # (SIG_IGN where the suite runs as a background job)
    rc = main(["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67", "--quiet"])
    assert pressed == [1]
    assert rc == 0
    assert "report: " in capsys.readouterr().out
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "interrupted" not in doc
    assert [r["status"] for r in doc["rows"]] == ["ok", "ok"]
    assert "2 input(s): 2 ok, 0 failed." in (out / "report.html").read_text(encoding="utf-8")
    assert signal.getsignal(signal.SIGINT) is handler_before
