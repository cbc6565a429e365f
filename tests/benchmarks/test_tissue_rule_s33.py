"""benchmarks/experiments/tissue_rule_s33.py: session 30's rule text with the TCGA limit 4.0 and the CMU-1 at 0.5 µm/px
gate, judged on hand-written figure files (no image is read)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rule(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks" / "experiments"))
    sys.modules.pop("tissue_rule_s33", None)
    import tissue_rule_s33 as mod

    monkeypatch.setattr(mod, "SCRATCH", str(tmp_path))
    return mod


def _slides(out: Path, tcga_necrosis: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "tcga-cr-7395-01a-01-ts1.svs": {"necrosis_fraction_pct": tcga_necrosis, "tumour_fraction_pct": 62.0},
        "CMU-1-Small-Region.svs": {"necrosis_fraction_pct": 0.0, "tumour_fraction_pct": 79.0},
    }
    (out / "cand_slides.json").write_text(json.dumps(figures))


def test_the_session_30_text_runs_with_this_tree_and_the_goal_limit(rule, tmp_path):
    text = rule.rule_s30_text()
    assert text.count(rule.NEW_TCGA) == 1
    assert rule.OLD_TCGA not in text
    assert "/work/wt_h2" not in text
    assert "/tmp/s30_h2" not in text
    assert f'Path("{rule.WT}")' in text
    assert f'Path("{tmp_path}/rule")' in text
    ns = rule.rule_s30()
    assert Path(ns["OUT"]) == tmp_path / "rule"
    assert ns["OUT"].is_dir()


@pytest.mark.parametrize(
    ("tcga", "ok"), [(2.6, True), (3.215266041745712, True), (4.0, True), (4.0001, False)]
)
def test_tcga_gate_reads_the_unrounded_figure_against_4(rule, tmp_path, capsys, tcga, ok):
    ns = rule.rule_s30()
    _slides(tmp_path / "rule", tcga)
    assert ns["gate"]("slides") is ok
    assert f"TCGA 1 um/px necrosis %: {tcga!r} (<= 4.0)" in capsys.readouterr().out


@pytest.mark.parametrize(("nec", "ok"), [(0.0, True), (1.0, True), (1.0000001, False)])
def test_cmu1_at_half_a_micron_gate(rule, tmp_path, capsys, nec, ok):
    out = tmp_path / "rule"
    out.mkdir()
    (out / "cand_cmu05.json").write_text(
        json.dumps({"necrosis_fraction_pct": nec, "tumour_fraction_pct": 78.9409947502057})
    )
    assert rule.gate_cmu05(out) is ok
    printed = capsys.readouterr().out
    assert f"necrosis %: {nec!r} (<= 1) {'pass' if ok else 'FAIL'}" in printed
    assert "tumour %: 78.9409947502057" in printed


def test_a_changed_session_30_gate_is_refused(rule, monkeypatch):
    monkeypatch.setattr(rule, "OLD_TCGA", '"<= 2.4", t["necrosis_fraction_pct"] <= 2.4')
    with pytest.raises(SystemExit, match="expected its TCGA gate"):
        rule.rule_s30_text()
