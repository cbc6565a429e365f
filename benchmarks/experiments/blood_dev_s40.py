"""Session 40 H7 (#13): dev check that blood regions of ``he_mimic_tile`` (not the generator the rows came from) read
as blood, not necrosis, with a given tissue model; dev seeds 5740-5799 only, never the held-out renderer.

    PYTHONPATH=. python benchmarks/experiments/blood_dev_s40.py MODEL [MODEL ...]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from mmnst_path.quantify.necrosis import NecrosisParams, mask_to_tile, measure_necrosis
from mmnst_path.synthetic_tissue import he_mimic_tile


def main(models: list[str]) -> int:
    warnings.simplefilter("ignore")
    shares: dict[str, list[float]] = {m: [] for m in models}
    n = 0
    for seed in range(5740, 5800):
        t = he_mimic_tile(seed, size=384, mpp=1.0, necrosis="none")
        if t.masks["blood"].sum() < 3000:
            continue
        line = []
        for f in models:
            _counts, mask, mm = measure_necrosis(t.rgb, mpp=t.mpp, params=NecrosisParams(tissue_model=f))
            big = mask_to_tile(mask, t.rgb.shape[:2], mpp=t.mpp, mask_mpp=mm).astype(bool)
            shares[f].append(100.0 * float(big[t.masks["blood"]].mean()))
            line.append(f"{shares[f][-1]:5.1f}")
        print(seed, "+".join(t.truth["kinds"]), "blood read necrosis %:", " | ".join(line), flush=True)
        n += 1
        if n >= 6:
            break
    for f in models:
        print(f, "blood read necrosis mean %", float(np.mean(shares[f])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
