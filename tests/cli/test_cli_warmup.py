"""``mmnst-path warmup``."""

from __future__ import annotations

import pytest

from mmnst_path.cli import main
from mmnst_path.pipeline import _warmup


def test_warmup_prints_each_step_and_a_summary(monkeypatch, capsys):
    pytest.importorskip("numba")
    monkeypatch.setattr(_warmup, "WARMUP_CASES", _warmup.WARMUP_CASES[:1])
    assert main(["warmup"]) == 0
    out, err = capsys.readouterr()
    assert "H-DAB: Ki67 + melanin:" in err
    assert "kernels compiled" in err
    assert out.startswith("warmup done in ")
    assert "(cache: " in out


def test_warmup_quiet_prints_only_the_summary(monkeypatch, capsys):
    monkeypatch.setattr(_warmup, "WARMUP_CASES", _warmup.WARMUP_CASES[:1])
    assert main(["warmup", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("\n") == 1
    assert out.startswith("warmup done in ")


def test_warmup_takes_no_inputs(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["warmup", "slide.svs"])
    assert exc.value.code == 2


@pytest.mark.parametrize("cached", [False, True])
def test_quantify_says_when_a_fresh_install_compiles_first(monkeypatch, capsys, tmp_path, cached):
    import numpy as np
    import tifffile

    monkeypatch.setattr(_warmup, "kernels_cached", lambda: cached)
    rgb = np.full((48, 48, 3), 250, np.uint8)
    tifffile.imwrite(tmp_path / "blank.tif", rgb, photometric="rgb")
    main(["quantify", str(tmp_path / "blank.tif"), "--mpp", "0.5", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert ("compiling the analysis kernels" in err) is not cached
    assert ("mmnst-path warmup" in err) is not cached


def test_warmup_without_numba_says_there_is_nothing_to_compile(monkeypatch, capsys):
    monkeypatch.setattr(_warmup, "WARMUP_CASES", ())
    monkeypatch.setattr(_warmup, "kernel_stats", lambda: _warmup.KernelStats(0, 0, ""))
    import mmnst_path.pipeline as pipeline

    monkeypatch.setattr(pipeline, "kernel_stats", _warmup.kernel_stats)
    assert main(["warmup", "--quiet"]) == 0
    assert "numba is not installed" in capsys.readouterr().out


def test_quantify_says_nothing_of_compiling_above_a_usage_error(monkeypatch, capsys, tmp_path):
    """A missing --roi file is refused before any input runs: one line, no "compiling the analysis kernels"
    above it (session 36 H6: the note came first, then the error). Mutation caught: the note printed before
    run_batch."""
    import numpy as np
    import tifffile

    monkeypatch.setattr(_warmup, "kernels_cached", lambda: False)
    tifffile.imwrite(tmp_path / "blank.tif", np.full((48, 48, 3), 250, np.uint8), photometric="rgb")
    code = main(["quantify", str(tmp_path / "blank.tif"), "--mpp", "0.5", "--out", str(tmp_path / "out"),
                 "--roi", str(tmp_path / "missing.geojson")])
    assert code == 2
    err = capsys.readouterr().err
    assert "compiling" not in err
    assert err.strip().splitlines() == [err.strip()]
    assert "missing.geojson" in err
