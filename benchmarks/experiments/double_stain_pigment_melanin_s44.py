"""Session 44 H10 (#14), gate 2 melanin: melanin area fraction of generated double-stain tiles against the drawn
mask (melanin pixels / tissue pixels, %), per tile and the mean |error| by marker.

    PYTHONPATH=. python benchmarks/experiments/double_stain_pigment_melanin_s44.py 14740 8
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic_double import double_stain_tile

PRESET = {"fast_red": "H-DAB-FastRed", "aec": "H-DAB-AEC"}


def main() -> None:
    warnings.simplefilter("ignore")
    first, n = int(sys.argv[1]), int(sys.argv[2])
    errs: dict[str, list[float]] = {}
    for marker in ("cytoplasmic", "nuclear"):
        for ch in ("fast_red", "aec"):
            for seed in range(first, first + n):
                t = double_stain_tile(seed, marker=marker, chromogen=ch, size=384)
                cfg = AnalysisConfig.from_mapping({"stains": PRESET[ch], "measures": ["melanin"],
                                                   "ki67": {"melanocyte_marker": marker}})
                m = analyze_region(t.rgb, cfg, mpp=t.mpp).metrics
                truth = 100.0 * t.masks["melanin"].sum() / max(int((t.masks["tissue"] > 0.5).sum()), 1)
                got = float(m["melanin_fraction_pct"])
                errs.setdefault(marker, []).append(abs(got - truth))
                print(f"{seed} {marker} {ch} melanin {got:.4f} truth {truth:.4f} err {got - truth:+.4f}", flush=True)
    for k, v in errs.items():
        print(f"| {k} | {len(v)} | {np.mean(v):.4f} |")
    print(f"| all | {sum(map(len, errs.values()))} | {np.mean([x for v in errs.values() for x in v]):.4f} |")


if __name__ == "__main__":
    main()
