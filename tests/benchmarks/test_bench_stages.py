"""The before / after summary of ``bench_slide.py --real --ab`` (benchmarks/bench_stages.py): when a
change of a stage's CPU is called resolved, and what the table says about the whole run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stages():
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_stages

    return bench_stages


def _run(stages, cpu: float, read: float, hwm_mib: float = 400.0, rise: float = 10.0, decodes: int = 5) -> dict:
    """One child's result as bench_slide.py --child real --stages prints it."""
    st = {label: {"cpu": 1.0, "calls": 3.0, "px": 3e6, "hwm_rise": rise} for label, _, _ in stages.STAGES}
    st["read"]["cpu"] = read
    st["decode"] = {"cpu": 0.0, "calls": float(decodes), "px": 0.0, "hwm_rise": 0.0}
    return {"cpu": cpu, "rss_hwm": hwm_mib * 2**20, "stages": st}


def _by_what(rows):
    return {r["what"]: r for r in rows}


def test_a_drop_larger_than_three_spreads_is_resolved_and_a_smaller_one_is_not(stages):
    before = [_run(stages, c, r) for c, r in zip((30.0, 30.5, 29.8, 30.3), (1.00, 1.02, 1.01, 1.03), strict=True)]
    after = [_run(stages, c, r, decodes=3)
             for c, r in zip((29.6, 30.1, 29.9, 30.2), (0.60, 0.62, 0.61, 0.63), strict=True)]
    rows = _by_what(stages.ab_rows(before, after))
    assert rows["read"]["resolved"] is True  # 0.40 s drop, spreads 0.03
    assert rows["read"]["diff_mean"] == pytest.approx(-0.40)
    assert rows["whole"]["resolved"] is False  # 0.2 s drop against a 0.7 s spread
    assert rows["decode"]["after"] == [3.0] * 4
    # the bound: a 0.38 s drop against a 0.10 s spread is resolved, 0.37 s against 0.15 s is not
    rows = _by_what(stages.ab_rows(before, [_run(stages, 30.0, r) for r in (0.60, 0.70, 0.61, 0.63)]))
    assert rows["read"]["resolved"] is True
    rows = _by_what(stages.ab_rows(before, [_run(stages, 30.0, r) for r in (0.60, 0.75, 0.61, 0.63)]))
    assert rows["read"]["resolved"] is False
    assert rows["decode"]["before"] == [5.0] * 4


def test_a_single_run_of_a_tree_is_never_resolved(stages):
    rows = _by_what(stages.ab_rows([_run(stages, 30.0, 1.0)], [_run(stages, 20.0, 0.5)]))
    assert rows["read"]["resolved"] is False
    assert rows["whole"]["resolved"] is False


def test_high_water_rise_rows_carry_no_verdict(stages):
    before = [_run(stages, 30.0, 1.0, rise=r) for r in (10.0, 10.0)]
    after = [_run(stages, 30.0, 1.0, rise=r) for r in (30.0, 30.0)]
    rows = _by_what(stages.ab_rows(before, after))
    assert rows["pigment hwm rise"]["resolved"] is None
    assert rows["pigment hwm rise"]["diff_mean"] == pytest.approx(20.0)
    line = next(ln for ln in stages.ab_table(list(rows.values()), "x") if ln.startswith("| pigment hwm rise"))
    assert line.split("|")[7].strip() == "-"


def test_table_says_whether_the_whole_run_is_slower(stages):
    before = [_run(stages, c, 1.0) for c in (30.0, 30.4)]
    slower = [_run(stages, c, 1.0) for c in (31.0, 31.2)]
    same = [_run(stages, c, 1.0) for c in (30.2, 30.5)]
    assert stages.ab_table(stages.ab_rows(before, slower), "x")[-1].endswith("NO")
    assert stages.ab_table(stages.ab_rows(before, same), "x")[-1].endswith("yes")
