"""Session 38 H5's exactness check: two README-job output folders (``mmnst-path quantify sample_tiles``) agree.

Usage: ``python benchmarks/experiments/exact_outputs_s38.py DIR_A DIR_B``. Every file must be present in
both; ``result.json`` / ``summary.json`` are compared as JSON with the keys that hold a time left out
(``seconds``, ``timings``, ``elapsed_s``...), ``summary.csv`` without its ``seconds`` column,
``report.html`` with the folder names and the seconds replaced, the lock file skipped; every other file
byte for byte. Prints each difference and exits 1 when there is one.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

TIME_KEYS = re.compile(r"(^|_)(seconds|timings?|elapsed(_s)?|wall_s|cpu_s|time_s|started|finished)$")


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not TIME_KEYS.search(str(k))}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _diff_json(a: Any, b: Any, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{where}.{k}: only in {'B' if k not in a else 'A'}")
            else:
                _diff_json(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff_json(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {str(a)[:80]} != {str(b)[:80]}")


def _csv_rows(path: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def main(a_dir: str, b_dir: str) -> int:
    a_root, b_root = Path(a_dir), Path(b_dir)
    names = sorted({p.relative_to(a_root) for p in a_root.rglob("*") if p.is_file()}
                   | {p.relative_to(b_root) for p in b_root.rglob("*") if p.is_file()})
    diffs: list[str] = []
    compared = 0
    for rel in names:
        a, b = a_root / rel, b_root / rel
        if rel.name == ".mmnst-path.lock":
            continue
        if not a.is_file() or not b.is_file():
            diffs.append(f"{rel}: only in {'B' if not a.is_file() else 'A'}")
            continue
        compared += 1
        if rel.suffix == ".json":
            _diff_json(_strip(json.loads(a.read_text(encoding="utf-8"))),
                       _strip(json.loads(b.read_text(encoding="utf-8"))), str(rel), diffs)
        elif rel.name == "summary.csv":
            if _csv_rows(a) != _csv_rows(b):
                diffs.append(f"{rel}: rows differ")
        elif rel.name == "report.html":
            def norm(text: str, root: Path) -> str:
                text = text.replace(str(root), "DIR").replace(root.name, "DIR")
                return re.sub(r"\d+(\.\d+)? ?s\b", "Ns", text)
            if norm(a.read_text(encoding="utf-8"), a_root) != norm(b.read_text(encoding="utf-8"), b_root):
                diffs.append(f"{rel}: differs beyond folder names and seconds")
        elif a.read_bytes() != b.read_bytes():
            diffs.append(f"{rel}: bytes differ")
    for line in diffs:
        print("DIFF", line)
    print(f"{compared} files compared, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
