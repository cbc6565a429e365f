"""Session 38 H11's demonstration: reviews put into a README-job folder reach its summary and report.

Usage: ``python benchmarks/experiments/review_report_demo_s38.py QUANT_DIR WORK_DIR`` where QUANT_DIR is the
``mmnst-path quantify sample_tiles --out`` folder (copied to WORK_DIR/q_review, never changed). The edits are the
result's own cells.geojson with the first negatives made positive (3 on ki67_primary, reviewer "Dr A"; 2 on
ki67_recurrence, "Dr B"); a review of another image is put into ki67_pigmented's folder (its source SHA-256 changed).
Then ``mmnst-path report`` rebuilds the folder; the script prints the review columns of summary.csv.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

from mmnst_path.cli import main as cli


def _edits(folder: Path, out: Path, n_flip: int) -> Path:
    doc = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))
    flipped = 0
    for f in doc["features"]:
        p = f["properties"]
        if p.get("objectType") == "detection" and (p.get("classification") or {}).get("name") == "Negative":
            if flipped < n_flip:
                p["classification"]["name"] = "Positive"
                flipped += 1
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    quant, work = Path(argv[0]), Path(argv[1])
    q = work / "q_review"
    shutil.rmtree(q, ignore_errors=True)
    shutil.copytree(quant, q)
    for name, n, who in (("ki67_primary", 3, "Dr A"), ("ki67_recurrence", 2, "Dr B")):
        assert cli(["review", str(q / name), str(_edits(q / name, work / f"edits_{name}.geojson", n)),
                    "--reviewer", who]) == 0
    bad = json.loads((q / "ki67_recurrence" / "review.json").read_text(encoding="utf-8"))
    bad["source_sha256"] = "f" * 64
    (q / "ki67_pigmented" / "review.json").write_text(json.dumps(bad), encoding="utf-8")
    rc = cli(["report", str(q)])
    with (q / "summary.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            print(Path(r["input"]).stem, r["ki67_index_pct"], r["reviewed"], r["ki67_index_reviewed_pct"],
                  r["ki67_ci_low_reviewed_pct"], r["ki67_ci_high_reviewed_pct"], r["ki67_positive_reviewed"],
                  r["ki67_denominator_reviewed"], r["reviewer"], r["review_note"], sep=" | ")
    print(f"report exit {rc}; open {q / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
