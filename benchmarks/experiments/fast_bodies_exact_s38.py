"""Session 38 H9 (#16), gate 1 (a): the compiled ``body_*`` columns equal H4's reference bit for bit.

Run from the candidate tree (``cd TREE && PYTHONPATH=. python .../fast_bodies_exact_s38.py REF SOURCE ...``):
every call of :func:`mmnst_path.classify._pigment_reach_bodies.bounded_body_columns` (through
``pigment.pigment_probability`` and ``_pigment_features.pigment_features``) is also given, with the same
arguments, to the reference module REF (a ``_pigment_reach_bodies.py`` file of another tree, e.g. H4's
5fe914b, loaded inside this tree's package so its relative imports resolve here), and the columns are compared by
dtype, shape and bytes. SOURCE: ``slide:PATH:MPP`` (the default run, tile_um 512, 1 worker) or
``families:FIRST:SEEDS`` (``eval_pigment_families.py --chromogens eosin``). ``--save DIR`` also keeps the
arguments of each call (``.npz``) for micro-benchmarks. Prints per source the calls, the calls with brown
candidates, the values compared and the calls that differ; exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

STATS: dict[str, int] = {}


def _load_reference(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("mmnst_path.classify._reach_bodies_reference", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _hook(ref: Any, save: Path | None) -> None:
    from mmnst_path.classify import _pigment_features, pigment

    real = pigment.bounded_body_columns

    def both(total: np.ndarray, brown: np.ndarray, cand: np.ndarray, mpp: float, **kw: Any) -> Any:
        new = real(total, brown, cand, mpp, **kw)
        old = ref.bounded_body_columns(total, brown, cand, mpp, **kw)
        STATS["calls"] += 1
        STATS["calls_with_brown_candidates"] += int(np.any(brown & cand))
        same = [n1 == n0 and a1.dtype == a0.dtype and a1.shape == a0.shape and a1.tobytes() == a0.tobytes()
                for (n1, a1), (n0, a0) in zip(new, old, strict=True)] if len(new) == len(old) else [False]
        STATS["values"] += sum(int(a.size) for _, a in new)
        STATS["differing_calls"] += int(not all(same))
        if save is not None:
            np.savez(save / f"call_{STATS['calls']:04d}.npz", total=total, brown=brown, cand=cand, mpp=mpp,
                     body_um=kw["body_um"], hole_um=kw["hole_um"])
        return new

    pigment.bounded_body_columns = both
    _pigment_features.bounded_body_columns = both


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("reference", type=Path)
    p.add_argument("sources", nargs="+")
    p.add_argument("--save", type=Path, default=None)
    a = p.parse_args()
    _hook(_load_reference(a.reference), a.save)
    report = {}
    for source in a.sources:
        STATS.update(calls=0, calls_with_brown_candidates=0, values=0, differing_calls=0)
        kind, *args = source.split(":")
        if kind == "slide":
            from mmnst_path.pipeline import AnalysisConfig, analyze_slide

            analyze_slide(args[0], AnalysisConfig(stains="auto"), mpp=float(args[1]), workers=1)
        elif kind == "families":
            import runpy

            sys.argv = ["eval_pigment_families.py", "--chromogens", "eosin", "--first-seed", args[0],
                        "--seeds", args[1]]
            runpy.run_path(str(Path("benchmarks/eval_pigment_families.py")), run_name="__main__")
        else:
            raise SystemExit(f"unknown source {source!r}")
        report[source] = dict(STATS)
        print(source, STATS, flush=True)
    print(json.dumps(report, indent=1))
    sys.exit(1 if any(r["differing_calls"] or not r["calls_with_brown_candidates"] for r in report.values()) else 0)


if __name__ == "__main__":
    main()
