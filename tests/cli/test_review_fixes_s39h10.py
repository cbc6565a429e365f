"""Session 39 H10: the defects of H9's review of the tissue-class corrections (/work/notes/s39/h9_review.md).

Result folders are made by hand here (a result.json recording a small image's SHA-256, a tissue class map in
tissue_classes.png's form whose class areas are finer than its argmax blocks, as a run's are), so each figure is
known exactly. Mutations caught: a changed block moving a full block area (tissue grows, "all necrosis" < 100 %);
a QuPath ``Tumor`` region round the nuclei read as a correction (or refusing the nuclei review); the hole of a
polygon painted; a damaged ``tissue_classes`` accepted (a traceback in ``mmnst-path report``); a nuclei-only or a
tissue-only review dropping the other part of the earlier one; an annotation off the image accepted; background
blocks kept silently; a missing review_edits.geojson accepted; a nested parenthesis left on the page; a
MultiPolygon counted as two annotations; a tissue review of a result without necrosis printing only dashes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmnst_path._review_tissue import class_map_png, reviewed_class_areas
from mmnst_path.cli import main
from mmnst_path.errors import ConfigError
from mmnst_path.html_report import _review_note
from mmnst_path.review import (
    REVIEW_EDITS,
    REVIEW_NAME,
    REVIEW_TISSUE_MAP,
    apply_reviews,
    read_review,
    write_review,
)

CLASSES = ["tumour", "stroma", "necrosis", "background"]
COLOURS = [[200, 40, 40], [60, 170, 90], [120, 60, 20], [255, 255, 255]]
# a 4 x 4 grid of 32 px blocks at 0.5 µm/px (a block is 0.000256 mm²); 255 = not analysed
GRID = np.array([[0, 0, 1, 1],
                 [0, 0, 1, 1],
                 [2, 2, 1, 3],
                 [2, 3, 3, 255]], np.uint8)
# the run's areas are per-pixel: not a multiple of the block area (4 tumour, 5 stroma, 3 necrosis blocks)
AREAS = {"tumour": 0.0009, "stroma": 0.0011, "necrosis": 0.0008, "background": 0.0007}


def _result(folder: Path, *, class_map: bool = True, classes: list[str] = CLASSES,
            necrosis: float | None = 28.57) -> Path:
    """A quantify-like result folder of a 128 px image (the image file is ``folder``/../<name>.bin)."""
    folder.mkdir(parents=True)
    image = folder.parent / f"{folder.name}.bin"
    image.write_bytes(folder.name.encode() * 100)
    doc: dict[str, Any] = {
        "schema_version": "1.0", "input": str(image), "status": "ok", "shape": [128, 128], "mpp": 0.5,
        "source": {"path": str(image), "sha256": hashlib.sha256(image.read_bytes()).hexdigest()},
        "metrics": {"ki67_index_pct": 50.0, "ki67_positive": 1, "ki67_denominator": 2,
                    "necrosis_fraction_pct": necrosis},
        "config": {"ki67": {"positive_threshold_od": 0.35, "moderate_threshold_od": 0.6, "strong_threshold_od": 1.0}},
        "summary_row": {"input": str(image), "status": "ok"},
    }
    if class_map:
        (folder / "tissue_classes.png").write_bytes(
            class_map_png(np.where(GRID == 255, -1, GRID), classes, COLOURS[: len(classes)]))
        doc["tissue_classes"] = {
            "classes": [{"index": k, "name": c, "colour": COLOURS[k], "area_mm2": AREAS.get(c, 0.0)}
                        for k, c in enumerate(classes)],
            "map": {"file": "tissue_classes.png", "downsample": 32.0, "shape": [4, 4]}}
    (folder / "result.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def _poly(rings: list[list[list[float]]], cls: str | None, *, kind: str = "annotation") -> dict:
    props: dict = {"objectType": kind}
    if cls is not None:
        props["classification"] = {"name": cls}
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings}, "properties": props}


def _box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def _nucleus(x: float, y: float, cls: str) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"objectType": "detection", "classification": {"name": cls}}}


def _write(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


NUCLEI = [_nucleus(10, 10, "Positive"), _nucleus(50, 50, "Negative"), _nucleus(90, 20, "Positive")]


def test_moved_area_is_the_runs_area_of_the_block_not_a_full_block():
    # by hand: tumour blocks (0, 0) weight 1 and (0, 1) weight 0.5 (the image is 15 px wide): moving (0, 0)
    # moves 1 / 1.5 of the tumour area, and the tissue stays 0.75 mm²
    out = reviewed_class_areas(["tumour", "necrosis", "background"], {"tumour": 0.5, "necrosis": 0.25,
                                                                      "background": 0.125},
                               np.array([[0, 0], [1, 2]]), np.array([[1, 0], [1, 2]]),
                               downsample=10, mpp=1.0, shape=(20, 15))
    assert out["area_mm2"]["tumour"] == pytest.approx(0.5 - 0.5 / 1.5, abs=1e-15)
    assert out["area_mm2"]["necrosis"] == pytest.approx(0.25 + 0.5 / 1.5, abs=1e-15)
    assert out["tissue_mm2"] == pytest.approx(0.75, abs=1e-15)
    # a block the run did not analyse, painted: its area inside the image is added
    grown = reviewed_class_areas(["tumour", "necrosis"], {"tumour": 0.5, "necrosis": 0.25},
                                 np.array([[0, -1]]), np.array([[0, 1]]), downsample=10, mpp=1.0, shape=(10, 15))
    assert grown["area_mm2"]["necrosis"] == pytest.approx(0.25 + 0.5e-4, abs=1e-15)


def test_whole_tissue_annotated_necrosis_is_100_pct_of_the_same_tissue(tmp_path, capsys):
    folder = _result(tmp_path / "he")
    edits = _write(tmp_path / "all.geojson", [_poly([_box(0, 0, 128, 128)], "Necrosis")])
    assert main(["review", str(folder), str(edits)]) == 0
    t = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))["tissue_classes"]
    assert t["pct_of_tissue"]["necrosis"] == 100.0
    assert t["area_mm2"]["tumour"] == 0.0
    assert t["area_mm2"]["stroma"] == 0.0
    assert t["tissue_mm2"] == pytest.approx(0.0009 + 0.0011 + 0.0008, abs=1e-15)  # measured classed tissue
    assert t["area_mm2"]["background"] == 0.0007
    # three background blocks inside the outline stay background, and the review says so
    assert t["background_blocks_kept"] == 3
    assert "3 background block(s) inside kept as background" in capsys.readouterr().out


def test_polygon_hole_is_not_painted(tmp_path):
    folder = _result(tmp_path / "he")
    # Necrosis over the top two block rows with a hole over block (0, 1): that block stays tumour
    ring, hole = _box(0, 0, 128, 64), _box(32, 0.5, 64, 31.5)
    edits = _write(tmp_path / "donut.geojson", [_poly([ring, hole], "Necrosis")])
    review = write_review(folder, edits)
    assert review["tissue_classes"]["changed_blocks"] == 7
    from PIL import Image

    with Image.open(folder / REVIEW_TISSUE_MAP) as img:
        now = np.asarray(img)
    assert now[0].tolist() == [2, 0, 2, 2]
    assert now[1].tolist() == [2, 2, 2, 2]


def test_multipolygon_is_one_annotation(tmp_path):
    folder = _result(tmp_path / "he")
    feat = {"type": "Feature", "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}},
            "geometry": {"type": "MultiPolygon", "coordinates": [[_box(0, 0, 32, 32)], [[*_box(64, 64, 96, 96)]]]}}
    review = write_review(folder, _write(tmp_path / "multi.geojson", [feat]))
    assert review["tissue_classes"]["annotations"] == 1
    assert review["tissue_classes"]["changed_blocks"] == 2


def test_tumor_region_round_the_nuclei_is_not_a_correction(tmp_path, capsys):
    plain = _result(tmp_path / "ki67", class_map=False)
    feats = [*NUCLEI, _poly([_box(0, 0, 100, 100)], "Tumor"), _poly([_box(0, 0, 9, 9)], "Hotspot")]
    edits = _write(tmp_path / "cells.geojson", feats)
    assert main(["review", str(plain), str(edits)]) == 0
    out = capsys.readouterr().out
    assert "2 annotation(s) skipped as regions" in out
    assert "--tissue-annotations" in out
    review = json.loads((plain / REVIEW_NAME).read_text(encoding="utf-8"))
    assert review["ki67_metrics"]["positive"] == 2
    assert review["ki67_metrics"]["denominator"] == 3
    assert review["tissue_classes"] is None
    assert review["annotations_ignored"] == 2
    # on a result with a class map the Tumor outline changes nothing unless asked
    mapped = _result(tmp_path / "ihc")
    edits = _write(tmp_path / "cells2.geojson", [*NUCLEI, _poly([_box(0, 0, 128, 128)], "Tumor")])
    assert write_review(mapped, edits)["tissue_classes"] is None
    asked = write_review(mapped, edits, tissue_annotations=True)
    assert asked["tissue_classes"]["changed_blocks"] == 5 + 3  # stroma and necrosis blocks; glass kept
    # a file of annotations only is read as corrections, as before
    alone = _write(tmp_path / "ann.geojson", [_poly([_box(0, 0, 128, 128)], "Tumor")])
    assert write_review(mapped, alone)["tissue_classes"]["changed_blocks"] == 8


def test_annotation_outside_the_image_is_refused(tmp_path):
    folder = _result(tmp_path / "he")
    edits = _write(tmp_path / "far.geojson", [_poly([_box(5000, 5000, 6000, 6000)], "Necrosis")])
    with pytest.raises(ConfigError, match=r"annotation 1 \(necrosis, x 5000-6000.*outside the image \(128 x 128"):
        write_review(folder, edits)
    assert not (folder / REVIEW_NAME).exists()


@pytest.mark.parametrize("damage", ["yes", "pct", "blocks", "areas"])
def test_damaged_tissue_part_is_refused_in_one_line_and_the_rest_written(tmp_path, damage):
    good, bad = _result(tmp_path / "a"), _result(tmp_path / "b")
    for folder in (good, bad):
        write_review(folder, _write(tmp_path / f"{folder.name}.geojson", [_poly([_box(0, 0, 64, 64)], "Necrosis")]))
    doc = json.loads((bad / REVIEW_NAME).read_text(encoding="utf-8"))
    if damage == "yes":
        doc["tissue_classes"] = "yes"
    elif damage == "pct":
        doc["tissue_classes"]["pct_of_tissue"]["necrosis"] = "n/a"
    elif damage == "blocks":
        doc["tissue_classes"]["changed_blocks"] = "many"
    else:
        doc["tissue_classes"]["area_mm2"] = [1, 2]
    (bad / REVIEW_NAME).write_text(json.dumps(doc), encoding="utf-8")
    review, reason = read_review(bad)
    assert review is None
    assert "review refused" in reason
    assert "\n" not in reason
    rows = [{"input": "a", "status": "ok"}, {"input": "b", "status": "ok"}]
    out, errors = apply_reviews(rows, tmp_path, {"a": "a", "b": "b"})
    assert [r["reviewed"] for r in out] == ["yes", "no"]
    assert len(errors) == 1
    assert out[0]["necrosis_fraction_reviewed_pct"] is not None


def test_a_new_review_keeps_the_other_part_of_the_earlier_one(tmp_path, capsys):
    folder = _result(tmp_path / "ihc")
    nuclei = _write(tmp_path / "nuclei.geojson", NUCLEI)
    tissue = _write(tmp_path / "stroma.geojson", [_poly([_box(0, 0, 64, 64)], "Stroma")])
    assert main(["review", str(folder), str(nuclei), "--reviewer", "Dr A"]) == 0
    assert main(["review", str(folder), str(tissue), "--reviewer", "Dr N"]) == 0
    assert "kept the earlier review's nuclei (Dr A" in capsys.readouterr().out
    review, reason = read_review(folder)
    assert reason is None
    assert review is not None
    assert review["ki67_metrics"]["positive"] == 2
    assert review["tissue_classes"]["changed_blocks"] == 4
    assert review["reviewer"] == "Dr A, Dr N"
    assert review["tissue_classes"]["reviewer"] == "Dr N"
    assert review["merged"]["kept"] == "nuclei"
    assert review["tissue_classes"]["edits_file"] == str(tissue)
    assert (folder / REVIEW_EDITS).read_bytes() == nuclei.read_bytes()  # the nuclei napari reopens
    # the reverse: tissue first, then nuclei; the corrected map stays
    other = _result(tmp_path / "he")
    write_review(other, tissue, reviewer="Dr N")
    again = write_review(other, nuclei, reviewer="Dr A")
    assert again["tissue_classes"]["changed_blocks"] == 4
    assert again["merged"]["kept"] == "tissue"
    assert (other / REVIEW_TISSUE_MAP).is_file()
    assert read_review(other)[1] is None
    # a review holding both parts replaces both (nothing to keep)
    both = _write(tmp_path / "both.geojson", [*NUCLEI[:1], _poly([_box(64, 64, 128, 128)], "Necrosis")])
    full = write_review(other, both, tissue_annotations=True)
    assert "merged" not in full
    assert full["ki67_metrics"]["denominator"] == 1


def test_missing_reviewed_nuclei_file_is_refused(tmp_path):
    folder = _result(tmp_path / "ki67", class_map=False)
    write_review(folder, _write(tmp_path / "n.geojson", NUCLEI))
    (folder / REVIEW_EDITS).unlink()
    review, reason = read_review(folder)
    assert review is None
    assert "review_edits.geojson (the reviewed nuclei) is missing" in reason


def test_tissue_review_without_necrosis_names_the_classes_that_changed(tmp_path, capsys):
    folder = _result(tmp_path / "ihc", classes=["tumour", "stroma", "background"], necrosis=None)
    edits = _write(tmp_path / "s.geojson", [_poly([_box(0, 0, 64, 64)], "Stroma")])
    assert main(["review", str(folder), str(edits)]) == 0
    out = capsys.readouterr().out
    assert "tissue classes reviewed: stroma 100.00 %" in out
    assert "necrosis measured" not in out


def test_refused_note_keeps_no_stray_parenthesis():
    html = _review_note({"review_note": "out/a/review.json: cannot be read (JSONDecodeError: Expecting value "
                                        "(char 0)); review refused"})
    assert "⚠ review refused: cannot be read</div>" in html


def test_annotation_review_without_its_map_hash_is_refused(tmp_path):
    folder = _result(tmp_path / "he")
    write_review(folder, _write(tmp_path / "n.geojson", [_poly([_box(0, 0, 64, 64)], "Necrosis")]))
    doc = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))
    del doc["tissue_map_sha256"]
    (folder / REVIEW_NAME).write_text(json.dumps(doc), encoding="utf-8")
    review, reason = read_review(folder)
    assert review is None
    assert "records no tissue_map_sha256" in reason


def test_report_of_a_tissue_review_without_necrosis_shows_the_tumour_and_stroma_shares():
    from mmnst_path.html_report import _necrosis_review

    row = {"reviewed": "yes", "tissue_blocks_reviewed": 15, "necrosis_fraction_reviewed_pct": None,
           "necrosis_tissue_reviewed_mm2": 0.0256, "tumour_fraction_reviewed_pct": 32.6,
           "stroma_fraction_reviewed_pct": 67.4, "ki67_denominator_reviewed": 77}
    html = _necrosis_review(row)
    assert "reviewed: tumour 32.6 %, stroma 67.4 %</div>" in html
    assert "tissue (15 blocks changed)" in html
    assert ";  (" not in html
