"""Experiment (#16, session 31 H3): a lone real Ki67 tile's CPU, ``analyze_region`` as ``bench_peers.py`` times it,
two package trees paired, with an A/A control.

Trees A (before), B (candidate) and C (an identical copy of A). Each tree's numba cache is first filled the way the
pipeline fills it (``pigment_stage_ab.warm``: one ``analyze_slide`` of the sample tile) and one discarded process
runs every tile once. Then ``--rounds`` rounds of fresh single-threaded processes A B B A A C C A; each process
decodes the tiles (the first ``--tiles`` of BCData and SHIDC by name, at their µm/px of benchmarks/datasets.toml),
calls ``analyze_region(rgb, mpp=mpp)`` (default configuration) once on every tile untimed, then times each tile
``--reps`` times with the process CPU clock (``time.process_time``, as ``bench_peers.py --cpu``; median).

The table: per tile, the mean over each tree's processes; per set, the median over the tiles of the per-tile ratio
B / A (candidate) and C / A (A/A).

    python benchmarks/experiments/lone_tile_ab.py ab A B C OUTDIR [--rounds 2] [--reps 3] [--tiles 10]
    python benchmarks/experiments/lone_tile_ab.py table OUTDIR
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from pigment_stage_ab import KI67, ROOT, _decode, warm

SETS = ("bcdata", "shidc")


def child(out: str, tiles: int, reps: int) -> None:
    """One process: every tile once untimed, then each tile's median CPU seconds over ``reps`` calls."""
    from mmnst_path.pipeline import analyze_region

    mpp = {k: float(v["mpp"]) for k, v in tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text()).items()}
    data = []
    for ds in SETS:
        paths = sorted(q for q in (KI67 / ds).iterdir() if q.suffix.lower() in (".png", ".jpg"))[:tiles]
        data += [(f"{ds}/{p.name}", _decode(p), mpp[ds]) for p in paths]
    for _, rgb, m in data:
        analyze_region(rgb, mpp=m)
    sec: dict[str, float] = {}
    for name, rgb, m in data:
        t = []
        for _ in range(reps):
            t0 = time.process_time()
            analyze_region(rgb, mpp=m)
            t.append(time.process_time() - t0)
        sec[name] = statistics.median(t)
    Path(out).write_text(json.dumps({"tree": str(Path(sys.modules["mmnst_path"].__file__ or "").parents[1]),
                                     "load": os.getloadavg()[0], "seconds": sec}))


def _run(tree: str, args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=tree)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    subprocess.run([sys.executable, __file__, *args], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)


def ab(trees: dict[str, str], outdir: str, rounds: int, reps: int, tiles: int) -> None:
    Path(outdir).mkdir(parents=True, exist_ok=True)
    for tree in trees.values():  # the cache filled the pipeline's way, then the discarded warm-up process
        _run(tree, ["warm"])
        _run(tree, ["child", os.devnull, "--reps", "1", "--tiles", str(tiles)])
    k = 0
    for _ in range(rounds):
        for t in "ABBAACCA":
            k += 1
            _run(trees[t], ["child", f"{outdir}/{t}_{k:02d}.json", "--reps", str(reps), "--tiles", str(tiles)])
    print("\n".join(table(outdir)))


def table(outdir: str) -> list[str]:
    runs = {t: [json.loads(Path(f).read_text()) for f in sorted(glob.glob(f"{outdir}/{t}_*.json"))] for t in "ABC"}
    names = list(runs["A"][0]["seconds"])
    mean = {t: {n: statistics.mean(r["seconds"][n] for r in runs[t]) for n in names} for t in "ABC"}
    lines = [f"processes: {', '.join(f'{t} {len(v)}' for t, v in runs.items())}; CPU s per tile (process_time), "
             f"load {min(r['load'] for v in runs.values() for r in v):.1f}-"
             f"{max(r['load'] for v in runs.values() for r in v):.1f}"]
    for ds in dict.fromkeys(n.split("/")[0] for n in names):
        ns = [n for n in names if n.split("/")[0] == ds]
        lines += [f"\n| {ds} tile | A s | B s | C s | B/A | C/A |", "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {n.split('/', 1)[1]} | {mean['A'][n]:.4f} | {mean['B'][n]:.4f} | {mean['C'][n]:.4f} | "
                  f"{mean['B'][n] / mean['A'][n]:.4f} | {mean['C'][n] / mean['A'][n]:.4f} |" for n in ns]
        rb = [mean["B"][n] / mean["A"][n] for n in ns]
        rc = [mean["C"][n] / mean["A"][n] for n in ns]
        lines.append(f"{ds}: median B/A {statistics.median(rb):.4f} (tiles faster {sum(x < 1 for x in rb)}/{len(ns)}, "
                     f"range {min(rb):.4f}-{max(rb):.4f}); median C/A {statistics.median(rc):.4f} "
                     f"(range {min(rc):.4f}-{max(rc):.4f})")
    return lines  # (the gate reads the medians above: per-tile ratios of process means)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("cmd", choices=("ab", "child", "warm", "table"))
    ap.add_argument("paths", nargs="*", help="ab: A B C OUTDIR; child: OUT.json; table: OUTDIR")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of A B B A A C C A processes")
    ap.add_argument("--reps", type=int, default=3, help="timed calls per tile in each process (median)")
    ap.add_argument("--tiles", type=int, default=10, help="tiles per set, first by name")
    args = ap.parse_args()
    need = {"ab": 4, "child": 1, "warm": 0, "table": 1}[args.cmd]
    if len(args.paths) != need:
        ap.error(f"{args.cmd} takes {need} path(s), got {len(args.paths)}")
    if args.cmd == "ab":
        a, b, c, outdir = args.paths
        ab({"A": a, "B": b, "C": c}, outdir, args.rounds, args.reps, args.tiles)
    elif args.cmd == "child":
        child(args.paths[0], args.tiles, args.reps)
    elif args.cmd == "warm":
        warm()
    else:
        print("\n".join(table(args.paths[0])))


if __name__ == "__main__":
    main()
