"""Ki67 / MART-1 (Melan-A) and Ki67 / SOX10 double stains on generated tiles with known truth (#14).

Each tile (:func:`mmnst_path.synthetic_double.double_stain_tile`: random stain vectors rotated by
1-4°, marker strength, melanocyte fraction, Ki67 fractions of melanocytes and stroma, melanin
around 10-35 % of the melanocytes, blur, noise, JPEG 70-95) goes through
``mmnst_path.pipeline.analyze_region`` with the double-stain preset, as a user would run it.
Per seed: overall index error, melanocytic index error (pp), and marker sensitivity /
specificity / accuracy on the detected cells matched to drawn ones; then mean |error| and the
worst case per marker x chromogen, and a summary by marker (SOX10 = nuclear, MART-1 =
cytoplasmic), by chromogen (Fast Red, AEC) and over all tiles. A tile where no nucleus is called
melanocytic has no melanocytic index: it counts as an error of the whole truth (read as 0 %) and
is counted in the "no index" column, never left out of the mean.

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
MARKER_NAME = {"nuclear": "SOX10", "cytoplasmic": "MART-1"}


def run_one(seed: int, marker: str, chromogen: str, min_od: float | None, size: int = 384) -> dict[str, float]:
    tile = double_stain_tile(seed, marker=marker, chromogen=chromogen, size=size)
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
        "acc": float((called == true_mel).mean()) if len(called) else math.nan,
    }


def mel_abs_err(r: dict[str, float]) -> float:
    """|melanocytic index error| (pp); a tile without a melanocytic index reads 0 %."""
    return abs(r["mel_truth"]) if math.isnan(r["mel_err"]) else abs(r["mel_err"])


def summary_line(label: str, rows: list[dict[str, float]]) -> str:
    """One summary row: tiles, melanocytic / whole-tile index mean |error| (pp), accuracy mean, tiles without index."""
    me = np.array([mel_abs_err(r) for r in rows])
    ie = np.abs([r["index_err"] for r in rows])
    acc = np.array([r["acc"] for r in rows])
    none = sum(math.isnan(r["mel_err"]) for r in rows)
    return (f"| {label} | {len(rows)} | {me.mean():.4f} | {np.nanmean(ie):.4f} | {100 * np.nanmean(acc):.4f} "
            f"| {none} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--chromogens", default="fast_red,aec")
    ap.add_argument("--markers", default="cytoplasmic,nuclear")
    ap.add_argument("--min-od", type=float, default=None, help="Ki67Params.melanocyte_min_od (default: the library's)")
    ap.add_argument("--size", type=int, default=384, help="tile side (px)")
    args = ap.parse_args()
    every: list[tuple[str, str, dict[str, float]]] = []
    print("| marker | chromogen | seeds | index |err| mean / worst (pp) | melanocytic |err| mean / worst (pp) "
          "| truth in CI | sensitivity mean / worst | specificity mean / worst | s/tile |")
    print("|---|---|---|---|---|---|---|---|---|")
    for chromogen in args.chromogens.split(","):
        for marker in args.markers.split(","):
            rows, t0 = [], time.perf_counter()
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                r = run_one(seed, marker, chromogen, args.min_od, args.size)
                rows.append(r)
                every.append((marker, chromogen, r))
                print(f"  seed {seed} {marker} {chromogen}: " + " ".join(f"{k}={v:.3g}" for k, v in r.items()),
                      flush=True)
            sec = (time.perf_counter() - t0) / len(rows)
            ie = np.abs([r["index_err"] for r in rows])
            me = np.array([mel_abs_err(r) for r in rows])
            cover = np.mean([r["ci_low"] <= r["mel_truth"] <= r["ci_high"] for r in rows])
            se = np.array([r["sens"] for r in rows])
            sp = np.array([r["spec"] for r in rows])
            print(f"| {MARKER_NAME[marker]} ({marker}) | {chromogen} | {len(rows)} | {np.nanmean(ie):.1f} / {np.nanmax(ie):.1f} "
                  f"| {me.mean():.1f} / {me.max():.1f} | {100 * cover:.0f} % "
                  f"| {np.nanmean(se):.2f} / {np.nanmin(se):.2f} | {np.nanmean(sp):.2f} / {np.nanmin(sp):.2f} "
                  f"| {sec:.1f} |", flush=True)
    print("\n| tiles | n | melanocytic index |err| mean (pp) | index |err| mean (pp) | melanocyte call accuracy mean (%) "
          "| tiles without melanocytic index |")
    print("|---|---|---|---|---|---|")
    groups = [(f"{MARKER_NAME[m]} ({m})", [r for mm, _, r in every if mm == m]) for m in args.markers.split(",")]
    groups += [(c, [r for _, cc, r in every if cc == c]) for c in args.chromogens.split(",")]
    groups += [(f"{MARKER_NAME[m]} {c}", [r for mm, cc, r in every if mm == m and cc == c])
               for c in args.chromogens.split(",") for m in args.markers.split(",")]
    groups.append(("all", [r for _, _, r in every]))
    for label, rows in groups:
        if rows:
            print(summary_line(label, rows), flush=True)


if __name__ == "__main__":
    main()
