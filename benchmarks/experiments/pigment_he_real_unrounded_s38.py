"""Session 38 H4 (#16), gate 3: ``eval_pigment_he.py``'s real-set figures unrounded (per tile and per row).

Run from a tree (``cd TREE && PYTHONPATH=. python .../pigment_he_real_unrounded_s38.py OUT.json``): loads that tree's
``benchmarks/eval_pigment_he.py`` and calls its ``real`` on ``real_tiles()`` with the pipeline's default detector,
then writes every tile's pigment % and each set's mean / max / tiles > 0.1 % unrounded.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    a = ap.parse_args()
    path = Path.cwd() / "benchmarks" / "eval_pigment_he.py"
    spec = importlib.util.spec_from_file_location("eval_pigment_he", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["eval_pigment_he"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    from mmnst_path.classify.pigment import resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams

    args = argparse.Namespace(detector="model")
    _, vals = mod.real(args, resolve_pigment_model("default"), PigmentParams(), mod.real_tiles())
    rows = {}
    for tag in dict.fromkeys(t for t, _, _ in vals):
        v = np.array([x for t, _, x in vals if t == tag])
        rows[tag] = {"tiles": len(v), "mean": float(v.mean()), "max": float(v.max()), "over_0.1": int((v > 0.1).sum())}
    a.out.write_text(json.dumps({"rows": rows, "tiles": [[t, n, x] for t, n, x in vals]}, indent=1))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
