"""Session 34 H6: the unrounded figures of the rule's gates 2-3 (Ki67 accuracy on the real sets, the generated
evaluations' CSV files), for any checkout (``PYTHONPATH``).

    PYTHONPATH=<tree> python pale_contour_gates_s34.py accuracy ../shared/data/ki67/{bcdata,shidc,deepliif}
    python pale_contour_gates_s34.py cells FILE.csv        # eval_ki67_cells.py --csv
    python pale_contour_gates_s34.py families FILE.csv     # eval_pigment_families.py --csv
    python pale_contour_gates_s34.py heldout FILE.csv      # eval_heldout.py --csv

Each prints one JSON object (full float precision). ``accuracy`` imports the package of ``PYTHONPATH`` before
``benchmarks/accuracy.py`` (which puts its own checkout first on ``sys.path``) and names it under ``package``; the
generated evaluations do the same, so run a checkout's own copy of them (``<tree>/benchmarks/eval_*.py``).
"""

from __future__ import annotations

import csv
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
        s = accuracy.run(folder, accuracy.dataset_mpp(folder), "pipeline", None)
        out[folder.name] = {k: float(s[k]) for k in ("mae_pp", "f1", "precision", "recall", "recall_negative",
                                                      "recall_positive", "cost_det", "cost_keep")}
    out["mean_mae_pp"] = float(np.mean([out[f.name]["mae_pp"] for f in folders]))
    return out


def _rows(path: Path) -> list[dict]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def _mean_abs(values: list[float]) -> float:
    a = np.asarray([v for v in values if not np.isnan(v)], dtype=float)
    return float(np.abs(a).mean()) if a.size else float("nan")


def main(argv: list[str]) -> int:
    kind, args = argv[0], argv[1:]
    if kind == "accuracy":
        out = _accuracy([Path(a) for a in args])
    elif kind == "cells":
        rows = _rows(Path(args[0]))
        out = {"ki67_mae_pp": _mean_abs([float(r["err"]) for r in rows]), "tiles": len(rows),
               "mean_err_pp": float(np.mean([float(r["err"]) for r in rows]))}
    elif kind == "families":
        rows = _rows(Path(args[0]))
        ki = lambda sel: _mean_abs([float(r["ki67_meas"]) - float(r["ki67_true"]) for r in sel  # noqa: E731
                                    if r.get("ki67_true", "") not in ("", None)])
        pig = [r for r in rows if r["family"] != "none"]
        out = {"ki67_pigmented_mae_pp": ki(pig), "ki67_none_mae_pp": ki([r for r in rows if r["family"] == "none"]),
               "melanin_mae_pp": _mean_abs([float(r["mel_meas"]) - float(r["mel_true"]) for r in rows]),
               "families_pigmented": sorted({r["family"] for r in pig}), "tiles": len(rows)}
    elif kind == "heldout":
        rows = _rows(Path(args[0]))
        out = {"ki67_mae_pp": _mean_abs([float(r["err"]) for r in rows]), "tiles": len(rows)}
    else:
        raise SystemExit(f"unknown kind {kind!r}: use accuracy, cells, families or heldout")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
