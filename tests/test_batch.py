"""Batch reliability: bad inputs give per-input errors, resume rules, kill -9 + --resume, Dask."""

from __future__ import annotations

import csv
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.batch import check_input
from mmnst_path.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_tiles"


def _crop(name: str, size: int = 256, r0: int = 0) -> np.ndarray:
    import tifffile

    return tifffile.imread(SAMPLES / name)[r0 : r0 + size, :size]


def _tif(path: Path, rgb: np.ndarray, mpp: float = 0.5, **kw: object) -> Path:
    import tifffile

    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(1e4 / mpp, 1e4 / mpp), resolutionunit="CENTIMETER", **kw)
    return path


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return {Path(r["input"]).name: r for r in csv.DictReader(fh)}


def _bad_folder(d: Path, shared_data: Path) -> None:
    from PIL import Image

    d.mkdir()
    (d / "zero.svs").write_bytes(b"")
    svs = (shared_data / "wsi" / "CMU-1-Small-Region.svs").read_bytes()
    (d / "truncated.svs").write_bytes(svs[: len(svs) // 3])
    (d / "text.svs").write_text("this is a text file, not a slide\n")
    # a JPEG-tiled TIFF whose second tile is overwritten with zeros
    rgb = _crop("ki67_primary.tif", 256)
    _tif(d / "corrupt_tile.tif", rgb, tile=(128, 128), compression="jpeg")
    import tifffile

    with tifffile.TiffFile(d / "corrupt_tile.tif") as tf:
        off, n = tf.pages[0].dataoffsets[1], tf.pages[0].databytecounts[1]
    data = bytearray((d / "corrupt_tile.tif").read_bytes())
    data[off + 20 : off + n] = bytes(n - 20)
    (d / "corrupt_tile.tif").write_bytes(bytes(data))
    Image.fromarray((np.arange(128 * 128).reshape(128, 128) * 3).astype(np.uint16)).save(d / "sixteen_bit.png")
    Image.fromarray(rgb[..., 1]).save(d / "grey.png")
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(d / "palette.png")
    Image.fromarray(np.full((128, 128, 3), 248, np.uint8)).save(d / "no_tissue.png")
    # a 64x64 tiled TIFF whose header is patched to claim 100000 x 100000 pixels
    _tif(d / "huge_header.tif", rgb[:64, :64], tile=(16, 16))
    with tifffile.TiffFile(d / "huge_header.tif") as tf:
        offsets = [tf.pages[0].tags[k].valueoffset for k in ("ImageWidth", "ImageLength")]
    data = bytearray((d / "huge_header.tif").read_bytes())
    for off in offsets:
        struct.pack_into("<I", data, off, 100_000)
    (d / "huge_header.tif").write_bytes(bytes(data))
    os.symlink("loop_b.svs", d / "loop_a.svs")
    os.symlink("loop_a.svs", d / "loop_b.svs")
    os.symlink(".", d / "self_dir")  # a folder loop: walked once
    Image.fromarray(rgb).save(d / "tumeur_été_細胞.png")


def test_every_bad_input_gives_a_clear_error_and_the_batch_finishes(tmp_path: Path, shared_data: Path) -> None:
    src = tmp_path / "in"
    _bad_folder(src, shared_data)
    out = tmp_path / "out"
    code = main(["quantify", str(src), "--out", str(out), "--workers", "1", "--mpp", "0.5", "--stains", "H-DAB",
                 "--quiet"])
    assert code == 1
    rows = _rows(out)
    expected_errors = {
        "zero.svs": "empty file",
        "truncated.svs": "truncated",
        "text.svs": "unsupported format",
        "corrupt_tile.tif": "cannot decode tile",
        "sixteen_bit.png": "8-bit",
        "huge_header.tif": "huge_header.tif",
        "loop_a.svs": "symbolic link loop",
        "loop_b.svs": "symbolic link loop",
    }
    for name, reason in expected_errors.items():
        assert rows[name]["status"] == "error", name
        assert reason in rows[name]["error"], (name, rows[name]["error"])
        assert name in rows[name]["error"]  # the message names the file
    for name in ("grey.png", "palette.png", "tumeur_été_細胞.png"):
        assert rows[name]["status"] == "ok", rows[name]["error"]
        assert int(rows[name]["ki67_denominator"]) > 20
    assert rows["no_tissue.png"]["status"] == "ok"
    assert rows["no_tissue.png"]["ki67_index_pct"] == ""  # undefined, not 0
    assert set(rows) == set(expected_errors) | {"grey.png", "palette.png", "no_tissue.png", "tumeur_été_細胞.png"}
    # the unicode-named input got its own output folder with every file
    names = sorted(p.name for p in (out / "tumeur_été_細胞").iterdir())
    assert [n for n in names if not n.startswith("nuclei")] == [
        "cells.csv", "cells.csv.gz", "cells.geojson", "cells.parquet", "melanin_map.npz", "overlay.png", "result.json", "tissue.png"]
    assert "nuclei.html" in names  # the nucleus check pictures, linked from report.html
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == "1.0"
    assert doc["n_failed"] == len(expected_errors)
    assert {Path(f["input"]).name for f in doc["failures"]} == set(expected_errors)
    assert not list(out.rglob("*.tmp"))


def test_folder_named_like_a_slide_and_unreadable_file(tmp_path: Path) -> None:
    folder = tmp_path / "slide.svs"
    folder.mkdir()
    assert "is a folder" in check_input(folder)
    dangling = tmp_path / "gone.svs"
    os.symlink(tmp_path / "missing.svs", dangling)
    assert "broken symbolic link" in check_input(dangling)
    good = _tif(tmp_path / "ok.tif", np.full((8, 8, 3), 200, np.uint8))
    assert check_input(good) is None


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    """chmod 000 only stops non-root users: as root (CI), the check runs as user 'nobody'."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="mmnst-perm-"))  # tmp_path's parents are private to root
    try:
        base.chmod(0o755)
        f = _tif(base / "locked.tif", np.full((8, 8, 3), 200, np.uint8))
        f.chmod(0)
        if os.geteuid() != 0:
            assert "permission denied" in check_input(f)
            return
        # fork (no exec: the interpreter may live in root's private home), drop to 'nobody' in
        # the child, run the check there and send its answer back through a pipe
        assert check_input(_tif(base / "warm.tif", np.full((8, 8, 3), 200, np.uint8))) is None
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child process
            try:
                os.setgid(65534)
                os.setuid(65534)
                os.write(write_fd, str(check_input(f)).encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as fh:
            answer = fh.read().decode()
        os.waitpid(pid, 0)
        assert "permission denied" in answer, answer
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _inputs(d: Path, n: int = 4) -> Path:
    d.mkdir()
    for i in range(n):
        _tif(d / f"t{i}.tif", _crop("ki67_primary.tif" if i % 2 else "ki67_recurrence.tif", 384, r0=128 * i))
    return d


def _strip(rows: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {name: {c: v for c, v in row.items() if c != "seconds"} for name, row in rows.items()}


def test_kill_9_then_resume_gives_the_uninterrupted_summary(tmp_path: Path) -> None:
    src = _inputs(tmp_path / "in")
    args = ["quantify", str(src), "--workers", "1", "--measures", "ki67", "--quiet"]
    ref = tmp_path / "ref"
    assert main([*args, "--out", str(ref)]) == 0

    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "mmnst_path", *args, "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not (out / "summary.json").exists() and proc.poll() is None:  # first input done
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    partial = _rows(out)
    assert 1 <= len(partial) < 4  # a consistent partial summary, no half-written row
    assert all(r["status"] == "ok" for r in partial.values())
    first = (out / "t0" / "result.json").stat().st_mtime_ns

    assert main([*args, "--out", str(out)]) == 2  # an earlier run is never clobbered silently
    assert main([*args, "--out", str(out), "--resume"]) == 0
    assert (out / "t0" / "result.json").stat().st_mtime_ns == first  # skipped, not redone
    assert _strip(_rows(out)) == _strip(_rows(ref))
    assert list(_rows(out)) == list(_rows(ref))  # same order
    ref_json = json.loads((ref / "summary.json").read_text())
    got_json = json.loads((out / "summary.json").read_text())
    for a, b in zip(ref_json["rows"], got_json["rows"], strict=True):
        a.pop("seconds")
        b.pop("seconds")
        assert a == b
    assert not list(out.rglob("*.tmp"))


def test_resume_reruns_changed_files_and_changed_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _inputs(tmp_path / "in", 2)
    out = tmp_path / "out"
    args = ["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67"]
    assert main(args) == 0
    capsys.readouterr()
    stamp = {n: (out / n / "result.json").stat().st_mtime_ns for n in ("t0", "t1")}
    assert main([*args, "--resume"]) == 0
    assert capsys.readouterr().err.count("up to date, skipped") == 2
    os.utime(src / "t1.tif", ns=(time.time_ns(), time.time_ns() + 10**9))  # file changed on disk
    assert main([*args, "--resume"]) == 0
    assert (out / "t0" / "result.json").stat().st_mtime_ns == stamp["t0"]
    assert (out / "t1" / "result.json").stat().st_mtime_ns != stamp["t1"]
    capsys.readouterr()
    assert main([*args, "--resume", "--tile-um", "256"]) == 0  # another config: everything redone
    assert "skipped" not in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert main([*args, "--resume", "--overwrite"]) == 2


def test_dask_scheduler_gives_the_local_numbers(tmp_path: Path) -> None:
    import distributed
    src = _inputs(tmp_path / "in", 1)
    local = tmp_path / "local"
    assert main(["quantify", str(src), "--out", str(local), "--workers", "1", "--tile-um", "96", "--quiet"]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        remote = tmp_path / "remote"
        assert main(["quantify", str(src), "--out", str(remote), "--scheduler", cluster.scheduler_address,
                     "--tile-um", "96", "--quiet"]) == 0
    a, b = _strip(_rows(local)), _strip(_rows(remote))
    assert a == b
    assert int(a["t0.tif"]["n_tiles"]) > 1


def test_resume_on_part_of_a_batch_says_which_earlier_results_it_keeps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # session 39 H11's walk: a --resume run on some of the inputs rewrote summary.csv with those only, silently;
    # since session 41 (H5's walk of a mixed-stain folder, run once per stain) it keeps them listed and says so
    src = _inputs(tmp_path / "in", 2)
    out = tmp_path / "out"
    args = ["--out", str(out), "--workers", "1", "--measures", "ki67"]
    assert main(["quantify", str(src), *args]) == 0
    capsys.readouterr()
    assert main(["quantify", str(src / "t0.tif"), *args, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "1 earlier result(s) in this folder (t1.tif)" in err
    assert "kept as they are and listed after this run's inputs" in err
    assert list(_rows(out)) == ["t0.tif", "t1.tif"]  # this run's inputs, then the earlier result kept
    assert (out / "t1" / "result.json").exists()
    capsys.readouterr()
    assert main(["quantify", str(src), *args, "--resume"]) == 0  # all the inputs again: listed, nothing said
    assert "earlier result" not in capsys.readouterr().err
    assert set(_rows(out)) == {"t0.tif", "t1.tif"}


def test_resume_with_mpp_skips_a_file_that_gives_its_own_mpp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # session 39 H11's walk: --mpp (needed by another input) made --resume redo every file that gives its own µm/px,
    # although --mpp is not used on those
    src = _inputs(tmp_path / "in", 2)  # both files give 0.5 µm/px
    out = tmp_path / "out"
    args = ["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67"]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--resume", "--mpp", "1.0"]) == 0
    err = capsys.readouterr().err
    assert err.count("up to date, skipped") == 2
    assert main([*args, "--resume", "--mpp", "1.0", "--mpp-override"]) == 0  # --mpp used: redone
    assert "skipped" not in capsys.readouterr().err
