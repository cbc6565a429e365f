"""Session 42 H4: review workflow leftovers of session 41, the way a pathologist works (widgets from the Plugins menu).

1. A folder's melanin corrections go when Export opens another result (its *open result*, or the import of a reviewed
   folder's cells.geojson): they are never left over the other folder's melanin map, the status says they were closed
   (and how many painted blocks were not saved), Review's melanin line stops showing their figures.
   Fails before: the import left folder A's corrections layer over folder B's map; after *open result* Review's line
   still showed A's figures and the status said nothing.
2. The image opened alone is read (SHA-256) in a worker thread: the GUI thread runs meanwhile (a timer fires, the
   dock shows the read), the result is opened when the read ends; *stop reading* or removing the image stops the read
   and nothing is opened. Fails before: the image was read on the GUI thread (napari froze for the whole read).
3. Review's melanin line gives the reviewed melanin of tumour with the class map of the same folder as painted.
   Fails before: no melanin of tumour in the line.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
from napari_helpers import button
from napari_helpers import open_plugin_widget as _open

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
MPP = 0.5
B = (32 * MPP / 1000) ** 2


def _image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.full((128, 128, 3), 200, np.uint8)
    rgb[:64, :64] = (120, 60, 40)
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return path


def _folder(image: Path, out: Path) -> Path:
    """A result folder of ``image`` (H&E: melanin map 4 x 4 blocks, class map tumour left / stroma right, melanin of
    tumour 6.25 %) with its cells.geojson (no nuclei, as an H&E run writes it)."""
    from mmnst_path.aggregate import CellTable, LowResMap, SlideResult, TileTable
    from mmnst_path.geometry import Box
    from mmnst_path.report import summary_row, write_result, write_summary_json

    melanin = np.zeros((4, 4), np.float32)
    melanin[0, 0], melanin[0, 3] = 0.5, 0.25
    labels = np.zeros((4, 4), np.int8)
    labels[:, 2:] = 1
    legend = {"model": "t 1", "classes": [
        {"index": 0, "name": "tumour", "colour": [200, 0, 0], "area_mm2": 8 * B, "pct_of_tissue": 50.0},
        {"index": 1, "name": "stroma", "colour": [0, 200, 0], "area_mm2": 8 * B, "pct_of_tissue": 50.0}]}
    result = SlideResult(
        input=str(image), shape=(128, 128), mpp=MPP, analysis_mpp=MPP, measures=("melanin",),
        metrics={"melanin_area_mm2": 0.75 * B, "melanin_tissue_mm2": 16 * B, "melanin_fraction_pct": 100 * 0.75 / 16,
                 "tissue_area_mm2": 16 * B, "class_tumour_area_mm2": 8 * B, "melanin_tumour_fraction_pct": 6.25},
        counts={}, hotspot=None, tiles=TileTable.from_rows([Box(0, 0, 128, 128)], [{"seconds": 0.1}]),
        cells=CellTable(np.zeros(0), np.zeros(0), np.zeros(0, np.int8), {}),
        maps={"melanin": LowResMap(melanin, 32.0), "tissue": LowResMap(np.ones((16, 16), np.float32), 8.0),
              "tissue_classes": LowResMap(labels, 32.0)},
        config={"analysis_mpp": MPP}, stains={"name": "H&E"}, versions={"mmnst_path": "0"}, timings={},
        tissue_classes=legend)
    row = {**summary_row(result), "input": str(image), "status": "ok"}
    write_result(result, out / image.stem, outputs=("overlay",),
                 extra={"source": {"path": str(image), "sha256": hashlib.sha256(image.read_bytes()).hexdigest()},
                        "summary_row": row})
    write_summary_json([row], out / "summary.json")
    folder = out / image.stem
    if not (folder / "cells.geojson").is_file():  # an H&E run's: the image as one annotation with its measures
        ring = [[0.0, 0.0], [128.0, 0.0], [128.0, 128.0], [0.0, 128.0], [0.0, 0.0]]
        (folder / "cells.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
             "properties": {"objectType": "annotation", "name": "Image", "measurements": {"Melanin %": 4.6875}}}]}))
    return folder


def _paint(layer, blocks):  # type: ignore[no-untyped-def]
    data = np.array(layer.data, copy=True)
    for (r, c), v in blocks.items():
        data[r, c] = v
    layer.data = data  # as a stroke ends: the data event


def _folder_layers(viewer):  # type: ignore[no-untyped-def]
    return {lay.name: lay.metadata.get("mmnst_path", {}).get("result_folder") for lay in viewer.layers
            if isinstance(lay.metadata, dict) and lay.metadata.get("mmnst_path", {}).get("result_folder")}


def test_import_of_another_reviewed_folder_closes_the_first_folders_corrections(make_napari_viewer, tmp_path):
    from mmnst_path.review import write_review

    a = _folder(_image(tmp_path / "a" / "mel.tif"), tmp_path / "a" / "out")
    b = _folder(_image(tmp_path / "b" / "mel.tif"), tmp_path / "b" / "out")
    saved = np.zeros((4, 4), np.uint8)
    saved[3, 3] = 1  # B's review: block (3, 3) made melanin
    edits = tmp_path / "empty.geojson"
    edits.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    write_review(b, edits, reviewer="Dr B", melanin_map=saved)
    viewer = make_napari_viewer()
    viewer.open(str(a / "result.json"), plugin=PLUGIN)
    review = _open(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    _paint(viewer.layers["melanin corrections"], {(1, 1): 1, (2, 2): 2})
    assert review.melanin_line.value.startswith("melanin reviewed 10.94 % of tissue (measured 4.69 %)"), \
        review.melanin_line.value
    export = _open(viewer, "export_widget")
    export.import_(b / "cells.geojson")  # folder B's layers take A's place (B is reviewed)
    folders = _folder_layers(viewer)
    assert "melanin corrections" not in folders, folders  # A's corrections are not left over B's map
    assert folders["melanin fraction"] == str(b)
    assert "out/mel's melanin corrections closed (2 painted block(s) not saved)" in export.status.value, \
        export.status.value
    assert review.melanin_line.value.startswith("melanin corrections closed"), review.melanin_line.value
    # painting again corrects B's map, from B's saved corrections
    button(review, "paint melanin corrections").changed.emit(True)
    layer = viewer.layers["melanin corrections"]
    assert layer.metadata["mmnst_path"]["result_folder"] == str(b)
    np.testing.assert_array_equal(layer.data, saved)


def test_open_result_closes_corrections_and_review_line_follows(make_napari_viewer, qtbot, tmp_path):
    image = _image(tmp_path / "slides" / "mel.tif")
    older = _folder(image, image.parent / "results_a")
    newest = _folder(image, image.parent / "results_b")
    t = time.time()
    import os

    os.utime(older / "result.json", (t - 3600, t - 3600))
    viewer = make_napari_viewer()
    viewer.open(str(image), plugin=PLUGIN)
    export = _open(viewer, "export_widget")
    qtbot.waitUntil(lambda: getattr(export, "find_worker", None) is None, timeout=30_000)  # the image read
    assert _folder_layers(viewer)["melanin fraction"] == str(newest), export.status.value
    review = _open(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    _paint(viewer.layers["melanin corrections"], {(1, 1): 1})
    # melanin of tumour: block (1, 1) is tumour, 1 B of melanin more in 8 B of tumour
    assert "melanin of tumour reviewed 18.75 % (measured 6.25 %)" in review.melanin_line.value, \
        review.melanin_line.value
    # painting tumour into stroma block (0, 3) (melanin 0.25) moves its melanin into tumour: 2 B... / 9 B
    classes = viewer.layers["tissue classes"]
    _paint(classes, {(0, 3): 1})  # layer value 1 = class 0, tumour
    classes.events.paint(value=[])
    assert "melanin of tumour reviewed 19.44 % (measured 6.25 %)" in review.melanin_line.value, \
        review.melanin_line.value
    export.found.value = str(older)
    export.open_found.changed.emit(True)
    folders = _folder_layers(viewer)
    assert folders == {"tissue classes": str(older), "melanin fraction": str(older)}, folders
    assert "results_b/mel's melanin corrections closed (1 painted block(s) not saved)" in export.status.value, \
        export.status.value
    assert review.melanin_line.value.startswith("melanin corrections closed"), review.melanin_line.value


class _Gate:
    """hashlib.sha256 whose update waits on a gate (a slow read of a large slide), recording the thread it runs in."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.threads: list[str] = []
        real = hashlib.sha256
        gate = self

        class Slow:
            def __init__(self, *args: bytes) -> None:
                self._h = real(*args)

            def update(self, data: bytes) -> None:
                if not gate.open.is_set():
                    gate.threads.append(threading.current_thread().name)
                    gate.open.wait(4.0)
                self._h.update(data)

            def hexdigest(self) -> str:
                return self._h.hexdigest()

        self.cls = Slow


@pytest.fixture
def gate(monkeypatch):  # type: ignore[no-untyped-def]
    """hashlib.sha256 gated (:class:`_Gate`); the gate opens at the end of the test whatever happened."""
    g = _Gate()
    monkeypatch.setattr(hashlib, "sha256", g.cls)
    yield g
    g.open.set()
    time.sleep(0.2)  # a read waiting on it ends before the viewer is closed


def test_image_read_off_the_gui_thread_and_its_result_still_found(make_napari_viewer, qtbot, tmp_path, gate):
    from qtpy.QtCore import QTimer

    image = _image(tmp_path / "slides" / "mel.tif")
    folder = _folder(image, image.parent / "results")
    viewer = make_napari_viewer()
    gate.open.set()
    viewer.open(str(image), plugin=PLUGIN)
    gate.open.clear()
    t0 = time.monotonic()
    export = _open(viewer, "export_widget")
    assert time.monotonic() - t0 < 3.0  # the dock opened while the read waits
    ticks: list[int] = []
    QTimer.singleShot(50, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: bool(ticks), timeout=2_000)  # the GUI thread's event loop runs during the read
    kb = image.stat().st_size / 1e3
    assert export.status.value.startswith(f"reading mel.tif ({kb:.1f} kB) to find its results"), export.status.value
    assert not export.find_progress.native.isHidden()
    assert not export.find_stop.native.isHidden()
    assert _folder_layers(viewer) == {}
    gate.open.set()
    qtbot.waitUntil(lambda: export.find_worker is None, timeout=30_000)
    assert gate.threads, "the image was not read"
    assert threading.main_thread().name not in gate.threads, gate.threads
    assert _folder_layers(viewer) == {"tissue classes": str(folder), "melanin fraction": str(folder)}
    assert export.status.value.startswith("opened results/mel (the only result of mel.tif"), export.status.value
    assert export.find_progress.native.isHidden()


def test_stop_reading_or_removing_the_image_opens_nothing(make_napari_viewer, qtbot, tmp_path, gate):
    image = _image(tmp_path / "slides" / "mel.tif")
    gate.open.set()
    _folder(image, image.parent / "results")
    viewer = make_napari_viewer()
    viewer.open(str(image), plugin=PLUGIN)
    gate.open.clear()
    export = _open(viewer, "export_widget")
    assert export.find_worker is not None, export.status.value
    export.find_stop.changed.emit(True)
    assert export.status.value.startswith("search for the results of mel.tif stopped"), export.status.value
    gate.open.set()
    qtbot.waitUntil(lambda: export.find_worker is None, timeout=30_000)
    assert _folder_layers(viewer) == {}
    assert export.status.value.startswith("search for the results of mel.tif stopped"), export.status.value
    # the image removed during its read: the read stops, nothing is opened over what is shown next
    second = make_napari_viewer()
    second.open(str(image), plugin=PLUGIN)
    gate.open.clear()
    export2 = _open(second, "export_widget")
    assert export2.find_worker is not None
    second.layers.remove(second.layers[0])
    gate.open.set()
    qtbot.waitUntil(lambda: export2.find_worker is None, timeout=30_000)
    assert _folder_layers(second) == {}
    assert "stopped: the image was removed" in export2.status.value, export2.status.value
