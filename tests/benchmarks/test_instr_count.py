"""The pure parts of benchmarks/experiments/instr_count.py (no valgrind needed): reading callgrind's
total Ir, ordering its dump files, mapping dumps to the counted calls, and the per-input ratio."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A callgrind output file as valgrind 3.19 writes it (trimmed); the cost lines must not be read as the total.
CG_OUT = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  python instr_count.py child sub.pkl
part: 3

desc: I1 cache:
desc: Trigger: --dump-before=getpgrp

positions: line
events: Ir
summary: 987654321

fn=(1) PyObject_Malloc
0 5000
fn=(2) getpgrp
0 7

totals: 987654321
"""


@pytest.fixture(scope="module")
def ic():
    if str(ROOT / "benchmarks" / "experiments") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks" / "experiments"))
    import instr_count

    return instr_count


def test_total_ir_reads_the_totals_line_not_a_cost_line(ic):
    assert ic.total_ir(CG_OUT) == 987654321
    assert ic.total_ir(CG_OUT.replace("totals: 987654321\n", "")) == 987654321  # summary: alone
    with pytest.raises(ValueError, match="no 'totals:'"):
        ic.total_ir("events: Ir\nfn=(1) f\n0 12\n")


def test_dump_files_in_numeric_order(ic, tmp_path):
    for k in (1, 2, 10, 11, 3):
        (tmp_path / f"cg.out.{k}").write_text(CG_OUT)
    (tmp_path / "cg.out").write_text(CG_OUT)  # the exit dump: no number, not in the list
    got = [Path(f).name for f in ic.dump_files(str(tmp_path / "cg.out"))]
    assert got == ["cg.out.1", "cg.out.2", "cg.out.3", "cg.out.10", "cg.out.11"]


def test_per_call_drops_warmup_and_exit_and_checks_the_count(ic):
    irs = [10**9, 11, 12, 21, 22, 5]  # warm-up, a x2, b x2, exit
    assert ic.per_call(irs, ["a", "b"], 2) == {"a": [11, 12], "b": [21, 22]}
    with pytest.raises(ValueError, match="expected 6"):
        ic.per_call(irs[:-1], ["a", "b"], 2)


def test_ratios_b_over_a_per_input(ic):
    assert ic.ratios({"a": [100, 1], "b": [50]}, {"a": [80, 9], "b": [55]}) == {"a": 0.8, "b": 1.1}
    with pytest.raises(ValueError, match="different inputs"):
        ic.ratios({"a": [1]}, {"b": [1]})
