"""Results files get the mode a plain ``open()`` would give them (0666 & ~umask), not mkstemp's
0600: colleagues on a shared server must be able to read report.html and the tables."""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest

from mmnst_path.pipeline import analyze_region
from mmnst_path.report import (
    atomic_open_text,
    atomic_write_bytes,
    atomic_write_text,
    current_umask,
    write_result,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield 0o022
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_current_umask_reads_without_changing(umask_022):
    assert current_umask() == 0o022
    assert current_umask() == 0o022
    os.umask(0o027)
    assert current_umask() == 0o027


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077, 0o027])
def test_atomic_writes_follow_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        a = atomic_write_text(tmp_path / "a.txt", "x")
        b = atomic_write_bytes(tmp_path / "b.bin", b"x")
        with atomic_open_text(tmp_path / "c.csv.gz", compress=True) as fh:
            fh.write("x")
        with atomic_open_text(tmp_path / "d.csv") as fh:
            fh.write("x")
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    expected = 0o666 & ~mask
    assert _mode(plain) == expected  # what open() gives: the reference
    for p in (a, b, tmp_path / "c.csv.gz", tmp_path / "d.csv"):
        assert _mode(p) == expected, f"{p.name}: {oct(_mode(p))} != {oct(expected)}"


def test_replacing_a_file_keeps_it_readable(tmp_path, umask_022):
    p = atomic_write_text(tmp_path / "r.txt", "one")
    p = atomic_write_text(p, "two")
    assert p.read_text() == "two"
    assert _mode(p) == 0o644
    assert [q.name for q in tmp_path.iterdir()] == ["r.txt"]  # no temporary left behind


def test_every_result_file_is_group_and_world_readable(tmp_path, umask_022):
    rng = np.random.default_rng(0)
    rgb = np.full((256, 256, 3), 235, np.uint8)
    rgb[64:192, 64:192] = rng.integers(60, 160, (128, 128, 3), dtype=np.uint8)
    result = analyze_region(rgb, mpp=0.5)
    paths = write_result(result, tmp_path / "out")
    assert set(paths) >= {"result", "cells", "geojson", "overlay", "tissue"}
    for key, p in paths.items():
        assert _mode(p) == 0o644, f"{key} ({p.name}) has mode {oct(_mode(p))}"
