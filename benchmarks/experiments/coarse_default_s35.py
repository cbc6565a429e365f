"""Experiment (#16, session 35 H1): session 34's coarse-seeds candidate judged on the real sets' index MAE
averaged over the 4 rotations (``accuracy.py --rotate K``); the figures, unrounded.

Trees as in :mod:`coarse_default_s34` (``DIR/head`` and ``DIR/cand``, each run from its own root with
``PYTHONPATH`` = that tree, one thread). This script adds the rule's 4-rotation accuracy and its gate 2; gates 3
and 4 are :mod:`coarse_default_s34`'s (same limits).

    python lone_tile_ab.py ab HEAD CAND HEADCOPY DIR/gate1 --rounds 2 --reps 3 --tiles 10
    python coarse_default_s35.py gate 1 DIR/gate1  # per set median per-tile CPU ratio CAND / HEAD <= 0.90
    python coarse_default_s35.py acc DIR/T/acc.json bcdata shidc deepliif     # in each tree: 4 turns per set
    python coarse_default_s35.py gate 2 DIR       # per set 4-turn mean MAE <= HEAD + 0.05; three-set mean <= HEAD
    python coarse_default_s35.py gate {3,4} DIR   # coarse_default_s34's gates 3 and 4

Exit status 1 when the gate fails.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coarse_default_s34 import ROOT, _verdict, gate3, gate4

SETS = ("bcdata", "shidc", "deepliif")
SPEED = 0.90  # gate 1: the median over a set's tiles of CAND / HEAD per-tile CPU
TURNS = (0, 1, 2, 3)
PER_SET = 0.05  # pp over HEAD's 4-turn mean, each set
OVERALL = 0.00  # pp over HEAD's mean of the three sets' 4-turn means


def speed_ratios(runs: dict[str, list[dict[str, float]]]) -> dict[str, tuple[float, float]]:
    """``lone_tile_ab.py``'s figures unrounded: per set (the tile name's prefix) the median over its tiles of
    B / A and C / A, each tile's seconds the mean over that tree's processes (``runs``: tree -> the processes'
    ``seconds`` mappings)."""
    names = list(runs["A"][0])
    mean = {t: {n: statistics.mean(r[n] for r in runs[t]) for n in names} for t in "ABC"}
    out = {}
    for ds in dict.fromkeys(n.split("/")[0] for n in names):
        ns = [n for n in names if n.split("/")[0] == ds]
        out[ds] = (statistics.median(mean["B"][n] / mean["A"][n] for n in ns),
                   statistics.median(mean["C"][n] / mean["A"][n] for n in ns))
    return out


def gate1(folder: Path) -> bool:
    """The rule's gate 1 on ``lone_tile_ab.py``'s process files in ``folder``: BCData and SHIDC B / A <= 0.90."""
    runs = {t: [json.loads(f.read_text())["seconds"] for f in sorted(folder.glob(f"{t}_*.json"))] for t in "ABC"}
    ratios = speed_ratios(runs)
    ok = []
    for ds in ("bcdata", "shidc"):
        b, c = ratios[ds]
        ok.append(b <= SPEED)
        print(f"gate 1 {ds}: median per-tile CPU CAND/HEAD {b!r} (A/A {c!r}) limit <= {SPEED} {'pass' if ok[-1] else 'FAIL'}")
    return all(ok)


def acc(out: Path, sets: list[str]) -> None:
    """``accuracy.run`` (pipeline engine) of every set at every turn, from the tree in the working folder:
    ``{set: {"mae_pp": [turn 0..3], ...}}``, unrounded, written after every run."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import accuracy  # type: ignore[import-not-found]

    res: dict[str, dict[str, list[float]]] = {}
    for name in sets:
        folder = ROOT.parent / "shared" / "data" / "ki67" / name
        for k in TURNS:
            s = accuracy.run(folder, accuracy.dataset_mpp(folder), "pipeline", None, rotate=k)
            res.setdefault(name, {}).setdefault("mae_pp", []).append(float(s["mae_pp"]))
            print(name, k, repr(float(s["mae_pp"])), flush=True)
            out.write_text(json.dumps(res, indent=1))


def turn_means(acc_json: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    """Each set's mean index MAE over the 4 turns (all four must be present)."""
    out = {}
    for s in SETS:
        maes = acc_json[s]["mae_pp"]
        if len(maes) != len(TURNS):
            raise ValueError(f"{s}: {len(maes)} turns in the accuracy file, need {len(TURNS)}")
        out[s] = statistics.mean(maes)
    return out


def gate2_rotations(head: dict[str, dict[str, list[float]]], cand: dict[str, dict[str, list[float]]]) -> bool:
    """The rule's gate 2: every (set, turn) MAE printed; per set the 4-turn mean <= HEAD's + 0.05 and the mean
    of the three sets' means <= HEAD's + 0.00."""
    h, c = turn_means(head), turn_means(cand)
    for s in SETS:
        for k in TURNS:
            print(f"gate 2 {s} turn {k}: HEAD {head[s]['mae_pp'][k]!r} CAND {cand[s]['mae_pp'][k]!r}")
    ok = [_verdict(f"gate 2 {s} 4-turn mean index MAE", h[s], c[s], PER_SET) for s in SETS]
    ok.append(_verdict("gate 2 three-set mean of the 4-turn means", statistics.mean(h.values()),
                       statistics.mean(c.values()), OVERALL))
    return all(ok)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) >= 3 and args[0] == "acc":  # acc OUT SETS...
        acc(Path(args[1]), args[2:])
        return
    gates = {"1": gate1, "3": gate3, "4": gate4}
    if len(args) != 3 or args[0] != "gate" or args[1] not in ("1", "2", "3", "4"):
        raise SystemExit(f"usage: coarse_default_s35.py acc OUT SETS... | gate {{1,2,3,4}} DIR (got {args})")
    folder = Path(args[2])
    if args[1] == "2":
        ok = gate2_rotations(*(json.loads((folder / t / "acc.json").read_text()) for t in ("head", "cand")))
    else:
        ok = gates[args[1]](folder)
    print(f"GATE {args[1]} {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
