"""Session 44 H10 (#14), dev only: freeing SOX10 double-stain nuclei marked ``pigment`` by the learned call.

Per dev tile (SOX10, Fast Red and AEC): the pipeline's pigment mask once, then ``measure_ki67`` per variant
(``FREE_MELANOCYTE_P``, ``FREE_POSITIVE_P``; "off" = nothing freed, HEAD's behaviour); melanocytic index error and,
for the freed nuclei matched to drawn ones: true melanocytes, under true melanin (drawn melanin on the nucleus disk),
and of those Ki67-negative in truth but read positive (#14's core rule).

    PYTHONPATH=. python benchmarks/experiments/double_stain_pigment_dev_s44.py 14700 20
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import mmnst_path.quantify._ki67_double_model as DM
from mmnst_path.classify.pigment import classify_pigment
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._reach import pigment_model_of
from mmnst_path.quantify.ki67 import measure_ki67, without_marker
from mmnst_path.synthetic_double import double_stain_tile, match_cells

PRESET = {"fast_red": "H-DAB-FastRed", "aec": "H-DAB-AEC"}
VARIANTS = {"off": (2.0, 0.7), "m0.6": (0.6, 0.7), "m0.8": (0.8, 0.7), "m0.9": (0.9, 0.7), "m0.8p0.85": (0.8, 0.85)}


def disk_share(mask: np.ndarray, r: float, c: float, rad: float) -> float:
    rr, cc = np.ogrid[: mask.shape[0], : mask.shape[1]]
    d = (rr - r) ** 2 + (cc - c) ** 2 <= rad * rad
    return float(mask[d].mean()) if d.any() else 0.0


def main() -> None:
    warnings.simplefilter("ignore")
    first, n = int(sys.argv[1]), int(sys.argv[2])
    err = {k: [] for k in VARIANTS}
    stats = {k: np.zeros(5, int) for k in VARIANTS}  # freed, true mel, under melanin, under melanin neg->pos, any neg->pos
    for seed in range(first, first + n):
        for ch in ("fast_red", "aec"):
            t = double_stain_tile(seed, marker="nuclear", chromogen=ch, size=384)
            cfg = AnalysisConfig.from_mapping({"stains": PRESET[ch], "measures": ["ki67"],
                                               "ki67": {"melanocyte_marker": "nuclear"}})
            matrix = cfg.stain_matrix()
            clean, sub = without_marker(t.rgb, matrix)
            mask, _ = classify_pigment(clean, mpp=t.mpp, model=pigment_model_of(cfg, matrix), stains=sub,
                                       params=cfg.pigment)
            base = None
            line = f"{seed} {ch:8s} truth {t.truth['melanocytic_index_pct']:5.1f}"
            for name, (pm, pp) in VARIANTS.items():
                DM.FREE_MELANOCYTE_P, DM.FREE_POSITIVE_P = pm, pp
                c = measure_ki67(t.rgb, mpp=t.mpp, stains=matrix, nuclei_params=cfg.nuclei, params=cfg.ki67,
                                 pigment_mask=mask).cells
                mel = np.asarray(c.melanocytic, bool) & np.isin(c.cls, ("positive", "negative"))
                idx_ = 100.0 * np.mean(c.cls[mel] == "positive") if mel.any() else 0.0
                e = abs(idx_ - t.truth["melanocytic_index_pct"])
                err[name].append(e)
                if base is None:
                    base = c.cls.copy()
                freed = np.flatnonzero((base == "pigment") & (c.cls != "pigment"))
                m = match_cells(t, c.row, c.col)
                for i in freed:
                    stats[name][0] += 1
                    if m[i] < 0:
                        continue
                    tc = t.cells[m[i]]
                    under = disk_share(t.masks["melanin"], tc[0], tc[1], tc[2]) > 0
                    stats[name][1] += tc[3] > 0
                    stats[name][2] += under
                    wrong = tc[4] == 0 and c.cls[i] == "positive"
                    stats[name][3] += under and wrong
                    stats[name][4] += wrong
                line += f" | {name} {idx_:5.1f} n{int(mel.sum()):3d} f{len(freed):3d}"
            print(line, flush=True)
    for name in VARIANTS:
        e = np.array(err[name])
        fr, aec = e[0::2], e[1::2]
        print(f"{name:10s} mel|err| all {e.mean():.3f} FR {fr.mean():.3f} AEC {aec.mean():.3f} worst {e.max():.1f} "
              f"freed {stats[name][0]} truemel {stats[name][1]} under_melanin {stats[name][2]} "
              f"under_mel_neg->pos {stats[name][3]} any_neg->pos {stats[name][4]}")


if __name__ == "__main__":
    main()
