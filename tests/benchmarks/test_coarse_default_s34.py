"""benchmarks/experiments/coarse_default_s34.py: the rule's gates 2 and 4 judged on hand-written figure files (no
image is read), unrounded, every limit inclusive."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mod(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks" / "experiments"))
    sys.modules.pop("coarse_default_s34", None)
    import coarse_default_s34

    return coarse_default_s34


def _acc(folder: Path, tree: str, shidc: float) -> None:
    (folder / tree).mkdir(parents=True, exist_ok=True)
    figures = {"bcdata": {"mae_pp": 3.78}, "shidc": {"mae_pp": shidc}, "deepliif": {"mae_pp": 6.18}}
    (folder / tree / "acc.json").write_text(json.dumps(figures))


@pytest.mark.parametrize(("cand", "passes"), [(4.1, True), (4.10001, False), (4.1255, False), (3.0, True)])
def test_gate2_reads_the_limit_unrounded(mod, tmp_path, cand, passes, capsys) -> None:
    _acc(tmp_path, "head", 4.0)
    _acc(tmp_path, "cand", cand)
    assert mod.gate2(tmp_path) is passes
    out = capsys.readouterr().out
    assert out.count("gate 2 ") == 3  # every set printed, also after a failure
    assert repr(cand) in out


def _rows(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _gate4_files(folder: Path, tree: str, none_err: float, heldout_random: float) -> None:
    fam = [{"family": f, "ki67_meas": 10.0 + (none_err if f == "none" else 2.0), "ki67_true": 10.0,
            "mel_meas": 1.0, "mel_true": 0.5} for f in ("none", "dusty", "coarse")]
    _rows(folder / tree / "fam.csv", fam)
    _rows(folder / tree / "cells.csv", [{"err": -3.0}, {"err": 5.0}])
    _rows(folder / tree / "heldout.csv", [{"pigment": "none", "err": 4.0}, {"pigment": "random", "err": -heldout_random}])


def test_gate4_each_clause(mod, tmp_path) -> None:
    _gate4_files(tmp_path, "head", 1.0, 17.0)
    _gate4_files(tmp_path, "cand", 1.1, 17.0)  # `none` +0.10: at the limit
    assert mod.gate4(tmp_path)
    _gate4_files(tmp_path, "cand", 1.2, 17.0)  # `none` +0.20
    assert not mod.gate4(tmp_path)
    _gate4_files(tmp_path, "cand", 1.0, 17.51)  # held-out random +0.51 (its own limit 0.50; all tiles +0.255 > 0.25)
    assert not mod.gate4(tmp_path)
    _gate4_files(tmp_path, "cand", 1.0, 17.4)  # +0.4 on random, +0.2 over all tiles: within both
    assert mod.gate4(tmp_path)
