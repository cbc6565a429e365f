"""Session 37 H7: the README job of two trees compared output by output (gate 1 of the user-walk rule).

    cd TREE && PYTHONPATH=. python -m mmnst_path quantify sample_tiles --out OUT --workers 1   # per tree
    python benchmarks/experiments/user_walk_gate_s37.py HEAD_OUT BRANCH_OUT

Prints one line per compared output and the differences found; exits 1 when a measured output differs.
summary.csv: every cell but ``seconds``; result.json: every key but ``timings``, ``source``, ``request_hash``,
``config`` (whose differences are listed), with metrics compared exactly; cells.csv, cells.csv.gz (content),
cells.geojson, nuclei.html and every PNG: bytes; cells.parquet: as DataFrames.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

SKIP_JSON = {"timings", "source", "request_hash", "config"}


def _flat(doc, prefix=""):
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: doc}


def compare(a: Path, b: Path) -> int:
    bad = 0
    with (a / "summary.csv").open() as fa, (b / "summary.csv").open() as fb:
        ra, rb = list(csv.DictReader(fa)), list(csv.DictReader(fb))
    cols_a, cols_b = set(ra[0]), set(rb[0])
    diff = sum(1 for x, y in zip(ra, rb, strict=True) for c in cols_a & cols_b if c != "seconds" and x[c] != y[c])
    cells = sum(1 for _ in ra) * len((cols_a & cols_b) - {"seconds"})
    print(f"summary.csv: {len(ra)} rows, {cells} cells compared (seconds left out): {diff} differ; "
          f"columns only HEAD {sorted(cols_a - cols_b)}, only branch {sorted(cols_b - cols_a)}")
    bad += diff + len(cols_a ^ cols_b)
    for folder in sorted(p for p in a.iterdir() if p.is_dir()):
        other = b / folder.name
        ja = json.loads((folder / "result.json").read_text())
        jb = json.loads((other / "result.json").read_text())
        fa, fb = _flat({k: v for k, v in ja.items() if k not in SKIP_JSON}), _flat(
            {k: v for k, v in jb.items() if k not in SKIP_JSON})
        keys = set(fa) | set(fb)
        jdiff = sorted(k for k in keys if k != "seconds" and fa.get(k, "<missing>") != fb.get(k, "<missing>"))
        ca, cb = _flat(ja["config"]), _flat(jb["config"])
        cdiff = sorted(k for k in set(ca) | set(cb) if ca.get(k, "<missing>") != cb.get(k, "<missing>"))
        print(f"{folder.name}/result.json: {len(keys)} keys (timings, source, request_hash, config aside): "
              f"{len(jdiff)} differ {jdiff[:8]}; config keys differing: "
              + ", ".join(f"{k} ({'HEAD only' if k not in cb else 'branch only' if k not in ca else 'changed'})"
                          for k in cdiff))
        bad += len(jdiff)
        for f in sorted(folder.iterdir()):
            if f.name == "result.json":
                continue
            g = other / f.name
            if not g.exists():
                print(f"  {folder.name}/{f.name}: missing on the branch")
                bad += 1
                continue
            if f.name.endswith(".parquet"):
                import pandas as pd

                same = pd.read_parquet(f).equals(pd.read_parquet(g))
            elif f.name.endswith(".gz"):
                same = gzip.decompress(f.read_bytes()) == gzip.decompress(g.read_bytes())
            else:
                same = f.read_bytes() == g.read_bytes()
            if not same:
                print(f"  {folder.name}/{f.name}: DIFFERS")
                bad += 1
        extra = sorted({p.name for p in other.iterdir()} - {p.name for p in folder.iterdir()})
        print(f"  {folder.name}: {len(list(folder.iterdir())) - 1} other files compared; only on the branch: {extra}")
        bad += len(extra)
    return bad


def main() -> int:
    bad = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"measured outputs differing: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
