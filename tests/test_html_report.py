"""report.html rendered by a real headless Chromium: the numbers on the page equal summary.csv.

Needs the Debian package ``chromium`` (``apt-get install -y chromium``); missing it fails.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.cli import main
from mmnst_path.html_report import render_report

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("headless Chromium not found: apt-get install -y chromium")
    return exe


class _Cells(HTMLParser):
    """Collects (row input, data-col, data-value, shown text) of every number cell."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.row: str | None = None
        self.cur: dict[str, str] | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self.row = a.get("data-input")
        if tag == "td" and "data-col" in a:
            self.cur = {"input": self.row or "", "col": a["data-col"], "value": a.get("data-value", ""), "text": ""}
            self.depth = 0
        elif self.cur is not None:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.cur is None:
            return
        if tag == "td" and self.depth == 0:
            self.cells.append(self.cur)
            self.cur = None
        elif tag != "td":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.cur is not None and self.depth == 0:
            self.cur["text"] += data


def _tif(path: Path, rgb: np.ndarray) -> None:
    import tifffile

    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")


def test_report_in_headless_chromium_matches_the_csv(tmp_path: Path) -> None:
    import tifffile

    exe = _chromium()
    src = tmp_path / "in"
    src.mkdir()
    _tif(src / "primary.tif", tifffile.imread(SAMPLES / "ki67_primary.tif")[:320, :320])
    _tif(src / "recurrence.tif", tifffile.imread(SAMPLES / "ki67_recurrence.tif")[:320, :320])
    (src / "broken.svs").write_text("not a slide")
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--stains", "H-DAB", "--quiet",
                 "--compare", "primary.tif", "recurrence"]) == 1
    page = out / "report.html"
    html = page.read_text(encoding="utf-8")
    assert "src=\"http" not in html
    assert "<script" not in html
    assert html.count("data:image/png;base64,") == 2

    profile = tmp_path / "profile"
    dom = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    shot = tmp_path / "report.png"
    subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                    "--window-size=1400,900", page.as_uri()], capture_output=True, timeout=120, check=True)
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[:2] == (900, 1400)
    assert img.std() > 10  # something is drawn, not a blank page

    parser = _Cells()
    parser.feed(dom)
    with open(out / "summary.csv", newline="") as fh:
        rows = {r["input"]: r for r in csv.DictReader(fh)}
    shown = [c for c in parser.cells if c["input"]]
    assert {c["input"] for c in shown} == set(rows)
    checked = 0
    for c in shown:
        csv_value = rows[c["input"]][c["col"]]
        if csv_value == "":
            assert c["text"].strip().startswith("–")
            continue
        decimals = 0 if c["col"] == "ki67_denominator" else (2 if c["col"] == "melanin_fraction_pct" else 1)
        assert c["text"].strip() == f"{float(csv_value):.{decimals}f}", c
        assert float(c["value"]) == pytest.approx(float(csv_value), rel=1e-5)
        checked += 1
    assert checked >= 10
    # the comparison block: recurrence - primary, as computed from the CSV counts
    cmp = {c["col"]: c for c in parser.cells if not c["input"]}
    summary = json.loads((out / "summary.json").read_text())
    comparison = summary["comparison"]
    a, b = rows[str(src / "primary.tif")], rows[str(src / "recurrence.tif")]
    diff = 100 * (int(b["ki67_positive"]) / int(b["ki67_denominator"]) - int(a["ki67_positive"]) / int(a["ki67_denominator"]))
    assert comparison["difference_pct"] == pytest.approx(diff)
    assert cmp["difference_pct"]["text"].strip() == f"{diff:+.1f} pp"
    assert comparison["ci_low_pct"] < diff < comparison["ci_high_pct"]
    assert 0 <= comparison["p_value"] <= 1
    assert "status" in dom
    assert "broken.svs" in dom


def test_render_report_marks_undefined_as_dash() -> None:
    html = render_report([{"input": "x.svs", "status": "ok", "ki67_index_pct": float("nan"), "ki67_denominator": 0}])
    assert 'data-col="ki67_index_pct" data-value="">–' in html
    assert 'data-col="ki67_denominator" data-value="0">0' in html


def test_render_report_says_how_many_nuclei_were_excluded_as_not_tumour() -> None:
    """Under n, the count napari's results line and the CLI's ``excluded`` column give; nothing when none
    were excluded or Ki67 was not measured. Mutation caught: the note left out of the n cell."""
    html = render_report([{"input": "a.svs", "status": "ok", "ki67_index_pct": 15.5, "ki67_denominator": 1007,
                           "ki67_excluded": 27},
                          {"input": "b.svs", "status": "ok", "ki67_index_pct": 5.0, "ki67_denominator": 100,
                           "ki67_excluded": 0},
                          {"input": "he.svs", "status": "ok", "melanin_fraction_pct": 3.0}])
    n_cell = re.search(r'data-col="ki67_denominator" data-value="1007">1007(.*?)</td>', html)
    assert n_cell is not None
    assert ">27 excluded</div>" in n_cell.group(1)
    assert html.count(" excluded</div>") == 1
    assert '"excluded" under it = detected nuclei left out as not tumour' in html


def test_render_report_shows_the_dab_threshold_each_input_was_scored_at() -> None:
    html = render_report([
        {"input": "weak.svs", "status": "ok", "ki67_index_pct": 12.0, "ki67_positive_threshold_od": 0.25},
        {"input": "he.svs", "status": "ok", "melanin_fraction_pct": 3.0},
    ])
    assert html.count("positive at DAB ≥") == 1
    assert "positive at DAB ≥ 0.25 OD</div>" in html
    # the nuclear-contrast rule is named where it ran
    both = render_report([{"input": "w.svs", "status": "ok", "ki67_index_pct": 12.0,
                           "ki67_positive_threshold_od": 0.35, "ki67_nuclear_contrast_od": 0.12}])
    assert "positive at DAB ≥ 0.35 OD, or ≥ 0.12 OD above the ring around the nucleus" in both
