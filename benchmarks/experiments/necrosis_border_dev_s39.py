"""Session 39 H7 (#13): dev figures of the learned border stage at several call thresholds (the dev choice).

Dev seeds 3150-3165: the four families of the rule's step 2 (``tissue_rule_s36.syn_cases``) and its three viable
sets; each tile classified once (``classify_tissue``, direct path), then ``measure_necrosis`` with that map for
``border_model = "none"`` and for the shipped forest with its stored threshold replaced by each of THRESHOLDS.
Figures: mean over the families of each one's mean |err| (tiles with true necrosis); false necrosis (a) mean over
the viable sets of each set's mean %, (b) with each family's drawn cases without necrosis added to its set.

    PYTHONPATH=. python benchmarks/experiments/necrosis_border_dev_s39.py OUT.json [T ...]
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEV_SEEDS = tuple(range(3150, 3166))


def main() -> None:
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    import eval_necrosis as en
    import tissue_rule_s36 as s36
    from mmnst_path.quantify._necrosis_border import resolve_border_model

    from mmnst_path import synthetic
    from mmnst_path.classify.tissue import classify_tissue
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    out = Path(sys.argv[1])
    thresholds = [float(v) for v in sys.argv[2:]] or [0.5, 0.6, 0.7]
    base = resolve_border_model("default")
    settings = {"off": NecrosisParams(border_model="none")}
    for t in thresholds:
        path = out.parent / f"border_t{t}.mmnst"
        replace(base, settings={**base.settings, "threshold": t}).save(path)
        settings[f"t{t}"] = NecrosisParams(border_model=str(path))
    gen = en._sample_generator()
    model = settings["off"].model()

    def pcts(rgb: np.ndarray, mpp: float) -> dict[str, float]:
        tmap = classify_tissue(rgb, mpp=mpp, model=model, stains="H&E")
        return {k: float(necrosis_metrics(measure_necrosis(rgb, mpp=mpp, params=p, tissue_map=tmap)[0])
                         ["necrosis_fraction_pct"]) for k, p in settings.items()}

    res: dict = {"gen": {}, "viable": {}}
    for kind, name, kw in s36.syn_cases(DEV_SEEDS):
        if kind == "synthetic":
            t = synthetic.he_necrosis_tile(**kw)
            rgb, mpp, truth_pct, truth = t.rgb, t.mpp, t.truth["necrosis_fraction_pct"], t.masks["necrosis"]
        elif kind in ("tissue", "mimic"):
            tt = (he_tissue_tile if kind == "tissue" else he_mimic_tile)(kw["seed"], size=kw["size"], mpp=kw["mpp"])
            rgb, mpp, truth_pct, truth = tt.rgb, tt.mpp, tt.truth["necrosis_fraction_pct"], tt.masks["necrosis"]
        else:
            rgb, mpp, truth_pct, truth = en.sample_recipe_tile(gen, **kw)
        got = pcts(rgb, mpp)
        res["gen"].setdefault(kind, []).append({"name": name, "truth": float(truth_pct), "has": bool(truth.any()),
                                                **got})
        print(kind, name, round(float(truth_pct), 3), {k: round(v, 3) for k, v in got.items()}, flush=True)
    for seed in DEV_SEEDS:
        mpp = 1.0 if seed % 2 else 0.5
        size = 384 if mpp == 1.0 else 640
        t = synthetic.he_necrosis_tile(seed, mpp=mpp, size=size, necrosis_fraction=0.0)
        res["viable"].setdefault("synthetic_none", []).append(pcts(t.rgb, t.mpp))
        for kind, fn in (("tissue_none", he_tissue_tile), ("mimic_none", he_mimic_tile)):
            tt = fn(seed, size=size, mpp=mpp, necrosis="none")
            res["viable"].setdefault(kind, []).append(pcts(tt.rgb, tt.mpp))
        print("viable", seed, {k: [round(v[-1][s], 3) for s in settings] for k, v in res["viable"].items()},
              flush=True)
    summary = {}
    for s in settings:
        fam = {k: float(np.mean([abs(c[s] - c["truth"]) for c in v if c["has"]])) for k, v in res["gen"].items()}
        fa = {k: float(np.mean([c[s] for c in v])) for k, v in res["viable"].items()}
        fb = {k: float(np.mean([c[s] for c in v] + [c[s] for c in res["gen"].get(k.removesuffix("_none"), [])
                                                    if not c["has"]])) for k, v in res["viable"].items()}
        summary[s] = {"mean_abs": float(np.mean(list(fam.values()))), "families": fam,
                      "false_a": float(np.mean(list(fa.values()))), "false_b": float(np.mean(list(fb.values()))),
                      "viable_sets": fa}
        print(s, json.dumps(summary[s]), flush=True)
    res["summary"] = summary
    out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
