"""Melanin corrections of a result folder (session 41 H11).

A pathologist opens a quantify result folder of a run that measured melanin (its result.json; the folder keeps the
melanin block map, melanin_map.npz), opens Review from the Plugins menu, presses *paint melanin corrections*, paints
blocks "melanin" (1) and "no melanin" (2), and saves the review with Export's *save review to result folder*:
review.json gets the reviewed melanin (the library's figures) by its reviewer, review_melanin.png the blocks, and
``mmnst-path report`` puts melanin_fraction_reviewed_pct in summary.csv. Reopened, the folder shows the corrections
where they were left. Fails before: Review said "no melanin map to correct" (a result folder kept no melanin map).
"""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pytest
from napari_helpers import button
from napari_helpers import open_plugin_widget as _open

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
BLOCK_MM2 = (32 * 0.5 / 1000) ** 2


def _folder(tmp_path):
    from PIL import Image

    from mmnst_path.aggregate import CellTable, LowResMap, SlideResult, TileTable
    from mmnst_path.geometry import Box
    from mmnst_path.report import summary_row, write_result, write_summary_json

    image = tmp_path / "mel.png"
    Image.fromarray(np.full((128, 128, 3), 200, np.uint8)).save(image)
    melanin = np.zeros((4, 4), np.float32)
    melanin[0, 0], melanin[2, 2] = 0.5, 0.25
    tissue = np.ones((16, 16), np.float32)
    area = 0.75 * BLOCK_MM2
    result = SlideResult(
        input=str(image), shape=(128, 128), mpp=0.5, analysis_mpp=0.5, measures=("melanin",),
        metrics={"melanin_area_mm2": area, "melanin_tissue_mm2": 16 * BLOCK_MM2,
                 "melanin_fraction_pct": 100 * area / (16 * BLOCK_MM2), "tissue_area_mm2": 16 * BLOCK_MM2},
        counts={}, hotspot=None, tiles=TileTable.from_rows([Box(0, 0, 128, 128)], [{"seconds": 0.1}]),
        cells=CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {}),
        maps={"melanin": LowResMap(melanin, 32.0), "tissue": LowResMap(tissue, 8.0)},
        config={"analysis_mpp": 0.5}, stains={"name": "H&E"}, versions={"mmnst_path": "0"}, timings={})
    row = {**summary_row(result), "input": str(image), "status": "ok"}
    out = tmp_path / "out"
    write_result(result, out / "mel", outputs=("overlay",),
                 extra={"source": {"path": str(image), "sha256": hashlib.sha256(image.read_bytes()).hexdigest()},
                        "summary_row": row})
    write_summary_json([row], out / "summary.json")
    return out / "mel"


def test_result_folder_melanin_painted_and_saved_as_its_review(make_napari_viewer, tmp_path):
    from mmnst_path.cli import main

    folder = _folder(tmp_path)
    viewer = make_napari_viewer()
    viewer.open(str(folder / "result.json"), plugin=PLUGIN)
    assert "melanin fraction" in viewer.layers
    review = _open(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    assert "melanin corrections" in viewer.layers, review.melanin_line.value
    layer = viewer.layers["melanin corrections"]
    assert layer.data.shape == (4, 4)
    assert review.melanin_line.value.startswith("melanin reviewed 4.69 % of tissue (measured 4.69 %)")
    layer.brush_size = 1
    with layer.block_history():
        layer.paint((1, 1), 1)  # a block without melanin made melanin
        layer.paint((0, 0), 2)  # the 0.5 block made none
    want = 0.75 * BLOCK_MM2 + BLOCK_MM2 - 0.5 * BLOCK_MM2
    got = layer.metadata["mmnst_path"]["melanin_review"]
    assert got["melanin_area_mm2"] == pytest.approx(want, rel=1e-9)
    export = _open(viewer, "export_widget")
    export.reviewer.value = "Dr M"
    saved = export.save_review()
    assert saved is not None, export.status.value
    assert "melanin 7.81 % of tissue (measured 4.69 %" in export.status.value, export.status.value
    doc = json.loads((folder / "review.json").read_text())
    assert doc["melanin"]["melanin_area_mm2"] == pytest.approx(want, rel=1e-9)
    assert doc["melanin"]["source"] == "painted (napari)"
    assert doc["melanin"]["reviewer"] == "Dr M"
    from PIL import Image

    blocks = np.asarray(Image.open(folder / "review_melanin.png"))
    assert (blocks[1, 1], blocks[0, 0], int((blocks > 0).sum())) == (1, 2, 2)
    assert main(["report", str(folder.parent)]) == 0
    with (folder.parent / "summary.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert float(row["melanin_fraction_reviewed_pct"]) == pytest.approx(100 * want / (16 * BLOCK_MM2), rel=1e-5)
    # reopened: the corrections are where they were left; saving again unchanged writes nothing new
    again = make_napari_viewer()
    again.open(str(folder / "result.json"), plugin=PLUGIN)
    review2 = _open(again, "review_widget")
    button(review2, "paint melanin corrections").changed.emit(True)
    np.testing.assert_array_equal(again.layers["melanin corrections"].data, blocks)
    assert review2.melanin_line.value.startswith("melanin reviewed 7.81 % of tissue (measured 4.69 %)")
    export2 = _open(again, "export_widget")
    assert export2.save_review() is None
    assert export2.status.value.startswith("review not saved"), export2.status.value
