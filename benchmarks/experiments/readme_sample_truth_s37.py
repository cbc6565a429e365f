"""README pigmented sample: its melanin truth before and after the 0.8 px optical blur, and HEAD / grown masks on it.

Session 37 H6 (#14), information after the rule: the sample (``sample_tiles/generate.py``, seed 303) is rebuilt with
its melanin concentration and tissue mask captured; the truth as the sample defines it (``mel > 0.15``, before the
renderer's 0.8 px blur) and as ``pigment_family_tile`` defines it (after the blur), against ``classify_pigment``
without and with ``PigmentParams.model_grow_um`` 1.0.

    PYTHONPATH=. python benchmarks/experiments/readme_sample_truth_s37.py
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.stain import load_stains


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sample_tiles"))
    import generate as gen

    cap: dict = {}
    real_granules, real_layout = gen.melanin_granules, gen.tissue_layout

    def granules(*a, **k):
        cap["mel"] = real_granules(*a, **k)
        return cap["mel"]

    def layout(*a, **k):
        cap["tissue"], tumour = real_layout(*a, **k)
        return cap["tissue"], tumour

    gen.melanin_granules, gen.tissue_layout = granules, layout
    rgb, truth = gen.ki67_tile(303, 0.15, pigment=True)
    mel, tissue = cap["mel"], cap["tissue"]
    pre = (mel > 0.15) & tissue
    post = (ndi.gaussian_filter(mel, 0.8) >= 0.15) & tissue
    print(f"truth.json {truth['melanin_fraction_pct']}; pre-blur {100 * pre.sum() / tissue.sum():.4f} %, "
          f"post-blur {100 * post.sum() / tissue.sum():.4f} % of tissue")
    stains, model = load_stains("H-DAB"), resolve_pigment_model("dab")
    for name, grow in (("HEAD (no growth)", 0.0), ("growth 1 µm", 1.0)):
        mask, _ = classify_pigment(rgb, mpp=0.5, model=model, stains=stains,
                                   params=replace(PigmentParams(), model_grow_um=grow))
        mask &= tissue
        print(f"{name}: mask {100 * mask.sum() / tissue.sum():.4f} % of tissue, Dice vs pre-blur {dice(mask, pre):.4f}, "
              f"vs post-blur {dice(mask, post):.4f}")


if __name__ == "__main__":
    main()
