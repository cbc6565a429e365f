"""Session 41 H8 (#14, D2): how sure the H&E stain model is on real tiles that are H&E (information for the warning
row of a default-measures batch; nothing is tuned on it). Prints, per real set of ``eval_stain_guess.py --real``,
the tiles read H&E and the quantiles of their p(H&E), and how many lie below 0.8 / 0.9 (session 41 H5's
Ki67 / MART-1 slide read H&E at p 0.72).

    .venv/bin/python benchmarks/experiments/he_probability_real_s41.py
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from eval_stain_guess import real_rows

    p_of: dict[str, list[float]] = defaultdict(list)
    n_of: dict[str, int] = defaultdict(int)
    for group, truth, _name, g in real_rows():
        n_of[group] += 1
        if g.name == "H&E" and g.he_probability is not None and not math.isnan(g.he_probability):
            p_of[f"{group} (truth {truth})"].append(float(g.he_probability))
    print("| set (truth) | read H&E / n | p min | p 5 % | p median | below 0.8 | below 0.9 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key in sorted(p_of):
        p = np.asarray(p_of[key])
        group = key.rsplit(" (truth", 1)[0]
        print(f"| {key} | {p.size} / {n_of[group]} | {p.min():.3f} | {np.quantile(p, 0.05):.3f} | "
              f"{np.median(p):.3f} | {int((p < 0.8).sum())} | {int((p < 0.9).sum())} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
