"""A pathologist's corrections reach the batch's summary and report (session 38 H11).

``mmnst-path review OUT/<input> EDITS`` writes review.json beside the untouched result.json;
``mmnst-path report OUT`` rebuilds summary.csv / summary.json / report.html with the measured and the reviewed
index; a review of another image is refused with one line naming the file, the rest is written; ``quantify
--resume`` and ``--overwrite`` keep the reviews (the latter warns that the review refers to the earlier result).

Mutations caught: result.json rewritten by the review; the rebuild dropping the measured index or the review
columns; a refused review stopping the rebuild or a mismatch not refused; a re-run deleting review.json.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.cli import main
from mmnst_path.review import EARLIER_RESULT, REVIEW_EDITS, REVIEW_NAME

SAMPLES = Path(__file__).resolve().parents[2] / "sample_tiles"
FILES = ("summary.csv", "summary.json", "report.html")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small tiles cut from the sample Ki67 tile, analysed once (the tests copy the folder)."""
    root = tmp_path_factory.mktemp("review")
    src = root / "in"
    src.mkdir()
    rgb = tifffile.imread(SAMPLES / "ki67_primary.tif")
    for i in range(2):
        tile = np.ascontiguousarray(rgb[256 * i : 256 * i + 256, :256])
        tifffile.imwrite(src / f"t{i}.tif", tile, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    assert main(["quantify", str(src / "t0.tif"), str(src / "t1.tif"), "--out", str(root / "out")]) == 0
    return root


def _copy(batch: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(batch / "in", tmp_path / "in")
    shutil.copytree(batch / "out", tmp_path / "out")
    return tmp_path / "out"


def _edits(folder: Path, path: Path, n_flip: int = 2) -> tuple[int, int]:
    """The result's cells.geojson with the first ``n_flip`` negatives made positive (the edits a reviewer
    saves); returns the expected reviewed (positive, denominator)."""
    doc = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))
    flipped = 0
    for f in doc["features"]:
        cls = (f["properties"].get("classification") or {}).get("name")
        if f["properties"].get("objectType") == "detection" and cls == "Negative" and flipped < n_flip:
            f["properties"]["classification"]["name"] = "Positive"
            flipped += 1
    assert flipped == n_flip
    path.write_text(json.dumps(doc), encoding="utf-8")
    m = json.loads((folder / "result.json").read_text(encoding="utf-8"))["metrics"]
    return int(m["ki67_positive"]) + n_flip, int(m["ki67_denominator"])


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        return {Path(r["input"]).stem: r for r in csv.DictReader(fh)}


def test_report_without_reviews_rewrites_the_same_files(batch: Path, tmp_path: Path) -> None:
    out = _copy(batch, tmp_path)
    before = {name: (out / name).read_bytes() for name in FILES}
    assert main(["report", str(out)]) == 0
    for name in FILES:
        assert (out / name).read_bytes() == before[name], name


def test_review_then_report_carries_both_indices(batch: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = _copy(batch, tmp_path)
    result_before = (out / "t0" / "result.json").read_bytes()
    measured = _rows(out)["t0"]
    pos, den = _edits(out / "t0", tmp_path / "edits.geojson")
    assert main(["review", str(out / "t0"), str(tmp_path / "edits.geojson"), "--reviewer", "Dr A"]) == 0
    assert "reviewed" in capsys.readouterr().out
    assert (out / "t0" / "result.json").read_bytes() == result_before  # the measured result is never changed
    review = json.loads((out / "t0" / REVIEW_NAME).read_text(encoding="utf-8"))
    assert (review["ki67_metrics"]["positive"], review["ki67_metrics"]["denominator"]) == (pos, den)
    assert review["reviewer"] == "Dr A"
    assert (out / "t0" / REVIEW_EDITS).is_file()
    assert main(["report", str(out)]) == 0
    rows = _rows(out)
    assert rows["t0"]["ki67_index_pct"] == measured["ki67_index_pct"]  # measured figure kept
    assert float(rows["t0"]["ki67_index_reviewed_pct"]) == pytest.approx(100 * pos / den, rel=1e-5)
    assert (rows["t0"]["reviewed"], rows["t0"]["reviewer"], rows["t1"]["reviewed"]) == ("yes", "Dr A", "no")
    assert rows["t1"]["ki67_index_reviewed_pct"] == ""
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "ki67_index_reviewed_pct" in doc["columns"]
    assert doc["rows"][0]["reviewed"] == "yes"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count(' row-reviewed"') == 1
    assert f"reviewed: {100 * pos / den:.1f} % ({pos} / {den})" in html
    assert "by Dr A" in html
    assert "1 reviewed" in html
    # the reviewed H-score (session 40): the review's own, in summary.csv and under the measured one in the report
    h = review["ki67_metrics"]["h_score"]
    assert 0 < h <= 300
    assert float(rows["t0"]["h_score_reviewed"]) == pytest.approx(h, abs=1e-4)  # summary.csv's 4 decimals
    assert rows["t1"]["h_score_reviewed"] == ""
    assert f'">reviewed: {h:.1f}</div>' in html
    assert 'data-col="h_score_reviewed"' in html


def test_a_review_of_another_image_is_refused_and_the_rest_written(batch: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = _copy(batch, tmp_path)
    _edits(out / "t0", tmp_path / "e0.geojson")
    _edits(out / "t1", tmp_path / "e1.geojson", n_flip=1)
    # the review command checks the image it is given against result.json's
    assert main(["review", str(out / "t0"), str(tmp_path / "e0.geojson"), "--image", str(tmp_path / "in" / "t1.tif")]) == 1
    err = capsys.readouterr().err
    assert "is not the image" in err
    assert len(err.strip().splitlines()) == 1
    assert not (out / "t0" / REVIEW_NAME).exists()
    assert main(["review", str(out / "t0"), str(tmp_path / "e0.geojson")]) == 0
    assert main(["review", str(out / "t1"), str(tmp_path / "e1.geojson")]) == 0
    bad = out / "t1" / REVIEW_NAME
    doc = json.loads(bad.read_text(encoding="utf-8"))
    doc["source_sha256"] = "0" * 64  # a review of another image than the one t1's result was measured on
    bad.write_text(json.dumps(doc), encoding="utf-8")
    capsys.readouterr()
    assert main(["report", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(bad) in err[0]
    assert "refused" in err[0]
    rows = _rows(out)
    assert (rows["t0"]["reviewed"], rows["t1"]["reviewed"]) == ("yes", "no")
    assert "refused" in rows["t1"]["review_note"]


def test_quantify_resume_and_overwrite_keep_the_review(batch: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = _copy(batch, tmp_path)
    _edits(out / "t0", tmp_path / "edits.geojson")
    assert main(["review", str(out / "t0"), str(tmp_path / "edits.geojson")]) == 0
    inputs = [str(tmp_path / "in" / "t0.tif"), str(tmp_path / "in" / "t1.tif")]
    # the copied inputs are other files (another path): --resume re-analyses them; --overwrite too
    for flag in ("--resume", "--overwrite"):
        capsys.readouterr()
        assert main(["quantify", *inputs, "--out", str(out), flag]) == 0
        assert (out / "t0" / REVIEW_NAME).is_file()
        assert (out / "t0" / REVIEW_EDITS).is_file()
        assert "refers to the earlier result" in capsys.readouterr().err
        rows = _rows(out)
        assert (rows["t0"]["reviewed"], rows["t0"]["review_note"]) == ("yes", EARLIER_RESULT)
    assert main(["report", str(out)]) == 0
    assert _rows(out)["t0"]["review_note"] == EARLIER_RESULT


def test_report_finds_the_result_of_an_input_named_otherwise(batch: Path, tmp_path: Path) -> None:
    """A resumed run may name an input otherwise than the run that analysed it (``in/./t0.tif``): the rebuild finds
    its result folder (and review) by the source file's real path."""
    out = _copy(batch, tmp_path)
    _edits(out / "t0", tmp_path / "edits.geojson")
    assert main(["review", str(out / "t0"), str(tmp_path / "edits.geojson")]) == 0
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    doc["rows"][0]["input"] = str(batch / "in" / "." / "t0.tif")
    (out / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    assert main(["report", str(out)]) == 0
    row = _rows(out)["t0"]
    assert row["input"] == str(batch / "in" / "." / "t0.tif")
    assert row["reviewed"] == "yes"
    assert "µm/px (file)" in (out / "report.html").read_text(encoding="utf-8")  # the stored row (mpp_source)
