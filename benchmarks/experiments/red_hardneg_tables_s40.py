"""Gate tables of session 40 H4 (#14): HEAD vs candidate on the red chromogens' benchmarks, unrounded.

    python benchmarks/experiments/red_hardneg_tables_s40.py families A.csv B.csv   # eval_pigment_families --csv
    python benchmarks/experiments/red_hardneg_tables_s40.py red A.csv B.csv        # eval_red_chromogens --csv
    python benchmarks/experiments/red_hardneg_tables_s40.py azure A.csv B.csv      # eval_azure_b --csv

families: per chromogen and family the drawn-truth Dice (pigmented tiles), the melanin mean |error| (pipeline
fraction minus the drawn truth, pigmented tiles), the mask and truth shares and the Ki67 mean |error|; per chromogen
the Ki67 mean and worst |error| over every tile (the `none` tiles included). red / azure: the Ki67 mean |error| over
every tile and the false pigment on the unpigmented (`none`) tiles: the mask's share of the tissue (red:
``mel_mask_pct``, the pipeline's pixel model; azure: ``false_pct``, its rules' mask outside the truth, none there).
"""

from __future__ import annotations

import csv
import sys

import numpy as np

FAMILIES = ("none", "dusty", "coarse", "sparse", "confluent", "perinuclear", "over_nucleus", "whole_cell",
            "melanophage", "spindle")


def rows_of(path: str) -> list[dict]:
    """The CSV's rows."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def col(rows: list[dict], key: str) -> np.ndarray:
    """One column as floats (empty cells NaN)."""
    return np.array([float(r[key]) if r.get(key, "") != "" else np.nan for r in rows])


def ki67_abs(rows: list[dict]) -> np.ndarray:
    """|Ki67 measured - truth| per row (pp)."""
    return np.abs(col(rows, "ki67_meas") - col(rows, "ki67_true"))


def paired(a: list[dict], b: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """``b``'s rows in ``a``'s order (the same tiles), raising if a tile is missing."""
    index = {tuple(r[k] for k in keys): r for r in b}
    missing = [tuple(r[k] for k in keys) for r in a if tuple(r[k] for k in keys) not in index]
    if missing or len(a) != len(b):
        msg = f"the two CSVs hold different tiles: {len(a)} vs {len(b)} rows, missing {missing[:3]}"
        raise ValueError(msg)
    return [index[tuple(r[k] for k in keys)] for r in a]


def families(a_path: str, b_path: str) -> None:
    """Gate 1 and 2 tables (``eval_pigment_families.py --csv``)."""
    a_all, b_all = rows_of(a_path), rows_of(b_path)
    b_all = paired(a_all, b_all, ("chromogen", "family", "seed"))
    for ch in sorted({r["chromogen"] for r in a_all}):
        pick = [i for i, r in enumerate(a_all) if r["chromogen"] == ch]
        a, b = [a_all[i] for i in pick], [b_all[i] for i in pick]
        print(f"\n{ch}\n| family | tiles | Dice A | Dice B | mel \\|err\\| A | B | mask % A | B | drawn truth % | "
              "Ki67 \\|err\\| A | B |\n|---|---:|---|---|---|---|---|---|---|---|---|")
        for fam in (*FAMILIES, "**all pigmented**"):
            sel = [i for i, r in enumerate(a) if r["family"] == fam or (fam.startswith("**") and r["family"] != "none")]
            sa, sb = [a[i] for i in sel], [b[i] for i in sel]
            if not sa:
                continue
            dice = [np.nanmean(col(s, "dice")) if fam != "none" else np.nan for s in (sa, sb)]
            err = [np.mean(np.abs(col(s, "mel_meas") - col(s, "mel_true"))) for s in (sa, sb)]
            print(f"| {fam} | {len(sa)} | {dice[0]:.10f} | {dice[1]:.10f} | {err[0]:.10f} | {err[1]:.10f} | "
                  f"{np.mean(col(sa, 'mel_mask_pct')):.4f} | {np.mean(col(sb, 'mel_mask_pct')):.4f} | "
                  f"{np.mean(col(sa, 'mel_true')):.4f} | {np.mean(ki67_abs(sa)):.10f} | {np.mean(ki67_abs(sb)):.10f} |")
        ka, kb = ki67_abs(a), ki67_abs(b)
        wa, wb = int(np.nanargmax(ka)), int(np.nanargmax(kb))
        pa = [r for r in a if r["family"] != "none"]
        pb = [r for r in b if r["family"] != "none"]
        da, db = np.nanmean(col(pa, "dice")), np.nanmean(col(pb, "dice"))
        ea = np.mean(np.abs(col(pa, "mel_meas") - col(pa, "mel_true")))
        eb = np.mean(np.abs(col(pb, "mel_meas") - col(pb, "mel_true")))
        print(f"GATE1 {ch}: Dice A {da:.10f} B {db:.10f} (B-A {db - da:+.10f}); melanin mean |err| A {ea:.10f} "
              f"B {eb:.10f} (B-A {eb - ea:+.10f})")
        print(f"GATE2 {ch}: Ki67 all {len(a)} tiles mean |err| A {np.nanmean(ka):.10f} B {np.nanmean(kb):.10f} "
              f"(B-A {np.nanmean(kb) - np.nanmean(ka):+.10f}); worst A {ka[wa]:.10f} ({a[wa]['family']} {a[wa]['seed']}) "
              f"B {kb[wb]:.10f} ({b[wb]['family']} {b[wb]['seed']}) (B-A {kb[wb] - ka[wa]:+.10f})")


def ki67_and_false(a_path: str, b_path: str, keys: tuple[str, ...], group: str | None, false_key: str) -> None:
    """Gate 3 figures of one benchmark: Ki67 mean |error| (every tile), false pigment on the `none` tiles."""
    a = rows_of(a_path)
    b = paired(a, rows_of(b_path), keys)
    groups = sorted({r[group] for r in a}) if group else [None]
    for g in (*groups, None) if group else groups:
        sa = [r for r in a if g is None or r[group] == g]
        sb = [r for r in b if g is None or r[group] == g]
        na = [r for r in sa if r["family"] == "none"]
        nb = [r for r in sb if r["family"] == "none"]
        fa, fb = np.mean(col(na, false_key)), np.mean(col(nb, false_key))
        ka, kb = np.nanmean(ki67_abs(sa)), np.nanmean(ki67_abs(sb))
        print(f"GATE3 {g or 'all'}: tiles {len(sa)} Ki67 mean |err| A {ka:.10f} B {kb:.10f} (B-A {kb - ka:+.10f}); "
              f"false pigment on {len(na)} none tiles A {fa:.10f} B {fb:.10f} % (B-A {fb - fa:+.10f})")


def main() -> None:
    kind, a, b = sys.argv[1:4]
    if kind == "families":
        families(a, b)
    elif kind == "red":
        ki67_and_false(a, b, ("chromogen", "appearance", "family", "seed"), "chromogen", "mel_mask_pct")
    elif kind == "azure":
        ki67_and_false(a, b, ("family", "level", "seed"), None, "false_pct")
    else:
        msg = f"kind must be 'families', 'red' or 'azure', got {kind!r}"
        raise SystemExit(msg)


if __name__ == "__main__":
    main()
