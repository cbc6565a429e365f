"""Gate figures of session 42 H1 (#14 DAB melanin model) from two ``eval_pigment_families.py`` CSVs (HEAD, candidate).

Definitions (fixed before any gate ran): over the **pigmented** tiles (family != ``none``): Dice = mean of the
CSV's ``dice`` (drawn truth); melanin |err| = mean |``mel_meas`` - ``mel_true``| (the pipeline's melanin fraction
against the drawn truth). Over **all** tiles: Ki67 mean |err| = mean |``ki67_meas`` - ``ki67_true``| and its worst
tile. False pigment on the ``none`` tiles = mean ``mel_mask_pct`` there (the Dice mask's share of tissue; all of it
false), ``mel_meas`` there printed too. Per-family Dice and melanin |err| are printed for the report.

    python benchmarks/experiments/dab_melanin_model_tables_s42.py HEAD.csv CAND.csv
    python benchmarks/experiments/dab_melanin_model_tables_s42.py --same HEAD.csv CAND.csv   # gate 7
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def num(r: dict[str, str], key: str) -> float:
    v = r.get(key, "")
    return float(v) if v not in ("", None) else math.nan


def mean(vals: list[float]) -> float:
    vals = [v for v in vals if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else math.nan


def figures(rows: list[dict[str, str]]) -> dict[str, float]:
    pig = [r for r in rows if r["family"] != "none"]
    none = [r for r in rows if r["family"] == "none"]
    ki = [abs(num(r, "ki67_meas") - num(r, "ki67_true")) for r in rows]
    return {"tiles": len(rows), "pigmented": len(pig), "dice": mean([num(r, "dice") for r in pig]),
            "mel_abs_err": mean([abs(num(r, "mel_meas") - num(r, "mel_true")) for r in pig]),
            "ki67_abs_err": mean(ki), "ki67_worst": max(ki),
            "ki67_worst_tile": max(rows, key=lambda r: abs(num(r, "ki67_meas") - num(r, "ki67_true")))["seed"]
            + " " + max(rows, key=lambda r: abs(num(r, "ki67_meas") - num(r, "ki67_true")))["family"],
            "false_none_mask": mean([num(r, "mel_mask_pct") for r in none]),
            "false_none_meas": mean([num(r, "mel_meas") for r in none])}


def same(a: list[dict[str, str]], b: list[dict[str, str]]) -> bool:
    """Every column but ``seconds`` identical, row by row."""
    if len(a) != len(b):
        print(f"rows differ: {len(a)} vs {len(b)}")
        return False
    ok = True
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        for k in set(x) | set(y):
            if k != "seconds" and x.get(k) != y.get(k):
                print(f"row {i} ({x.get('chromogen')} {x.get('family')} {x.get('seed')}): {k} {x.get(k)} vs {y.get(k)}")
                ok = False
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("head", type=Path)
    ap.add_argument("cand", type=Path)
    ap.add_argument("--same", action="store_true", help="gate 7: CSVs identical but timings")
    args = ap.parse_args()
    a, b = rows_of(args.head), rows_of(args.cand)
    if args.same:
        print(f"{len(a)} rows; identical but seconds: {same(a, b)}")
        return
    fa, fb = figures(a), figures(b)
    for k in fa:
        print(f"{k}: HEAD {fa[k]!r} candidate {fb[k]!r}")
    print(f"gate 1: Dice {fb['dice'] - fa['dice']!r} (>= +0.06), melanin |err| {fb['mel_abs_err'] - fa['mel_abs_err']!r} "
          f"(<= -0.5) -> {'pass' if fb['dice'] >= fa['dice'] + 0.06 and fb['mel_abs_err'] <= fa['mel_abs_err'] - 0.5 else 'FAIL'}")
    g2 = (fb["ki67_abs_err"] <= fa["ki67_abs_err"] + 0.15 and fb["ki67_worst"] <= fa["ki67_worst"] + 2.0
          and fb["false_none_mask"] <= max(fa["false_none_mask"], 0.10))
    print(f"gate 2: Ki67 {fb['ki67_abs_err'] - fa['ki67_abs_err']!r} (<= +0.15), worst {fb['ki67_worst'] - fa['ki67_worst']!r} "
          f"(<= +2.0), false none {fb['false_none_mask']!r} (<= {max(fa['false_none_mask'], 0.10)!r}) -> "
          f"{'pass' if g2 else 'FAIL'}")
    fams = sorted({r["family"] for r in a} - {"none"})
    print("| family | Dice HEAD | Dice cand | melanin |err| HEAD | cand | signed HEAD | cand |")
    for fam in fams:
        ra, rb = [r for r in a if r["family"] == fam], [r for r in b if r["family"] == fam]
        print(f"| {fam} | {mean([num(r, 'dice') for r in ra]):.4f} | {mean([num(r, 'dice') for r in rb]):.4f} | "
              f"{mean([abs(num(r, 'mel_meas') - num(r, 'mel_true')) for r in ra]):.4f} | "
              f"{mean([abs(num(r, 'mel_meas') - num(r, 'mel_true')) for r in rb]):.4f} | "
              f"{mean([num(r, 'mel_meas') - num(r, 'mel_true') for r in ra]):+.4f} | "
              f"{mean([num(r, 'mel_meas') - num(r, 'mel_true') for r in rb]):+.4f} |")


if __name__ == "__main__":
    main()
