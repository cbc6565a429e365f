"""Session 35 H2: unrounded figures of the rule's gate 2 (real Ki67 over the four rotations), for any checkout
(``PYTHONPATH``).

    PYTHONPATH=<tree> python split_clusters_gates_s35.py accuracy ../shared/data/ki67/{bcdata,shidc,deepliif}

``accuracy`` imports the package of ``PYTHONPATH`` before ``benchmarks/accuracy.py`` (which puts its own checkout
first on ``sys.path``) and names it under ``package``: run a checkout's own copy. It prints one JSON object: per set
and rotation K (0-3) the index MAE (pp), detection F1, precision, recall, and per set the 4-rotation mean MAE, and
the mean of those over the sets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _accuracy(folders: list[Path]) -> dict:
    import mmnst_path  # first: accuracy.py puts its own checkout on sys.path, which must not win over PYTHONPATH

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import accuracy

    out: dict = {"package": str(Path(mmnst_path.__file__).parent)}
    for folder in folders:
        per = {}
        for k in range(4):
            s = accuracy.run(folder, accuracy.dataset_mpp(folder), "pipeline", None, rotate=k)
            per[k] = {key: float(s[key]) for key in ("mae_pp", "f1", "precision", "recall")}
        out[folder.name] = {"rotations": per, "mean_mae_pp": float(np.mean([per[k]["mae_pp"] for k in range(4)]))}
    out["mean_over_sets_pp"] = float(np.mean([out[f.name]["mean_mae_pp"] for f in folders]))
    return out


def main(argv: list[str]) -> int:
    kind, args = argv[0], argv[1:]
    if kind == "accuracy":
        out = _accuracy([Path(a) for a in args])
    else:
        raise SystemExit(f"unknown kind {kind!r}: use accuracy")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
