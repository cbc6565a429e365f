"""Screenshots of the napari Train widgets after session 40 H6's fixes (D5, D6, D8 of H3's walk).

Run from the repository root under Xvfb::

    PYTHONPATH=$PWD:$PWD/plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" \
        python benchmarks/experiments/napari_train_fixes_shots_s40.py OUT_DIR

It replays H3's steps on the same real tiles (read in place): an osteosarcoma JPEG without a pixel size in
Train tissue (the box, the status line, the µm/px entered and followed by Analyze, the live preview); the
stale-preview replay (everything deleted while a live job runs, then an IHC PNG opened); Train cells with
40 clicks 0.4 s apart and "retrain and preview after each click" on. Prints what each step left.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "napari" / "tests"))

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TRAIN = Path(__file__).resolve().parents[3] / "shared" / "train"
OSTEO = DATA / "necrosis" / "Non-Viable-Tumor___Case-3-A12-19907-12559_113.jpg"
ER = TRAIN / "endonuke" / "staining_ds" / "20-3479-1_ER_1_x_20522_y_32356_w_395_h_395.png"
PLUGIN = "mmnst-path-napari"


def main(out: Path) -> None:
    import napari
    from napari_helpers import open_plugin_widget
    from qtpy.QtWidgets import QApplication

    def wait(cond, timeout: float) -> bool:
        t0 = time.time()
        while time.time() - t0 < timeout:
            QApplication.processEvents()
            if cond():
                return True
            time.sleep(0.05)
        return False

    def shot(viewer, name: str) -> None:
        wait(lambda: False, 1.0)
        viewer.screenshot(str(out / name), canvas_only=False)
        print("wrote", out / name)

    out.mkdir(parents=True, exist_ok=True)
    # 1. Train tissue on a JPEG without a pixel size, then the µm/px entered, Analyze following it
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1900, 1150)
    (image,) = viewer.open(str(OSTEO), plugin=PLUGIN)
    tw = open_plugin_widget(viewer, "train_tissue_widget")
    tw.new_labels.changed.emit(True)
    print("D6 new training labels, no µm/px:", repr(tw.status.value), "| layers", [lay.name for lay in viewer.layers])
    tw.new_class.value = ""
    tw.add_class_button.changed.emit(True)
    print("D6 add class, empty name:", repr(tw.status.value))
    viewer.reset_view()
    shot(viewer, "h6_tissue_no_mpp.png")
    tw.mpp.value = 1.0
    an = open_plugin_widget(viewer, "analyze_widget")
    print("D6 Analyze's box after 1.0 typed in Train tissue:", an.mpp.value, "|", an.mpp_info.value)
    tw.new_labels.changed.emit(True)
    lab = viewer.layers["tissue training"]
    print("D6 labels:", lab.data.shape, "scale", tuple(lab.scale), "units", [str(u) for u in lab.units],
          "| image scale", tuple(image.scale))

    def stroke(v: int, r0: int, r1: int, c0: int, c1: int) -> None:
        rr, cc = np.mgrid[r0:r1, c0:c1]
        lab.data_setitem((rr.ravel(), cc.ravel()), np.full(rr.size, v, np.uint8))

    stroke(tw.label_of("necrosis"), 100, 900, 40, 360)
    stroke(tw.label_of("stroma"), 100, 900, 560, 760)
    ok = wait(lambda: "tissue preview" in viewer.layers and tw.live_worker is not None
              and not tw.live_worker.is_running, 180)  # fmt: skip
    print("D6 live preview at the entered µm/px:", ok, repr(tw.status.value))
    print(tw.results.value)
    shot(viewer, "h6_tissue_entered_mpp_live.png")

    # 2. D5: a live job running when everything is deleted; then an IHC PNG opened
    stroke(tw.label_of("tumour"), 900, 1000, 40, 360)
    print("D5 live job running:", wait(lambda: tw.live_worker is not None and tw.live_worker.is_running, 10))
    for lay in list(viewer.layers):
        viewer.layers.remove(lay)
    (b,) = viewer.open(str(ER), plugin=PLUGIN)
    b.scale, b.units = (0.5, 0.5), ("µm", "µm")
    wait(lambda: False, 15)
    print("D5 layers 15 s after opening image B:", [lay.name for lay in viewer.layers])
    print("D5 status:", repr(tw.status.value), "| results:", repr(tw.results.value))
    viewer.reset_view()
    shot(viewer, "h6_stale_preview_dropped.png")
    viewer.close()

    # 3. D8: Train cells, 40 clicks 0.4 s apart with live retraining
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1900, 1150)
    viewer.open(str(ER), plugin=PLUGIN)
    cw = open_plugin_widget(viewer, "train_cells_widget")
    print("D6 Train cells on the PNG:", repr(cw.status.value))
    cw.mpp.value = 0.5
    cw.new_points.changed.emit(True)
    pts = viewer.layers["cell training"]
    cw.live.value = True
    truth = np.loadtxt(ER.with_suffix(".txt"), ndmin=2)
    names = {0: "stromal", 1: "tumour"}
    sel = [r for r in truth if int(r[2]) in names][:40]
    for x, y, k in sel:
        cw.cls.value = names[int(k)]
        pts.add([y, x])
        wait(lambda: False, 0.4)
    wait(lambda: not cw._busy, 120)
    wait(lambda: False, 2)
    wait(lambda: not cw._busy, 120)
    print("D8 clicks on the layer:", len(pts.data), "| status:", cw.status.value)
    shot(viewer, "h6_cells_live_all_clicks.png")
    viewer.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/h6_shots"))
