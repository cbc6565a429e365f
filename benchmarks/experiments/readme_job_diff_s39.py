"""Session 39 H8: the README job's outputs of two trees compared (gate 5: every sample's preset and figures).

Every file under ``A`` and ``B`` (``python -P -m mmnst_path quantify sample_tiles --out DIR`` run with
``PYTHONPATH=TREE``): JSON files flattened and compared key by key, other files byte for byte. Keys that may differ
are listed (``ALLOWED``: run times, the output folder, the lock's pid, and the stain model's own identity and
probability, which a retrained stain model changes by design); anything else differing is printed and fails.

    python benchmarks/experiments/readme_job_diff_s39.py A B
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: Flattened keys (regular expressions, searched) allowed to differ.
ALLOWED = (r"seconds", r"timings", r"\bpid\b", r"he_probability", r"he_model", r"detection\.reason",
           r"(^|\.)out(put)?(_dir)?$", r"started|finished|created")


def _flat(obj, prefix: str = "") -> dict[str, object]:
    if isinstance(obj, dict):
        out: dict[str, object] = {}
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flat(v, f"{prefix}[{i}]"))
        return out
    return {prefix: obj}


def main(a: str, b: str) -> int:
    ra, rb = Path(a), Path(b)
    fa = {p.relative_to(ra) for p in ra.rglob("*") if p.is_file()}
    fb = {p.relative_to(rb) for p in rb.rglob("*") if p.is_file()}
    bad = 0
    for f in sorted(fa ^ fb):
        print(f"only in one: {f}")
        bad += 1
    same_files, allowed_keys = 0, set()
    for f in sorted(fa & fb):
        xa, xb = (ra / f).read_bytes(), (rb / f).read_bytes()
        if xa == xb:
            same_files += 1
            continue
        if f.suffix == ".json":
            ja, jb = _flat(json.loads(xa)), _flat(json.loads(xb))
            for k in sorted(set(ja) | set(jb)):
                if ja.get(k) != jb.get(k):
                    if any(re.search(p, k) for p in ALLOWED):
                        allowed_keys.add(re.sub(r"\[\d+\]", "[]", k))
                    else:
                        print(f"{f}: {k}: {ja.get(k)!r} -> {jb.get(k)!r}")
                        bad += 1
        else:
            print(f"{f}: differs (not JSON)")
            bad += 1
    print(f"{len(fa & fb)} files in both, {same_files} byte-identical; keys differing within ALLOWED: "
          f"{sorted(allowed_keys)}; other differences: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
