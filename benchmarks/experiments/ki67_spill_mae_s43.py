"""``benchmarks/accuracy.py`` with each set's index MAE per rotation printed unrounded (session 43 H10's gate 1).

Usage (the tree to measure first on ``PYTHONPATH``; this script imports that tree's ``accuracy.py``)::

    PYTHONPATH=TREE python benchmarks/experiments/ki67_spill_mae_s43.py DATASET_DIR... --rotate 0 --rotate 1 ...

Prints ``MAE_FULL <set> <turn> <mae>`` with ``repr`` precision after each run, then accuracy.py's own output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

tree = Path(os.environ.get("PYTHONPATH", ".").split(os.pathsep)[0]).resolve()
sys.path.insert(0, str(tree / "benchmarks"))
sys.path.insert(0, str(tree))

import accuracy  # noqa: E402

_run = accuracy.run


def _run_full(folder, mpp, engine, overlays, split=False, rotate=0):
    summary = _run(folder, mpp, engine, overlays, split=split, rotate=rotate)
    print(f"MAE_FULL {Path(folder).name} {rotate} {summary['mae_pp']!r}", flush=True)
    return summary


accuracy.run = _run_full

if __name__ == "__main__":
    sys.exit(accuracy.main())
