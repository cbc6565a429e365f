"""The colour veto on touched red-chromogen nuclei, simulated per tile from a ``red_worst_tiles.py`` dump (#14, session 41 H6).

``red_worst_tiles.py --out PREFIX`` writes one row a tile (``PREFIX.tiles.csv``: the counted positives ``P`` and
negatives ``N``, the truth) and one row per nucleus the pigment mask touches (``PREFIX.nuclei.csv``: its truth, its
class, whether the fill rule read it, and ``colour``, its chromogen with the tile's melanin direction unmixed).
This script changes the class of the touched nuclei read positive on their visible part whose ``colour`` is below a
value (``Ki67Params.red_touched_min_chromogen_od``): to ``negative`` (what the library does) or to ``pigment`` (out
of the index), and prints each tile set's Ki67 mean |err| (pp), its worst tile and the per-family means.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/red_worst_tiles.py --chromogens aec --first-seed 4420 \\
        --seeds 8 --out /tmp/dev_aec
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/red_touched_dev_s41.py /tmp/dev_aec --values 0.05 0.1 0.15
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

import numpy as np


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def vetoed(nuclei: list[dict], value: float) -> int:
    """How many of ``nuclei`` (one tile's touched rows) are read positive on their visible part with colour < value."""
    return sum(1 for r in nuclei if r["cls"] == "positive" and r["fill_read"] == "False" and r["colour"] != ""
               and float(r["colour"]) < value)


def errors(tiles: list[dict], nuclei: dict, *, value: float, to: str) -> list[tuple[str, float]]:
    """(family, measured - true index in pp) per tile with the veto at ``value`` sending nuclei ``to``
    ``"negative"`` or ``"pigment"`` (``value`` 0: as read)."""
    out = []
    for t in tiles:
        key = (t["chromogen"], t["family"], t["seed"])
        k = vetoed(nuclei.get(key, []), value) if value > 0 else 0
        p, q = int(t["P"]) - k, int(t["N"]) + (k if to == "negative" else 0)
        out.append((t["family"], 100.0 * p / (p + q) - float(t["true"]) if p + q else float("nan")))
    return out


def summary(errs: list[tuple[str, float]]) -> str:
    a = np.abs(np.array([e for _, e in errs]))
    fam: dict[str, list[float]] = defaultdict(list)
    for f, e in errs:
        fam[f].append(abs(e))
    return (f"mean |err| {np.nanmean(a):.4f} worst {np.nanmax(a):.2f} | "
            + " ".join(f"{f} {np.nanmean(v):.2f}" for f, v in fam.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix", type=Path, help="the --out prefix of red_worst_tiles.py")
    ap.add_argument("--values", type=float, nargs="*", default=[0.05, 0.10, 0.15])
    args = ap.parse_args()
    tiles = _rows(args.prefix.with_suffix(".tiles.csv"))
    nuclei: dict = defaultdict(list)
    for r in _rows(args.prefix.with_suffix(".nuclei.csv")):
        if r.get("in_tile", "True") == "True":
            nuclei[(r["chromogen"], r["family"], r["seed"])].append(r)
    print("as read          ", summary(errors(tiles, nuclei, value=0.0, to="negative")))
    for v in args.values:
        for to in ("negative", "pigment"):
            print(f"{v:.2f} -> {to:8s}", summary(errors(tiles, nuclei, value=v, to=to)))


if __name__ == "__main__":
    main()
