"""Where HEAD's DAB melanin is lost against the drawn melanin truth (session 38 H2, dev only).

For each DAB family tile (``pigment_family_tile(drawn_melanin=True)``) runs
:func:`mmnst_path.classify.pigment.classify_pigment` with the default H-DAB parameters and with variants given
as ``--variant NAME:KEY=VALUE,KEY=VALUE`` (PigmentParams fields), and prints per family the Dice against the
drawn truth, the precision and recall (HEAD: ``release_model="none"``), and the share of the truth the brown-body veto takes (the pixels kept
with ``body_min_probability`` 0 and ``spindle_core_elongation`` 0, lost by default).

    PYTHONPATH=. python benchmarks/experiments/dab_veto_loss_s38.py --first-seed 2200 --seeds 4
"""

from __future__ import annotations

import argparse
import csv
import math
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile


def parse_variant(text: str) -> tuple[str, dict]:
    name, _, rest = text.partition(":")
    out: dict = {}
    for item in filter(None, rest.split(",")):
        key, _, raw = item.partition("=")
        try:
            out[key.strip()] = float(raw)
        except ValueError:
            out[key.strip()] = raw.strip()
    return name, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=2200)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--families", nargs="*", default=[f for f in PIGMENT_FAMILIES if f != "none"])
    ap.add_argument("--variant", nargs="*", default=[], help="NAME:KEY=VALUE,... PigmentParams overrides")
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args()
    model = resolve_pigment_model("default")
    base = PigmentParams(release_model="none")
    variants = [("head", {}), ("noveto", {"body_min_probability": 1e-9, "spindle_core_elongation": 0.0})]
    variants += [parse_variant(v) for v in args.variant]
    rows = []
    for fam in args.families:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            tile = pigment_family_tile(seed, fam, chromogen="dab", drawn_melanin=True)
            tissue, truth = tile.masks["tissue"], tile.masks["melanin_drawn"]
            for name, over in variants:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mel, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains="H-DAB",
                                              params=replace(base, **over))
                mel &= tissue
                tp, found, true = int((mel & truth).sum()), int(mel.sum()), int(truth.sum())
                rows.append({"family": fam, "seed": seed, "variant": name, "tp": tp, "found": found, "true": true,
                             "seen": int(tile.masks["melanin"].sum()), "tissue": int(tissue.sum())})
    names = [n for n, _ in variants]
    print("| family | " + " | ".join(f"{n} Dice / prec / rec" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for fam in [*args.families, "all"]:
        cells = []
        for n in names:
            sel = [r for r in rows if r["variant"] == n and (fam == "all" or r["family"] == fam)]
            d = [2 * r["tp"] / (r["found"] + r["true"]) for r in sel if r["found"] + r["true"]]
            p = sum(r["tp"] for r in sel) / max(1, sum(r["found"] for r in sel))
            rc = sum(r["tp"] for r in sel) / max(1, sum(r["true"] for r in sel))
            cells.append(f"{np.mean(d) if d else math.nan:.4f} / {p:.3f} / {rc:.3f}")
        print(f"| {fam} | " + " | ".join(cells) + " |")
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
