"""Unrounded gate figures of session 44 H2's rule (near_black_sheets_rule_s44.md) from the gate chain's files.

    PYTHONPATH=. python benchmarks/experiments/near_black_sheets_tables_s44.py /tmp/s44_h2/g
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path


def rows(path: Path) -> list[dict]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def f(x: str) -> float:
    return float(x) if x not in ("", None) else math.nan


def mean(v: list[float]) -> float:
    v = [x for x in v if not math.isnan(x)]
    return sum(v) / len(v) if v else math.nan


def families(path: Path) -> dict:
    r = rows(path)
    pig = [x for x in r if x["family"] != "none"]
    out = {
        "n": len(r),
        "dice": mean([f(x["dice"]) for x in pig]),
        "mel_abs": mean([abs(f(x["mel_meas"]) - f(x["mel_true"])) for x in pig]),
        "ki67_abs": mean([abs(f(x["ki67_meas"]) - f(x["ki67_true"])) for x in r]),
        "false_none": mean([f(x["mel_mask_pct"]) for x in r if x["family"] == "none"]),
        "seconds": mean([f(x["seconds"]) for x in r]),
        "nan_mel": sum(math.isnan(f(x["mel_meas"])) for x in pig),
    }
    return out


def main() -> None:
    g = Path(sys.argv[1])
    for name in ("g1", "g2c_nb", "g2c_plain"):
        h, c = g / f"{name}_head.csv", g / f"{name}_cand.csv"
        if not (h.exists() and c.exists()):
            print(name, "missing")
            continue
        a, b = families(h), families(c)
        print(f"## {name}")
        for k in a:
            print(f"{k}: HEAD {a[k]!r} cand {b[k]!r} diff {b[k] - a[k]!r}")
        if name == "g1":
            print("per tile (seed: true, HEAD -> cand melanin; Dice; Ki67 err):")
            for x, y in zip(rows(h), rows(c), strict=True):
                if x["mel_meas"] != y["mel_meas"] or x["ki67_meas"] != y["ki67_meas"]:
                    print(f"  {x['seed']}: {f(x['mel_true']):.2f}, {f(x['mel_meas']):.2f} -> {f(y['mel_meas']):.2f}; "
                          f"{f(x['dice']):.3f} -> {f(y['dice']):.3f}; "
                          f"{f(x['ki67_meas']) - f(x['ki67_true']):+.2f} -> {f(y['ki67_meas']) - f(y['ki67_true']):+.2f}")
    h, c = g / "g2a_head.csv", g / "g2a_cand.csv"
    if h.exists() and c.exists():
        print("## g2a false pigment per tile")
        a, b = rows(h), rows(c)
        keys = list(a[0].keys())
        print("columns", keys)
        worst, changed, up = [], 0, []
        for x, y in zip(a, b, strict=True):
            vals = [k for k in keys if k not in ("set", "tile")]
            va, vb = f(x[vals[0]]), f(y[vals[0]])
            if va != vb:
                changed += 1
            if vb - va > 0.02:
                up.append((x["set"], x["tile"], va, vb))
            worst.append((vb, x["set"], x["tile"], va))
        worst.sort(reverse=True)
        print("tiles", len(a), "changed", changed, "up > 0.02 pp", up)
        print("five highest (cand, set, tile, HEAD):", worst[:5])
    for arm in ("head", "cand"):
        p = g / f"g3_{arm}" / "summary.csv"
        if p.exists():
            truth = json.loads(Path("sample_tiles/truth.json").read_text())
            print(f"## g3 {arm}")
            for x in rows(p):
                name = Path(x.get("input", x.get("image", ""))).name
                t = truth.get(name, {}).get("melanin_fraction_pct")
                print(name, x.get("melanin_fraction_pct"), "truth", t, "ki67", x.get("ki67_index_pct"))


if __name__ == "__main__":
    main()
