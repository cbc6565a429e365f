"""Session 43 H11 (#14): the gate comparisons of the ring-rule mend alone, HEAD output vs candidate output.

    python double_stain_ring_alone_s43_compare.py probe HEAD.txt CAND.txt     # gate 1 (double_stain_he_probe_s43.py)
    python double_stain_ring_alone_s43_compare.py eval HEAD.txt CAND.txt      # gate 2 (eval_stain_guess.py --verbose)
    python double_stain_ring_alone_s43_compare.py real HEAD.txt CAND.txt      # gate 3 (eval_stain_guess.py --real --verbose)
    python double_stain_ring_alone_s43_compare.py readme HEAD_DIR CAND_DIR    # gate 4 (quantify sample_tiles --out DIR)

Prints the figures and PASS / FAIL by the rule in ``double_stain_ring_alone_s43_rule.md``; exit status 0 on PASS."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def _rows(path: str) -> list[list[str]]:
    """Verbose tile rows: group | label | name | ... (table lines and blank lines left out)."""
    out = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("|") or " | " not in line or line.startswith("tiles "):
            continue
        out.append(line.split(" | "))
    return out


def probe(head: str, cand: str) -> bool:
    def counts(path: str) -> tuple[int, int, dict[str, str]]:
        right = double = 0
        calls = {}
        for r in _rows(path):
            calls[r[0]] = r[1]
            right += r[1] == "H&E"
            double += r[1].startswith("H-DAB-")
        return right, double, calls

    hr, hd, hc = counts(head)
    cr, cd, cc = counts(cand)
    print(f"tiles HEAD {len(hc)} candidate {len(cc)}; H&E right HEAD {hr} candidate {cr}; "
          f"read as a double stain HEAD {hd} candidate {cd}")
    for k in hc:
        if hc[k] != cc.get(k):
            print(f"  changed: {k}: {hc[k]} -> {cc.get(k)}")
    ok = len(hc) == len(cc) > 0 and cd <= hd and (hd == 0 or cd <= hd - 1) and cr >= hr
    print("gate 1", "PASS" if ok else "FAIL")
    return ok


def _table(path: str) -> dict[str, int]:
    right = {}
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 13 and cells[0] == cells[1] and cells[2].isdigit():
            right[cells[0]] = int(cells[11])
    return right


def evaluate(head: str, cand: str) -> bool:
    hr, cr = _table(head), _table(cand)
    ok = bool(hr) and hr.keys() == cr.keys()
    for k in hr:
        print(f"  {k}: right HEAD {hr[k]} candidate {cr.get(k)}")
        ok = ok and cr.get(k, -1) >= hr[k]
    hrows = {(r[0], r[1]): r[2] for r in _rows(head)}
    crows = {(r[0], r[1]): r[2] for r in _rows(cand)}
    ok = ok and hrows.keys() == crows.keys()
    lost = [k for k in hrows if k[0].startswith("H-DAB-") and k[1].startswith("cytoplasmic")
            and hrows[k] == k[0] and crows.get(k) != k[0]]
    mart = [k for k in hrows if k[0].startswith("H-DAB-") and k[1].startswith("cytoplasmic")]
    print(f"  MART-1 double stains: {len(mart)}; right HEAD {sum(hrows[k] == k[0] for k in mart)} candidate "
          f"{sum(crows.get(k) == k[0] for k in mart)}; lost {lost}")
    he_new = [k for k in hrows if k[0] == "H&E" and hrows[k] == "H&E" and crows.get(k, "").startswith("H-DAB-")]
    print(f"  H&E tiles HEAD read right and the candidate double: {he_new}")
    for k in hrows:
        if hrows[k] != crows.get(k):
            print(f"  changed: {k}: {hrows[k]} -> {crows.get(k)}")
    ok = ok and not lost and not he_new
    print("gate 2", "PASS" if ok else "FAIL")
    return ok


def real(head: str, cand: str) -> bool:
    def calls(path: str) -> list[tuple[str, ...]]:
        return [(r[0], r[1], r[2], r[3], r[7]) for r in _rows(path)]  # group, tile, name, amb, marker

    hc, cc = calls(head), calls(cand)
    diff = [(a, b) for a, b in zip(hc, cc, strict=False) if a != b]
    same_text = Path(head).read_text() == Path(cand).read_text()
    print(f"  real tiles HEAD {len(hc)} candidate {len(cc)}; calls changed {len(diff)}; whole output identical "
          f"{same_text}")
    for a, b in diff:
        print(f"  changed: {a} -> {b}")
    ok = len(hc) == len(cc) > 0 and not diff
    print("gate 3", "PASS" if ok else "FAIL")
    return ok


def readme(head: str, cand: str) -> bool:
    import pandas as pd

    a, b = Path(head), Path(cand)
    ha, hb = pd.read_csv(a / "summary.csv"), pd.read_csv(b / "summary.csv")
    skip = {c for c in ha.columns if re.search(r"seconds|timing|output|path|dir", c)}
    ok = list(ha.columns) == list(hb.columns) and len(ha) == len(hb) > 0
    print(f"  samples HEAD {len(ha)} candidate {len(hb)}; columns equal {list(ha.columns) == list(hb.columns)}; "
          f"not compared: {sorted(skip)}")
    stain_cols = [c for c in ha.columns if "stain" in c.lower()]
    for c in ha.columns:
        if c in skip or c not in hb.columns:
            continue
        x, y = ha[c], hb[c]
        same = x.equals(y) or bool(((x == y) | (x.isna() & y.isna())).all())
        if not same:
            print(f"  column {c!r} differs: {list(zip(x, y, strict=False))}")
            ok = False
    print(f"  stains columns {stain_cols}: " + "; ".join(f"{n}: {list(ha[c])}" for n, c in enumerate(stain_cols)))
    for d in sorted(p for p in a.iterdir() if p.is_dir()):
        if not (d / "result.json").exists():
            continue
        ra, rb = json.loads((d / "result.json").read_text()), json.loads((b / d.name / "result.json").read_text())
        for key in ("metrics", "counts"):
            if key in ra and ra[key] != rb.get(key):
                print(f"  {d.name}: {key} differ")
                ok = False
        da, db = ra.get("detection", {}), rb.get("detection", {})
        for key in sorted(set(da) | set(db)):
            if da.get(key) != db.get(key):
                print(f"  {d.name}: detection {key}: {da.get(key)!r} -> {db.get(key)!r}")
                if key != "reason":
                    ok = False
    print("gate 4", "PASS" if ok else "FAIL")
    return ok


if __name__ == "__main__":
    kind, h, c = sys.argv[1:4]
    sys.exit(0 if {"probe": probe, "eval": evaluate, "real": real, "readme": readme}[kind](h, c) else 1)
