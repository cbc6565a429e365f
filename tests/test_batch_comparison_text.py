"""``--compare A B``: summary.json's comparison and report.html say the difference the same way
("B − A"), so a reader of either file reads the sign alike."""

from __future__ import annotations

import html
import json
from pathlib import Path

from mmnst_path.batch import compare_rows
from mmnst_path.html_report import render_report
from mmnst_path.report import write_summary_json


def _row(name: str, pos: int, den: int) -> dict[str, object]:
    return {"input": name, "status": "ok", "ki67_positive": pos, "ki67_denominator": den}


def test_summary_json_says_b_minus_a_as_the_report_does(tmp_path: Path) -> None:
    """Mutation caught: compare_rows writing "difference b - a" (session 32's text)."""
    c = compare_rows(_row("x/primary.tif", 11, 200), _row("x/recurrence.tif", 80, 200))
    assert c["difference_pct"] > 0  # B (recurrence) minus A (primary)
    assert c["method"].startswith("difference B − A; ")
    doc = json.loads(write_summary_json([], tmp_path / "summary.json", extra={"comparison": c}).read_text("utf-8"))
    written = doc["comparison"]["method"]
    assert "b - a" not in written
    page = render_report([], comparison=doc["comparison"])
    assert html.escape(written) in page  # the report shows summary.json's words as they are
    assert "<th>B − A</th>" in page
