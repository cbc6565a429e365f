"""Session 36 H4: ``benchmarks/accuracy.py``'s per-set summaries, unrounded (JSON), for rotations 0-3.

Runs ``accuracy.run`` (the pipeline engine, default configuration) of the tree on ``PYTHONPATH``
(its own ``benchmarks/accuracy.py``) for each folder and each ``--rotate K``, and prints one JSON
line per set and turn: index MAE (pp), detection precision / recall / F1 and the rest of
``accuracy.summarize``; then per set the mean MAE over the turns.

    cd TREE && PYTHONPATH=. python /path/to/accuracy_unrounded_s36.py DIR... --rotate 0 1 2 3
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset_dir", nargs="+", type=Path)
    ap.add_argument("--rotate", type=int, nargs="+", default=[0, 1, 2, 3])
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import accuracy

    import mmnst_path

    for folder in args.dataset_dir:
        mpp = accuracy.dataset_mpp(folder)
        maes = []
        for k in args.rotate:
            with contextlib.redirect_stdout(io.StringIO()):
                summary = accuracy.run(folder, mpp, "pipeline", None, split=False, rotate=k)
            maes.append(summary["mae_pp"])
            print(json.dumps({"set": folder.name, "rotate": k, "package": str(Path(mmnst_path.__file__).parent),
                              **{key: float(v) for key, v in summary.items()}}), flush=True)
        print(json.dumps({"set": folder.name, "turns": args.rotate, "mean_mae_pp": float(np.mean(maes))}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
