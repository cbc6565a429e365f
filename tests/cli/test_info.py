"""``mmnst-path info``: per-slide facts, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mmnst_path.cli import main

CMU = "wsi/CMU-1-Small-Region.svs"
TCGA = "wsi/tcga-cr-7395-01a-01-ts1.svs"


def test_text_output_for_an_svs(shared_data, capsys):
    assert main(["info", str(shared_data / CMU)]) == 0
    out = capsys.readouterr().out
    assert "tifffile (aperio)" in out
    assert "0: 2967 x 2220 px" in out
    assert "mpp          0.499 µm/px" in out
    assert "objective    20x" in out
    assert "associated   label, macro, thumbnail" in out
    assert "mm²" in out


def test_json_output(shared_data, capsys):
    assert main(["info", "--json", str(shared_data / CMU), str(shared_data / TCGA)]) == 0
    cmu, tcga = json.loads(capsys.readouterr().out)
    assert cmu["level_shapes"] == [[2967, 2220]]
    assert cmu["mpp"] == pytest.approx(0.499)
    assert cmu["objective_power"] == 20
    assert cmu["associated_images"] == ["label", "macro", "thumbnail"]
    assert 0 < cmu["tissue_area_mm2"] < 2967 * 2220 * 0.499**2 / 1e6
    assert 0 < cmu["tissue_fraction"] < 1
    assert tcga["level_shapes"] == [[3567, 4443], [1783, 2221]]
    assert tcga["level_downsamples"][1] == pytest.approx(2.0005, abs=1e-3)
    assert tcga["mpp"] is None
    assert tcga["tissue_area_mm2"] is None
    assert any("microns per pixel unknown" in w for w in tcga["warnings"])


def test_mpp_override_gives_an_area(shared_data, capsys):
    assert main(["info", "--json", "--mpp", "0.5", str(shared_data / TCGA)]) == 0
    (tcga,) = json.loads(capsys.readouterr().out)
    assert tcga["mpp"] == 0.5
    assert tcga["tissue_area_mm2"] > 0


def test_bad_inputs_one_line_each_and_others_still_print(shared_data, tmp_path, capsys):
    empty = tmp_path / "empty.svs"
    empty.write_bytes(b"")
    text = tmp_path / "notes.svs"
    text.write_text("not a slide")
    cut = tmp_path / "cut.svs"
    cut.write_bytes((shared_data / CMU).read_bytes()[:500_000])
    png = tmp_path / "unsupported.xyz"
    png.write_bytes(b"\x00\x01garbage" * 10)
    missing = tmp_path / "missing.svs"
    args = ["info", str(missing), str(empty), str(shared_data / CMU), str(text), str(cut), str(png)]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "0: 2967 x 2220 px" in captured.out
    errors = captured.err.strip().splitlines()
    assert len(errors) == 5
    expected = [
        (missing, "no such file"),
        (empty, "empty file"),
        (text, "unsupported format"),
        (cut, "truncated or damaged"),
        (png, "unsupported format"),
    ]
    for line, (path, reason) in zip(errors, expected, strict=True):
        assert line.startswith(f"mmnst-path: error: {path}: ")
        assert reason in line
    assert "Traceback" not in captured.err


def test_folder_is_expanded(shared_data, capsys):
    assert main(["info", "--no-tissue", str(shared_data / "wsi")]) == 0
    out = capsys.readouterr().out
    assert out.count("backend      tifffile (aperio)") == 3


def test_console_entry_never_prints_a_traceback(tmp_path):
    bad = tmp_path / "bad.svs"
    bad.write_bytes(b"II*\x00" + b"\xff" * 64)  # TIFF magic, nonsense IFD offset
    proc = subprocess.run(
        [sys.executable, "-m", "mmnst_path", "info", str(bad)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith(f"mmnst-path: error: {bad}: ")
    assert "Traceback" not in proc.stderr


def test_output_into_a_closed_pipe_ends_quietly(monkeypatch) -> None:
    """`mmnst-path models list | head -1`: the reader goes away; no traceback, exit 141 (SIGPIPE)."""
    import os
    import sys

    from mmnst_path.cli import main

    r, w = os.pipe()
    os.close(r)  # nobody reads: the first write fails with BrokenPipeError
    out = os.fdopen(w, "w", buffering=1)
    monkeypatch.setattr(sys, "stdout", out)
    try:
        assert main(["models", "list"]) == 141
        out.write("x" * 10)  # stdout now leads to the null device: writing and flushing no longer fail
        out.flush()
    finally:
        out.close()
