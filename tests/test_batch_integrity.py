"""Batch integrity under odd names, odd files and faults (issue #15) and the CLI contract (#11).

A bad-input corpus generated in tmp_path. Every case checks what a user would see: a one-line
error naming the file and the problem, exit code 1 for a failed input or 2 for a bad option,
the other inputs' results intact, nothing partial left behind, and a summary that agrees with
the result folders.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.batch import LOCK_NAME, output_folders
from mmnst_path.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_tiles"
FAST = ["--workers", "1", "--measures", "ki67", "--stains", "H-DAB"]


# ------------------------------------------------------------------------------------------------
# corpus helpers
def _crop(r0: int = 0, size: int = 256, name: str = "ki67_primary.tif") -> np.ndarray:
    import tifffile

    return np.ascontiguousarray(tifffile.imread(SAMPLES / name)[r0 : r0 + size, :size])


def _tif(path: Path, rgb: np.ndarray, mpp: float | None = 0.5) -> Path:
    import tifffile

    path.parent.mkdir(parents=True, exist_ok=True)
    kw = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"} if mpp else {}
    tifffile.imwrite(path, rgb, photometric="rgb", **kw)
    return path


def _png(path: Path, rgb: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, format="PNG")
    return path


def _sparse_tiff(path: Path, side: int, rows_per_strip: int = 100) -> Path:
    """A valid baseline RGB TIFF of a few KB declaring side x side px, no pyramid, strips never
    written (sparse): what a thumbnail of it must not decode into memory."""
    n = -(-side // rows_per_strip)
    tags = [(256, 4, 1, side), (257, 4, 1, side), (258, 3, 3, None), (259, 3, 1, 1), (262, 3, 1, 2),
            (273, 4, n, None), (277, 3, 1, 3), (278, 4, 1, rows_per_strip), (279, 4, n, None), (284, 3, 1, 1)]
    blobs = {258: struct.pack("<3H", 8, 8, 8), 273: bytes(4 * n), 279: bytes(4 * n)}
    head = bytearray(b"II*\x00" + struct.pack("<IH", 8, len(tags)))
    offset = 8 + 2 + 12 * len(tags) + 4
    tail = bytearray()
    for tag, typ, count, value in tags:
        if tag in blobs:
            head += struct.pack("<HHII", tag, typ, count, offset + len(tail))
            tail += blobs[tag]
        elif typ == 3:
            head += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            head += struct.pack("<HHII", tag, typ, count, value)
    path.write_bytes(bytes(head + struct.pack("<I", 0) + tail))
    return path


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _by_name(out: Path) -> dict[str, dict[str, str]]:
    return {Path(r["input"]).name: r for r in _rows(out)}


def _check_consistent(out: Path) -> dict[str, Path]:
    """The summary agrees with the result folders and nothing partial is left; return
    input -> result folder of the ok rows."""
    rows = _rows(out)
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [r["input"] for r in doc["rows"]] == [r["input"] for r in rows]
    folders = {p for p in out.iterdir() if p.is_dir()}
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != LOCK_NAME], "leftovers"
    assert not list(out.rglob("*.tmp"))
    owner: dict[str, Path] = {}
    for folder in folders:
        assert (folder / "result.json").is_file(), f"partial result folder {folder}"
        res = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        assert res["status"] == "ok"
        owner[res["summary_row"]["input"]] = folder
    ok = {r["input"] for r in rows if r["status"] == "ok"}
    assert set(owner) == ok, "an ok row without its folder, or a folder without its ok row"
    for inp, folder in owner.items():
        res = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        assert res["source"]["path"] == os.path.realpath(inp)  # each folder holds its own input
    for r in rows:
        if r["status"] != "ok":
            assert r["error"], r
            assert "\n" not in r["error"], r
    return owner


def _one_line_error(err: str, *needles: str) -> str:
    """The stderr line holding every needle; there must be exactly one."""
    lines = [ln for ln in err.splitlines() if all(n in ln for n in needles)]
    assert len(lines) == 1, (needles, err)
    return lines[0]


# ------------------------------------------------------------------------------------------------
# 1, 3: folder names
def test_folder_names_never_collide_escape_or_take_reserved_names() -> None:
    files = ["d/a.tif", "d/a-2.tif", "d/a.png", "e/A.TIF", "d/...png", "d/..png", "d/summary.csv.png",
             "d/report.html.tif", "d/x:y?.tif", "d/CON.tif", "d/" + "é" * 200 + ".tif", "d/caf\u00e9.tif",
             "e/cafe\u0301.png", "d/50%#1.tif"]
    names = output_folders(files)
    assert len({unicodedata.normalize("NFC", n).casefold() for n in names}) == len(names)
    for n in names:
        assert n not in (".", "..", "")
        assert "/" not in n
        assert not n.startswith(".")
        assert n.casefold() not in ("summary.csv", "summary.json", "report.html")
        assert not set(n) & set('#%?:*\\"<>|')
        assert len(n.encode()) <= 200
    assert names[1] == "a-2"  # a unique stem stays as it is
    assert names[0].startswith("a-")
    assert names[2].startswith("a-")
    assert names[0] != "a-2" != names[2]
    # stable: the same input gets the same folder whatever the other inputs and their order
    assert output_folders(list(reversed(files)))[::-1] == names


def test_colliding_stems_and_escaping_names_each_keep_their_own_result(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    _tif(src / "a.tif", _crop(0))
    _tif(src / "a-2.tif", _crop(128))
    _png(src / "a.png", _crop(256))
    _png(src / "...png", _crop(384))
    _png(src / "..png", _crop(0, name="ki67_recurrence.tif"))
    _png(src / "summary.csv.png", _crop(128, name="ki67_recurrence.tif"))
    out = tmp_path / "sub" / "out"
    inputs = [str(src), str(src / "...png"), str(src / "..png")]  # hidden names: given explicitly
    assert main(["quantify", *inputs, "--out", str(out), "--mpp", "0.5", *FAST, "--quiet"]) == 0
    owner = _check_consistent(out)
    assert len(owner) == 6
    assert len(set(owner.values())) == 6
    assert all(folder.parent == out for folder in owner.values())  # nothing escaped --out
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["out"]
    assert (out / "summary.csv").is_file()
    first = _by_name(out)
    capsys.readouterr()
    # --resume reuses each input's own result (never another file's numbers)
    assert main(["quantify", *inputs, "--out", str(out), "--mpp", "0.5", *FAST, "--resume"]) == 0
    assert capsys.readouterr().err.count("up to date, skipped") == 6
    again = _by_name(out)
    for name, row in first.items():
        assert {k: v for k, v in again[name].items() if k != "seconds"} == \
            {k: v for k, v in row.items() if k != "seconds"}
    assert len({r["ki67_positive"] + "/" + r["ki67_denominator"] for r in again.values()}) > 3


# ------------------------------------------------------------------------------------------------
# 2: resume keyed on the resolved path and the content
def test_resume_never_reuses_a_result_for_another_or_changed_file(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    _tif(d1 / "s.tif", _crop(0))
    _tif(d2 / "s.tif", _crop(256))
    st = (d1 / "s.tif").stat()
    assert (d2 / "s.tif").stat().st_size == st.st_size
    os.utime(d2 / "s.tif", ns=(st.st_atime_ns, st.st_mtime_ns))  # as after cp -p or a tar extract
    out = tmp_path / "out"
    assert main(["quantify", str(d1 / "s.tif"), "--out", str(out), *FAST, "--quiet"]) == 0
    before = _by_name(out)["s.tif"]
    assert main(["quantify", str(d2 / "s.tif"), "--out", str(out), *FAST, "--resume"]) == 0
    assert "skipped" not in capsys.readouterr().err
    after = _by_name(out)["s.tif"]
    assert after["input"] == str(d2 / "s.tif")
    assert after["ki67_denominator"] != before["ki67_denominator"]
    _check_consistent(out)
    # same path, same size and mtime, other content (a bit flip, mtime restored): redone
    st = (d2 / "s.tif").stat()
    data = bytearray((d2 / "s.tif").read_bytes())
    data[-5000:] = bytes(5000)
    (d2 / "s.tif").write_bytes(bytes(data))
    os.utime(d2 / "s.tif", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert main(["quantify", str(d2 / "s.tif"), "--out", str(out), *FAST, "--resume"]) == 0
    assert "skipped" not in capsys.readouterr().err
    assert _by_name(out)["s.tif"]["ki67_denominator"] != after["ki67_denominator"]
    res = json.loads((out / "s" / "result.json").read_text())
    assert len(res["source"]["sha256"]) == 64


# ------------------------------------------------------------------------------------------------
# 3: --out
def test_empty_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    tif = _tif(tmp_path / "t.tif", _crop())
    monkeypatch.chdir(tmp_path)
    assert main(["quantify", str(tif), "--out", "", *FAST]) == 2
    _one_line_error(capsys.readouterr().err, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.tif"]


def test_out_inside_the_input_folder_is_never_read_as_input(tmp_path: Path) -> None:
    src = tmp_path / "in"
    _tif(src / "t.tif", _crop())
    out = src / "results"
    args = ["quantify", str(src), "--out", str(out), *FAST, "--quiet"]
    assert main(args) == 0
    assert main([*args, "--overwrite"]) == 0
    assert [r["input"] for r in _rows(out)] == [str(src / "t.tif")]  # not its own overlay.png...
    _check_consistent(out)


# ------------------------------------------------------------------------------------------------
# 4: lock
def test_a_concurrent_run_on_the_same_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import fcntl

    tif = _tif(tmp_path / "t.tif", _crop())
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"pid 4242, started 2026-12-02 10:00:00")
        assert main(["quantify", str(tif), "--out", str(out), *FAST]) == 2
    finally:
        os.close(fd)
    line = _one_line_error(capsys.readouterr().err, str(out), "in use by another mmnst-path run")
    assert "pid 4242" in line
    assert not (out / "summary.csv").exists()
    assert main(["quantify", str(tif), "--out", str(out), *FAST, "--quiet"]) == 0  # lock released


# ------------------------------------------------------------------------------------------------
# 5, 6: huge levels and implausible scales
def test_huge_tiff_without_pyramid_fails_fast_and_the_batch_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    huge = _sparse_tiff(src / "huge.tif", 200_000)
    assert huge.stat().st_size < 20_000
    _tif(src / "good.tif", _crop())
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--mpp", "0.5", *FAST, "--quiet"]) == 1
    rows = _by_name(out)
    assert rows["good.tif"]["status"] == "ok"
    err = rows["huge.tif"]["error"]
    assert str(huge) in err
    assert "200000 x 200000" in err
    assert "pyramid" in err
    _check_consistent(out)


def test_huge_level_thumbnail_memory_is_bounded(tmp_path: Path) -> None:
    import resource

    from mmnst_path.io import open_slide

    path = _sparse_tiff(tmp_path / "wide.tif", 12_000)
    with open_slide(path, mpp=0.5) as reader:
        reader.THUMBNAIL_BLOCK_PX = 2**20  # type: ignore[misc]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        thumb = reader.thumbnail(mpp=8.0)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert thumb.shape == (750, 750, 3)
    assert (thumb == 255).all()
    assert grown_mb < 150  # a full-width band alone would be 12000 x 2048 x 3 x 8 B = 590 MB


@pytest.mark.parametrize(
    ("extra", "needles"),
    [(["--mpp", "1e6"], ["--mpp", "0.01 to 100"]), (["--mpp", "1e-6"], ["--mpp", "0.01 to 100"]),
     (["--tile-um", "1"], ["--tile-um", "16 to 16384"]), (["--analysis-mpp", "1e-5"], ["--analysis-mpp", "0.01 to 100"]),
     (["--worker", "2"], ["--worker"]), (["--stains", "no-such"], ["--stains", "no-such"]),
     (["--mpp-override"], ["--mpp-override needs --mpp"])],
)
def test_bad_options_exit_2_with_one_line_naming_the_flag(tmp_path: Path, extra: list[str], needles: list[str],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    tif = _tif(tmp_path / "t.tif", _crop())
    out = tmp_path / "out"
    try:
        code = main(["quantify", str(tif), "--out", str(out), "--workers", "1", *extra])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    line = _one_line_error(capsys.readouterr().err, *needles)
    assert "config key" not in line
    assert not out.exists()


def test_config_file_errors_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tif = _tif(tmp_path / "t.tif", _crop())
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff" * 10)
    tiny = tmp_path / "tiny.toml"
    tiny.write_text("tile_um = 1.0\n")
    text = tmp_path / "text.toml"
    text.write_text('tile_um = "abc"\n')
    coarse = tmp_path / "coarse.toml"
    coarse.write_text("tissue_mpp = 1e-9\n")
    for cfg, needle in ((binary, "UTF-8"), (tmp_path, "folder"), (tiny, "16 to 16384"), (text, "tile_um"),
                        (coarse, "tissue_mpp = 1e-09 µm per pixel"),
                        (tmp_path / "none.toml", "no such file")):
        assert main(["quantify", str(tif), "--out", str(tmp_path / "o"), "--config", str(cfg)]) == 2
        _one_line_error(capsys.readouterr().err, f"--config {cfg}", needle)


# ------------------------------------------------------------------------------------------------
# 7: write failures
def test_full_disk_names_the_path_and_the_other_inputs_still_run(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in"
    for i, name in enumerate(("a", "b", "c")):
        _tif(src / f"{name}.tif", _crop(128 * i))
    out = tmp_path / "out"
    real_mkstemp = tempfile.mkstemp

    def full_for_b(*args, **kw):  # type: ignore[no-untyped-def]
        if kw.get("dir") is not None and Path(kw["dir"]).name == ".b.partial":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_mkstemp(*args, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", full_for_b)
    assert main(["quantify", str(src), "--out", str(out), *FAST, "--quiet"]) == 1
    rows = _by_name(out)
    assert rows["a.tif"]["status"] == rows["c.tif"]["status"] == "ok"
    err = rows["b.tif"]["error"]
    assert "No space left on device" in err
    assert str(out / "b") in err
    assert not (out / "b").exists()
    _check_consistent(out)


def test_full_disk_for_the_summary_is_one_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    for i, name in enumerate(("a", "b")):
        _tif(src / f"{name}.tif", _crop(128 * i))
    out = tmp_path / "out"
    real_mkstemp = tempfile.mkstemp

    def full_for_summaries(*args, **kw):  # type: ignore[no-untyped-def]
        if str(kw.get("prefix", "")).startswith(".summary."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_mkstemp(*args, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", full_for_summaries)
    assert main(["quantify", str(src), "--out", str(out), *FAST, "--quiet"]) == 1
    line = _one_line_error(capsys.readouterr().err, f"cannot write the batch summary to {out}", "No space left")
    assert "Traceback" not in line
    assert (out / "a" / "result.json").is_file()  # every input was still attempted
    assert (out / "b" / "result.json").is_file()


def test_stale_ok_result_does_not_survive_a_new_error_and_partial_folders_are_removed(tmp_path: Path) -> None:
    src = tmp_path / "in"
    _tif(src / "a.tif", _crop(0))
    good = _tif(src / "c.tif", _crop(128))
    out = tmp_path / "out"
    args = ["quantify", str(src), "--out", str(out), *FAST, "--quiet"]
    assert main(args) == 0
    assert (out / "c" / "result.json").is_file()
    good.write_bytes(good.read_bytes()[:300])  # the file became corrupt
    (out / ".x.partial").mkdir()  # a killed run's staging folder
    (out / ".x.partial" / "cells.csv").write_text("x,y\n")
    assert main([*args, "--resume"]) == 1
    rows = _by_name(out)
    assert rows["c.tif"]["status"] == "error"
    assert str(good) in rows["c.tif"]["error"]
    assert rows["a.tif"]["status"] == "ok"
    assert not (out / "c").exists()
    _check_consistent(out)


def test_read_only_out_is_a_one_line_error(tmp_path: Path) -> None:
    """As root (CI) permissions do not stop writes: the run is made as user 'nobody'."""
    import io
    from contextlib import redirect_stderr

    base = Path(tempfile.mkdtemp(prefix="mmnst-ro-"))
    try:
        base.chmod(0o755)
        tif = _tif(base / "t.tif", _crop())
        tif.chmod(0o644)
        out = base / "out"
        out.mkdir()
        out.chmod(0o555)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child process
            try:
                if os.geteuid() == 0:
                    os.setgid(65534)
                    os.setuid(65534)
                buf = io.StringIO()
                with redirect_stderr(buf):
                    code = main(["quantify", str(tif), "--out", str(out), *FAST, "--quiet"])
                os.write(write_fd, f"{code}\n{buf.getvalue()}".encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as fh:
            answer = fh.read().decode()
        os.waitpid(pid, 0)
        code, _, err = answer.partition("\n")
        assert code == "2", answer
        _one_line_error(err, str(out), "not writable")
        assert "Traceback" not in err
        assert list(out.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_unusable_mpp_in_the_metadata_is_named(tmp_path: Path) -> None:
    import tifffile

    svs = tmp_path / "nan.svs"
    tifffile.imwrite(svs, _crop(), photometric="rgb", tile=(128, 128),
                     description="Aperio Image Library v10.0\n256x256 (128x128) -> 256x256 JPEG Q=70|AppMag = 20|MPP = nan")
    good = _tif(tmp_path / "good.tif", _crop(256))
    out = tmp_path / "out"
    assert main(["quantify", str(svs), str(good), "--out", str(out), *FAST, "--quiet"]) == 1
    err = _by_name(out)["nan.svs"]["error"]
    assert str(svs) in err
    assert "MPP = nan" in err
    assert "--mpp" in err
    assert "not in the file's metadata" not in err
    _check_consistent(out)


# ------------------------------------------------------------------------------------------------
# 8: ROIs
def _roi_file(path: Path, ring: list[list[float]]) -> Path:
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": {"objectType": "annotation"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_roi_with_a_nan_vertex_or_outside_the_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tif = _tif(tmp_path / "t.tif", _crop())
    nan = _roi_file(tmp_path / "nan.geojson", [[0, 0], [100, 0], [float("nan"), 100], [0, 100], [0, 0]])
    assert main(["quantify", str(tif), "--out", str(tmp_path / "o1"), *FAST, "--roi", str(nan)]) == 2
    _one_line_error(capsys.readouterr().err, f"--roi {nan}", "not a finite")
    outside = _roi_file(tmp_path / "far.geojson", [[5000, 5000], [6000, 5000], [6000, 6000], [5000, 6000], [5000, 5000]])
    out = tmp_path / "o2"
    assert main(["quantify", str(tif), "--out", str(out), *FAST, "--roi", str(outside), "--quiet"]) == 1
    err = _by_name(out)["t.tif"]["error"]
    assert str(tif) in err
    assert "entirely outside the image" in err
    _check_consistent(out)


# ------------------------------------------------------------------------------------------------
# issue 11, CLI items
def test_mpp_applies_only_to_inputs_without_one_unless_overridden(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    _tif(src / "own.tif", _crop(0), mpp=0.25)
    _tif(src / "bare.tif", _crop(128), mpp=None)
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--mpp", "0.5", *FAST]) == 0
    captured = capsys.readouterr()
    # one line for the batch (session 42 H9: a "--mpp 0.5 not used" warning on own.tif's row before)
    line = _one_line_error(captured.err, "--mpp 0.5 used for 1 input whose file gives no pixel size (bare.tif)")
    assert "1 input (own.tif) uses the file's own 0.25 µm/px" in line
    assert "--mpp-override" in line
    assert "not used" not in captured.err
    assert _by_name(out)["own.tif"]["warnings"] == ""
    assert "UserWarning" not in captured.err + captured.out
    assert ".py:" not in captured.err
    res = {n: json.loads((out / n / "result.json").read_text()) for n in ("own", "bare")}
    assert (res["own"]["mpp_source"], res["bare"]["mpp_source"]) == ("file", "--mpp")
    assert (_by_name(out)["own.tif"]["mpp"], _by_name(out)["bare.tif"]["mpp"]) == ("0.25", "0.5")
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "µm/px (file)" in report
    assert "µm/px (--mpp)" in report
    assert 'href="bare/nuclei.html"' in report  # the nucleus check pictures are linked
    assert main(["quantify", str(src), "--out", str(out), "--mpp", "0.5", "--mpp-override", "--overwrite", *FAST,
                 "--quiet"]) == 0
    assert json.loads((out / "own" / "result.json").read_text())["mpp_source"] == "--mpp-override"
    assert _by_name(out)["own.tif"]["mpp"] == "0.5"


def test_each_error_is_printed_once_and_a_missing_input_writes_no_report(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["quantify", str(tmp_path / "nope.tif"), "--out", str(out), *FAST]) == 1
    _one_line_error(capsys.readouterr().err, "nope.tif", "does not exist")
    assert not out.exists()
    bad = tmp_path / "bad.tif"
    bad.write_text("not an image at all, with a long explanation that a table would wrap word by word")
    good = _tif(tmp_path / "good.tif", _crop())
    for quiet in ([], ["--quiet"]):
        assert main(["quantify", str(bad), str(good), "--out", str(out), *FAST, "--overwrite", *quiet]) == 1
        captured = capsys.readouterr()
        assert (captured.out + captured.err).count("unsupported format") == 1, captured
    _check_consistent(out)


def test_info_bad_mpp_exits_2_like_quantify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tif = _tif(tmp_path / "t.tif", _crop())
    assert main(["info", str(tif), "--mpp", "-1"]) == 2
    _one_line_error(capsys.readouterr().err, "--mpp", "-1")
    assert main(["stains", "estimate", str(tif), "--mpp", "1e6"]) == 2
    _one_line_error(capsys.readouterr().err, "--mpp", "1e+06")
    with pytest.raises(SystemExit) as exc:
        main(["info", str(tif), "--mp", "0.5"])  # no prefix matching
    assert exc.value.code == 2


def test_run_batch_refuses_inputs_inside_its_output_folder(tmp_path: Path) -> None:
    from mmnst_path.batch import BatchOptions, run_batch
    from mmnst_path.pipeline import AnalysisConfig

    out = tmp_path / "out"
    inside = _png(out / "old" / "overlay.png", _crop())
    good = _tif(tmp_path / "good.tif", _crop(256))
    config = AnalysisConfig().replace(stains="H-DAB", measures=["ki67"])
    outcome = run_batch([inside, good], BatchOptions(out_dir=out, config=config, workers=1, mpp=0.5))
    rows = {Path(r["input"]).name: r for r in outcome.rows}
    assert rows["good.tif"]["status"] == "ok"
    assert "inside the output folder" in rows["overlay.png"]["error"]
    assert str(inside) in rows["overlay.png"]["error"]
