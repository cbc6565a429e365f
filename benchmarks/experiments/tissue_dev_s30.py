"""Dev figures (session 30 H2, #13) of tissue models through measure_necrosis with default params.

S: he_squamous_sheet_tile seeds 100-123 (1 um/px, 512 px), necrosis % mean / max / tiles up|down > 0.5 pp vs ref
K: he_keratin_tile seeds 2100-2147 (1 um/px, 512 px), mean / max / max tile rise vs ref
R: held-out renderer seeds 100-109 (640 px, no necrosis), false necrosis mean
G: sample generator he_necrosis_tile seeds 700-703, 720-725 (0.5 um/px), mean |error| vs truth
B: BRCA-M2C val split (10 patches, 0.5 um/px), false necrosis mean and count > 5 %
D1: the 7 osteosarcoma training tiles at 1 um/px (out of the stage's sample only where the variant dropped them)
usage: dev.py OUT.json MODEL[=NAME] ...   ('default' = the shipped 1.1.0)
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, "/work/wt_h2/benchmarks")
sys.path.insert(0, "/work/wt_h2/scripts")
import _tissue_recipe as recipe
from heldout_render_he import render_he
from PIL import Image

from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
from mmnst_path.synthetic_tissue import he_keratin_tile, he_squamous_sheet_tile

SHARED = Path("/work/shared")
def images():
    for s in range(100, 124):
        t = he_squamous_sheet_tile(s, size=512, mpp=1.0)
        yield "S", str(s), t.rgb, 1.0, None
    for s in range(2100, 2148):
        t = he_keratin_tile(s, size=512, mpp=1.0)
        yield "K", str(s), t.rgb, 1.0, None
    for s in range(100, 110):
        t = render_he(s, size=640, necrosis="none")
        yield "R", str(s), t.rgb, t.mpp, None
    gen = recipe._sample_generator()
    for s in (700, 701, 702, 703, 720, 721, 722, 723, 724, 725):
        rgb, truth = gen.he_necrosis_tile(s)
        yield "G", str(s), rgb, 0.5, float(truth["necrosis_fraction_pct"])
    brca = SHARED / "train" / "brca_m2c"
    for n in sorted((brca / "_meta" / "brca_ds_val.txt").read_text().split()):
        yield "B", n, np.asarray(Image.open(brca / "mixed" / n).convert("RGB")), 0.5, None
    for n in sorted(recipe.OSTEO_TRAIN):
        yield "D1", n, np.asarray(Image.open(SHARED / "data" / "necrosis" / n).convert("RGB")), 1.0, None

def main():
    out = Path(sys.argv[1])
    models = [a.split("=") if "=" in a else (a, a) for a in sys.argv[2:]]
    res = {name: {} for _, name in models}
    params = {name: NecrosisParams(tissue_model=path) for path, name in models}
    t0 = time.process_time()
    for kind, key, rgb, mpp, truth in images():
        for _, name in models:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                counts = measure_necrosis(rgb, mpp=mpp, params=params[name])[0]
            m = necrosis_metrics(counts)
            res[name][f"{kind}/{key}"] = {"nec": float(m["necrosis_fraction_pct"]), "truth": truth}
        print(kind, key, " ".join(f"{res[n][f'{kind}/{key}']['nec']:.4f}" for _, n in models), f"cpu {time.process_time()-t0:.0f}", flush=True)
        out.write_text(json.dumps(res, indent=0))
main()
