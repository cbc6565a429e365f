"""Exactness check of session 38 H1 (#13): a slide's outputs from two source trees, compared.

``run SLIDE MPP OUT`` (with ``PYTHONPATH`` the tree under test): ``analyze_slide`` (``stains="auto"``, 1 worker),
``write_result`` into OUT and the in-memory result (counts, metrics, maps, per-tile columns but ``seconds``,
cells) pickled to ``OUT.pkl``. ``compare A B``: every written file byte for byte, result.json and
summary.json leaf by leaf (the differing keys listed: only wall-clock ones are allowed), the pickles.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import sys
from typing import Any

import numpy as np


def run(slide: str, mpp: float, out: str) -> None:
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide
    from mmnst_path.report import write_result

    res = analyze_slide(slide, AnalysisConfig(stains="auto"), mpp=mpp, workers=1)
    write_result(res, out)
    kept = {"counts": repr(res.counts), "metrics": res.metrics,
            "maps": {k: np.asarray(v.image) for k, v in res.maps.items()},
            "tiles": {k: np.asarray(v) for k, v in res.tiles.columns.items() if k != "seconds"},
            "core": np.asarray(res.tiles.core), "cells": {k: np.asarray(v) for k, v in res.cells.columns.items()},
            "cls": np.asarray(res.cells.cls), "row": np.asarray(res.cells.row), "col": np.asarray(res.cells.col)}
    with open(out + ".pkl", "wb") as fh:
        pickle.dump(kept, fh)


def _leaves(x: Any, y: Any, path: str, out: set[str]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in set(x) | set(y):
            if k not in x or k not in y:
                out.add(f"KEY {path}{k}")
            else:
                _leaves(x[k], y[k], f"{path}{k}.", out)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (u, v) in enumerate(zip(x, y, strict=True)):
            _leaves(u, v, f"{path}{i}.", out)
    elif x != y and not (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)):
        out.add(re.sub(r"\.\d+\.", ".N.", path))


def compare(a: str, b: str) -> None:
    files = sorted(os.path.relpath(os.path.join(r, f), a) for r, _, fs in os.walk(a) for f in fs)
    other = sorted(os.path.relpath(os.path.join(r, f), b) for r, _, fs in os.walk(b) for f in fs)
    print("same file list:", files == other, len(files))
    for f in files:
        da, db = (open(os.path.join(d, f), "rb").read() for d in (a, b))
        if da == db:
            continue
        if f.endswith(".json"):
            diff: set[str] = set()
            _leaves(json.loads(da), json.loads(db), "", diff)
            print(f"{f}: differs at {sorted(diff)}")
        else:
            print(f"{f}: DIFFERS")
    if os.path.exists(a + ".pkl"):
        x, y = (pickle.load(open(p + ".pkl", "rb")) for p in (a, b))
        bad = ["counts"] if x["counts"] != y["counts"] else []
        diff = set()
        _leaves(x["metrics"], y["metrics"], "", diff)
        bad += [f"metric {k}" for k in sorted(diff)]
        for grp in ("maps", "tiles", "cells"):
            bad += [f"{grp} {k}" for k, v in x[grp].items() if k not in y[grp] or v.dtype != y[grp][k].dtype
                    or not np.array_equal(v, y[grp][k], equal_nan=v.dtype.kind == "f")]
        bad += [k for k in ("core", "cls", "row", "col") if not np.array_equal(x[k], y[k])]
        print("in memory:", "identical" if not bad else bad)


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    else:
        compare(sys.argv[2], sys.argv[3])
