"""Session 37 H12 gate 1 addendum: what H7's user_walk_gate_s37.py flags as differing in result.json ``tiles`` is
only each tile's ``seconds``; summary.json rows and report.html identical once ``seconds`` and the output
folder's name in report.html's title are masked.

    python benchmarks/experiments/interrupt_legend_gate_s37.py HEAD_OUT BRANCH_OUT
"""

import json
import re
import sys
from pathlib import Path

a, b = Path(sys.argv[1]), Path(sys.argv[2])
bad = 0
for ra in sorted(a.glob("*/result.json")):
    ja, jb = json.loads(ra.read_text()), json.loads((b / ra.parent.name / "result.json").read_text())
    ta, tb = ja["tiles"], jb["tiles"]
    fields = set()
    for x, y in zip(ta, tb, strict=True):
        fields |= {k for k in set(x) | set(y) if x.get(k) != y.get(k)}
    n = len(ta) == len(tb)
    print(f"{ra.parent.name}: tiles {len(ta)} vs {len(tb)}; fields differing: {sorted(fields)}")
    bad += (not n) or bool(fields - {"seconds"})
sa, sb = json.loads((a / "summary.json").read_text()), json.loads((b / "summary.json").read_text())
for doc in (sa, sb):
    for r in doc["rows"]:
        r.pop("seconds", None)
keys = sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k))
print(f"summary.json: rows identical but seconds: {sa['rows'] == sb['rows']}; top-level keys differing: {keys}")
bad += sa["rows"] != sb["rows"]


def mask(t: str, out: Path) -> str:
    """Seconds and the output folder's own name (the title says it; the two runs' --out differ) masked."""
    return re.sub(r"\d+(\.\d+)? s\b", "# s", t).replace(f"quantify: {out.name}<", "quantify: OUT<")


ha, hb = mask((a / "report.html").read_text(), a), mask((b / "report.html").read_text(), b)
diff = [(x, y) for x, y in zip(ha.splitlines(), hb.splitlines(), strict=False) if x != y]
print(f"report.html: {len(ha.splitlines())} vs {len(hb.splitlines())} lines, {len(diff)} differ after masking seconds")
for x, y in diff[:5]:
    print("  HEAD  :", x[:300])
    print("  branch:", y[:300])
bad += bool(diff) or len(ha) != len(hb)
print("FAIL" if bad else "PASS")
sys.exit(1 if bad else 0)
