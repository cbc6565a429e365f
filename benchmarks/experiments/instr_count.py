"""Experiment (#16, session 30 H7): instructions per ``classify_pigment`` call, counted by valgrind.

CPU time on this shared 2-core machine moves +-13 % between processes of the same code under load
(session 30 H1's A/A control); the number of instructions a call executes does not depend on the
load. This counts them with ``valgrind --tool=callgrind`` (Ir: instructions executed, user space of
the process, every thread) on the inputs that ``pigment_stage_ab.py capture`` pickles:

1. ``subset``: pick a few inputs from one or more capture files (``--pick tcga:0,8,17``) into a
   smaller file; slide sets are marked for ``forest_early_exit=True`` (as the slide worker runs
   them, where a tree's ``classify_pigment`` takes it), lone tiles not.
2. ``count``: one process per tree under callgrind, single-threaded, ``PYTHONHASHSEED=0``: the
   warm-up (imports, then one untimed call on every input; ``--warm-first``: on the first only),
   then ``--reps`` calls of each input. A marker call (``os.getpgrp``, with ``--dump-before=getpgrp``;
   a call through ctypes does not trigger it) before each counted call and after the last makes
   callgrind write its counters and zero them, so dump k holds the instructions of the k-th counted
   call alone: Ir(warm-up + k calls) - Ir(warm-up + k - 1 calls) in one process. The dump count is
   checked (a stray marker call would shift every call). Callgrind rather than cachegrind: valgrind
   3.19's cachegrind cannot dump part of a run, so a per-call figure would need a process per call.
   Numba's cache is keyed on the CPU LLVM sees, an emulated haswell (AVX2) under valgrind: ``count``
   pins ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` to it and compiles natively first, so the counts
   are of the AVX2 build. Use fresh ``git archive`` trees on both sides: two such trees count the
   same to 5e-7, and two warmed by other workloads differed up to 1e-3 (session 30 H7).
3. ``ratio``: per input, Ir of tree B / Ir of tree A (and the median over inputs per set).

    PYTHONPATH=. python benchmarks/experiments/instr_count.py subset OUT.pkl CAP.pkl... --pick tcga:0,8 --pick bcdata:0
    python benchmarks/experiments/instr_count.py count TREE SUB.pkl OUT.json [--reps 1] [--warm-first]
    python benchmarks/experiments/instr_count.py ratio A.json B.json
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pigment_stage_ab  # (the capture: pigment_calls and _captured, one definition)

MARKER = "getpgrp"  # nothing in the pigment stage calls it (numba's omp parallel_for calls getppid); the count checks it
SLIDE_SETS = ("cmu", "tcga")
_TOTAL = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def total_ir(text: str) -> int:
    """The total Ir (instructions executed) of one callgrind output file's text; its ``totals:`` line,
    else its ``summary:`` line (both give the events in ``events:`` order, Ir first)."""
    found = _TOTAL.findall(text)
    if not found:
        raise ValueError("no 'totals:' or 'summary:' line in the callgrind output")
    return int(found[-1])


def dump_files(prefix: str) -> list[str]:
    """Callgrind's dump files ``PREFIX.1``, ``PREFIX.2``, ... in dump order (numeric, not text, order)."""
    files = [f for f in glob.glob(f"{glob.escape(prefix)}.*") if f.rsplit(".", 1)[1].isdigit()]
    return sorted(files, key=lambda f: int(f.rsplit(".", 1)[1]))


def per_call(irs: list[int], names: list[str], reps: int) -> dict[str, list[int]]:
    """Map the dumps' Ir to the counted calls: dump 0 is start-up and warm-up, dump k (k >= 1) the k-th call
    (inputs in order, each ``reps`` times), and the last dump the exit; instructions per input, one per rep."""
    want = 1 + len(names) * reps + 1
    if len(irs) != want:
        raise ValueError(f"{len(irs)} callgrind dumps, expected {want} (a stray {MARKER} call shifts the calls)")
    calls = irs[1:-1]
    return {n: calls[i * reps:(i + 1) * reps] for i, n in enumerate(names)}


def ratios(a: dict[str, list[int]], b: dict[str, list[int]]) -> dict[str, float]:
    """Per input, Ir of B / Ir of A (each the first counted call); inputs in A's order, both must hold the same."""
    if list(a) != list(b):
        raise ValueError("the two counts cover different inputs")
    return {n: b[n][0] / a[n][0] for n in a}


def subset(out: str, caps: list[str], picks: list[str]) -> None:
    """Pickle the picked rows (name, set, rgb, kwargs, early_exit) of pigment_stage_ab capture files."""
    want: dict[str, list[str]] = {}
    for p in picks:
        ds, idx = p.split(":")
        want[ds] = idx.split(",")
    rows = []
    for cap in caps:
        for name, ds, rgb, k in _rows(cap):
            key = name.split("/", 1)[1]
            if ds in want and (key in want[ds] or key.split(".")[0] in want[ds]):
                rows.append((name, ds, rgb, k, ds in SLIDE_SETS))
    Path(out).write_bytes(pickle.dumps(rows))
    print(f"{len(rows)} inputs -> {out}: {', '.join(r[0] for r in rows)}")


def _rows(cap: str) -> list[tuple[str, str, Any, dict]]:
    """A capture file's rows, or, for 'tiles' or a slide file, a fresh capture with the running tree."""
    if cap.endswith(".pkl"):
        with open(cap, "rb") as f:
            return list(pickle.load(f))
    with pigment_stage_ab.pigment_calls() as calls:
        return pigment_stage_ab._captured(cap, calls)


def child(sub: str, reps: int, warm_first: bool) -> None:
    """Run under callgrind: the warm-up, then every input ``reps`` times, the marker before each call and after."""
    import inspect
    from functools import partial

    from mmnst_path.classify.pigment import classify_pigment

    marker = os.getpgrp  # MARKER
    with open(sub, "rb") as f:
        data = pickle.load(f)
    takes = "forest_early_exit" in inspect.signature(classify_pigment).parameters
    fns = [partial(classify_pigment, forest_early_exit=True) if ee and takes else classify_pigment
           for _, _, _, _, ee in data]
    for fn, (_, _, rgb, k, _) in list(zip(fns, data, strict=True))[:1 if warm_first else None]:
        fn(rgb, **k)
    for fn, (_, _, rgb, k, _) in zip(fns, data, strict=True):
        for _ in range(reps):
            marker()
            fn(rgb, **k)
    marker()


def valgrind_cpu() -> tuple[str, str]:
    """The CPU name and features LLVM sees under valgrind (its emulated CPU: haswell here, no AVX-512 on this
    znver4 host). Numba keys its cache on them, so a tree's native cache misses under valgrind and every kernel
    would compile there (tens of minutes); ``count`` pins both to these values in a native compile first."""
    code = "import llvmlite.binding as ll; print(ll.get_host_cpu_name()); print(ll.get_host_cpu_features().flatten())"
    out = subprocess.run(["valgrind", "--tool=none", "-q", sys.executable, "-c", code], check=True,
                         capture_output=True, text=True).stdout.split()
    return out[-2], out[-1]


def count(tree: str, sub: str, out: str, reps: int, warm_first: bool, keep: str | None = None) -> None:
    """One callgrind process for ``tree``; writes {input: [Ir per rep]} with the run's facts to ``out``."""
    tree, sub = os.path.abspath(tree), os.path.abspath(sub)
    env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    env["NUMBA_CPU_NAME"], env["NUMBA_CPU_FEATURES"] = valgrind_cpu()
    child_cmd = [sys.executable, __file__, "child", sub, "--reps", "1", "--warm-first"]
    subprocess.run(child_cmd, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)  # compile natively
    d = tempfile.mkdtemp(prefix="callgrind_", dir=keep)  # removed once the count is read; kept for a look if not
    prefix = f"{d}/cg.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={prefix}", f"--dump-before={MARKER}",
           "--dump-line=no", "--compress-strings=no", sys.executable, __file__, "child", sub, "--reps", str(reps)]
    t0, c0 = time.time(), os.times()
    with open(f"{out}.log", "w") as log:  # valgrind's and the child's messages
        subprocess.run(cmd + (["--warm-first"] if warm_first else []), cwd=tree, env=env, check=True,
                       stdout=log, stderr=subprocess.STDOUT)
    c1 = os.times()
    files = [*dump_files(prefix), prefix]  # the exit dump has no number
    irs = [total_ir(Path(f).read_text()) for f in files if Path(f).exists()]
    with open(sub, "rb") as f:
        names = [r[0] for r in pickle.load(f)]
    res = {"tree": tree, "cpu": [env["NUMBA_CPU_NAME"], env["NUMBA_CPU_FEATURES"]], "reps": reps,
           "warm_first": warm_first, "wall_s": time.time() - t0,
           "cpu_s": c1.children_user + c1.children_system - c0.children_user - c0.children_system,
           "load": os.getloadavg()[0], "warmup_ir": irs[0], "exit_ir": irs[-1], "ir": per_call(irs, names, reps)}
    Path(out).write_text(json.dumps(res, indent=1))
    shutil.rmtree(d)
    print(f"{tree}: {len(names)} inputs, {res['cpu_s']:.0f} s CPU, {res['wall_s']:.0f} s wall -> {out}")


def table(a_json: str, b_json: str) -> list[str]:
    a, b = (json.loads(Path(p).read_text()) for p in (a_json, b_json))
    r = ratios(a["ir"], b["ir"])
    lines = [f"A {a['tree']}  B {b['tree']}", "| input | Ir A | Ir B | B/A |", "|---|---:|---:|---:|"]
    lines += [f"| {n} | {a['ir'][n][0]} | {b['ir'][n][0]} | {x!r} |" for n, x in r.items()]
    for ds in dict.fromkeys(n.split("/")[0] for n in r):
        xs = [x for n, x in r.items() if n.split("/")[0] == ds]
        lines.append(f"{ds}: median B/A {statistics.median(xs)!r}; min {min(xs)!r}; max {max(xs)!r}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("subset")
    p.add_argument("out")
    p.add_argument("caps", nargs="+", help="pigment_stage_ab.py capture files (.pkl), or what it captures: "
                   "'tiles' or a slide file")
    p.add_argument("--pick", action="append", required=True, help="SET:KEY,KEY (a tile's index or file stem)")
    p = sp.add_parser("child")
    p.add_argument("sub")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--warm-first", action="store_true")
    p = sp.add_parser("count")
    p.add_argument("tree")
    p.add_argument("sub")
    p.add_argument("out")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--warm-first", action="store_true", help="the untimed warm-up call on the first input only")
    p.add_argument("--keep", help="a folder for callgrind's files (default: the system's temporary folder)")
    p = sp.add_parser("ratio")
    p.add_argument("a")
    p.add_argument("b")
    args = ap.parse_args()
    if args.cmd == "subset":
        subset(args.out, args.caps, args.pick)
    elif args.cmd == "child":
        child(args.sub, args.reps, args.warm_first)
    elif args.cmd == "count":
        count(args.tree, args.sub, args.out, args.reps, args.warm_first, args.keep)
    else:
        print("\n".join(table(args.a, args.b)))


if __name__ == "__main__":
    main()
