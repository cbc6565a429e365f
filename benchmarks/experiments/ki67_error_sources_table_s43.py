"""Tables of ``ki67_error_sources_s43.py``'s per-rotation CSVs: mean share (pp) per tile and source.

Usage: ``python benchmarks/experiments/ki67_error_sources_table_s43.py all_r0.csv all_r1.csv ...`` (one CSV per
rotation). Per tile: the shares averaged over the rotations; per set: their mean, mean |.|, and the MAE the
set would have with that source's share taken away (``mean |err - share|``), over the tiles with a defined index.
"""

from __future__ import annotations

import csv
import math
import sys
from collections import defaultdict

GROUPS = {
    "miss pos": ("miss_pos",), "miss neg": ("miss_neg",), "excl": ("excl_pos", "excl_neg"),
    "pos->neg": ("pos_read_neg",), "neg->pos": ("neg_read_pos",),
    "extra neg other": ("extra_other_neg", "extra_small_neg"), "extra neg spindle": ("extra_spindle_neg",),
    "extra lymph": ("extra_lymph_neg", "extra_lymph_pos"), "extra in-cell": ("extra_incell_neg", "extra_incell_pos"),
    "extra pos": ("extra_other_pos", "extra_spindle_pos", "extra_small_pos"),
}


def main(paths: list[str]) -> int:
    acc: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p in paths:
        with open(p, newline="") as fh:
            for r in csv.DictReader(fh):
                key = (r["set"], r["tile"])
                acc[key]["err"].append(float(r["err"]))
                for g, srcs in GROUPS.items():
                    acc[key][g].append(sum(float(r[f"pp_{s}"]) for s in srcs))
                    acc[key]["n " + g].append(sum(float(r[f"n_{s}"]) for s in srcs))
    cols = ["err", *GROUPS]
    for s in sorted({k[0] for k in acc}):
        tiles = sorted(k for k in acc if k[0] == s)
        print(f"\n{s} (mean over {len(acc[tiles[0]]['err'])} rotations; pp, count of cells in brackets)\n")
        print("| tile | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        mean = {c: [] for c in cols}
        for k in tiles:
            v = {c: sum(acc[k][c]) / len(acc[k][c]) for c in cols}
            if math.isnan(v["err"]):
                print(f"| {k[1]} (undefined) | " + " | ".join("" for _ in cols) + " |")
                continue
            n = {c: sum(acc[k]["n " + c]) / len(acc[k]["n " + c]) for c in GROUPS}
            print(f"| {k[1]} | {v['err']:+.2f} | " + " | ".join(f"{v[c]:+.2f} ({n[c]:.0f})" for c in GROUPS) + " |")
            for c in cols:
                mean[c].append(v[c])
        m = len(mean["err"])
        print("| mean | " + " | ".join(f"{sum(mean[c]) / m:+.2f}" for c in cols) + " |")
        print("| mean abs | " + " | ".join(f"{sum(abs(x) for x in mean[c]) / m:.2f}" for c in cols) + " |")
        print("| MAE without it | " + f"{sum(abs(x) for x in mean['err']) / m:.2f} | " + " | ".join(
            f"{sum(abs(e - x) for e, x in zip(mean['err'], mean[c], strict=True)) / m:.2f}" for c in GROUPS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
