"""Session 38 H7 (#13): the rim growth (``NecrosisParams.rim_grow_um`` / ``rim_min_proba``) on dev data only.

Dev data: the sample recipe's dev seeds 2600-2615 (``necrosis_split_s38.dev_kwargs``), the bundled sample (already
diagnosed), BRCA-M2C train + val (viable, 0.5 µm/px; every necrotic block false), viable generated dev tiles
(``synthetic.he_necrosis_tile`` with no necrosis, seeds 2600-2615). Not read: BRCA-M2C test, the held-out renderer,
the real slides, the osteosarcoma tiles, seeds 2620-2627.

    PYTHONPATH=. python benchmarks/experiments/necrosis_rim_dev_s38.py OUT.json GROW_UM:MIN_P ...  (0:0 = off)\n\nThe class maps are computed once per tile; each setting re-runs only ``measure_necrosis`` on them.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
BRCA = Path("/work/shared/train/brca_m2c")


def main() -> None:
    warnings.simplefilter("ignore")
    import necrosis_split_s38 as ns
    from PIL import Image

    from mmnst_path import synthetic
    from mmnst_path.classify.tissue import classify_tissue
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics

    out = Path(sys.argv[1])
    res = json.loads(out.read_text()) if out.exists() else {}
    gen = ns._gen()
    settings = {s: NecrosisParams(rim_grow_um=float(s.split(":")[0]), rim_min_proba=float(s.split(":")[1]))
                for s in sys.argv[2:]}
    model = NecrosisParams().model()

    def direct(rgb: np.ndarray, mpp: float) -> dict[str, float]:
        tmap = classify_tissue(rgb, mpp=mpp, model=model, stains="H&E")  # the class map does not depend on the rim
        return {s: float(necrosis_metrics(measure_necrosis(rgb, mpp=mpp, params=p, tissue_map=tmap)[0])
                         ["necrosis_fraction_pct"]) for s, p in settings.items()}

    def cli(rgb: np.ndarray, mpp: float) -> dict[str, float]:
        # the pipeline's one measure_necrosis call (tile image with its white halo, owned region, class map)
        # re-run with each setting (the halo is HEAD's: the rim adds rim_grow_um of white margin, no tissue)
        _, call = ns.pipeline_call(rgb, mpp)
        if isinstance(call, dict):
            return {s: float("nan") for s in settings}
        trgb, kw, _ = call
        kw = {k: v for k, v in kw.items() if k not in ("params", "necrosis_labels")}
        return {s: float(necrosis_metrics(measure_necrosis(trgb, params=p, **kw)[0])["necrosis_fraction_pct"])
                for s, p in settings.items()}

    brca = sorted((BRCA / "_meta/brca_ds_train.txt").read_text().split()
                  + (BRCA / "_meta/brca_ds_val.txt").read_text().split())
    for seed in ns.DEV_SEEDS:
        if f"viable:{seed}" not in res:
            mpp = 1.0 if seed % 2 else 0.5
            t = synthetic.he_necrosis_tile(seed, mpp=mpp, size=384 if mpp == 1.0 else 640, necrosis_fraction=0.0)
            res[f"viable:{seed}"] = direct(t.rgb, t.mpp)
    out.write_text(json.dumps(res, indent=1))
    for name in brca:
        if f"brca:{name}" not in res:
            res[f"brca:{name}"] = direct(np.asarray(Image.open(BRCA / "mixed" / name).convert("RGB")), 0.5)
            out.write_text(json.dumps(res, indent=1))
    for name in ["sample"] + [f"dev:{s}" for s in ns.DEV_SEEDS]:
        if name not in res:
            rgb, mpp, nec, ttis, _ = ns.case(name, gen)
            res[name] = {"truth": float(100.0 * nec.sum() / ttis.sum()), "cli": cli(rgb, mpp),
                         "direct": direct(rgb, mpp)}
            print(name, res[name], flush=True)
            out.write_text(json.dumps(res, indent=1))
    for s in settings:
        rows = [v for k, v in res.items() if k.startswith("dev:")]
        ok = [v for v in rows if not np.isnan(v["cli"][s])]
        via = [v[s] for k, v in res.items() if k.startswith("viable:")]
        br = [v[s] for k, v in res.items() if k.startswith("brca:")]
        print(f"{s}: sample cli {res['sample']['cli'][s]!r} direct {res['sample']['direct'][s]!r} (truth "
              f"{res['sample']['truth']!r}); dev mean |err| cli {np.mean([abs(v['cli'][s] - v['truth']) for v in ok])!r} "
              f"(n={len(ok)}) direct {np.mean([abs(v['direct'][s] - v['truth']) for v in rows])!r}; viable generated "
              f"mean {np.mean(via)!r} max {max(via)!r}; BRCA dev mean {np.mean(br)!r} max {max(br)!r} (n={len(br)})",
              flush=True)


if __name__ == "__main__":
    main()
