"""Means of two ``eval_pigment_families.py`` CSVs, unrounded, as session 38 H2's rule reads them (#14).

Per chromogen: Dice mean over the pigmented tiles (``dice``, NaN skipped: the ``none`` control has no truth),
melanin mean |mel_meas - mel_true| over the pigmented tiles, Ki67 mean |ki67_meas - ki67_true| over every tile
(the control included), and per family the same; B - A.

    python benchmarks/experiments/family_means_s38.py HEAD.csv CAND.csv
"""

from __future__ import annotations

import csv
import math
import sys

import numpy as np


def _f(x: str) -> float:
    return float(x) if x not in ("", "nan") else math.nan


def means(rows: list[dict], chromogen: str, family: str | None = None) -> tuple[float, float, float, int]:
    sel = [r for r in rows if r["chromogen"] == chromogen and (family is None or r["family"] == family)]
    pig = [r for r in sel if r["family"] != "none"]
    d = np.nanmean([_f(r["dice"]) for r in pig]) if pig else math.nan
    m = np.mean([abs(_f(r["mel_meas"]) - _f(r["mel_true"])) for r in pig]) if pig else math.nan
    k = [abs(_f(r["ki67_meas"]) - _f(r["ki67_true"])) for r in sel if r.get("ki67_true", "") != ""]
    return float(d), float(m), float(np.mean(k)) if k else math.nan, len(pig)


def main() -> None:
    a, b = (list(csv.DictReader(open(p))) for p in sys.argv[1:3])
    for ch in sorted({r["chromogen"] for r in a}):
        fams = sorted({r["family"] for r in a if r["chromogen"] == ch})
        print(f"## {ch}\n| family | Dice A | Dice B | mel |err| A | B | Ki67 |err| A | B |\n|---|---|---|---|---|---|---|")
        for fam in [*fams, None]:
            da, ma, ka, n = means(a, ch, fam)
            db, mb, kb, _ = means(b, ch, fam)
            name = fam or f"**all** ({n} pigmented)"
            print(f"| {name} | {da:.10f} | {db:.10f} | {ma:.10f} | {mb:.10f} | {ka:.10f} | {kb:.10f} |")
        da, ma, ka, _ = means(a, ch)
        db, mb, kb, _ = means(b, ch)
        print(f"B - A: Dice {db - da:+.10f}, melanin |err| {mb - ma:+.10f} pp, Ki67 |err| {kb - ka:+.10f} pp")


if __name__ == "__main__":
    main()
