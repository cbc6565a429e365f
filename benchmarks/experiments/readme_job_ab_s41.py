"""Session 41 H3: `python readme_job_ab_s41.py HEAD_OUT NEW_OUT` (two `quantify sample_tiles --out` folders).

README job A/B: every summary.csv column of HEAD equal in name, order and value (seconds aside); result.json
metrics equal; cells.csv identical; tissue_classes.png identical; new columns listed."""
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

a, b = Path(sys.argv[1]), Path(sys.argv[2])
ha, hb = pd.read_csv(a / "summary.csv"), pd.read_csv(b / "summary.csv")
print("HEAD columns", ha.shape[1], "new", hb.shape[1], "prefix equal:", list(ha.columns) == list(hb.columns[: ha.shape[1]]))
print("appended:", list(hb.columns[ha.shape[1]:]))
cols = [c for c in ha.columns if c != "seconds"]
print("every HEAD column but seconds equal:", ha[cols].equals(hb[cols]))
ja, jb = json.loads((a / "summary.json").read_text()), json.loads((b / "summary.json").read_text())
print("summary.json columns = summary.csv columns:", jb["columns"] == list(hb.columns))
for d in sorted(p for p in a.iterdir() if p.is_dir()):
    ra, rb = json.loads((d / "result.json").read_text()), json.loads((b / d.name / "result.json").read_text())
    same = {k: ra[k] == rb[k] for k in ("metrics", "counts", "tissue_classes") if k in ra}
    files = {}
    for f in ("cells.csv", "tissue_classes.png", "tissue.png"):
        if (d / f).exists():
            files[f] = hashlib.sha256((d / f).read_bytes()).hexdigest() == hashlib.sha256((b / d.name / f).read_bytes()).hexdigest()
    print(d.name, same, files, "summary_row keys added:", sorted(set(rb["summary_row"]) - set(ra["summary_row"]))[:4], "...")
