"""Necrosis on tiles of the independently written H&E renderer (``heldout_render_he.py``).

Nothing in mmnst_path was trained or tuned on these tiles. Each tile goes through
:func:`mmnst_path.quantify.necrosis.measure_necrosis` with the default parameters (the shipped
tissue model); the necrosis mask is compared with the truth class map:

- tiles with necrosis (``--necrosis random``): error of the necrosis % of tissue (pp) and Dice;
- tiles without (``--necrosis none``): false necrosis % of tissue;
- on every tile, the share of each truth class read as necrosis (which mimic fools it).

    PYTHONPATH=. .venv/bin/python benchmarks/eval_heldout_he.py --seeds 8
    PYTHONPATH=. .venv/bin/python benchmarks/eval_heldout_he.py --seeds 8 --necrosis none --csv out.csv
    PYTHONPATH=. .venv/bin/python benchmarks/eval_heldout_he.py --seeds 1 --first-seed 8 --necrosis random --out /tmp/ho
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_heldout import _mean_worst, write_csv
from heldout_render_he import CLASSES, render_he

from mmnst_path.quantify.necrosis import NecrosisParams, mask_to_tile, measure_necrosis, necrosis_metrics


def run_one(seed: int, necrosis: str, *, size: int, params: NecrosisParams, out: Path | None = None) -> dict:
    t = render_he(seed, size=size, necrosis=necrosis)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts, mask, mask_mpp = measure_necrosis(t.rgb, mpp=t.mpp, params=params)
    seconds = time.perf_counter() - t0
    pct = float(necrosis_metrics(counts)["necrosis_fraction_pct"])
    big = mask_to_tile(mask, t.rgb.shape[:2], mpp=t.mpp, mask_mpp=mask_mpp).astype(bool)
    truth = t.necrosis
    if out is not None:  # tile | measured necrosis in green, the true border in blue
        from eval_necrosis import _overlay, _save

        _save(_overlay(t.rgb, mask, t.mpp, mask_mpp, truth=truth), out / f"heldout_{necrosis}_{seed}.png")
    s = int(big.sum()) + int(truth.sum())
    out = {"seed": seed, "necrosis": necrosis, "mpp": t.mpp, "kinds": "+".join(str(k) for k in t.params["kinds"]),
           "jpeg": t.params["jpeg"], "seconds": round(seconds, 2), "truth_pct": t.necrosis_pct, "meas_pct": pct,
           "err": pct - t.necrosis_pct, "dice": 2.0 * int((big & truth).sum()) / s if truth.any() and s else math.nan}
    for i, name in enumerate(CLASSES):
        sel = t.classes == i
        out[f"as_necrosis_{name}"] = float(big[sel].mean()) if sel.sum() > 200 else math.nan
    return out


def _m(v: list[float], scale: float = 1.0) -> str:
    a = np.asarray([x for x in v if not math.isnan(x)])
    return f"{scale * a.mean():.1f} ({scale * a.max():.0f})" if a.size else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--necrosis", nargs="+", default=["random", "none"], choices=["random", "none"])
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--intact-veto", type=float, default=None, metavar="DENSITY",
                    help="NecrosisParams.intact_veto_density (intact nuclei per 1000 µm²; default: the shipped value)")
    ap.add_argument("--intact-min-extent", type=float, default=None, metavar="UM",
                    help="NecrosisParams.intact_min_extent_um (default: the shipped value)")
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="folder for overlay images (tile | necrosis | true border)")
    args = ap.parse_args(argv)
    chosen = {k: v for k, v in (("intact_veto_density", args.intact_veto),
                                ("intact_min_extent_um", args.intact_min_extent)) if v is not None}
    params = NecrosisParams(**chosen)
    rows = []
    for nec in args.necrosis:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            r = run_one(seed, nec, size=args.size, params=params, out=args.out)
            rows.append(r)
            mim = " ".join(f"{k[12:]} {100 * r[k]:.0f}" for k in r if k.startswith("as_necrosis_")
                           and not math.isnan(r[k]) and k[12:] != "glass")
            print(f"{nec:6s} seed {seed:3d} mpp {r['mpp']:.1f} necrosis {r['meas_pct']:5.1f} vs {r['truth_pct']:5.1f} "
                  f"({r['err']:+6.1f}) Dice {r['dice']:.2f} | read as necrosis %: {mim}", flush=True)
    print()
    print(f"Held-out H&E renderer, {args.seeds} seeds from {args.first_seed}, intact_veto_density "
          f"{params.intact_veto_density}, intact_min_extent_um {params.intact_min_extent_um}")
    names = [c for c in CLASSES if c != "glass"]
    print("| tiles | n | necrosis MAE / worst pp | Dice mean (min) | false necrosis mean (max) % | "
          + " | ".join(f"{c} read as necrosis %, mean (max)" for c in names) + " |")
    print("|---|---|---|---|---|" + "---|" * len(names))
    for nec in args.necrosis:
        sub = [r for r in rows if r["necrosis"] == nec]
        dices = [r["dice"] for r in sub if not math.isnan(r["dice"])]
        dice = f"{np.mean(dices):.2f} ({np.min(dices):.2f})" if dices else "-"
        false = _m([r["meas_pct"] for r in sub]) if nec == "none" else "-"
        err = _mean_worst([r["err"] for r in sub]) if nec == "random" else "-"
        cols = " | ".join(_m([r[f"as_necrosis_{c}"] for r in sub], 100) for c in names)
        print(f"| {nec} | {len(sub)} | {err} | {dice} | {false} | {cols} |")
    if args.csv:
        write_csv(args.csv, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
