"""Session 42 H4: the reviewed melanin of tumour (``melanin_tumour_fraction_reviewed_pct``).

A result that measured melanin of tumour (melanin ∩ tumour / tumour area) keeps its melanin map and its class map;
a review's melanin corrections, tissue corrections or both give the reviewed melanin of tumour
(:mod:`mmnst_path._review_tumour_melanin`) in ``mmnst-path review``'s line, review.json, summary.csv (appended last)
and report.html. A review that changes neither gives the measured figure exactly.

Fails before: ``mmnst_path._review_tumour_melanin`` does not exist; the review line, summary.csv and report.html name
no reviewed melanin of tumour.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmnst_path.aggregate import CellTable, LowResMap, SlideResult, TileTable
from mmnst_path.geometry import Box
from mmnst_path.report import summary_row, write_result, write_summary_json

MPP = 0.5
B = (32 * MPP / 1000) ** 2  # mm² of a 16 µm block, all tissue
# 4 x 4 melanin blocks of 32 px; melanin 0.5 in block (0, 0) (tumour), 0.25 in (0, 3) (stroma)
MELANIN = np.zeros((4, 4), np.float32)
MELANIN[0, 0], MELANIN[0, 3] = 0.5, 0.25
MEASURED = 100 * 0.5 * B / (8 * B)  # the run's melanin of tumour: 6.25 %


def _folder(tmp_path: Path, *, tumour_metric: bool = True) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    image = tmp_path / "mel.png"
    Image.fromarray(np.full((128, 128, 3), 200, np.uint8)).save(image)
    labels = np.zeros((4, 4), np.int8)
    labels[:, 2:] = 1  # tumour the left half, stroma the right half
    legend = {"model": "t 1", "classes": [
        {"index": 0, "name": "tumour", "colour": [200, 0, 0], "area_mm2": 8 * B, "pct_of_tissue": 50.0},
        {"index": 1, "name": "stroma", "colour": [0, 200, 0], "area_mm2": 8 * B, "pct_of_tissue": 50.0}]}
    metrics = {"melanin_area_mm2": 0.75 * B, "melanin_tissue_mm2": 16 * B, "melanin_fraction_pct": 100 * 0.75 / 16,
               "tissue_area_mm2": 16 * B, "class_tumour_area_mm2": 8 * B}
    if tumour_metric:
        metrics["melanin_tumour_fraction_pct"] = MEASURED
    result = SlideResult(
        input=str(image), shape=(128, 128), mpp=MPP, analysis_mpp=MPP, measures=("melanin",), metrics=metrics,
        counts={}, hotspot=None, tiles=TileTable.from_rows([Box(0, 0, 128, 128)], [{"seconds": 0.1}]),
        cells=CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {}),
        maps={"melanin": LowResMap(MELANIN, 32.0), "tissue": LowResMap(np.ones((16, 16), np.float32), 8.0),
              "tissue_classes": LowResMap(labels, 32.0)},
        config={"analysis_mpp": MPP}, stains={"name": "H&E"}, versions={"mmnst_path": "0"}, timings={},
        tissue_classes=legend)
    row = {**summary_row(result), "input": str(image), "status": "ok"}
    out = tmp_path / "out"
    write_result(result, out / "mel", outputs=("overlay",),
                 extra={"source": {"path": str(image), "sha256": hashlib.sha256(image.read_bytes()).hexdigest()},
                        "summary_row": row})
    write_summary_json([row], out / "summary.json")
    return out / "mel"


def _edits(path: Path, *boxes: tuple[str, int, int]) -> Path:
    """Annotations around the centre of melanin / class block (row, col)."""
    feats = []
    for name, r, c in boxes:
        r0, c0 = 32 * r + 4, 32 * c + 4
        ring = [[c0, r0], [c0 + 24, r0], [c0 + 24, r0 + 24], [c0, r0 + 24], [c0, r0]]
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"objectType": "annotation", "classification": {"name": name}}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def _summary(folder: Path) -> tuple[list[str], dict[str, str]]:
    with (folder.parent / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return list(rows[0]), rows[0]


def test_unchanged_review_gives_the_measured_figure_exactly():
    from mmnst_path._review_tumour_melanin import block_class_share, reviewed_tumour_melanin

    rng = np.random.default_rng(7)
    m = rng.random((5, 6)).astype(np.float32)
    t = rng.random((5, 6)) * B
    share = rng.random((5, 6))
    got = reviewed_tumour_melanin(melanin=m, block_tissue=t, corrections=np.zeros((5, 6), np.uint8),
                                  share_run=share, share_now=share, measured_pct=12.505580357142858,
                                  tumour_mm2_run=0.01344, tumour_mm2_now=0.01344)
    assert got["melanin_tumour_fraction_pct"] == 12.505580357142858
    # a class map finer than the melanin blocks: tumour share by area overlap (3 of 4 class pixels of block (0, 0);
    # the image ends at 48 px: block (0, 1) holds one whole class pixel and half of the next, outside the image)
    labels = np.array([[0, 0, 1, 1], [0, 1, 0, -1]])
    share = block_class_share(labels, [0], tissue=[0, 1], class_downsample=16, downsample=32, grid=(1, 2),
                              shape=(32, 48))
    assert share[0, 0] == pytest.approx(0.75)
    assert share[0, 1] == pytest.approx(0.5)  # (1, 1) stroma and (1, 2) tumour inside; the rest outside


def test_review_cli_melanin_then_tissue_corrections_give_reviewed_melanin_of_tumour(tmp_path, capsys):
    from mmnst_path.cli import main

    folder = _folder(tmp_path)
    # melanin corrections alone: block (1, 1) (tumour, no melanin) made melanin -> +1 B of melanin in tumour
    assert main(["review", str(folder), str(_edits(tmp_path / "m.geojson", ("Melanin", 1, 1))), "--reviewer", "Dr M"]) == 0
    out = capsys.readouterr().out
    assert "melanin of tumour measured 6.25 %, reviewed 18.75 % (from the melanin corrections; whole blocks)" in out, out
    review = json.loads((folder / "review.json").read_text())
    assert review["melanin_tumour"]["melanin_tumour_fraction_pct"] == pytest.approx(100 * 1.5 / 8, rel=1e-9)
    assert main(["report", str(folder.parent)]) == 0
    header, row = _summary(folder)
    assert header[-1] == "melanin_tumour_fraction_reviewed_pct"  # appended last: no earlier column moves
    assert header[-4:-1] == ["melanin_fraction_reviewed_pct", "melanin_area_reviewed_mm2", "melanin_blocks_reviewed"]
    assert float(row["melanin_tumour_fraction_reviewed_pct"]) == pytest.approx(18.75, rel=1e-6)
    assert float(row["melanin_tumour_fraction_pct"]) == pytest.approx(MEASURED, rel=1e-6)
    page = (folder.parent / "report.html").read_text()
    cell = page[page.index('data-col="melanin_tumour_fraction_pct"'):]
    assert 'data-col="melanin_tumour_fraction_reviewed_pct"' in cell
    assert "reviewed: 18.75 % of tumour" in cell
    # then tissue corrections (kept together): stroma block (0, 3), melanin 0.25, made tumour -> tumour 9 B,
    # melanin of tumour 0.5 + 1 + 0.25 = 1.75 B
    assert main(["review", str(folder), str(_edits(tmp_path / "t.geojson", ("Tumor", 0, 3)))]) == 0
    out = capsys.readouterr().out
    assert "reviewed 19.44 % (from the melanin and tissue corrections; whole blocks)" in out, out
    assert main(["report", str(folder.parent)]) == 0
    header, row = _summary(folder)
    assert float(row["melanin_tumour_fraction_reviewed_pct"]) == pytest.approx(100 * 1.75 / 9, abs=1e-4)


def test_tissue_corrections_alone_and_a_result_without_melanin_of_tumour(tmp_path, capsys):
    from mmnst_path.cli import main

    folder = _folder(tmp_path / "a")
    # block (0, 0), melanin 0.5, made stroma: its melanin leaves tumour and the tumour is 7 B -> 0 / 7
    assert main(["review", str(folder), str(_edits(tmp_path / "t.geojson", ("Stroma", 0, 0)))]) == 0
    assert "melanin of tumour measured 6.25 %, reviewed 0.00 % (from the tissue corrections" in capsys.readouterr().out
    # block (0, 3), melanin 0.25, made tumour instead (--replace): 0.75 B in 9 B
    assert main(["review", str(folder), str(_edits(tmp_path / "t2.geojson", ("Tumor", 0, 3))), "--replace"]) == 0
    assert main(["report", str(folder.parent)]) == 0
    _, row = _summary(folder)
    assert float(row["melanin_tumour_fraction_reviewed_pct"]) == pytest.approx(100 * 0.75 / 9, abs=1e-4)
    # no melanin of tumour measured (no tumour region): no such column, no words
    other = _folder(tmp_path / "b", tumour_metric=False)
    capsys.readouterr()
    assert main(["review", str(other), str(_edits(tmp_path / "m.geojson", ("Melanin", 1, 1)))]) == 0
    assert "melanin of tumour" not in capsys.readouterr().out
    assert main(["report", str(other.parent)]) == 0
    header, _ = _summary(other)
    assert "melanin_tumour_fraction_reviewed_pct" not in header
