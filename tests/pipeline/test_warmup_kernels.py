"""compile_kernels / kernel_stats (``mmnst-path warmup``) and the per-part tile halo."""

from __future__ import annotations

import pytest

from mmnst_path.pipeline import AnalysisConfig, _warmup, compile_kernels, kernel_stats
from mmnst_path.pipeline._reach import _halo_um, halo_parts, ki67_halo_parts


def test_compile_kernels_runs_each_case_and_counts_the_kernels(monkeypatch):
    pytest.importorskip("numba")
    # two cases keep the test short: a plain H-DAB read and a resampled one
    monkeypatch.setattr(_warmup, "WARMUP_CASES", _warmup.WARMUP_CASES[:2])
    seen = []
    steps = compile_kernels(progress=seen.append)
    assert [s.label for s in steps] == [c[0] for c in _warmup.WARMUP_CASES]
    assert list(steps) == seen
    assert all(s.seconds > 0 and s.compiled >= 0 and s.loaded >= 0 for s in steps)
    stats = kernel_stats()
    # the analyses ran numba kernels: each was compiled or loaded from the cache in this process
    assert stats.compiled + stats.loaded > 0
    assert stats.cache_path


def test_warmup_tiles_are_read_at_the_declared_resolution():
    rgb = _warmup._tile("dab", 0.4, seed=0)
    assert rgb.shape == (round(_warmup.TILE_PX * 1.25), round(_warmup.TILE_PX * 1.25), 3)
    assert _warmup._tile("eosin", 0.5, seed=1).shape == (_warmup.TILE_PX, _warmup.TILE_PX, 3)


@pytest.mark.parametrize(("measures", "parts"), [
    (("ki67",), {"ki67", "pigment"}),
    (("melanin",), {"pigment", "melanin"}),
    (("ki67", "melanin"), {"ki67", "pigment", "melanin"}),
    (("melanin", "necrosis"), {"pigment", "melanin", "necrosis"}),
])
def test_halo_parts_name_each_measure_and_the_halo_is_the_largest(measures, parts):
    cfg = AnalysisConfig(stains="H&E" if "necrosis" in measures else "H-DAB")
    got = halo_parts(cfg, measures)
    assert set(got) == parts
    assert _halo_um(cfg, measures) == max(got.values())
    if "melanin" in got:  # 4 sigma of the tissue smoothing around the pigment rules' support
        assert got["melanin"] == pytest.approx(4.0 * cfg.melanin.tissue_smooth_um + cfg.pigment.halo_um())
    if "ki67" in got:  # pigment mask, pigment fill, nucleus detection and the cell model's 40 µm, summed
        steps = ki67_halo_parts(cfg)
        assert steps["context"] == 40.0
        assert steps["detection"] == pytest.approx(cfg.nuclei.halo_um(cfg.analysis_mpp))
        assert got["ki67"] == pytest.approx(sum(steps.values()))


def test_ki67_counted_in_the_tumour_adds_the_tissue_model_context():
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "ki67": {"count_in": "tumour"}})
    assert "ki67_tumour" in halo_parts(cfg, ("ki67",))
    assert "ki67_tumour" not in halo_parts(AnalysisConfig(stains="H-DAB"), ("ki67",))


def test_kernels_cached_reads_the_index_of_the_first_kernel(monkeypatch, tmp_path):
    pytest.importorskip("numba")
    from mmnst_path.stain import _numba

    cache_file = _numba._od_kernel._cache._cache_file
    monkeypatch.setattr(cache_file, "_index_path", str(tmp_path / "missing.nbi"))
    assert _warmup.kernels_cached() is False
    (tmp_path / "missing.nbi").write_bytes(b"")
    assert _warmup.kernels_cached() is True


def test_kernel_stats_without_numba_is_zero(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numba.core.dispatcher", None)  # import fails as if absent
    assert kernel_stats() == _warmup.KernelStats(0, 0, "")


@pytest.mark.parametrize(("cached", "workers", "child_ok", "in_child", "here"), [
    (False, 2, True, 1, 0), (False, 1, True, 1, 0),  # a cold cache: compiled once, in a child process
    (False, 2, False, 1, 1),  # the child failed: compiled here, once, before the workers start
    (False, 1, False, 1, 0),  # ... or, with the tiles in this process, where each kernel is first used
    (True, 2, True, 0, 0), (True, 1, True, 0, 0),
])
def test_a_fresh_install_compiles_once_before_the_tiles_start(monkeypatch, cached, workers, child_ok, in_child, here):
    from mmnst_path.io import ArrayReader
    from mmnst_path.pipeline import _slide, analyze_slide

    calls, child = [], []
    monkeypatch.setattr(_slide, "kernels_cached", lambda: cached)
    monkeypatch.setattr(_slide, "compile_kernels", lambda: calls.append(1))
    monkeypatch.setattr(_slide, "compile_in_child", lambda: child.append(1) or child_ok)
    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB", tile_um=64.0)
    res = analyze_slide(ArrayReader(_warmup._tile("dab", 0.5, 0)[:200, :200], mpp=0.5), cfg, workers=workers)
    assert (len(child), len(calls)) == (in_child, here)
    assert len(res.tiles) > 2


class _Done:
    def __init__(self, rc: int, stderr: bytes = b"") -> None:
        self.returncode = rc
        self.stderr = stderr


@pytest.mark.parametrize("rc", [0, 1])
def test_compile_in_child_runs_compile_kernels_once_in_a_fresh_interpreter_of_this_package(monkeypatch, rc):
    import os
    import subprocess
    import sys
    import warnings
    from pathlib import Path

    import mmnst_path

    runs = []
    monkeypatch.setattr(_warmup, "kernels_cached", lambda: False)
    monkeypatch.setattr(_warmup, "_CHILD_STARTED", False)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: runs.append((cmd, kw)) or _Done(rc, b"a\nb\nboom"))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert _warmup.compile_in_child() is (rc == 0)
    assert _warmup.compile_in_child() is False  # once a process, whatever the outcome
    assert len(runs) == 1
    cmd, kw = runs[0]
    # -P: the caller's working directory is not on the child's path (a checkout there would be imported)
    assert cmd[:3] == [sys.executable, "-P", "-c"]
    assert "compile_kernels()" in cmd[3]
    # the child is told which package it must import (so it fills the cache this process reads)
    assert cmd[4] == str(Path(mmnst_path.__file__).resolve().parents[1])
    assert kw["env"] == dict(os.environ)
    assert kw["timeout"] == _warmup.CHILD_TIMEOUT_S
    # a failure is said, with the child's last words
    assert [str(w.message) for w in seen if "boom" in str(w.message)] == ([] if rc == 0 else [
        "compiling the analysis kernels in a child process failed (exit status 1: a b boom); they compile "
        "where they are first used"])


def test_the_child_refuses_another_copy_of_the_package(tmp_path):
    import subprocess
    import sys

    other = tmp_path / "elsewhere"
    other.mkdir()
    done = subprocess.run([sys.executable, "-P", "-c", _warmup._CHILD_CODE, str(other)], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == _warmup._CHILD_OTHER_COPY
    assert "not " + str(other) in done.stderr


def test_a_decoy_package_in_the_working_directory_is_not_imported_by_the_child(tmp_path, monkeypatch):
    import subprocess
    import sys

    decoy = tmp_path / "mmnst_path"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise SystemExit(7)\n")
    monkeypatch.chdir(tmp_path)
    code = "import mmnst_path, sys; sys.exit(0 if 'elsewhere' not in mmnst_path.__file__ else 5)"
    done = subprocess.run([sys.executable, "-P", "-c", code.replace("elsewhere", str(tmp_path))], check=False,
                          timeout=120)
    assert done.returncode == 0  # with -P the decoy (exit 7) is never imported
    without = subprocess.run([sys.executable, "-c", "import mmnst_path"], check=False, timeout=120)
    assert without.returncode == 7  # ... and without it, it would be


@pytest.mark.parametrize("case", ["frozen", "no executable", "timeout", "oserror"])
def test_compile_in_child_gives_up_quietly_or_with_a_warning(monkeypatch, case):
    import subprocess
    import sys
    import warnings

    runs = []
    monkeypatch.setattr(_warmup, "kernels_cached", lambda: False)
    monkeypatch.setattr(_warmup, "_CHILD_STARTED", False)

    def run(cmd, **kw):  # type: ignore[no-untyped-def]
        runs.append(cmd)
        if case == "timeout":
            raise subprocess.TimeoutExpired(cmd, kw["timeout"])
        raise OSError("no such file")

    monkeypatch.setattr(subprocess, "run", run)
    if case == "frozen":
        monkeypatch.setattr(sys, "frozen", True, raising=False)
    if case == "no executable":
        monkeypatch.setattr(sys, "executable", "")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert _warmup.compile_in_child(timeout_s=5) is False
    if case in ("frozen", "no executable"):
        assert runs == []
        assert not seen
    else:
        assert len(runs) == 1
        assert any(("over 5 s" if case == "timeout" else "could not start") in str(w.message) for w in seen)


@pytest.mark.parametrize(("compiling", "cached"), [(True, False), (False, True), (False, None)])
def test_compile_in_child_starts_nothing_when_compiling_or_not_cold(monkeypatch, compiling, cached):
    import subprocess

    runs = []
    monkeypatch.setattr(_warmup, "kernels_cached", lambda: cached)
    monkeypatch.setattr(_warmup, "_CHILD_STARTED", False)
    monkeypatch.setattr(_warmup, "_COMPILING", compiling)
    monkeypatch.setattr(subprocess, "run", lambda *a, **kw: runs.append(a) or _Done(0))
    assert _warmup.compile_in_child() is False
    assert runs == []


def test_compile_kernels_own_analyses_start_no_child(monkeypatch):
    import subprocess

    from mmnst_path.pipeline import _slide

    pytest.importorskip("numba")
    monkeypatch.setattr(_warmup, "WARMUP_CASES", _warmup.WARMUP_CASES[:1])
    for module in (_warmup, _slide):  # as in the child, on a cold cache
        monkeypatch.setattr(module, "kernels_cached", lambda: False)
    monkeypatch.setattr(_warmup, "_CHILD_STARTED", False)
    monkeypatch.setattr(_warmup, "_COMPILING", False)
    seen = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **kw: seen.append(a) or _Done(0))
    compile_kernels()
    assert seen == []
    assert _warmup._COMPILING is False  # reset after the run
