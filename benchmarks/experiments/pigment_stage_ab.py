"""Experiment (#16, session 28 H2): the pigment stage's CPU per tile, two package trees paired.

The paired per-tile rule of the speed changes, on ``classify_pigment`` alone, with what session 28
found a fresh process pays kept out of the timed calls:

1. ``capture``: ``classify_pigment``'s arguments as the pipeline passes them, once, with the
   running tree: the 24 real Ki67 tiles (``analyze_region`` at each set's µm/px,
   benchmarks/datasets.toml) or every tile of a slide (``analyze_slide``, 1 worker, Ki67 forced,
   H-DAB, 0.5 µm/px), pickled to a file outside the repository.
2. ``ab``: per tree, first a cold-cache fill the way the pipeline does it (``warm``: one
   ``analyze_slide`` of the tree's own sample tile, which compiles every kernel in
   ``compile_in_child``'s child when the cache is cold: the same source ran 1-7 % slower per tile
   when its cache was filled by a direct ``classify_pigment`` run instead, session 28 H2), then
   one discarded warm-up process (each process loads the kernels and the models on its first
   call), then ``--rounds`` rounds of fresh
   single-threaded processes A B B A (candidate) and A C C A (A/A control: C is an identical copy
   of A). Each process makes one untimed call (every input, or the first with ``--warm-first``),
   then times each input ``--reps`` times with the thread CPU clock (median; user and system time
   apart, ``RUSAGE_THREAD`` on Linux).
3. The table: per input, the mean over each tree's processes (every process pooled); drop = A - B,
   A/A = |A - C|; per set, the rule (faster on >= 80 % of the inputs, DeepLIIF 4 of 4 or 3 with the
   fourth within its A/A; the mean drop above twice the mean |A/A|).

    PYTHONPATH=. python benchmarks/experiments/pigment_stage_ab.py capture tiles|SLIDE.svs CAP.pkl
    python benchmarks/experiments/pigment_stage_ab.py ab A B C CAP.pkl OUTDIR [--rounds 2] [--reps 5] [--warm-first]
        [--early-exit]   (forest_early_exit=True in a tree whose classify_pigment takes it: session 28 H6)
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KI67 = ROOT.parent / "shared" / "data" / "ki67"  # ../shared beside the repository, as bench_profile.py reads it
SETS = ("bcdata", "shidc", "deepliif")


def _decode(p: Path) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(p) as im:
        return np.asarray(im.convert("RGB"))


@contextlib.contextmanager
def pigment_calls() -> Iterator[list[tuple[Any, dict]]]:
    """Within the block, record (a copy of the rgb, the keyword arguments less the private plane cache and the
    early-exit switch) of every ``classify_pigment`` call the pipeline makes; the real function is put back after."""
    import mmnst_path.classify.pigment as cp

    calls: list[tuple[Any, dict]] = []
    real = cp.classify_pigment

    def spy(rgb: Any, **k: Any) -> Any:
        calls.append((rgb.copy(), {key: v for key, v in k.items() if key not in ("_planes", "forest_early_exit")}))
        return real(rgb, **k)

    cp.classify_pigment = spy  # type: ignore[assignment]
    try:
        yield calls
    finally:
        cp.classify_pigment = real  # type: ignore[assignment]


def capture(what: str, out: str) -> None:
    """Pickle (name, set, rgb, kwargs) of every ``classify_pigment`` call the pipeline makes."""
    with pigment_calls() as calls:
        rows = _captured(what, calls)
    with open(out, "wb") as f:
        pickle.dump(rows, f)
    print(f"{len(rows)} calls -> {out}")


def _captured(what: str, calls: list[tuple[Any, dict]]) -> list[tuple[str, str, Any, dict]]:
    rows = []
    if what == "tiles":
        from mmnst_path.pipeline import analyze_region

        mpp = {k: float(v["mpp"]) for k, v in tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text()).items()}
        for ds in SETS:
            for p in sorted(q for q in (KI67 / ds).iterdir() if q.suffix.lower() in (".png", ".jpg")):
                calls.clear()
                analyze_region(_decode(p), None, mpp=mpp[ds])
                rows += [(f"{ds}/{p.name}", ds, rgb, k) for rgb, k in calls]
    else:
        from mmnst_path.pipeline import AnalysisConfig, analyze_slide

        tag = Path(what).stem.split("-")[0].lower()
        analyze_slide(what, AnalysisConfig(measures=("ki67",), stains="H-DAB"), mpp=0.5, workers=1)
        rows = [(f"{tag}/{i}", tag, rgb, k) for i, (rgb, k) in enumerate(calls)]
    return rows


def child(cap: str, out: str, reps: int, warm_first: bool, early_exit: bool = False) -> None:
    """One process: an untimed call, then the per-input median thread CPU (and user / sys).
    ``early_exit``: ``forest_early_exit=True`` on every call where this tree's ``classify_pigment``
    takes it (the whole-slide worker's choice, session 28 H6); a tree without it runs its default."""
    import inspect
    from functools import partial

    import numpy as np

    from mmnst_path.classify.pigment import classify_pigment

    if early_exit and "forest_early_exit" in inspect.signature(classify_pigment).parameters:
        classify_pigment = partial(classify_pigment, forest_early_exit=True)
    with open(cap, "rb") as f:
        data = pickle.load(f)
    for _, _, rgb, k in data[:1] if warm_first else data:
        classify_pigment(rgb, **k)
    who = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
    ms: dict[str, dict[str, float]] = {}
    for name, _, rgb, k in data:
        cpu, user, sys_ = [], [], []
        for _ in range(reps):
            r0, t0 = resource.getrusage(who), time.thread_time()
            classify_pigment(rgb, **k)
            t1, r1 = time.thread_time(), resource.getrusage(who)
            cpu.append(t1 - t0)
            user.append(r1.ru_utime - r0.ru_utime)
            sys_.append(r1.ru_stime - r0.ru_stime)
        ms[name] = {"cpu": float(np.median(cpu)), "user": float(np.median(user)), "sys": float(np.median(sys_))}
    Path(out).write_text(json.dumps({"tree": str(Path(sys.modules["mmnst_path"].__file__ or "").parents[1]),
                                     "load": os.getloadavg()[0], "ms": ms}))


def warm() -> None:
    """Fill this tree's numba cache as a first slide run does (nothing to do when it is warm)."""
    from mmnst_path.pipeline import analyze_slide

    analyze_slide(ROOT / "sample_tiles" / "ki67_primary.tif", None, workers=1)


def _run(tree: str, args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=tree)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    subprocess.run([sys.executable, __file__, *args], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)


def ab(a: str, b: str, c: str, cap: str, outdir: str, rounds: int, reps: int, warm_first: bool,
       early_exit: bool = False) -> None:
    Path(outdir).mkdir(parents=True, exist_ok=True)
    flags = (["--warm-first"] if warm_first else []) + (["--early-exit"] if early_exit else [])
    for tree in (a, b, c):  # the cache filled the pipeline's way, then the discarded warm-up process
        _run(tree, ["warm"])
        _run(tree, ["child", cap, os.devnull, "--reps", "1", *flags])
    k = 0
    for _ in range(rounds):
        for t in "ABBAACCA":
            k += 1
            _run({"A": a, "B": b, "C": c}[t], ["child", cap, f"{outdir}/{t}_{k}.json", "--reps", str(reps), *flags])
    print("\n".join(table(outdir)))


def table(outdir: str, key: str = "cpu") -> list[str]:
    runs = {t: [json.loads(Path(f).read_text()) for f in sorted(glob.glob(f"{outdir}/{t}_*.json"))] for t in "ABC"}
    names = list(runs["A"][0]["ms"])
    mean = {t: {n: 1000 * statistics.mean(r["ms"][n][key] for r in runs[t]) for n in names} for t in "ABC"}
    lines = [f"processes: {', '.join(f'{t} {len(v)}' for t, v in runs.items())}; {key} time, ms"]
    for ds in dict.fromkeys(n.split("/")[0] for n in names):
        ns = [n for n in names if n.split("/")[0] == ds]
        d = [mean["A"][n] - mean["B"][n] for n in ns]
        aa = [abs(mean["A"][n] - mean["C"][n]) for n in ns]
        lines += [f"\n| {ds} | before | after | drop | A/A \\|diff\\| |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {n.split('/', 1)[1]} | {mean['A'][n]:.2f} | {mean['B'][n]:.2f} | {x:+.2f} | {y:.2f} |"
                  for n, x, y in zip(ns, d, aa, strict=True)]
        fast = sum(x > 0 for x in d)
        if ds == "deepliif":
            ok = fast == len(ns) or (fast == len(ns) - 1 and all(-x <= y for x, y in zip(d, aa, strict=True) if x <= 0))
        else:
            ok = fast >= 0.8 * len(ns)
        passed = ok and statistics.mean(d) > 2 * statistics.mean(aa)
        lines.append(f"{ds}: mean drop {statistics.mean(d):.2f} ms of {statistics.mean(mean['A'][n] for n in ns):.2f}; "
                     f"faster on {fast}/{len(ns)}; 2x mean |A/A| {2 * statistics.mean(aa):.2f}; "
                     f"rule: {'pass' if passed else 'FAIL'}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("capture")
    p.add_argument("what", help="'tiles' (the 24 real Ki67 tiles) or a slide file")
    p.add_argument("out")
    sub.add_parser("warm")
    p = sub.add_parser("child")
    p.add_argument("cap")
    p.add_argument("out")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warm-first", action="store_true")
    p.add_argument("--early-exit", action="store_true")
    p = sub.add_parser("ab")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c", help="an identical copy of A (the A/A control)")
    p.add_argument("cap")
    p.add_argument("outdir")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warm-first", action="store_true", help="the untimed call on the first input only (slides)")
    p.add_argument("--early-exit", action="store_true",
                   help="forest_early_exit=True where a tree's classify_pigment takes it (the slide worker's choice)")
    p = sub.add_parser("table")
    p.add_argument("outdir")
    p.add_argument("--key", default="cpu", choices=("cpu", "user", "sys"))
    args = ap.parse_args()
    if args.cmd == "capture":
        capture(args.what, args.out)
    elif args.cmd == "warm":
        warm()
    elif args.cmd == "child":
        child(args.cap, args.out, args.reps, args.warm_first, args.early_exit)
    elif args.cmd == "ab":
        ab(args.a, args.b, args.c, args.cap, args.outdir, args.rounds, args.reps, args.warm_first, args.early_exit)
    else:
        print("\n".join(table(args.outdir, args.key)))


if __name__ == "__main__":
    main()
