"""Session 44 H9 gate 4 (rule: api_sources_rule_s44.md): the batch's outputs at START_HEAD and on the branch.

    # once per tree (START_HEAD worktree, the branch), OUT = the tree's output folder
    cd TREE && PYTHONPATH=$PWD mmnst-path quantify sample_tiles --out OUT/samples --workers 1 --quiet
    ... quantify CMU-1-Small-Region.svs --out OUT/cmu; the two osteosarcoma tiles --mpp 1.0 --out OUT/osteo;
    ... BCData 0.png --mpp 0.25 --out OUT/bcdata   (the commands: api_sources_s44_run.sh)
    python benchmarks/experiments/api_sources_s44.py HEAD_OUT BRANCH_OUT            # gate 4 as the rule wrote it
    python benchmarks/experiments/api_sources_s44.py HEAD_OUT BRANCH_OUT --detail   # after it: see below

Compared per batch folder: summary.csv without its ``seconds`` column (wall time), summary.json with its rows'
``seconds`` left out, every result.json without ``timings`` and its row's ``seconds``, and the sha256 of every other
file of each result folder (report.html left out: it prints times). The one difference the rule allows: the Ki67
warning's last words ("(--stains, or its line in a --manifest)" -> "...; Python: AnalysisConfig(stains=...))"),
replaced in START_HEAD's text before comparing, and counted.

``--detail`` (written after gate 4 ran, which the rule's normalisation failed on every input): result.json also
without each tile's wall time (``tiles[].seconds``) and the input's file identity (``source``: path, inode, device,
times; its ``size`` and ``sha256`` kept), which the rule had not named; each input says which of the two it dropped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from pathlib import Path

OLD_END = "(--stains, or its line in a --manifest)"
NEW_END = "(--stains, or its line in a --manifest; Python: AnalysisConfig(stains=...))"
BATCHES = ("samples", "cmu", "osteo", "bcdata")
SKIP = {"report.html", "result.json"}


def _csv(path: Path) -> str:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    drop = rows[0].index("seconds")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([r[:drop] + r[drop + 1:] for r in rows])
    return buf.getvalue()


def _strip_row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "seconds"}


def _summary_json(path: Path) -> str:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["rows"] = [_strip_row(r) for r in doc["rows"]]
    return json.dumps(doc, indent=1, ensure_ascii=False)


DETAIL = False
IDENTITY = ("path", "inode", "device", "mtime_ns", "ctime_ns")


def _result_json(path: Path) -> str:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("timings", None)
    if DETAIL:
        for tile in doc.get("tiles") or []:
            tile.pop("seconds", None)
        doc["source"] = {k: v for k, v in (doc.get("source") or {}).items() if k not in IDENTITY}
    if isinstance(doc.get("summary_row"), dict):
        doc["summary_row"] = _strip_row(doc["summary_row"])
    return json.dumps(doc, indent=1, ensure_ascii=False)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compare(head: Path, branch: Path) -> int:
    bad = 0
    renamed = 0
    inputs = 0
    for batch in BATCHES:
        h, b = head / batch, branch / batch
        pairs = [("summary.csv", _csv), ("summary.json", _summary_json)]
        for name, read in pairs:
            old, new = read(h / name), read(b / name)
            n = old.count(OLD_END)
            old = old.replace(OLD_END, NEW_END)
            same = old == new
            print(f"{batch}/{name}: {'identical' if same else 'DIFFERS'}"
                  + (f" (after the Ki67 warning's new last words, {n} place(s))" if n else ""))
            bad += not same
            renamed += n if name == "summary.json" else 0
        for folder in sorted(p for p in h.iterdir() if p.is_dir()):
            inputs += 1
            other = b / folder.name
            old, new = _result_json(folder / "result.json"), _result_json(other / "result.json")
            n = old.count(OLD_END)
            same = old.replace(OLD_END, NEW_END) == new
            files_h = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in SKIP)
            files_b = sorted(p.name for p in other.iterdir() if p.is_file() and p.name not in SKIP)
            diff_files = [f for f in files_h if f not in files_b or _sha(folder / f) != _sha(other / f)]
            diff_files += [f for f in files_b if f not in files_h]
            print(f"  {batch}/{folder.name}: result.json {'identical' if same else 'DIFFERS'}"
                  + (f" (Ki67 warning's last words, {n} place(s))" if n else "")
                  + f"; {len(files_h)} other files " + ("identical" if not diff_files else f"DIFFER: {diff_files}"))
            bad += (not same) + bool(diff_files)
    print(f"gate 4: {inputs} inputs, {bad} difference(s) beyond the rule's; the Ki67 warning re-worded on "
          f"{renamed} summary row(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    DETAIL = "--detail" in sys.argv
    sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2])))
