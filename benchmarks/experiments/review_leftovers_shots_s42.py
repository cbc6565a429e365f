"""Screenshots of session 42 H4's review fixes (napari under Xvfb), the way a pathologist works.

The README job's he_melanin.tif opened alone beside two copies of its result folder (``results/``, ``results_2/``,
the second older): Export (Plugins menu) reads the image in a worker (the read held part-way for the first shot),
opens the newest result; Review paints melanin corrections and a class-map stroke (the line gives the reviewed
melanin of tumour); Export saves the review; *open result* of the other folder closes the corrections.

Run: ``xvfb-run -a -s "-screen 0 1920x1200x24" python benchmarks/experiments/review_leftovers_shots_s42.py JOB OUT``
(JOB: a ``mmnst-path quantify sample_tiles --out JOB`` folder; OUT: where the pictures go).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np


def main(job: Path, out: Path) -> None:
    import napari
    from mmnst_path_napari import _result_find
    from napari._app_model import get_app_model
    from qtpy.QtWidgets import QApplication

    work = out / "he_shots"
    shutil.rmtree(work, ignore_errors=True)
    (work / "results").mkdir(parents=True)
    image = work / "he_melanin.tif"
    shutil.copy(Path(__file__).resolve().parents[2] / "sample_tiles" / "he_melanin.tif", image)
    shutil.copytree(job / "he_melanin", work / "results" / "he_melanin")
    shutil.copytree(job / "he_melanin", work / "results_2" / "he_melanin")
    old = work / "results_2" / "he_melanin" / "result.json"
    os.utime(old, (time.time() - 3600, time.time() - 3600))

    # a slow disk: 32 kB pieces, the read held after 5 of them until the first shot is taken
    hold, pieces = threading.Event(), []
    real = hashlib.sha256

    class Slow:
        def __init__(self, *a: bytes) -> None:
            self._h = real(*a)

        def update(self, data: bytes) -> None:
            pieces.append(threading.current_thread().name)
            if len(pieces) > 5:
                hold.wait(30)
            time.sleep(0.02)
            self._h.update(data)

        def hexdigest(self) -> str:
            return self._h.hexdigest()

    viewer = napari.Viewer(show=True)
    app = QApplication.instance()
    viewer.window._qt_window.resize(1700, 1150)
    viewer.open(str(image), plugin="mmnst-path-napari")
    _result_find.sha256_pieces = functools.partial(_result_find.sha256_pieces, block=1 << 15)
    hashlib.sha256 = Slow  # type: ignore[misc]

    def dock(name: str):  # as Plugins > mmnst_path > name
        before = set(viewer.window.dock_widgets)
        get_app_model().commands.execute_command(f"mmnst-path-napari.{name}").result()
        (new,) = set(viewer.window.dock_widgets) - before
        return viewer.window.dock_widgets[new]

    export = dock("export_widget")
    t0 = time.time()
    while len(pieces) < 6 and time.time() - t0 < 20:
        app.processEvents()
        time.sleep(0.02)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    print("reading:", export.status.value, export.find_progress.value, "threads", set(pieces))
    viewer.screenshot(str(out / "h4_read_in_worker.png"), canvas_only=False)
    hold.set()
    while export.find_worker is not None and time.time() - t0 < 60:
        app.processEvents()
        time.sleep(0.02)
    hashlib.sha256 = real  # type: ignore[misc]
    print("found:", export.status.value)

    review = dock("review_widget")
    btn = next(w for w in _walk(review) if getattr(w, "text", None) == "paint melanin corrections")
    btn.changed.emit(True)
    layer = viewer.layers["melanin corrections"]
    data = np.array(layer.data, copy=True)
    data[16:20, 4:8] = 1  # tumour blocks with little melanin made melanin
    data[2:4, 2:6] = 2  # a row of blocks made no melanin
    layer.data = data
    classes = viewer.layers["tissue classes"]
    lab = np.array(classes.data, copy=True)
    lab[4:8, 20:24] = 2  # layer value 2 = class 1, stroma: tumour blocks with much melanin
    classes.data = lab
    classes.events.paint(value=[])
    export.reviewer.value = "Dr T"
    export.save_review()
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    print("review line:", review.melanin_line.value)
    print("saved:", export.status.value)
    viewer.screenshot(str(out / "h4_tumour_melanin_line.png"), canvas_only=False)
    data[0:2, 28:32] = 1  # painted after the save: not saved
    layer.data = data
    export.found.value = str(old.parent)
    export.open_found.changed.emit(True)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    print("other opened:", export.status.value)
    print("review line:", review.melanin_line.value)
    print("layers:", [lay.name for lay in viewer.layers])
    viewer.screenshot(str(out / "h4_corrections_closed.png"), canvas_only=False)
    viewer.close()


def _walk(container):  # type: ignore[no-untyped-def]
    for w in container:
        yield w
        if hasattr(w, "__iter__") and not isinstance(w, str):
            yield from _walk(w)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
