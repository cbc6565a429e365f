"""Per-stage profile of the default pipeline on real Ki67 tiles at their native resolution.

Usage::

    .venv/bin/python benchmarks/bench_profile.py [--tiles 3] [--repeat 3] [--json OUT.json] [--no-pigment] \
        [--before TREE] [--cpu] [--gate off|default|FILE]

What is timed: for each of the first ``--tiles`` images of BCData (640², 0.25 µm/px) and
SHIDC-B-Ki-67 (1228², 0.21 µm/px) in ``../shared/data/ki67`` (mpp from
``benchmarks/datasets.toml``), the PNG/JPEG decode and then ``mmnst_path.pipeline.analyze_region``
with the default configuration (the code path of ``mmnst-path quantify``: tissue detection,
tile planning, reading the tile at 0.5 µm/px, pigment, Ki67 with the default cell model,
melanin), one thread (OMP / OpenBLAS / MKL / numba threads set to 1 before numpy is imported).

How: the library functions of every stage are wrapped, in this process only, by timers that keep
a stack, so each stage's time is inclusive of its sub-stages and is reported under its caller
(the resampling inside tissue detection and inside the tile read are separate rows). ``(rest)``
rows are the caller's time outside the listed sub-stages. One warm-up pass (numba compilation,
model loading) is not timed; the table is the mean seconds per tile over ``--repeat`` passes.
A stage the library no longer has is reported as missing rather than silently dropped.

``--cpu`` times with the process's CPU clock (``time.process_time``) instead of the wall clock:
on a machine shared with other jobs the wall clock also counts the time the process waits for a
core, the CPU clock only (mostly) what it computes.

``--before TREE`` compares two versions in one run: every pass runs in a fresh process, once
with the mmnst_path of ``TREE`` (e.g. ``git archive <commit> | tar -x -C TREE``) and once with
this checkout's, alternately (before, after, before, after...), each with its own warm-up; the
table has a column per set and version.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "ki67"

#: (module, attribute, stage label): the functions whose time is attributed to a stage. A module
#: attribute is replaced, so it must be looked up at call time by its callers (they import
#: inside the function or call the module global).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("mmnst_path.pipeline._slide", "analyze_slide", "analyze_region"),
    ("mmnst_path.tiling", "detect_tissue", "tissue detection"),
    ("mmnst_path.tiling.executor", "read_tile", "read tile at 0.5 µm/px"),
    ("mmnst_path.io._resample", "resize_area", "resample"),
    ("mmnst_path.pipeline._slide", "analyze_tile", "analyze tile"),
    ("mmnst_path.pipeline._worker", "_pigment", "pigment"),
    ("mmnst_path.classify._pigment_gate", "tile_may_hold_pigment", "learned tile gate"),
    ("mmnst_path.detect.pigment", "pigment_channels", "stain channels"),
    ("mmnst_path.detect.pigment", "pigment_gate", "colour gate"),
    ("mmnst_path.classify.pigment", "prepare_bodies", "bodies decided before the pixel model"),
    ("mmnst_path.classify.pigment", "pigment_probability", "pixel features + forest"),
    ("mmnst_path.classify.pigment", "_body_table", "pixel-model body table"),
    ("mmnst_path.classify.pigment", "learned_body_veto", "brown-body veto"),
    ("mmnst_path.detect._pigment_gate", "brown_body_labels", "brown bodies"),
    ("mmnst_path.classify._pigment_bodies", "body_object_features", "body features"),
    ("mmnst_path.classify._pigment_bodies", "body_image_features", "body image features"),
    ("mmnst_path.classify._pigment_context", "context_melanin_bodies", "context bodies"),
    ("mmnst_path.detect.pigment", "clustered_pigment", "clusters"),
    ("mmnst_path.quantify.ki67", "measure_ki67", "ki67"),
    ("mmnst_path.stain", "separate_stains", "deconvolution"),
    ("mmnst_path.stain", "od_from_rgb", "optical density"),
    ("mmnst_path.detect.nuclei", "nuclei_from_stains", "nucleus detection"),
    ("mmnst_path.detect.nuclei", "_gaussian", "gaussian"),
    ("mmnst_path.detect.nuclei", "_minus_background", "background"),
    ("mmnst_path.detect.nuclei", "_log_seeds", "LoG seeds"),
    ("mmnst_path.detect.nuclei", "_window_max_at", "seed suppression"),
    ("mmnst_path.detect.nuclei", "_watershed_by_bands", "watershed"),
    ("mmnst_path.detect.nuclei", "_measure", "nucleus features"),
    ("mmnst_path.detect.outlines", "star_radii", "outlines"),
    ("mmnst_path.classify.cells", "classify_cells", "cell classifier"),
    ("mmnst_path.classify.cells", "nucleus_features", "classifier features"),
    ("mmnst_path.classify.model", "ClassifierModel.predict_proba", "classifier prediction"),
    ("mmnst_path.quantify.melanin", "measure_melanin", "melanin"),
)


#: the clock of every timer (``--cpu``: ``time.process_time``)
_clock: Callable[[], float] = time.perf_counter


class Timers:
    """Inclusive seconds per stage path (tuple of labels from the outermost timed stage)."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, ...], float] = defaultdict(float)
        self.stack: list[str] = []

    def wrap(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(label)
            path = tuple(self.stack)
            t0 = _clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[path] += _clock() - t0
                self.stack.pop()

        timed.__wrapped__ = fn  # type: ignore[attr-defined]
        return timed


def install(timers: Timers) -> list[str]:
    """Wrap every stage function; returns the stages not found in the library."""
    missing = []
    for module, attr, label in STAGES:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            missing.append(f"{module} ({label})")
            continue
        owner: Any = mod
        *parents, name = attr.split(".")
        for p in parents:
            owner = getattr(owner, p, None)
        if owner is None or not hasattr(owner, name):
            missing.append(f"{module}.{attr} ({label})")
            continue
        setattr(owner, name, timers.wrap(getattr(owner, name), label))
    return missing


def dataset_images(name: str, n: int) -> tuple[float, list[Path]]:
    with (HERE / "datasets.toml").open("rb") as fh:
        mpp = float(tomllib.load(fh)[name]["mpp"])
    folder = DATA / name
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    return mpp, images[:n]


def decode(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def run(datasets: dict[str, tuple[float, list[Path]]], repeat: int, gate: str | None = None,
        ) -> tuple[dict[str, dict[tuple[str, ...], float]], list[str]]:
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    # stains H-DAB (the API's default until session 44: the figures keep their meaning)
    config = AnalysisConfig.from_mapping({"stains": "H-DAB", **({} if gate is None else {"pigment": {"gate": gate}})})

    timers = Timers()
    missing = install(timers)
    per_set: dict[str, dict[tuple[str, ...], float]] = {}
    for mpp, paths in datasets.values():
        for p in paths:  # warm-up (numba compilation, models), not timed
            analyze_region(decode(p), config, mpp=mpp)
    for name, (mpp, paths) in datasets.items():
        timers.seconds.clear()
        for _ in range(repeat):
            for p in paths:
                t0 = _clock()
                rgb = decode(p)
                timers.seconds[("decode",)] += _clock() - t0
                t0 = _clock()
                analyze_region(rgb, config, mpp=mpp)
                timers.seconds[("total (decode excluded)",)] += _clock() - t0
        n = repeat * len(paths)
        per_set[name] = {k: v / n for k, v in timers.seconds.items()}
    return per_set, missing


def table(per_set: dict[str, dict[tuple[str, ...], float]]) -> str:
    """Markdown table: one row per stage path (depth-first, callers before callees)."""
    paths: set[tuple[str, ...]] = set()
    for d in per_set.values():
        paths |= set(d)
    order = {label: i for i, (_, _, label) in enumerate(STAGES)}
    # add (rest) rows for every stage with timed children
    rows: list[tuple[str, ...]] = []

    def key(p: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(order.get(x, -1 if x == "decode" else 999) for x in p)

    def children(p: tuple[str, ...]) -> list[tuple[str, ...]]:
        return sorted((q for q in paths if len(q) == len(p) + 1 and q[: len(p)] == p), key=key)

    def visit(p: tuple[str, ...]) -> None:
        rows.append(p)
        kids = children(p)
        for q in kids:
            visit(q)
        if kids:
            rows.append((*p, "(rest)"))

    for top in sorted((p for p in paths if len(p) == 1), key=key):
        visit(top)
    names = list(per_set)
    head = "| stage | " + " | ".join(f"{n} s/tile" for n in names) + " | " + " | ".join(f"{n} %" for n in names) + " |"
    out = [head, "|---" * (1 + 2 * len(names)) + "|"]
    for p in rows:
        vals, shares = [], []
        for n in names:
            d = per_set[n]
            if p[-1] == "(rest)":
                parent = p[:-1]
                v = d.get(parent, 0.0) - sum(d.get(q, 0.0) for q in paths if len(q) == len(parent) + 1
                                             and q[: len(parent)] == parent)
            else:
                v = d.get(p, 0.0)
            total = d.get(("total (decode excluded)",), 0.0) + d.get(("decode",), 0.0)
            vals.append(f"{v:.4f}")
            shares.append(f"{100 * v / total:.1f}" if total else "-")
        label = "&nbsp;&nbsp;" * (len(p) - 1) + p[-1]
        out.append(f"| {label} | " + " | ".join(vals) + " | " + " | ".join(shares) + " |")
    return "\n".join(out)


def clip_at_edge() -> None:
    """Make the pipeline plan its tiles with ``clip_at_edge=True`` (in this process only)."""
    import functools

    import mmnst_path.tiling as tiling

    tiling.plan_grid = functools.partial(tiling.plan_grid, clip_at_edge=True)  # type: ignore[assignment]


def no_pigment() -> None:
    """What-if baseline for the cost of pigment handling (#14): the pipeline's pigment step returns
    empty melanin and exclusion masks (in this process only); everything else runs as usual."""
    import mmnst_path.pipeline._worker as worker

    def empty(rgb: np.ndarray, mpp: float, job: Any, planes: Any = None) -> tuple[np.ndarray, np.ndarray]:
        none = np.zeros(rgb.shape[:2], dtype=bool)
        return none, none

    worker._pigment = empty  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, default=3, help="images per dataset (first N, sorted by name)")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the images")
    ap.add_argument("--json", type=Path, help="also write the per-stage seconds to this JSON file")
    ap.add_argument("--clip-at-edge", action="store_true",
                    help="what-if: plan tiles with tiling.plan_grid(clip_at_edge=True) (no white margins)")
    ap.add_argument("--no-pigment", action="store_true",
                    help="what-if: no pigment detection (empty masks), the baseline pigment handling adds to")
    ap.add_argument("--gate", metavar="SPEC",
                    help="[pigment] gate of the run ('off', 'default' or a gate model file; this checkout only); "
                         "default: the configuration's default")
    ap.add_argument("--before", type=Path, metavar="TREE",
                    help="also profile the mmnst_path of this source tree, alternating passes (fresh processes)")
    ap.add_argument("--cpu", action="store_true",
                    help="time with the process's CPU clock instead of the wall clock (shared machines)")
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)  # internal: the source tree to import
    args = ap.parse_args(argv)
    if args.cpu:
        global _clock
        _clock = time.process_time
    if args.before is not None:
        return compare(args)
    sys.path.insert(0, str((args.tree or HERE.parent).resolve()))
    if args.clip_at_edge:
        clip_at_edge()
    if args.no_pigment:
        no_pigment()
    datasets = {name: dataset_images(name, args.tiles) for name in ("bcdata", "shidc")}
    per_set, missing = run(datasets, args.repeat, args.gate)
    clock = "CPU" if args.cpu else "wall-clock"
    print(f"{args.tiles} tiles per set x {args.repeat} passes, one thread; {clock} seconds per tile (mean)")
    for name, (mpp, paths) in datasets.items():
        print(f"  {name}: {mpp} µm/px, {', '.join(p.name for p in paths)}")
    if missing:
        print("stages not found (not timed): " + ", ".join(missing))
    print(table(per_set))
    if args.json:
        args.json.write_text(json.dumps({n: {" / ".join(k): v for k, v in d.items()} for n, d in per_set.items()},
                                        indent=1))
    return 0


def compare(args: argparse.Namespace) -> int:
    """Alternate one-pass child processes of the ``--before`` tree and of this checkout."""
    import subprocess
    import tempfile

    trees = {"before": args.before.resolve(), "after": HERE.parent}
    sums: dict[str, dict[tuple[str, ...], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeat):
            for label, tree in trees.items():
                out = Path(tmp) / f"{label}{rep}.json"
                cmd = [sys.executable, str(Path(__file__).resolve()), "--tiles", str(args.tiles), "--repeat", "1",
                       "--json", str(out), "--tree", str(tree)]
                cmd += ["--clip-at-edge"] * args.clip_at_edge + ["--no-pigment"] * args.no_pigment + ["--cpu"] * args.cpu
                if args.gate is not None and label == "after":
                    cmd += ["--gate", args.gate]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                for name, stages in json.loads(out.read_text()).items():
                    acc = sums.setdefault(f"{name} {label}", defaultdict(float))
                    for k, v in stages.items():
                        acc[tuple(k.split(" / "))] += v / args.repeat
    names = [f"{n} {lab}" for n in ("bcdata", "shidc") for lab in trees]
    clock = "CPU" if args.cpu else "wall-clock"
    print(f"{args.tiles} tiles per set x {args.repeat} passes per version, alternating, {clock} seconds; "
          f"before = {trees['before']}")
    print(table({n: dict(sums[n]) for n in names}))
    if args.json:
        args.json.write_text(json.dumps({n: {" / ".join(k): v for k, v in d.items()} for n, d in sums.items()},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
