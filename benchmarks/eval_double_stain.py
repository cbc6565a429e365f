"""Ki67 / MART-1 (Melan-A) and Ki67 / SOX10 double stains on generated tiles with known truth (#14).

Each tile (:func:`mmnst_path.synthetic_double.double_stain_tile`: random stain vectors rotated by
1-4°, marker strength, melanocyte fraction, Ki67 fractions of melanocytes and stroma, melanin
around 10-35 % of the melanocytes, blur, noise, JPEG 70-95) goes through
``mmnst_path.pipeline.analyze_region`` with the double-stain preset, as a user would run it.
Per seed: overall index error, melanocytic index error (pp), and marker sensitivity /
specificity on the detected cells matched to drawn ones; then mean |error| and the worst case
per marker x chromogen.

    .venv/bin/python benchmarks/eval_double_stain.py --seeds 12
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic_double import double_stain_tile, match_cells

PRESET = {"fast_red": "H-DAB-FastRed", "aec": "H-DAB-AEC"}


def run_one(seed: int, marker: str, chromogen: str, min_od: float | None) -> dict[str, float]:
    tile = double_stain_tile(seed, marker=marker, chromogen=chromogen)
    ki67 = {"melanocyte_marker": marker}
    if min_od is not None:
        ki67["melanocyte_min_od"] = min_od
    cfg = AnalysisConfig.from_mapping({"stains": PRESET[chromogen], "measures": ["ki67"], "ki67": ki67})
    res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
    m, cells = res.metrics, res.cells
    idx = match_cells(tile, cells.row, cells.col)
    ok = idx >= 0
    in_index = np.isin(cells.cls, [CELL_CLASSES.index("positive"), CELL_CLASSES.index("negative")])
    sel = ok & in_index
    true_mel = tile.cells[idx[sel], 3] > 0
    called = np.asarray(cells.columns["melanocytic"], bool)[sel]
    return {
        "index_err": m["ki67_index_pct"] - tile.truth["ki67_index_pct"],
        "mel_err": m["ki67_melanocytic_index_pct"] - tile.truth["melanocytic_index_pct"],
        "mel_index": m["ki67_melanocytic_index_pct"], "mel_truth": tile.truth["melanocytic_index_pct"],
        "ci_low": m["ki67_melanocytic_ci_low_pct"], "ci_high": m["ki67_melanocytic_ci_high_pct"],
        "n_mel": m["ki67_melanocytic_denominator"], "true_mel": tile.truth["melanocytes"],
        "sens": float(called[true_mel].mean()) if true_mel.any() else math.nan,
        "spec": float((~called[~true_mel]).mean()) if (~true_mel).any() else math.nan,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--chromogens", default="fast_red,aec")
    ap.add_argument("--markers", default="cytoplasmic,nuclear")
    ap.add_argument("--min-od", type=float, default=None, help="Ki67Params.melanocyte_min_od (default: the library's)")
    args = ap.parse_args()
    print("| marker | chromogen | seeds | index |err| mean / worst (pp) | melanocytic |err| mean / worst (pp) "
          "| truth in CI | sensitivity mean / worst | specificity mean / worst | s/tile |")
    print("|---|---|---|---|---|---|---|---|---|")
    for chromogen in args.chromogens.split(","):
        for marker in args.markers.split(","):
            rows, t0 = [], time.perf_counter()
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                r = run_one(seed, marker, chromogen, args.min_od)
                rows.append(r)
                print(f"  seed {seed} {marker} {chromogen}: " + " ".join(f"{k}={v:.3g}" for k, v in r.items()),
                      flush=True)
            sec = (time.perf_counter() - t0) / len(rows)
            ie = np.abs([r["index_err"] for r in rows])
            me = np.abs([r["mel_err"] for r in rows])
            cover = np.mean([r["ci_low"] <= r["mel_truth"] <= r["ci_high"] for r in rows])
            se = np.array([r["sens"] for r in rows])
            sp = np.array([r["spec"] for r in rows])
            print(f"| {marker} | {chromogen} | {len(rows)} | {np.nanmean(ie):.1f} / {np.nanmax(ie):.1f} "
                  f"| {np.nanmean(me):.1f} / {np.nanmax(me):.1f} | {100 * cover:.0f} % "
                  f"| {np.nanmean(se):.2f} / {np.nanmin(se):.2f} | {np.nanmean(sp):.2f} / {np.nanmin(sp):.2f} "
                  f"| {sec:.1f} |", flush=True)


if __name__ == "__main__":
    main()
