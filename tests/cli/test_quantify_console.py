"""What ``mmnst-path quantify`` writes to a console or a log (session 34): the comparison's p-value as the
report writes it, and a line of tiles done every 30 s while a long slide runs without a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmnst_path.cli import main
from mmnst_path.cli._quantify import _PlainProgress
from mmnst_path.html_report import p_value_text


def test_p_value_text() -> None:
    assert p_value_text(1.33e-76) == "< 0.001"
    assert p_value_text(0.0123456) == "0.0123"
    assert p_value_text(None) == "–"
    assert p_value_text(float("nan")) == "–"


def test_comparison_line_writes_a_tiny_p_value_as_the_report_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Mutation caught: ``p = 1.33e-76`` under the table while report.html says ``< 0.001``."""
    import mmnst_path.batch as batch

    rows = [{"input": str(tmp_path / n), "status": "ok"} for n in ("a.tif", "b.tif")]
    for r in rows:
        Path(r["input"]).write_bytes(b"")  # never read: the batch is replaced

    def fake_run_batch(files: Any, options: Any, **_: Any) -> Any:
        cmp = {"a": rows[0]["input"], "b": rows[1]["input"], "difference_pct": 33.7, "ci_low_pct": 30.4,
               "ci_high_pct": 37.0, "p_value": 1.33e-76}
        return batch.BatchOutcome(tuple(rows), (), cmp, {"report_html": tmp_path / "out" / "report.html"})

    monkeypatch.setattr(batch, "run_batch", fake_run_batch)
    code = main(["quantify", rows[0]["input"], rows[1]["input"], "--out", str(tmp_path / "out"), "--quiet",
                 "--compare", "a.tif", "b.tif"])
    assert code == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("Ki67 b.tif - a.tif")]
    assert lines == ["Ki67 b.tif - a.tif: +33.7 pp (95% CI +30.4 to +37.0), p < 0.001"]


def test_plain_progress_prints_tiles_done_every_30_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    """Mutation caught: ``tiles`` printing nothing (a 72 s slide, or a 40-minute one, left the log silent)."""
    now = [0.0]
    progress = _PlainProgress(clock=lambda: now[0])
    progress.batch_started(2)
    progress.input_started(0, Path("/slides/a.svs"))
    for t, done in ((10.0, 1), (31.0, 3), (40.0, 4), (62.0, 7), (95.0, 10)):
        now[0] = t
        progress.tiles(done, 10)
    err = capsys.readouterr().err.splitlines()
    assert err == ["[1/2] /slides/a.svs: 3/10 tiles (31 s)", "[1/2] /slides/a.svs: 7/10 tiles (62 s)"]
    progress.input_started(1, Path("/slides/b.svs"))  # a new input starts its own clock
    now[0] = 120.0
    progress.tiles(1, 5)
    assert capsys.readouterr().err == ""


def test_an_error_line_names_the_file_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Mutation caught: ``row['error']`` printed as is ("[2/3] /in/notes.svs: error: UnsupportedFormatError:
    /in/notes.svs: unsupported format..."): the path twice on one line."""
    from mmnst_path.report import error_row, error_text

    row = error_row("/in/notes.svs", "UnsupportedFormatError: /in/notes.svs: unsupported format (first bytes b'this')")
    assert error_text(row) == "UnsupportedFormatError: unsupported format (first bytes b'this')"
    inside = error_row("/in/a.png", "MissingMetadataError: mpp of the image /in/a.png is unknown")
    assert error_text(inside) == inside["error"]  # a path inside the sentence stays
    progress = _PlainProgress()
    progress.batch_started(3)
    progress.input_finished(1, Path("/in/notes.svs"), row, skipped=False, seconds=0.2)
    err = capsys.readouterr().err.splitlines()
    assert err == ["[2/3] /in/notes.svs: error: UnsupportedFormatError: unsupported format (first bytes b'this') (0.2 s)"]


def test_quantify_help_names_every_file_a_result_can_hold(capsys):
    """Session 36 H6: ``quantify --help`` did not name cells.parquet, tissue_classes.png or the nuclei_*.png
    pictures that README.md lists. Mutation caught: the description without them."""
    from mmnst_path.report import RESULT_FILES

    with pytest.raises(SystemExit):
        main(["quantify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in (*RESULT_FILES.values(), "nuclei_hotspot.png", "nuclei_field_N.png", "summary.csv", "report.html"):
        assert name in text, name


def test_top_help_says_models_also_lists(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("models"))
    assert "list" in line
