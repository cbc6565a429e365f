"""Session 38 H7 (#13): how far inside the true necrotic border the necrosis read starts (direct call, dev only).

Per tile (the bundled sample, sample-recipe dev seeds 2600-2615 but 2613): 8 µm blocks with >= 50 % true necrosis,
by their distance to the truth border (block rings 0-8, 8-16, 16-32, > 32 µm): [blocks, share read necrosis]; and
the blocks a rim growth of 16 µm would add at necrosis-probability thresholds 0.2-0.4: [true, false] blocks.

    PYTHONPATH=. python benchmarks/experiments/necrosis_rings_s38.py OUT.json
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    warnings.simplefilter("ignore")
    import necrosis_split_s38 as ns

    from mmnst_path.classify.tissue_features import block_mean
    from mmnst_path.quantify.necrosis import NecrosisParams

    gen = ns._gen()
    params = NecrosisParams()
    agg = {}
    for name in ["sample"] + [f"dev:{s}" for s in ns.DEV_SEEDS if s != 2613]:
        rgb, mpp, nec, _, _ = ns.case(name, gen)
        st = ns.stages(rgb, mpp)
        tm = st["tmap"]
        proba = ndi.gaussian_filter(tm.proba, (params.smooth_um / (2.0 * tm.mpp),) * 2 + (0,), mode="nearest",
                                    truncate=4.0)
        pn = proba[..., tm.classes.index("necrosis")]
        truth = block_mean(nec.astype(np.float32)[..., None], tm.factor)[..., 0][: pn.shape[0], : pn.shape[1]] >= 0.5
        m3, tis = st["m3"], st["tis"]
        depth = ndi.distance_transform_edt(truth) * tm.mpp
        away = ndi.distance_transform_edt(~m3) * tm.mpp
        row: dict = {}
        for lo, hi in ((0, 8), (8, 16), (16, 32), (32, 1e9)):
            b = truth & tis & (depth > lo) & (depth <= hi)
            row[f"truth_in_{lo}-{hi:g}"] = [int(b.sum()), float((b & m3).sum() / max(int(b.sum()), 1))]
        cand = tis & ~m3 & (away <= 16)
        for thr in (0.2, 0.25, 0.3, 0.35, 0.4):
            g = cand & (pn >= thr)
            row[f"grow16_p{thr}"] = [int((g & truth).sum()), int((g & ~truth).sum())]
        row["truth_blocks"], row["tis_blocks"] = int((truth & tis).sum()), int(tis.sum())
        agg[name] = row
        print(name, json.dumps(row), flush=True)
    Path(sys.argv[1]).write_text(json.dumps(agg, indent=1))


if __name__ == "__main__":
    main()
