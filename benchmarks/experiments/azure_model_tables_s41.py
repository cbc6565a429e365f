"""Gate tables of the azure B melanin model (session 41 H7): two ``eval_azure_b.py --csv`` files, A (HEAD) and B.

Definitions (fixed with the rule, before any gate): Dice = mean of the CSV's ``dice`` (drawn truth) over the
pigmented tiles; melanin |err| = mean |``mel_meas`` - ``mel_true``| over the pigmented tiles (also shown over all
tiles); Ki67 |err| = mean |``ki67_meas`` - ``ki67_true``| over every tile, worst = the largest |err|; false
pigment = mean ``false_pct`` over the ``none`` tiles.

    python benchmarks/experiments/azure_model_tables_s41.py A.csv B.csv
"""

from __future__ import annotations

import csv
import math
import sys

import numpy as np


def read(path: str) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def figures(rows: list[dict]) -> dict:
    pig = [r for r in rows if r["family"] != "none"]
    ki = [abs(float(r["ki67_meas"]) - float(r["ki67_true"])) for r in rows]
    worst = int(np.argmax(ki))
    return {
        "dice": float(np.mean([float(r["dice"]) for r in pig if not math.isnan(float(r["dice"]))])),
        "mel_err": float(np.mean([abs(float(r["mel_meas"]) - float(r["mel_true"])) for r in pig])),
        "mel_err_all": float(np.mean([abs(float(r["mel_meas"]) - float(r["mel_true"])) for r in rows])),
        "ki67": float(np.mean(ki)), "ki67_worst": ki[worst],
        "ki67_worst_tile": f"{rows[worst]['family']} {rows[worst]['level']} {rows[worst]['seed']}",
        "false": float(np.mean([float(r["false_pct"]) for r in rows if r["family"] == "none"])),
        "n": len(rows), "n_pig": len(pig),
    }


def main() -> None:
    a_rows, b_rows = read(sys.argv[1]), read(sys.argv[2])
    assert [(r["family"], r["level"], r["seed"]) for r in a_rows] == [(r["family"], r["level"], r["seed"]) for r in b_rows]
    fams = list(dict.fromkeys(r["family"] for r in a_rows))
    print("| family | tiles | Dice A | Dice B | mel \\|err\\| A | B | Ki67 \\|err\\| A | B | false % A | B |")
    print("|---|---:|---|---|---|---|---|---|---|---|")
    for fam in fams:
        ra, rb = [r for r in a_rows if r["family"] == fam], [r for r in b_rows if r["family"] == fam]
        def m(rows, key):
            v = [float(r[key]) for r in rows if not math.isnan(float(r[key]))]
            return f"{np.mean(v):.4f}" if v else "nan"
        def e(rows, k1, k2):
            return f"{np.mean([abs(float(r[k1]) - float(r[k2])) for r in rows]):.4f}"
        print(f"| {fam} | {len(ra)} | {m(ra, 'dice')} | {m(rb, 'dice')} | {e(ra, 'mel_meas', 'mel_true')} | "
              f"{e(rb, 'mel_meas', 'mel_true')} | {e(ra, 'ki67_meas', 'ki67_true')} | {e(rb, 'ki67_meas', 'ki67_true')} "
              f"| {m(ra, 'false_pct')} | {m(rb, 'false_pct')} |")
    fa, fb = figures(a_rows), figures(b_rows)
    print(f"A: {fa}\nB: {fb}")
    g1 = fb["dice"] >= 0.80 and fb["dice"] >= fa["dice"] + 0.03 and fb["mel_err"] <= 2.0
    print(f"GATE1: Dice A {fa['dice']:.10f} B {fb['dice']:.10f} (B-A {fb['dice'] - fa['dice']:+.10f}; asked >= 0.80 and "
          f">= A + 0.03); melanin mean |err| (pigmented) A {fa['mel_err']:.10f} B {fb['mel_err']:.10f} (asked <= 2.0; "
          f"all tiles A {fa['mel_err_all']:.10f} B {fb['mel_err_all']:.10f}) -> {'pass' if g1 else 'FAIL'}")
    lim_false = max(fa["false"], 0.10)
    g2 = (fb["ki67"] <= fa["ki67"] + 0.10 and fb["ki67_worst"] <= fa["ki67_worst"] + 1.0 and fb["false"] <= lim_false)
    print(f"GATE2: Ki67 mean |err| A {fa['ki67']:.10f} B {fb['ki67']:.10f} (B-A {fb['ki67'] - fa['ki67']:+.10f}; asked "
          f"<= +0.10); worst A {fa['ki67_worst']:.10f} ({fa['ki67_worst_tile']}) B {fb['ki67_worst']:.10f} "
          f"({fb['ki67_worst_tile']}) (asked <= A + 1.0); false pigment on none tiles A {fa['false']:.10f} B "
          f"{fb['false']:.10f} % (asked <= {lim_false:.10f}) -> {'pass' if g2 else 'FAIL'}")


if __name__ == "__main__":
    main()
