"""Session 41 H11: a quantify result folder keeps its melanin map (melanin_map.npz), and ``mmnst-path review``
corrects it with QuPath annotations classified Melanin / No melanin into review.json, summary.csv and report.html."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmnst_path.aggregate import CellTable, LowResMap, SlideResult, TileTable
from mmnst_path.geometry import Box
from mmnst_path.report import write_result, write_summary_json

MPP = 0.5
# 4 x 4 blocks of 32 px (16 µm); tissue map 8 px per pixel (16 x 16)
MELANIN = np.array([[0.5, 0.0, 0.25, np.nan],
                    [0.1, 0.0, 0.0, np.nan],
                    [0.0, 0.0, 0.0, np.nan],
                    [0.0, 0.0, 0.0, np.nan]], np.float32)
TISSUE = np.zeros((16, 16), np.float32)
TISSUE[:, :12] = 1.0  # the last block column holds no tissue
BLOCK_MM2 = (32 * MPP / 1000) ** 2  # a full block of tissue, mm²


def _result(image: Path, *, classes: bool = False) -> SlideResult:
    area = float(np.nansum(MELANIN.astype(np.float64) * BLOCK_MM2))
    maps = {"melanin": LowResMap(MELANIN, 32.0), "tissue": LowResMap(TISSUE, 8.0)}
    legend: dict = {}
    if classes:  # a tissue model: tumour left half, necrosis right half
        labels = np.zeros((4, 4), np.int8)
        labels[:, 2:] = 1
        maps["tissue_classes"] = LowResMap(labels, 32.0)
        legend = {"model": "t 1", "classes": [
            {"index": 0, "name": "tumour", "colour": [200, 0, 0], "area_mm2": 8 * BLOCK_MM2, "pct_of_tissue": 50.0},
            {"index": 1, "name": "necrosis", "colour": [90, 90, 90], "area_mm2": 8 * BLOCK_MM2, "pct_of_tissue": 50.0}]}
    return SlideResult(
        input=str(image), shape=(128, 128), mpp=MPP, analysis_mpp=MPP, measures=("melanin",),
        metrics={"melanin_area_mm2": area, "melanin_tissue_mm2": 12 * BLOCK_MM2,
                 "melanin_fraction_pct": 100 * area / (12 * BLOCK_MM2), "tissue_area_mm2": 12 * BLOCK_MM2},
        counts={}, hotspot=None, tiles=TileTable.from_rows([Box(0, 0, 128, 128)], [{"seconds": 0.1}]),
        cells=CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {}), maps=maps,
        config={"analysis_mpp": MPP}, stains={"name": "H&E"}, versions={"mmnst_path": "0"}, timings={},
        tissue_classes=legend)


def _folder(tmp_path: Path, *, classes: bool = False) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    image = tmp_path / "mel.png"
    Image.fromarray(np.full((128, 128, 3), 200, np.uint8)).save(image)
    sha = hashlib.sha256(image.read_bytes()).hexdigest()
    out = tmp_path / "out"
    result = _result(image, classes=classes)
    from mmnst_path.report import summary_row

    row = {**summary_row(result), "input": str(image), "status": "ok"}
    write_result(result, out / "mel", outputs=("overlay",),
                 extra={"source": {"path": str(image), "sha256": sha}, "summary_row": row})
    write_summary_json([row], out / "summary.json")
    return out / "mel"


def _box(name: str, row0: int, col0: int, row1: int, col1: int) -> dict:
    ring = [[col0, row0], [col1, row0], [col1, row1], [col0, row1], [col0, row0]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"objectType": "annotation", "classification": {"name": name}}}


def _edits(path: Path, *features: dict) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def test_quantify_result_keeps_the_melanin_map_lossless_and_readable(tmp_path):
    from mmnst_path._melanin_map import MELANIN_MAP, read_melanin_map

    folder = _folder(tmp_path)
    doc = json.loads((folder / "result.json").read_text())
    rec = doc["melanin_map"]
    assert rec["file"] == MELANIN_MAP
    assert rec["shape"] == [4, 4]
    assert rec["downsample"] == 32.0
    assert rec["block_um"] == 16.0
    data = (folder / MELANIN_MAP).read_bytes()
    assert rec["sha256"] == hashlib.sha256(data).hexdigest()
    m = read_melanin_map(folder, doc)
    assert m["melanin"].dtype == np.float32
    np.testing.assert_array_equal(m["melanin"], MELANIN)  # NaN where no tissue, bit for bit
    expected = np.full((4, 4), BLOCK_MM2)
    expected[:, 3] = 0.0
    np.testing.assert_allclose(m["block_tissue_mm2"], expected, rtol=1e-12)
    assert math.isclose(float(np.nansum(m["melanin"] * m["block_tissue_mm2"])), m["area_mm2"], rel_tol=1e-6)
    # the same run writes the same bytes (fixed zip times), so its SHA-256 in result.json is reproducible
    again = _folder(tmp_path / "again")
    assert (again / MELANIN_MAP).read_bytes() == data
    (folder / MELANIN_MAP).write_bytes(data[:-4] + b"xxxx")
    from mmnst_path.errors import ConfigError

    with pytest.raises(ConfigError, match="melanin_map"):
        read_melanin_map(folder, doc)


def test_review_cli_reads_melanin_annotations_into_review_summary_and_report(tmp_path, capsys):
    from mmnst_path.cli import main

    folder = _folder(tmp_path)
    # "Melanin" over block (1, 1) (its centre at level-0 (48, 48)); "No melanin" over block (0, 0)
    edits = _edits(tmp_path / "edits.geojson", _box("Melanin", 34, 34, 62, 62), _box("No melanin", 2, 2, 30, 30))
    assert main(["review", str(folder), str(edits), "--reviewer", "Dr M"]) == 0
    out = capsys.readouterr().out
    assert "melanin measured" in out
    assert "1 block(s) made melanin, 1 made none" in out
    review = json.loads((folder / "review.json").read_text())
    mel = review["melanin"]
    area0 = (0.5 + 0.25 + 0.1) * BLOCK_MM2
    want = area0 - 0.5 * BLOCK_MM2 + 1.0 * BLOCK_MM2
    assert math.isclose(mel["melanin_area_mm2"], want, rel_tol=1e-6)
    assert math.isclose(mel["melanin_fraction_pct"], 100 * want / (12 * BLOCK_MM2), rel_tol=1e-6)
    assert mel["source"] == "annotations"
    assert mel["reviewer"] == "Dr M"
    assert mel["changed_blocks"] == 2
    corrections = np.asarray(Image.open(folder / "review_melanin.png"))
    assert corrections[1, 1] == 1
    assert corrections[0, 0] == 2
    assert int((corrections > 0).sum()) == 2
    assert review["melanin_map_sha256"] == hashlib.sha256((folder / "review_melanin.png").read_bytes()).hexdigest()
    assert main(["report", str(folder.parent)]) == 0
    with (folder.parent / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
        header = list(rows[0])
    assert header[-3:] == ["melanin_fraction_reviewed_pct", "melanin_area_reviewed_mm2", "melanin_blocks_reviewed"]
    assert math.isclose(float(rows[0]["melanin_fraction_reviewed_pct"]), mel["melanin_fraction_pct"], rel_tol=1e-5)
    page = (folder.parent / "report.html").read_text()
    assert 'data-col="melanin_fraction_reviewed_pct"' in page
    # the reviewed figure sits in the melanin cell, under the measured one
    cell = page[page.index('data-col="melanin_fraction_pct"'):]
    assert cell.index('data-col="melanin_fraction_reviewed_pct"') < cell.index('data-col="necrosis_fraction_pct"')
    # a changed corrections file refuses the review
    (folder / "review_melanin.png").write_bytes(b"x")
    from mmnst_path.review import read_review

    assert read_review(folder)[0] is None
    assert "review_melanin.png" in read_review(folder)[1]


def test_melanin_and_tissue_reviews_keep_each_other(tmp_path):
    from mmnst_path.review import read_review, write_review

    folder = _folder(tmp_path, classes=True)
    image = tmp_path / "mel.png"
    tissue = _edits(tmp_path / "t.geojson", _box("Necrosis", 2, 2, 30, 30))
    melanin = _edits(tmp_path / "m.geojson", _box("Melanin", 34, 34, 62, 62))
    write_review(folder, tissue, reviewer="A", image=image)
    second = write_review(folder, melanin, reviewer="B", image=image)
    assert second["merged"]["kept"] == "tissue"
    assert second["tissue_classes"]["reviewer"] == "A"
    assert second["melanin"]["reviewer"] == "B"
    assert second["reviewer"] == "A, B"
    assert (folder / "review_tissue_classes.png").is_file()
    assert (folder / "review_melanin.png").is_file()
    third = write_review(folder, tissue, reviewer="C", image=image)
    assert third["merged"]["kept"] == "melanin"
    assert third["melanin"]["reviewer"] == "B"
    assert math.isclose(third["melanin"]["melanin_area_mm2"], second["melanin"]["melanin_area_mm2"])
    review, refused = read_review(folder)
    assert refused is None
    assert review["melanin"]["changed_blocks"] == 1
    replaced = write_review(folder, tissue, reviewer="C", image=image, replace=True)
    assert replaced["melanin"] is None
    assert not (folder / "review_melanin.png").exists()


def test_painted_melanin_map_is_recomputed_by_the_library(tmp_path):
    from mmnst_path.review import write_review

    folder = _folder(tmp_path)
    painted = np.zeros((4, 4), np.uint8)
    painted[0, 2] = 2  # the 0.25 block made none
    review = write_review(folder, _edits(tmp_path / "e.geojson"), image=tmp_path / "mel.png", melanin_map=painted)
    assert review["melanin"]["source"] == "painted (napari)"
    assert math.isclose(review["melanin"]["removed_mm2"], 0.25 * BLOCK_MM2, rel_tol=1e-6)
    from mmnst_path.errors import ConfigError

    with pytest.raises(ConfigError, match="shape"):
        write_review(folder, _edits(tmp_path / "e.geojson"), image=tmp_path / "mel.png",
                     melanin_map=np.zeros((3, 3), np.uint8))


def test_block_tissue_of_a_tissue_map_finer_than_a_whole_number_of_pixels():
    """A Ki67 run's tissue map is at 1.25 level-0 px per pixel (0.4 µm/px analysed at 0.5): each tissue pixel
    counts in every block it overlaps by the overlap's area (it raised ValueError in write_result before)."""
    from types import SimpleNamespace

    from mmnst_path._melanin_map import result_block_tissue

    rng = np.random.default_rng(7)
    share = rng.random((52, 50))  # 65 x 62.5 level-0 px
    result = SimpleNamespace(mpp=0.4, maps={"melanin": LowResMap(np.zeros((3, 2), np.float32), 32.0),
                                            "tissue": LowResMap(share, 1.25)})
    got = result_block_tissue(result)
    fine = np.kron(share, np.ones((5, 5)))  # 0.25 level-0 px cells: 5 per tissue pixel, 128 per block
    padded = np.zeros((3 * 128, 2 * 128))
    padded[:fine.shape[0], :fine.shape[1]] = fine[:3 * 128, :2 * 128]
    want = padded.reshape(3, 128, 2, 128).sum(axis=(1, 3)) * (0.25 * 0.4 / 1000) ** 2
    np.testing.assert_allclose(got, want, rtol=1e-12)
