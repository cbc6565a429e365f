"""Compare two ``mmnst-path quantify sample_tiles`` outputs (the README job) for session 41 H6's gate 4.

Every file but JSON and HTML must be byte-identical; JSON files are compared key by key (flattened), where wall
time (``seconds``, ``timings``) is skipped and the configuration's changed default
(``red_touched_min_chromogen_od``) and the request hash it feeds may differ: a configuration value is not a figure.
HTML is compared with each output folder's path replaced. Exit 1 when any other key or file differs.

    python benchmarks/experiments/aec_ki67_readme_cmp_s41.py OUT_A OUT_B
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SKIPPED = ("seconds", "timings")
ALLOWED = ("red_touched_min_chromogen_od", "request_hash")


def flat(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in SKIPPED:
                yield from flat(v, f"{prefix}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from flat(v, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def main() -> None:
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    bad = 0 if fa == fb else 1
    print(f"files {len(fa)} / {len(fb)}, same names {fa == fb}")
    for rel in fa:
        pa, pb = a / rel, b / rel
        if not pb.exists():
            continue
        if rel.suffix == ".json":
            da, db = dict(flat(json.loads(pa.read_text()))), dict(flat(json.loads(pb.read_text())))
            diff = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))
            other = [k for k in diff if not any(k.endswith(s) for s in ALLOWED)]
            bad += bool(other)
            print(f"{'DIFF' if other else 'same'} {rel}: {len(da)} keys, {len(diff)} differ "
                  f"({len(diff) - len(other)} allowed {[f'{k}: {da.get(k)!r} -> {db.get(k)!r}' for k in diff if k not in other][:4]}); "
                  f"other {other[:6]}")
        elif rel.suffix == ".html":
            same = pa.read_text().replace(str(a), "OUT") == pb.read_text().replace(str(b), "OUT")
            bad += not same
            print(f"{'same' if same else 'DIFF'} {rel} (html, folder path replaced)")
        else:
            same = pa.read_bytes() == pb.read_bytes()
            bad += not same
            print(f"{'same' if same else 'DIFF'} {rel}")
    print(f"GATE4 README job: {bad} files differ beyond the allowed keys -> {'PASS' if bad == 0 else 'FAIL'}")
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
