"""Gate 3 of the azure B melanin model (session 41 H7): the other stains' outputs of two trees compared.

``csv A.csv B.csv``: every column but timings (names with ``seconds`` or ``time``) identical, row by row.
``dirs A B``: every file of two ``quantify`` output folders: ``summary.csv`` without its ``seconds`` column,
``result.json`` flattened without wall-clock, timing, source-file and output-path fields, every other file byte for
byte (report.html after the folder's name). ``text A.txt B.txt``: two stdout logs, lines with timings dropped.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

SKIP = re.compile(r"seconds|timings|time_s|/source/|ctime|mtime|inode|started|finished|wall|pid|/out|output|"
                  r"elapsed|date|host", re.I)


def rows_without_timing(path: Path) -> list[dict]:
    with path.open() as fh:
        return [{k: v for k, v in r.items() if "seconds" not in k and "time" not in k} for r in csv.DictReader(fh)]


def flat(obj, prefix: str = "") -> dict:
    if isinstance(obj, dict):
        return {k2: v2 for k, v in obj.items() for k2, v2 in flat(v, f"{prefix}/{k}").items()}
    if isinstance(obj, list):
        return {k2: v2 for i, v in enumerate(obj) for k2, v2 in flat(v, f"{prefix}/{i}").items()}
    return {prefix: obj}


def compare_dirs(a: Path, b: Path) -> int:
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    bad = 0
    if fa != fb:
        print(f"file lists differ: {set(fa) ^ set(fb)}")
        bad += 1
    same = 0
    for rel in fa:
        pa, pb = a / rel, b / rel
        if not pb.exists():
            continue
        if pa.read_bytes() == pb.read_bytes():
            same += 1
            continue
        if rel.name == "summary.csv":
            ok = rows_without_timing(pa) == rows_without_timing(pb)
        elif rel.suffix == ".json":
            ja, jb = flat(json.loads(pa.read_text())), flat(json.loads(pb.read_text()))
            diff = sorted(k for k in set(ja) | set(jb) if ja.get(k) != jb.get(k))
            kept = [k for k in diff if not SKIP.search(k)]
            ok = not kept
            print(f"{rel}: differs only in {diff}" if ok else f"{rel}: DIFFERS in {kept}")
        elif rel.suffix == ".html":
            ok = pa.read_text().replace(a.name, "X") == pb.read_text().replace(b.name, "X")
        else:
            ok = False
        if not ok:
            print(f"{rel}: DIFFERS")
            bad += 1
    print(f"{len(fa)} files, {same} byte-identical, {bad} differing beyond timings")
    return bad


def main() -> None:
    kind, a, b = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if kind == "csv":
        ra, rb = rows_without_timing(a), rows_without_timing(b)
        ok = ra == rb
        print(f"{a.name}: {len(ra)} rows A, {len(rb)} rows B; identical but timings: {ok}")
    elif kind == "dirs":
        ok = compare_dirs(a, b) == 0
    else:
        keep = [re.compile(r"\d+(\.\d+)? ?s\b|seconds|s/tile|elapsed", re.I)]
        la = [ln for ln in a.read_text().splitlines() if not keep[0].search(ln)]
        lb = [ln for ln in b.read_text().splitlines() if not keep[0].search(ln)]
        ok = la == lb
        print(f"{a.name}: {len(la)} lines compared; identical: {ok}")
    print("SAME" if ok else "DIFFERENT")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
