"""Session 44 H7 gates (rule: double_positive_learned_rule_s44.md): HEAD vs candidate.

    python double_positive_learned_s44_compare.py eval HEAD.txt CAND.txt      # gates 1 and 2 (eval_double_stain.py)
    python double_positive_learned_s44_compare.py samples HEAD_DIR CAND_DIR   # gate 2 (quantify sample_tiles --out)

Prints the figures and PASS / FAIL per check; exit status 0 when every check passes."""

from __future__ import annotations

import filecmp
import json
import re
import sys
from pathlib import Path


def _summary(path: str) -> dict[str, tuple[float, float]]:
    """label -> (melanocytic |err| mean, index |err| mean) from the summary table."""
    out = {}
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[1].isdigit():
            out[cells[0]] = (float(cells[2]), float(cells[3]))
    return out


def evaluate(head: str, cand: str) -> bool:
    h, c = _summary(head), _summary(cand)
    checks = [
        ("gate 1: SOX10 melanocytic <= 0.75 x HEAD", c["SOX10 (nuclear)"][0], 0.75 * h["SOX10 (nuclear)"][0]),
        ("gate 1: SOX10 fast_red melanocytic <= HEAD", c["SOX10 fast_red"][0], h["SOX10 fast_red"][0]),
        ("gate 1: SOX10 aec melanocytic <= HEAD", c["SOX10 aec"][0], h["SOX10 aec"][0]),
        ("gate 2: all index <= HEAD + 0.3", c["all"][1], h["all"][1] + 0.3),
        ("gate 2: MART-1 melanocytic <= HEAD + 0.2", c["MART-1 (cytoplasmic)"][0], h["MART-1 (cytoplasmic)"][0] + 0.2),
        ("gate 2: MART-1 index <= HEAD + 0.2", c["MART-1 (cytoplasmic)"][1], h["MART-1 (cytoplasmic)"][1] + 0.2),
    ]
    ok = True
    for label in h:
        print(f"  {label}: melanocytic {h[label][0]:.4f} -> {c[label][0]:.4f}, index {h[label][1]:.4f} -> "
              f"{c[label][1]:.4f}")
    for name, got, limit in checks:
        good = got <= limit + 1e-12
        ok &= good
        print(f"{'PASS' if good else 'FAIL'} {name}: got {got:.4f}, limit {limit:.4f}")
    return ok


#: JSON keys that may differ between two runs: timings and the input file's own metadata (separate trees)
_JSON_SKIP = re.compile(r"^/timings/|/seconds$|^/source/(ctime_ns|inode|mtime_ns|path)$")


def _flat(d: object, p: str = "") -> dict[str, object]:
    if isinstance(d, dict):
        return {k: v for key, val in d.items() for k, v in _flat(val, f"{p}/{key}").items()}
    if isinstance(d, list):
        return {k: v for i, val in enumerate(d) for k, v in _flat(val, f"{p}[{i}]").items()}
    return {p: d}


def samples(head: str, cand: str) -> bool:
    a, b = Path(head), Path(cand)
    skip = re.compile(r"seconds|timing|elapsed|started|finished|time|output|path|dir|version", re.I)
    ok = True
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    same = differ = 0
    for rel in files:
        other = b / rel
        if not other.is_file():
            print(f"FAIL missing in candidate: {rel}")
            ok = False
        elif filecmp.cmp(a / rel, other, shallow=False):
            same += 1
        elif rel.suffix == ".json":  # key by key: run timings and the source file's metadata left out
            fa, fb = _flat(json.loads((a / rel).read_text())), _flat(json.loads(other.read_text()))
            keys = sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))
            bad = [k for k in keys if not _JSON_SKIP.search(k)]
            if bad:
                print(f"FAIL {rel}: keys differ: {bad[:6]}")
                ok = False
            else:
                differ += 1
                print(f"  {rel}: differs only in {keys}")
        elif rel.suffix in (".csv", ".txt", ".md", ".html", ".log"):
            la, lb = (a / rel).read_text().splitlines(), other.read_text().splitlines()
            bad = [(x, y) for x, y in zip(la, lb, strict=False) if x != y and not skip.search(x)]
            if bad or len(la) != len(lb):
                print(f"FAIL {rel}: {len(bad)} lines differ beyond timing / path lines, e.g. {bad[:2]}")
                ok = False
            else:
                differ += 1
                print(f"  {rel}: differs only in timing / path lines")
        else:
            print(f"FAIL {rel}: binary file differs")
            ok = False
    extra = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and not (a / p.relative_to(b)).is_file())
    if extra:
        print(f"FAIL extra files in candidate: {extra}")
        ok = False
    print(f"{'PASS' if ok else 'FAIL'} gate 2 samples: {same} files byte-identical, {differ} differ only in timing / "
          f"path lines, of {len(files)}")
    return ok


if __name__ == "__main__":
    mode, x, y = sys.argv[1:4]
    sys.exit(0 if {"eval": evaluate, "samples": samples}[mode](x, y) else 1)
