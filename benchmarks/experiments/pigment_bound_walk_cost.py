"""Experiment (#16, session 29 H10): the cost of the forest bound walk against the early-exit walk, per row.

On three TCGA slide tiles (``pigment_stage_ab.py capture``; the first 200,000 gated rows of each), thread-CPU ms
(median of 3) of ``forest_upper_bound`` with only some features known (the others free: both branches walked)
and of ``proba_below`` (the slide path's early-exit forest, every feature known). A per-row cascade that
computes the costly columns only where the bound reaches 0.5 must pay the bound walk on every row.

    PYTHONPATH=. python benchmarks/experiments/pigment_bound_walk_cost.py CAP_TCGA.pkl
"""
from __future__ import annotations

import pickle
import sys
import time
from functools import partial

import numpy as np
from pigment_empty_proof import DISK, GROUPS  # (beside this file)

from mmnst_path.classify._pigment_bound import forest_upper_bound
from mmnst_path.classify._pigment_forest import proba_below
from mmnst_path.classify.pigment import PigmentFeatureSettings, model_for_stains, pigment_features
from mmnst_path.detect.pigment import pigment_gate


def _ms(fn, reps: int = 3) -> float:  # type: ignore[no-untyped-def]
    ts = []
    for _ in range(reps):
        t0 = time.thread_time()
        fn()
        ts.append(time.thread_time() - t0)
    return 1e3 * float(np.median(ts))


def main() -> None:
    rows = pickle.load(open(sys.argv[1], "rb"))
    for name, _, rgb, kw in [rows[i] for i in (0, 6, 13)]:
        model = model_for_stains(kw["model"], kw["stains"], kw["params"])
        s = PigmentFeatureSettings.from_mapping(model.settings)
        g, _ = pigment_gate(rgb, mpp=kw["mpp"], stains=kw["stains"], params=kw["params"], bodies=False,
                            min_od=kw["params"].model_min_od)
        x, _ = pigment_features(rgb, mpp=kw["mpp"], settings=s, background=kw["stains"].background, where=g,
                                names=model.feature_names)
        x = x[:200000]
        names = list(model.feature_names)
        j = list(model.class_names).index("melanin")
        res = {}
        for label, known in (("fine+blob+ctx", GROUPS["fine"] + GROUPS["blob"] + GROUPS["ctx"]),
                             ("all-but-disk", tuple(n for n in names if n not in DISK))):
            free = tuple(n for n in names if n not in known)
            forest_upper_bound(model, x[:10], free, "melanin")  # (compile / load)
            res[label] = _ms(partial(forest_upper_bound, model, x, free, "melanin"))
        proba_below(model.forest, x[:10], j, 0.5, None)
        res["proba_below (early exit, all known)"] = _ms(partial(proba_below, model.forest, x, j, 0.5, None))
        print(name, x.shape[0], {k: round(v, 1) for k, v in res.items()}, flush=True)


if __name__ == "__main__":
    main()
