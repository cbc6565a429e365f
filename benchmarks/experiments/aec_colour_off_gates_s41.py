"""Gate verdicts of session 41 H9's rule (#14: AEC's colour test on the colour-off tiles; the rule is in
``benchmarks/experiments/aec_colour_off_rule_s41.md``). Every figure unrounded, PASS / FAIL per clause:

    python benchmarks/experiments/aec_colour_off_gates_s41.py families A.csv B.csv ANGLES_A.csv  # gates 1, 2, DAB of 4
    python benchmarks/experiments/aec_colour_off_gates_s41.py red A.csv B.csv                    # gate 3

``ANGLES_A.csv`` is HEAD's per-tile melanin angle (``aec_colour_off_record_s41.py``): the colour-off tiles of gate 1
are the AEC tiles HEAD reads below 8°. The exit status is 1 when a clause fails.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aec_ki67_gates_s41 import identical, per_chromogen, red, verdict
from red_hardneg_tables_s40 import ki67_abs, paired, rows_of


def families(a_path: str, b_path: str, angles_path: str) -> bool:
    a = rows_of(a_path)
    b = paired(a, rows_of(b_path), ("chromogen", "family", "seed"))
    with open(angles_path, newline="") as fh:
        off = {(r["family"], int(r["seed"])) for r in csv.DictReader(fh)
               if r["chromogen"] == "aec" and r["colour_off"] == "True"}
    aec, fr = per_chromogen(a, b, "aec"), per_chromogen(a, b, "fast_red")
    ka, kb = aec["ki67"]
    ok = verdict("GATE1 AEC Ki67 mean |err|", kb <= ka - 0.20,
                 f"{aec['n']} tiles A {ka:.10f} B {kb:.10f} (B-A {kb - ka:+.10f}; <= {ka - 0.20:.10f})")
    sa = [r for r in a if r["chromogen"] == "aec" and (r["family"], int(r["seed"])) in off]
    sb = [r for r in b if r["chromogen"] == "aec" and (r["family"], int(r["seed"])) in off]
    print("  colour-off AEC tiles (HEAD's melanin direction < 8° from AEC): "
          + ", ".join(f"{ra['family']} {ra['seed']} {float(ra['ki67_meas']) - float(ra['ki67_true']):+.4f} -> "
                      f"{float(rb['ki67_meas']) - float(rb['ki67_true']):+.4f}" for ra, rb in zip(sa, sb, strict=True)))
    oa = float(np.nanmean(ki67_abs(sa))) if sa else float("nan")
    ob = float(np.nanmean(ki67_abs(sb))) if sb else float("nan")
    ok &= verdict("GATE1 colour-off AEC tiles mean |err|", len(sa) > 0 and ob <= oa - 0.5,
                  f"{len(sa)} tiles A {oa:.10f} B {ob:.10f} (B-A {ob - oa:+.10f}; <= {oa - 0.5:.10f})")
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
    da_ = [r for r in a if r["chromogen"] == "dab"]
    db_ = [r for r in b if r["chromogen"] == "dab"]
    same, bad = identical(da_, db_)
    dab = per_chromogen(a, b, "dab")
    return verdict("GATE4 DAB families identical", same and len(da_) > 0,
                   f"{len(da_)} tiles, {bad} rows differ; Ki67 A {dab['ki67'][0]:.10f} B {dab['ki67'][1]:.10f}, "
                   f"Dice A {dab['dice'][0]:.10f} B {dab['dice'][1]:.10f}")


def main() -> None:
    kind = sys.argv[1]
    if kind == "families":
        ok = families(*sys.argv[2:5])
    elif kind == "red":
        ok = red(*sys.argv[2:4])
    else:
        raise SystemExit(f"kind must be 'families' or 'red', got {kind!r}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
