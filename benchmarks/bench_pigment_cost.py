"""What pigment handling adds to a 1024² H-DAB tile (issues #14 and #16).

Usage::

    .venv/bin/python benchmarks/bench_pigment_cost.py [--repeat 3] [--before TREE] [--json OUT.json]

What is timed: ``mmnst_path.pipeline.analyze_region`` (default configuration: tissue, pigment,
Ki67 with the default cell model, melanin; stains H-DAB, the API's default until session 44) of four 1024² H-DAB tiles at 0.5 µm/px: the bundled
``sample_tiles/ki67_primary.tif`` (unpigmented) and ``ki67_pigmented.tif``, and the generated
``pigment_family_tile(3, "none" / "coarse", size=1024)``; once as shipped and once with the
pipeline's pigment step returning empty masks (``bench_profile.no_pigment``: the baseline pigment
handling adds to). One thread, images in memory, one warm-up pass; the median of ``--repeat``
passes per tile and variant, the two variants alternating.

``--before TREE`` runs the same passes with the mmnst_path of ``TREE`` (``git archive <commit> |
tar -x -C TREE``) in fresh processes, alternating with this checkout's (before, after, before...).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "sample_tiles"
TILES = ("ki67_primary.tif (unpigmented)", "ki67_pigmented.tif", "generated none (seed 3)",
         "generated coarse (seed 3)")


def load_tiles() -> dict[str, np.ndarray]:
    """The four 1024² RGB tiles of :data:`TILES`, by name."""
    import tifffile

    from mmnst_path.synthetic import pigment_family_tile

    return {
        TILES[0]: np.ascontiguousarray(tifffile.imread(SAMPLES / "ki67_primary.tif")[..., :3]),
        TILES[1]: np.ascontiguousarray(tifffile.imread(SAMPLES / "ki67_pigmented.tif")[..., :3]),
        TILES[2]: pigment_family_tile(3, "none", size=1024).rgb,
        TILES[3]: pigment_family_tile(3, "coarse", size=1024).rgb,
    }


def run(repeat: int) -> dict[str, dict[str, float]]:
    """Median seconds of ``analyze_region`` per tile, ``{"pigment": ..., "no pigment": ...}``."""
    import mmnst_path.pipeline._worker as worker
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    HDAB = AnalysisConfig(stains="H-DAB")  # (the tiles' stains; a --before tree reads them the same)
    sys.path.insert(0, str(HERE))
    from bench_profile import no_pigment

    shipped = worker._pigment
    no_pigment()
    empty = worker._pigment
    variants = {"pigment": shipped, "no pigment": empty}
    tiles = load_tiles()
    for rgb in tiles.values():  # warm-up: numba compilation, models
        for fn in variants.values():
            worker._pigment = fn  # type: ignore[assignment]
            analyze_region(rgb, HDAB, mpp=0.5)
    times: dict[str, dict[str, list[float]]] = {n: {v: [] for v in variants} for n in tiles}
    for _ in range(repeat):
        for name, rgb in tiles.items():
            for variant, fn in variants.items():
                worker._pigment = fn  # type: ignore[assignment]
                t0 = time.perf_counter()
                analyze_region(rgb, HDAB, mpp=0.5)
                times[name][variant].append(time.perf_counter() - t0)
    worker._pigment = shipped  # type: ignore[assignment]
    return {n: {v: statistics.median(ts) for v, ts in d.items()} for n, d in times.items()}


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown table: per tile and version, s without and with pigment handling and the share it adds."""
    out = ["| 1024² H-DAB tile, `analyze_region` | code | no pigment s | pigment s | pigment adds |",
           "|---|---|---:|---:|---:|"]
    for name in TILES:
        for version, per_tile in results.items():
            t = per_tile[name]
            add = 100.0 * (t["pigment"] / t["no pigment"] - 1.0)
            out.append(f"| {name} | {version} | {t['no pigment']:.3f} | {t['pigment']:.3f} | {add:+.0f} % |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per tile and variant (median)")
    ap.add_argument("--before", type=Path, metavar="TREE", help="also time the mmnst_path of this source tree")
    ap.add_argument("--json", type=Path, help="also write the results to this JSON file")
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)  # internal: the source tree to import
    args = ap.parse_args(argv)
    if args.before is None:
        sys.path.insert(0, str((args.tree or HERE.parent).resolve()))
        results = {"this checkout" if args.tree is None else str(args.tree): run(args.repeat)}
    else:
        results = compare(args)
    print(f"median of {args.repeat} passes per tile and variant, one thread, 0.5 µm/px")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def compare(args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    """One-pass child processes of the ``--before`` tree and of this checkout, alternating."""
    import subprocess
    import tempfile

    trees = {"before": args.before.resolve(), "after": HERE.parent}
    runs: dict[str, list[dict[str, dict[str, float]]]] = {label: [] for label in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeat):
            for label, tree in trees.items():
                out = Path(tmp) / f"{label}{rep}.json"
                cmd = [sys.executable, str(Path(__file__).resolve()), "--repeat", "1", "--json", str(out),
                       "--tree", str(tree)]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                runs[label].append(next(iter(json.loads(out.read_text()).values())))
    return {label: {name: {v: statistics.median(r[name][v] for r in rs) for v in ("pigment", "no pigment")}
                    for name in TILES} for label, rs in runs.items()}


if __name__ == "__main__":
    raise SystemExit(main())
