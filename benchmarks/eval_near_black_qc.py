"""How often the near-black QC sentence fires (#14): real Ki67 sets and the generated pigment families.

Each tile goes through :func:`mmnst_path.pipeline.analyze_region` with the default configuration
(what ``mmnst-path quantify`` does) and, with ``--declared``, once more with ``[ki67] near_black =
"pigment"``, to check that ``ki67_index_if_near_black_pigment_pct`` is the index that setting gives.
Per tile: positives, near-black positives, their share, the index and the index without them, and
whether :func:`mmnst_path.report.near_black_warning` says its sentence; per set: how many tiles it
fires on.

    .venv/bin/python benchmarks/eval_near_black_qc.py real ../shared/data/ki67/{bcdata,shidc,deepliif} --declared
    .venv/bin/python benchmarks/eval_near_black_qc.py families --seeds 8 --near-black --declared
    .venv/bin/python benchmarks/eval_near_black_qc.py families --seeds 8
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(HERE.parent))  # after PYTHONPATH's trees
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

KEYS = ("ki67_positive", "ki67_negative", "ki67_near_black_positive", "ki67_near_black_negative",
        "ki67_near_black_positive_pct", "ki67_index_pct", "ki67_index_if_near_black_pigment_pct",
        "melanin_fraction_pct")


def measure(rgb: np.ndarray, mpp: float, mapping: dict[str, Any] | None) -> dict[str, Any]:
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.report import near_black_warning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the real Ki67 sets: H-DAB (the API's default until session 44)
        res = analyze_region(rgb, AnalysisConfig.from_mapping(mapping or {"stains": "H-DAB"}), mpp=mpp)
    out = {k: res.metrics.get(k) for k in KEYS}
    out["fires"] = bool(near_black_warning(res.metrics))
    return out


def tiles_real(folders: list[Path]):  # type: ignore[no-untyped-def]
    import accuracy

    for folder in folders:
        mpp = accuracy.dataset_mpp(folder)
        for item in accuracy.load_dataset(folder):
            yield folder.name, item.name, item.rgb, mpp, None, math.nan


def tiles_families(seeds: int, near_black: bool, chromogen: str):  # type: ignore[no-untyped-def]
    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    preset = {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed"}[chromogen]
    name = ("near-black " if near_black else "") + chromogen
    for fam in PIGMENT_FAMILIES:
        for seed in range(seeds):
            tile = pigment_family_tile(seed, fam, chromogen=chromogen, size=384, near_black=near_black)
            cfg = {"stains": preset, "measures": ["ki67", "melanin"]}
            yield f"{name} {fam}", str(seed), tile.rgb, tile.mpp, cfg, float(tile.truth["ki67_index_pct"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["real", "families"])
    ap.add_argument("folders", nargs="*", type=Path, help="real: dataset folders laid out as accuracy.py reads")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--chromogen", default="dab", choices=["dab", "aec", "fast_red"])
    ap.add_argument("--near-black", action="store_true", help="families: near-black melanin (pigment_family_tile)")
    ap.add_argument("--declared", action="store_true", help="also run near_black = 'pigment' and compare")
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args()
    source = (tiles_real(args.folders) if args.what == "real"
              else tiles_families(args.seeds, args.near_black, args.chromogen))
    rows = []
    for group, tile, rgb, mpp, cfg, truth in source:
        row: dict[str, Any] = {"set": group, "tile": tile, "truth_index_pct": truth, **measure(rgb, mpp, cfg)}
        if args.declared:
            declared = measure(rgb, mpp, {**(cfg or {}), "ki67": {"near_black": "pigment"}})
            row["declared_index_pct"] = declared["ki67_index_pct"]
        rows.append(row)
        share = row["ki67_near_black_positive_pct"]
        print(f"{group:28s} {tile:16s} positives {row['ki67_positive']:4d} near-black {row['ki67_near_black_positive']:3d}"
              f" ({share:5.1f} %) index {row['ki67_index_pct']:5.1f} -> {row['ki67_index_if_near_black_pigment_pct']:5.1f}"
              f" truth {truth:5.1f} {'FIRES' if row['fires'] else ''}", flush=True)
    fired, total = Counter(r["set"] for r in rows if r["fires"]), Counter(r["set"] for r in rows)
    print("\nfires on:", "; ".join(f"{k} {fired[k]} of {n}" for k, n in total.items()))
    if args.declared:
        same = sum(1 for r in rows if np.isclose(r["ki67_index_if_near_black_pigment_pct"], r["declared_index_pct"],
                                                 rtol=0, atol=1e-9, equal_nan=True))
        print(f"ki67_index_if_near_black_pigment_pct == the near_black='pigment' index on {same} of {len(rows)} tiles")
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
