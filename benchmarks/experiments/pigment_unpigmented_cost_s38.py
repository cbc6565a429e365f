"""Experiment (#14 speed, session 38 H6): the pigment stage's CPU on the 20 unpigmented BCData + SHIDC tiles.

``bench_pigment_cost.py``'s measure on the real tiles, with the process CPU clock, package trees
interleaved in fresh processes and an A/A control:

- ``child OUT``: in the tree on ``PYTHONPATH``: decodes the first 10 BCData and 10 SHIDC tiles
  (sorted names, at their benchmarks/datasets.toml µm/px), makes one untimed pass, then
  ``--passes`` timed passes; per tile ``analyze_region`` as shipped (the call's process CPU, and
  the process CPU spent inside the pipeline's ``_worker._pigment``: the pigment stage) and with
  the pigment step returning empty masks (``bench_profile.no_pigment``'s baseline: the call's
  process CPU), the two variants alternating. Writes JSON: per tile and pass, the three times.
- ``speed H C H2 OUT [--rounds 2]``: per tree one cache-filling ``analyze_slide`` of a sample
  tile and one discarded ``child``; then rounds of fresh processes H C C H H H2 H2 H (H2: a
  second copy of H, the A/A control); then ``table``.
- ``table OUT``: per process the stage CPU summed over tiles and passes; the figure is the
  median over C processes / the median over H processes, the A/A the median over H2 / the
  median over H; and per set and tree the #14 figure, 100 (median of the with-pigment
  ``analyze_region`` sums / median of the no-pigment sums - 1).

    python benchmarks/experiments/pigment_unpigmented_cost_s38.py speed H C H2 OUT [--rounds 2]
    python benchmarks/experiments/pigment_unpigmented_cost_s38.py table OUT
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
KI67 = Path("/work/shared/data/ki67")
SETS = ("bcdata", "shidc")


def _tiles() -> list[tuple[str, str, Any, float]]:
    import numpy as np
    from PIL import Image

    mpp = {k: float(v["mpp"]) for k, v in tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text()).items()}
    out = []
    for ds in SETS:
        for p in sorted(q for q in (KI67 / ds).iterdir() if q.suffix.lower() in (".png", ".jpg"))[:10]:
            with Image.open(p) as im:
                out.append((f"{ds}/{p.name}", ds, np.asarray(im.convert("RGB")), mpp[ds]))
    return out


def child(out: str, passes: int) -> None:
    """One process of the tree on ``PYTHONPATH`` (module docstring)."""
    import numpy as np

    import mmnst_path.pipeline._worker as worker
    from mmnst_path.pipeline import analyze_region

    shipped = worker._pigment
    spent = [0.0]

    def timed(*a: Any, **k: Any) -> Any:
        t0 = time.process_time()
        try:
            return shipped(*a, **k)
        finally:
            spent[0] += time.process_time() - t0

    def empty(rgb: np.ndarray, mpp: float, job: Any, planes: Any = None) -> tuple[np.ndarray, np.ndarray]:
        none = np.zeros(rgb.shape[:2], dtype=bool)
        return none, none

    tiles = _tiles()
    for _, _, rgb, mpp in tiles:  # untimed: kernels and models loaded, caches warm
        for fn in (timed, empty):
            worker._pigment = fn  # type: ignore[assignment]
            analyze_region(rgb, None, mpp=mpp)
    rows: dict[str, list[dict[str, float]]] = {name: [] for name, *_ in tiles}
    for _ in range(passes):
        for name, _, rgb, mpp in tiles:
            worker._pigment = timed  # type: ignore[assignment]
            spent[0] = 0.0
            t0 = time.process_time()
            analyze_region(rgb, None, mpp=mpp)
            with_p = time.process_time() - t0
            stage = spent[0]
            worker._pigment = empty  # type: ignore[assignment]
            t0 = time.process_time()
            analyze_region(rgb, None, mpp=mpp)
            without = time.process_time() - t0
            rows[name].append({"with": with_p, "stage": stage, "without": without})
    worker._pigment = shipped  # type: ignore[assignment]
    Path(out).write_text(json.dumps({"tree": str(Path(sys.modules["mmnst_path"].__file__ or "").parents[1]),
                                     "load": os.getloadavg()[0], "rows": rows}))


def _run(tree: str, args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=tree)
    subprocess.run([sys.executable, str(HERE), *args], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)


def warm() -> None:
    """Fill this tree's numba cache as a first slide run does (nothing to do when it is warm)."""
    from mmnst_path.pipeline import analyze_slide

    analyze_slide(Path.cwd() / "sample_tiles" / "ki67_primary.tif", None, workers=1)


def speed(h: str, c: str, h2: str, outdir: str, rounds: int, passes: int) -> None:
    Path(outdir).mkdir(parents=True, exist_ok=True)
    trees = {"H": h, "C": c, "A": h2}  # A: the A/A copy of H (H2)
    for tree in trees.values():
        _run(tree, ["warm"])
        _run(tree, ["child", os.devnull, "--passes", "1"])
    k = 0
    for _ in range(rounds):
        for t in "HCCHHAAH":
            k += 1
            _run(trees[t], ["child", f"{outdir}/{t}_{k:02d}.json", "--passes", str(passes)])
    print("\n".join(table(outdir)))


def table(outdir: str) -> list[str]:
    runs = {t: [json.loads(Path(f).read_text()) for f in sorted(glob.glob(f"{outdir}/{t}_*.json"))] for t in "HCA"}

    def sums(run: dict, key: str, ds: str | None = None) -> float:
        return sum(r[key] for name, rs in run["rows"].items() if ds is None or name.startswith(ds) for r in rs)

    med = {t: statistics.median(sums(r, "stage") for r in rs) for t, rs in runs.items() if rs}
    lines = [f"processes: {', '.join(f'{t} {len(v)}' for t, v in runs.items())} (A = H2, the A/A copy); "
             f"loads {[round(r['load'], 2) for t in 'HCA' for r in runs[t]]}",
             f"pigment stage CPU s per process (20 tiles x passes): H {[sums(r, 'stage') for r in runs['H']]}",
             f"  C {[sums(r, 'stage') for r in runs['C']]}",
             f"  H2 {[sums(r, 'stage') for r in runs['A']]}"]
    if "C" in med:
        lines.append(f"figure: median C / median H = {med['C'] / med['H']!r}")
    if "A" in med:
        lines.append(f"A/A: median H2 / median H = {med['A'] / med['H']!r}")
    lines += ["", "| set | tree | with pigment s | no pigment s | pigment adds % | stage s | stage share of with % |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for ds in SETS:
        for t, label in (("H", "HEAD"), ("C", "candidate"), ("A", "HEAD copy")):
            if not runs[t]:
                continue
            w = statistics.median(sums(r, "with", ds) for r in runs[t])
            wo = statistics.median(sums(r, "without", ds) for r in runs[t])
            st = statistics.median(sums(r, "stage", ds) for r in runs[t])
            lines.append(f"| {ds} | {label} | {w!r} | {wo!r} | {100 * (w / wo - 1)!r} | {st!r} | {100 * st / w!r} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("child")
    p.add_argument("out")
    p.add_argument("--passes", type=int, default=2)
    sub.add_parser("warm")
    p = sub.add_parser("speed")
    for name in ("h", "c", "h2", "out"):
        p.add_argument(name)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--passes", type=int, default=2)
    p = sub.add_parser("table")
    p.add_argument("out")
    a = ap.parse_args()
    if a.cmd == "child":
        child(a.out, a.passes)
    elif a.cmd == "warm":
        warm()
    elif a.cmd == "speed":
        speed(a.h, a.c, a.h2, a.out, a.rounds, a.passes)
    else:
        print("\n".join(table(a.out)))


if __name__ == "__main__":
    main()
