"""Session 42 H8: H6's napari click path on the fixed Train widgets, with screenshots.

Train tissue over two H&E tiles and a Ki67 tile (GeoJSON import with a polygon hole and an unknown class,
"new training labels" per image, train, save over another model), then Train cells docked below and Analyze.
Run from the repository root under ``xvfb-run -a -s "-screen 0 1920x1200x24"`` with
``PYTHONPATH=$PWD:$PWD/plugins/napari/src``.

Data: session 42 H6's walk files in /tmp/s42_h6/data (made by its make_data.py / make_cells.py from
``he_tissue_tile`` seeds 9001, 9002 and ``ki67_cells_tile`` 9011: walk data, not a gate). Questions the widgets ask
are answered No and logged. Log: /tmp/s42_h8/walk_log.txt; pictures: /work/notes/s42/h8_napari_*.png.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any

import napari
import numpy as np
from qtpy.QtWidgets import QApplication, QMessageBox

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "napari" / "tests"))

from mmnst_path_napari._widgets._cells import PREVIEW as CELL_PREVIEW
from mmnst_path_napari._widgets._tissue import TRAIN_LABELS
from napari_helpers import open_plugin_widget

from mmnst_path.detect.nuclei import detect_nuclei

DATA = Path("/tmp/s42_h6/data")
OUT = Path("/work/notes/s42")
LOG = Path("/tmp/s42_h8/walk_log.txt")
MODEL = Path("/tmp/s42_h8/napari_two.mmnst")


def wait(pred: Any, timeout: float = 300.0) -> None:
    """Process Qt events until ``pred()`` is true or ``timeout`` seconds passed."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        QApplication.processEvents()
        try:
            if pred():
                return
        except (KeyError, RuntimeError, AttributeError):
            pass
        time.sleep(0.05)


def pump(seconds: float) -> None:
    wait(lambda: False, seconds)


def click(button: Any) -> None:
    button.changed.emit(True)


def paint_box(layer: Any, rows: slice, cols: slice, value: int) -> None:
    rr, cc = np.mgrid[rows, cols]
    layer.data_setitem((rr.ravel(), cc.ravel()), np.full(rr.size, value, np.uint8))


def main() -> None:
    warnings.simplefilter("ignore")
    log = LOG.open("w")

    def say(*parts: Any) -> None:
        print(*parts, file=log, flush=True)

    def question(_parent: Any, _title: str, text: str, *_a: Any, **_k: Any) -> Any:
        say("QUESTION:", text, "-> No")
        return QMessageBox.StandardButton.No

    QMessageBox.question = staticmethod(question)  # type: ignore[method-assign]
    MODEL.unlink(missing_ok=True)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1800, 1150)
    for name in ("gen_9001.tif", "gen_9002.tif", "ki67_9011.tif"):
        viewer.open(str(DATA / name), plugin="mmnst-path-napari")
    he_a, he_b, ki67 = (viewer.layers[n] for n in ("gen_9001.tif", "gen_9002.tif", "ki67_9011.tif"))
    tissue = open_plugin_widget(viewer, "train_tissue_widget")
    tissue.live.value = False
    say("stains combo at open:", tissue.stains.value)

    # image A: its GeoJSON (a Tumor square with a hole, an unknown class Bone)
    tissue.image.value = he_a
    click(tissue.new_labels)
    tissue.annotations.value = str(DATA / "gen_9001.geojson")
    click(tissue.import_button)
    say("A import:", tissue.status.value)
    lab_a = viewer.layers[f"{TRAIN_LABELS}: gen_9001.tif"]
    data_a = np.asarray(lab_a.data)
    say("label at the hole centre (65, 65):", int(data_a[65, 65]), "at (20, 20):", int(data_a[20, 20]))
    n_a = int(np.count_nonzero(data_a))
    for layer in viewer.layers:
        layer.visible = layer.name in ("gen_9001.tif", lab_a.name)
    viewer.camera.center = (0, 70, 70)
    viewer.camera.zoom = 6
    pump(1.0)
    viewer.screenshot(str(OUT / "h8_napari_tissue_hole.png"), canvas_only=False)
    for layer in viewer.layers:
        layer.visible = True
    viewer.reset_view()

    # image B: its own labels; A's kept; "new training labels" again asks
    tissue.image.value = he_b
    pump(0.5)
    click(tissue.new_labels)
    tissue.annotations.value = str(DATA / "gen_9002.geojson")
    click(tissue.import_button)
    say("B import:", tissue.status.value)
    kept = int(np.count_nonzero(viewer.layers[lab_a.name].data))
    say("layers:", [lay.name for lay in viewer.layers], "A keeps", kept, "of", n_a)
    click(tissue.new_labels)
    say("new labels again on B:", tissue.status.value)
    click(tissue.train_button)
    wait(lambda: tissue.status.value.startswith(("trained", "error")))
    say("train:", tissue.status.value)
    pump(0.5)
    viewer.screenshot(str(OUT / "h8_napari_tissue_two_images.png"), canvas_only=False)
    tissue.file.value = str(MODEL)
    click(tissue.save_button)
    say("save 1:", tissue.status.value)

    # the Ki67 tile under auto stains: H&E + H-DAB labels refused together, H-DAB alone trains an H-DAB model
    tissue.image.value = ki67
    pump(0.5)
    click(tissue.new_labels)
    lab_k = viewer.layers[f"{TRAIN_LABELS}: ki67_9011.tif"]
    paint_box(lab_k, slice(0, 60), slice(0, 200), tissue.label_of("tumour"))
    paint_box(lab_k, slice(300, 360), slice(300, 500), tissue.label_of("stroma"))
    tissue.status.value = ""
    click(tissue.train_button)
    wait(lambda: tissue.status.value.startswith(("trained", "error")))
    say("train with H&E + IHC labels, auto:", tissue.status.value)
    pump(0.5)
    viewer.screenshot(str(OUT / "h8_napari_tissue_ihc_auto.png"), canvas_only=False)
    for name in ("gen_9001.tif", "gen_9002.tif"):
        viewer.layers.remove(f"{TRAIN_LABELS}: {name}")
    tissue.status.value = ""
    click(tissue.train_button)
    wait(lambda: tissue.status.value.startswith(("trained", "error")))
    say("train IHC labels only, auto:", tissue.status.value, "| model stains", tissue.model.settings.get("stains"))
    click(tissue.save_button)
    say("save over the H&E model:", tissue.status.value)

    # Train cells docked under Train tissue, then Analyze
    cells = open_plugin_widget(viewer, "train_cells_widget")
    cells.image.value = ki67
    click(cells.new_points)
    points = viewer.layers.selection.active
    rgb = np.asarray(ki67.data[0] if ki67.multiscale else ki67.data)
    nuc = detect_nuclei(rgb, mpp=0.5)
    big = nuc.area_um2 >= 38.0
    for cls, sel in (("tumour", big), ("lymphocyte", ~big)):
        cells.cls.value = cls
        for r, c in zip(nuc.row[sel][:10], nuc.col[sel][:10], strict=True):
            points.add([r, c])
    click(cells.train_button)
    wait(lambda: cells.status.value.startswith(("trained", "error")))
    say("cells train:", cells.status.value)
    pump(0.5)
    label = cells.status.native
    say("cells status height", label.height(), "needs", label.heightForWidth(label.width()))
    viewer.screenshot(str(OUT / "h8_napari_cells_status.png"), canvas_only=False)
    click(cells.preview_button)
    wait(lambda: cells.status.value.startswith(("view", "error")))
    say("cells preview:", cells.status.value)
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.image.value = ki67
    analyze.region.value = "whole image"
    analyze.stains.value = "H-DAB"
    analyze.do_melanin.value = False
    analyze.do_necrosis.value = False
    analyze.run()
    wait(lambda: not analyze.controls.cancel_button.enabled and not (analyze.worker and analyze.worker.is_running))
    pump(0.5)
    say("after Analyze: preview visible", viewer.layers[CELL_PREVIEW].visible, "| cells status:", cells.status.value)
    viewer.screenshot(str(OUT / "h8_napari_analyze_cells.png"), canvas_only=False)
    viewer.close()
    say("done")


if __name__ == "__main__":
    main()
