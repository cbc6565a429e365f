"""Ki67 and melanin with an azure B counterstain (preset ``AzureB-DAB``) on generated tiles (#14).

Tiles: :func:`mmnst_path.synthetic_azure.azure_b_tile`, every pigment morphology of
:data:`mmnst_path.synthetic.PIGMENT_FAMILIES` at two Ki67 levels (~6 % and ~40 % of the tumour
cells), stain vectors / amounts / bound-dye ratio / blur / noise / white balance / JPEG drawn
per seed. Each tile goes through :func:`mmnst_path.pipeline.analyze_region` with the preset
(what ``mmnst-path quantify --stains AzureB-DAB`` does). Per family: Ki67 error (measured -
truth over all tumour cells, pp), melanin fraction error (pp), melanin Dice of the pipeline's
pigment mask (since session 41 the shipped azure model inside the rules' exclusion mask,
:func:`mmnst_path.classify.pigment.classify_pigment`; with ``--set pigment.model='"none"'`` the rules,
:func:`mmnst_path.detect.pigment.pigment_mask`) and, on the ``none`` family, the
false pigment (% of tissue pixels); mean |error| and the worst signed error. The melanin truth (fraction,
Dice, false pigment) is the pigment as drawn, before the optical blur (``--truth drawn``, the default since
session 39, as :mod:`eval_pigment_families`; ``--truth seen``: the blurred one read before); the CSV has both.

    .venv/bin/python benchmarks/eval_azure_b.py --seeds 8                 # seeds 0-7, both Ki67 levels
    .venv/bin/python benchmarks/eval_azure_b.py --seeds 3 --first-seed 100 --families dusty coarse
    .venv/bin/python benchmarks/eval_azure_b.py --seeds 8 --estimate       # each tile's own vectors
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
from eval_pigment_families import TRUTHS, check_truth, fmt_errors, truth_columns  # benchmarks/ is on sys.path

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import pigment_mask
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.stain import estimate_stains
from mmnst_path.synthetic import PIGMENT_FAMILIES
from mmnst_path.synthetic_azure import azure_b_tile

PRESET = "AzureB-DAB"
LEVELS = (0.06, 0.40)


def run_one(seed: int, family: str, level: float, *, size: int, save: Path | None = None,
            pigment: dict | None = None, ki67: dict | None = None, estimate: bool = False,
            truth: str = "drawn") -> dict:
    check_truth(truth)
    tile = azure_b_tile(seed, family, size=size, positive_fraction=level, drawn_melanin=True)
    stains = PRESET
    if estimate:  # the tile's own vectors (Macenko), named after the preset, as `stains estimate` does
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stains = estimate_stains(tile.rgb, reference=PRESET).to_json()
    cfg = AnalysisConfig.from_mapping({"stains": stains, "measures": ["ki67", "melanin"],
                                       "pigment": pigment or {}, "ki67": ki67 or {}})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
    seconds = time.perf_counter() - t0
    matrix = cfg.stain_matrix()
    pmodel = resolve_pigment_model(cfg.pigment.model) if cfg.pigment.uses_model(matrix) else None
    if pmodel is None:  # the rules (what the pipeline runs with ``model = "none"``, and before session 41)
        mel = pigment_mask(tile.rgb, mpp=tile.mpp, stains=matrix, params=cfg.pigment)
    else:  # the shipped azure model inside the rules' exclusion mask, as the pipeline
        mel, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=pmodel, stains=matrix, params=cfg.pigment)
    true_mask = tile.masks[TRUTHS[truth][0]]
    cols = truth_columns(tile, mel, truth)
    out = {"family": family, "level": level, "seed": seed, "seconds": seconds,
           "binding": float(tile.truth["binding"]),
           "ki67_true": float(tile.truth["ki67_index_pct"]),
           "ki67_assessable": float(tile.truth["ki67_assessable_index_pct"]),
           "ki67_meas": float(res.metrics.get("ki67_index_pct", math.nan)),
           "pigment_nuclei": int(res.metrics.get("ki67_pigment", 0) or 0),
           "hidden_true": int(tile.truth["hidden_nuclei"]),
           "mel_true": cols["mel_true"],
           "mel_meas": float(res.metrics.get("melanin_fraction_pct", math.nan)),
           "false_pct": cols["false_pct"],
           "dice": cols["dice"],
           **{f"{k}_{t}": cols[f"{k}_{t}"] for t in TRUTHS for k in ("mel_true", "dice", "false")}}
    if save is not None:
        from PIL import Image

        over = tile.rgb.copy()
        over[mel & ~true_mask] = (255, 0, 255)  # false pigment
        over[true_mask & ~mel] = (0, 255, 0)  # missed pigment
        Image.fromarray(np.concatenate([tile.rgb, over], axis=1)).save(
            save / f"azure_{family}_{seed}_{round(100 * level)}.png")
    return out


def summarise(rows: list[dict]) -> str:
    lines = ["| family | n | Ki67 err mean abs / worst (pp) | melanin err mean abs / worst (pp) | Dice mean / min "
             "| false pigment mean / max (% tissue) | s/tile |",
             "|---|---:|---|---|---|---|---:|"]
    fams = sorted({r["family"] for r in rows}, key=PIGMENT_FAMILIES.index)
    for fam in [*fams, "all"]:
        sel = [r for r in rows if fam in ("all", r["family"])]
        d = np.asarray([r["dice"] for r in sel if not math.isnan(r["dice"])])
        f = np.asarray([r["false_pct"] for r in sel])
        lines.append(f"| {fam} | {len(sel)} | {fmt_errors([r['ki67_meas'] - r['ki67_true'] for r in sel])} "
                     f"| {fmt_errors([r['mel_meas'] - r['mel_true'] for r in sel])} "
                     f"| {f'{d.mean():.2f} / {d.min():.2f}' if d.size else 'n/a'} "
                     f"| {f.mean():.3f} / {f.max():.3f} | {np.mean([r['seconds'] for r in sel]):.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=8, help="seeds per family and Ki67 level")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--families", nargs="*", default=list(PIGMENT_FAMILIES))
    ap.add_argument("--levels", nargs="*", type=float, default=list(LEVELS), help="Ki67-positive fractions")
    ap.add_argument("--estimate", action="store_true",
                    help="estimate each tile's stain vectors (Macenko, named after the preset) instead of the preset's")
    ap.add_argument("--csv", type=Path, default=None, help="write every run to this CSV")
    ap.add_argument("--truth", default="drawn", choices=tuple(TRUTHS),
                    help="melanin truth: as drawn, before the optical blur (default), or the blurred ('seen') one")
    ap.add_argument("--save", type=Path, default=None, help="write tile | overlay PNGs here (magenta false, green missed)")
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=JSON",
                    help="override a parameter, e.g. pigment.azure_min_od=0.3 ki67.pigment_margin_um=0")
    args = ap.parse_args()
    over: dict[str, dict] = {"pigment": {}, "ki67": {}}
    for item in args.set:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        over[section][name] = json.loads(value)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    rows = []
    for fam in args.families:
        for level in args.levels:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                r = run_one(seed, fam, level, size=args.size, save=args.save, estimate=args.estimate,
                            truth=args.truth, **over)
                rows.append(r)
                print(f"  {fam} {level:.2f} seed {seed}: ki67 {r['ki67_meas']:.1f} (true {r['ki67_true']:.1f}) "
                      f"melanin {r['mel_meas']:.2f} (true {r['mel_true']:.2f}) dice {r['dice']:.2f} "
                      f"false {r['false_pct']:.3f} k {r['binding']:.2f}", flush=True)
    print(summarise(rows))
    if args.csv:
        write_csv(args.csv, rows)


def write_csv(path: Path, rows: list[dict]) -> None:
    """Every row (dicts with the first one's keys) to a CSV file at ``path``."""
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
