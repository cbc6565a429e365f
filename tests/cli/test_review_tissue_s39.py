"""Tissue-class corrections reach the batch's summary and report; a positive made by the reviewer is binned by its
DAB (session 39 H5).

A QuPath annotation classified ``Necrosis`` (or ``Stroma``, ``Tumor``...) given to ``mmnst-path review`` turns the
blocks of the result's class map whose centre it holds into that class; review.json holds the class areas as
corrected (the run's areas plus exactly what changed), review_tissue_classes.png the corrected map, and
``mmnst-path report`` writes ``necrosis_fraction_reviewed_pct`` and its companions beside the measured figures
(report.html: "reviewed: x %" under the measured necrosis). The measured result.json is never changed.

Mutations caught: blocks chosen otherwise than by their centre; a later annotation not winning; the reviewed area
computed from the map's block count instead of the run's areas plus the change (an unchanged review then differs
from the measured figures); unclassified / Region* annotations read as corrections; an unknown class accepted;
a changed corrected map not refused; the reviewed columns missing or replacing the measured ones; a toggled
positive kept at 1+ whatever its DAB; the refused-review note on the page carrying its hashes.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path._review_tissue import (
    REVIEW_TISSUE_MAP,
    area_annotations,
    paint_annotations,
    read_class_map,
    reviewed_class_areas,
)
from mmnst_path.cli import main
from mmnst_path.errors import ConfigError
from mmnst_path.review import REVIEW_NAME, bin_thresholds, positive_bin, reviewed_ki67

SAMPLES = Path(__file__).resolve().parents[2] / "sample_tiles"


def _square(x0: float, y0: float, x1: float, y1: float, cls: str | None, *, kind: str = "annotation") -> dict:
    props: dict = {"objectType": kind}
    if cls is not None:
        props["classification"] = {"name": cls, "color": [120, 60, 20]}
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props}


def _write(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def he_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 512 px H&E tile cut from the sample necrosis tile (0.5 µm/px), quantified once."""
    root = tmp_path_factory.mktemp("tissue")
    src = root / "in"
    src.mkdir()
    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[256:768, 256:768]
    tifffile.imwrite(src / "he.tif", np.ascontiguousarray(rgb), photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")
    assert main(["quantify", str(src / "he.tif"), "--out", str(root / "out")]) == 0
    return root


def _copy(batch: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(batch / "in", tmp_path / "in")
    shutil.copytree(batch / "out", tmp_path / "out")
    # result.json names the input where the batch made it: review the copy's image
    return tmp_path / "out"


def test_blocks_by_centre_later_annotation_wins_regions_skipped():
    classes = ["tumour", "stroma", "necrosis", "background"]
    feats = [_square(0, 0, 64, 64, "Necrosis"),  # x, y: blocks (0..1, 0..1) of 32 px
             _square(32, 32, 64, 64, "Tumor"),  # over the last one: block (1, 1)
             _square(0, 0, 200, 200, None),  # unclassified ROI
             _square(0, 0, 200, 200, "Region*"),
             _square(90, 90, 100, 100, "Stroma", kind="detection")]  # a nucleus, not an area
    polys, skipped = area_annotations(feats, classes, source="t")
    assert skipped == 2
    assert [k for k, _ in polys] == [2, 0]
    grid = np.full((4, 4), 1, np.int16)
    now = paint_annotations(grid, polys, downsample=32)
    want = np.full((4, 4), 1)
    want[:2, :2] = 2
    want[1, 1] = 0
    assert np.array_equal(now, want)
    # a polygon holding no block centre changes nothing: (0, 0)-(15, 15) px misses the centre 15.5
    assert np.array_equal(paint_annotations(grid, area_annotations([_square(0, 0, 15, 15, "Necrosis")], classes,
                                                                   source="t")[0], downsample=32), grid)
    # glass the run called background (and blocks it did not analyse) stay so under a tissue annotation; an
    # annotation of the background class itself applies
    run = np.array([[3, 0], [-1, 1]], np.int16)
    nec = area_annotations([_square(0, 0, 64, 64, "Necrosis")], classes, source="t")[0]
    assert paint_annotations(run, nec, downsample=32, glass=3).tolist() == [[3, 2], [-1, 2]]
    bg = area_annotations([_square(0, 0, 64, 64, "Background")], classes, source="t")[0]
    assert paint_annotations(run, bg, downsample=32, glass=3).tolist() == [[3, 3], [-1, 3]]  # not analysed stays
    with pytest.raises(ConfigError, match="'Other'"):
        area_annotations([_square(0, 0, 9, 9, "Other")], classes, source="edits x")


def test_reviewed_areas_are_the_run_areas_plus_the_change():
    classes = ["tumour", "necrosis", "background"]
    before = np.array([[0, 0], [1, 2]])
    now = np.array([[1, 0], [1, 2]])
    run = {"tumour": 0.5, "necrosis": 0.25, "background": 0.125}
    # 10 px blocks at 1 µm/px = 1e-4 mm²; the image is 15 px wide: the second column counts half
    # the changed block moves the run's tumour area of that block (1 of the 1.5 block weights tumour holds), not
    # a full block: the tissue is conserved (session 39 H10, finding 1 of H9's review)
    out = reviewed_class_areas(classes, run, before, now, downsample=10, mpp=1.0, shape=(20, 15))
    assert out["area_mm2"] == pytest.approx({"tumour": 0.5 - 0.5 / 1.5, "necrosis": 0.25 + 0.5 / 1.5,
                                             "background": 0.125}, abs=1e-15)
    assert out["changed_blocks"] == 1
    assert out["tissue_mm2"] == pytest.approx(0.75, abs=1e-15)
    assert out["pct_of_tissue"]["necrosis"] == pytest.approx(100 * (0.25 + 0.5 / 1.5) / 0.75, abs=1e-12)
    same = reviewed_class_areas(classes, run, before, before, downsample=10, mpp=1.0, shape=(20, 15))
    assert same["area_mm2"] == run
    assert same["changed_blocks"] == 0


def test_necrosis_annotation_reaches_summary_and_report(he_batch, tmp_path):
    out = _copy(he_batch, tmp_path)
    folder = out / "he"
    result_bytes = (folder / "result.json").read_bytes()
    doc = json.loads(result_bytes)
    cmap = read_class_map(folder, doc)
    assert cmap is not None
    assert cmap["labels"].shape == (16, 16)
    edits = _write(tmp_path / "qupath.geojson", [_square(0, 0, 128, 128, "Necrosis"), _square(0, 0, 512, 512, None)])
    image = tmp_path / "in" / "he.tif"
    assert main(["review", str(folder), str(edits), "--reviewer", "Dr N", "--image", str(image)]) == 0
    assert (folder / "result.json").read_bytes() == result_bytes
    review = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))
    assert review["ki67_metrics"] is None
    assert review["tissue_classes"]["source"] == "annotations"
    want_map = cmap["labels"].copy()
    glass = (want_map < 0) | (want_map == cmap["classes"].index("background"))
    want_map[:4, :4] = np.where(glass[:4, :4], want_map[:4, :4], cmap["classes"].index("necrosis"))
    expected = reviewed_class_areas(cmap["classes"], cmap["areas"], cmap["labels"], want_map,
                                    downsample=cmap["downsample"], mpp=cmap["mpp"], shape=cmap["shape"])
    assert review["tissue_classes"]["area_mm2"] == expected["area_mm2"]
    assert review["tissue_classes"]["changed_blocks"] == int((want_map != cmap["labels"]).sum()) > 0
    assert np.array_equal(read_class_map(folder, doc, name=REVIEW_TISSUE_MAP)["labels"], want_map)
    assert main(["report", str(out)]) == 0
    (row,) = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert float(row["necrosis_fraction_pct"]) == pytest.approx(doc["metrics"]["necrosis_fraction_pct"], rel=1e-5)
    assert float(row["necrosis_fraction_reviewed_pct"]) == pytest.approx(expected["pct_of_tissue"]["necrosis"], 1e-5)
    assert float(row["necrosis_area_reviewed_mm2"]) == pytest.approx(expected["area_mm2"]["necrosis"], rel=1e-5)
    assert row["reviewed"] == "yes"
    assert row["reviewer"] == "Dr N"
    assert row["ki67_index_reviewed_pct"] == ""
    page = (out / "report.html").read_text(encoding="utf-8")
    cell = re.search(r'data-col="necrosis_fraction_reviewed_pct" data-value="([^"]+)">reviewed: ([\d.]+) %', page)
    assert cell
    assert float(cell.group(1)) == pytest.approx(expected["pct_of_tissue"]["necrosis"], rel=1e-12)
    assert "by Dr N" in page
    assert "blocks changed" in page
    # the corrected map changed since the review: refused, the rest of the report written
    (folder / REVIEW_TISSUE_MAP).write_bytes((folder / "tissue_classes.png").read_bytes())
    assert main(["report", str(out)]) == 1
    (row,) = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert row["reviewed"] == "no"
    assert REVIEW_TISSUE_MAP in row["review_note"]


def test_annotation_of_the_class_already_there_gives_the_measured_figures(he_batch, tmp_path):
    out = _copy(he_batch, tmp_path)
    folder = out / "he"
    doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    cmap = read_class_map(folder, doc)
    k = int(cmap["labels"][0, 0])
    edits = _write(tmp_path / "same.geojson", [_square(0, 0, 20, 20, cmap["classes"][k].capitalize())])
    assert main(["review", str(folder), str(edits), "--image", str(tmp_path / "in" / "he.tif")]) == 0
    assert main(["report", str(out)]) == 0
    (row,) = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert row["tissue_blocks_reviewed"] == "0"
    assert row["necrosis_fraction_reviewed_pct"] == row["necrosis_fraction_pct"]
    assert row["necrosis_area_reviewed_mm2"] == row["necrosis_area_mm2"]


def test_annotations_refused_on_a_result_without_class_map_or_of_an_unknown_class(he_batch, tmp_path, capsys):
    out = _copy(he_batch, tmp_path)
    folder = out / "he"
    image = str(tmp_path / "in" / "he.tif")
    bad = _write(tmp_path / "other.geojson", [_square(0, 0, 64, 64, "Other")])
    assert main(["review", str(folder), str(bad), "--image", image]) == 1
    assert "'Other' is not a tissue class" in capsys.readouterr().err
    assert not (folder / REVIEW_NAME).exists()
    doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    doc.pop("tissue_classes")
    (folder / "result.json").write_text(json.dumps(doc), encoding="utf-8")
    good = _write(tmp_path / "nec.geojson", [_square(0, 0, 64, 64, "Necrosis")])
    assert main(["review", str(folder), str(good), "--image", image]) == 1
    assert "has no tissue class map" in capsys.readouterr().err


def test_a_positive_made_by_the_reviewer_is_binned_by_its_dab():
    config = {"ki67": {"moderate_threshold_od": 0.5, "strong_threshold_od": 0.9}}
    assert bin_thresholds(config) == (0.5, 0.9)
    assert bin_thresholds() == (0.6, 1.0)
    assert positive_bin([0.1, 0.5, 0.89, 0.9, np.nan], (0.5, 0.9)).tolist() == [1, 2, 2, 3, 1]
    classes = np.array(["positive", "positive", "positive", "negative"])
    bins = np.array([0, 0, 3, 0])  # two made positive by the reviewer, one measured 3+
    dab = np.array([0.95, 0.2, 0.1, 2.0])
    _counts, m = reviewed_ki67(classes, bins, dab=dab, thresholds_od=(0.5, 0.9))
    # 3+ (DAB 0.95), 1+ (0.2), 3+ kept as measured: H-score (1 x 1 + 3 x 2) / 4 nuclei x 100
    assert m["h_score"] == pytest.approx(100 * (1 + 3 * 2) / 4)
    _, old = reviewed_ki67(classes, bins)  # without DAB: 1+ as before
    assert old["h_score"] == pytest.approx(100 * (1 * 2 + 3 * 1) / 4)


def test_refused_review_note_is_short_on_the_page_and_whole_in_its_title():
    from mmnst_path.html_report import _review_note

    note = ("/a/very/long/folder/x/review.json: made on another source image (sha256 ffffffffffff... != "
            "result.json's 12c76a7b55a5...); review refused")
    html_text = _review_note({"reviewed": "no", "review_note": note})
    shown = re.sub(r"<[^>]+>", "", re.sub(r'title="[^"]*"', "", html_text))
    assert shown.strip() == "⚠ review refused: made on another source image"
    assert "12c76a7b55a5" in html_text
    assert "/a/very/long" not in html_text
