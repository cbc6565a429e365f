"""Gate verdicts of session 41 H6's rule (#14: AEC's Ki67, the touched-nucleus colour veto as the default).

Reads the CSVs of both arms (A = HEAD, B = candidate) and prints every figure unrounded with PASS / FAIL against the
rule in ``benchmarks/experiments/aec_ki67_rule_s41.md``:

    python benchmarks/experiments/aec_ki67_gates_s41.py families A.csv B.csv   # gates 1, 2 and DAB part of 4
    python benchmarks/experiments/aec_ki67_gates_s41.py red A.csv B.csv        # gate 3 (eval_red_chromogens)
    python benchmarks/experiments/aec_ki67_gates_s41.py azure A.csv B.csv      # Azure B part of gate 4

The exit status is 1 when a clause fails, so a shell chain stops at the first failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from red_hardneg_tables_s40 import col, ki67_abs, paired, rows_of

IGNORED = ("seconds",)  # wall time: differs between any two runs


def verdict(name: str, ok: bool, text: str) -> bool:
    print(f"{name}: {text} -> {'PASS' if ok else 'FAIL'}")
    return ok


def per_chromogen(a: list[dict], b: list[dict], ch: str) -> dict:
    sa = [r for r in a if r["chromogen"] == ch]
    sb = [r for r in b if r["chromogen"] == ch]
    pa = [r for r in sa if r["family"] != "none"]
    pb = [r for r in sb if r["family"] != "none"]
    ka, kb = ki67_abs(sa), ki67_abs(sb)
    return {"n": len(sa), "ki67": (float(np.nanmean(ka)), float(np.nanmean(kb))),
            "worst": (float(np.nanmax(ka)), float(np.nanmax(kb))),
            "worst_tile": (sa[int(np.nanargmax(ka))], sb[int(np.nanargmax(kb))]),
            "dice": (float(np.nanmean(col(pa, "dice"))), float(np.nanmean(col(pb, "dice")))),
            "mel": (float(np.mean(np.abs(col(pa, "mel_meas") - col(pa, "mel_true")))),
                    float(np.mean(np.abs(col(pb, "mel_meas") - col(pb, "mel_true")))))}


def identical(a: list[dict], b: list[dict]) -> tuple[bool, int]:
    """(every field of every row equal but wall time, number of rows differing)."""
    bad = sum(1 for ra, rb in zip(a, b, strict=True) if {k: v for k, v in ra.items() if k not in IGNORED}
              != {k: v for k, v in rb.items() if k not in IGNORED})
    return bad == 0, bad


def families(a_path: str, b_path: str) -> bool:
    a = rows_of(a_path)
    b = paired(a, rows_of(b_path), ("chromogen", "family", "seed"))
    ok = True
    aec, fr = per_chromogen(a, b, "aec"), per_chromogen(a, b, "fast_red")
    ka, kb = aec["ki67"]
    ok &= verdict("GATE1 AEC Ki67 mean |err|", kb <= 2.00 and kb <= ka - 0.20,
                  f"{aec['n']} tiles A {ka:.10f} B {kb:.10f} (B-A {kb - ka:+.10f}; <= 2.00 and <= {ka - 0.20:.10f})")
    if not ok:
        return False
    da, db = aec["dice"]
    ok &= verdict("GATE2 AEC Dice", db >= da - 0.01, f"A {da:.10f} B {db:.10f} (B-A {db - da:+.10f}; >= A - 0.01)")
    ea, eb = aec["mel"]
    ok &= verdict("GATE2 AEC melanin |err|", eb <= ea + 0.25, f"A {ea:.10f} B {eb:.10f} (B-A {eb - ea:+.10f}; <= A + 0.25)")
    fa, fb = fr["ki67"]
    ok &= verdict("GATE2 Fast Red Ki67", fb <= fa + 0.10, f"A {fa:.10f} B {fb:.10f} (B-A {fb - fa:+.10f}; <= A + 0.10)")
    da, db = fr["dice"]
    ok &= verdict("GATE2 Fast Red Dice", db >= da - 0.01, f"A {da:.10f} B {db:.10f} (B-A {db - da:+.10f}; >= A - 0.01)")
    for name, d in (("AEC", aec), ("Fast Red", fr)):
        wa, wb = d["worst"]
        ta, tb = d["worst_tile"]
        ok &= verdict(f"GATE2 worst {name} Ki67 tile", wb <= wa + 1.0,
                      f"A {wa:.10f} ({ta['family']} {ta['seed']}) B {wb:.10f} ({tb['family']} {tb['seed']}) (<= A + 1.0)")
    if not ok:
        return False
    da = [r for r in a if r["chromogen"] == "dab"]
    db = [r for r in b if r["chromogen"] == "dab"]
    same, bad = identical(da, db)
    dab = per_chromogen(a, b, "dab")
    return verdict("GATE4 DAB families identical", same and len(da) > 0,
                   f"{len(da)} tiles, {bad} rows differ; Ki67 A {dab['ki67'][0]:.10f} B {dab['ki67'][1]:.10f}, "
                   f"Dice A {dab['dice'][0]:.10f} B {dab['dice'][1]:.10f}")


def red(a_path: str, b_path: str) -> bool:
    a = rows_of(a_path)
    b = paired(a, rows_of(b_path), ("chromogen", "appearance", "family", "seed"))
    ok = True
    for ch in sorted({r["chromogen"] for r in a}):
        sa = [r for r in a if r["chromogen"] == ch]
        sb = [r for r in b if r["chromogen"] == ch]
        ka, kb = float(np.nanmean(ki67_abs(sa))), float(np.nanmean(ki67_abs(sb)))
        ok &= verdict(f"GATE3 {ch} Ki67 mean |err|", kb <= ka + 0.10,
                      f"{len(sa)} tiles A {ka:.10f} B {kb:.10f} (B-A {kb - ka:+.10f}; <= A + 0.10)")
        na = [r for r in sa if r["family"] == "none"]
        nb = [r for r in sb if r["family"] == "none"]
        fa, fb = float(np.mean(col(na, "mel_mask_pct"))), float(np.mean(col(nb, "mel_mask_pct")))
        ok &= verdict(f"GATE3 {ch} false pigment on none tiles", fb <= fa + 0.05,
                      f"{len(na)} tiles A {fa:.10f} B {fb:.10f} % (B-A {fb - fa:+.10f}; <= A + 0.05)")
        for app in sorted({r["appearance"] for r in sa}):
            xa = [r for r in sa if r["appearance"] == app]
            xb = [r for r in sb if r["appearance"] == app]
            print(f"  information {ch} {app}: Ki67 mean |err| A {np.nanmean(ki67_abs(xa)):.10f} "
                  f"B {np.nanmean(ki67_abs(xb)):.10f}")
    return ok


def azure(a_path: str, b_path: str) -> bool:
    a = rows_of(a_path)
    b = paired(a, rows_of(b_path), ("family", "level", "seed"))
    same, bad = identical(a, b)
    return verdict("GATE4 Azure B identical", same and len(a) > 0,
                   f"{len(a)} tiles, {bad} rows differ; Ki67 A {np.nanmean(ki67_abs(a)):.10f} "
                   f"B {np.nanmean(ki67_abs(b)):.10f}")


def main() -> None:
    kind, a, b = sys.argv[1:4]
    run = {"families": families, "red": red, "azure": azure}.get(kind)
    if run is None:
        raise SystemExit(f"kind must be 'families', 'red' or 'azure', got {kind!r}")
    raise SystemExit(0 if run(a, b) else 1)


if __name__ == "__main__":
    main()
