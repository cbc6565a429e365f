"""Session 39 H4 (#16), gate 4: the README job's outputs of two trees compared.

``python readme_job_compare_s39.py H_DIR C_DIR TRUTH.json`` (the ``--out`` folders of ``python -P -m mmnst_path
quantify sample_tiles --out DIR --overwrite --workers 1`` run in each tree): every JSON file of H_DIR is read with
its namesake in C_DIR and every number in them (walked recursively; strings are listed when they differ) is
compared; the he_melanin sample's melanin error = |melanin_fraction_pct - truth.json's| of each tree. Prints the
differing numbers (path, H, C, C - H) and the two errors; exits 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _leaves(x: Any, path: str = "") -> dict[str, Any]:
    if isinstance(x, dict):
        out: dict[str, Any] = {}
        for k, v in x.items():
            out.update(_leaves(v, f"{path}/{k}"))
        return out
    if isinstance(x, list):
        out = {}
        for i, v in enumerate(x):
            out.update(_leaves(v, f"{path}[{i}]"))
        return out
    return {path: x}


def _find(x: Any, key: str) -> Any:
    """The first value of ``key`` anywhere in ``x`` (depth first), or None."""
    if isinstance(x, dict):
        if key in x:
            return x[key]
        for v in x.values():
            if (got := _find(v, key)) is not None:
                return got
    if isinstance(x, list):
        for v in x:
            if (got := _find(v, key)) is not None:
                return got
    return None


def main() -> None:
    h_dir, c_dir, truth_path = (Path(p) for p in sys.argv[1:4])
    truth = json.loads(truth_path.read_text())
    n_files = n_num = 0
    for hp in sorted(h_dir.rglob("*.json")):
        cp = c_dir / hp.relative_to(h_dir)
        if not cp.exists():
            print("missing in C:", cp)
            continue
        n_files += 1
        hl, cl = _leaves(json.loads(hp.read_text())), _leaves(json.loads(cp.read_text()))
        for k in sorted(set(hl) | set(cl)):
            a, b = hl.get(k), cl.get(k)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
                n_num += 1
                if a != b:
                    print(f"{hp.relative_to(h_dir)}{k}: H {a!r} C {b!r} C-H {b - a!r}")
            elif a != b:
                print(f"{hp.relative_to(h_dir)}{k}: H {a!r} C {b!r}")
        if "he_melanin" in hp.name or "he_melanin" in str(hp.parent):
            want = _find(truth.get("he_melanin.tif", {}), "melanin_fraction_pct")
            ha, ca = _find(json.loads(hp.read_text()), "melanin_fraction_pct"), _find(json.loads(cp.read_text()), "melanin_fraction_pct")
            if want is not None and ha is not None and ca is not None:
                print(f"{hp.relative_to(h_dir)} he_melanin melanin_fraction_pct truth {want!r}: H {ha!r} |err| "
                      f"{abs(ha - want)!r}; C {ca!r} |err| {abs(ca - want)!r}")
    print("files compared", n_files, "numbers", n_num)


if __name__ == "__main__":
    main()
