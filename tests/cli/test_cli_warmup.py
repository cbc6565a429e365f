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
