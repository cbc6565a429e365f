"""Docks stacked on a 1920 x 1200 screen (session 43 H6): each dock's minimum height, the window's, a screenshot.

Run from a tree's root under xvfb (the tree's own plugin on PYTHONPATH):
    PYTHONPATH=$PWD:$PWD/plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" python \
        benchmarks/experiments/napari_docks_1200_s43.py OUT.png "Analyze,Train tissue,Train cells" [--use]
(``--use``: a Ki67 tile opened and analysed, training labels and points made first).
Prints one line per dock (its minimum height) and the window's minimum height against the 1200-line screen.
"""

from __future__ import annotations

import sys

import napari
import npe2
from napari._app_model import get_app_model
from qtpy.QtWidgets import QApplication


def _use(viewer, app, widgets) -> None:  # type: ignore[no-untyped-def]
    """The docks as in use (session 42 H8's walk): a Ki67 tile open and analysed, training labels and points made."""
    import time
    from pathlib import Path

    import numpy as np
    import tifffile

    tif = Path("/tmp/s43_h6/docks_ki67.tif")
    rgb = np.ascontiguousarray(tifffile.imread(Path("sample_tiles/ki67_primary.tif"))[:384, :384])
    tifffile.imwrite(tif, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    viewer.open(str(tif), plugin="mmnst-path-napari")
    for _ in range(20):
        app.processEvents()
    if "Analyze" in widgets:
        w = widgets["Analyze"]
        w.region.value = "whole image"
        w.run()
        t0 = time.time()
        while w.result is None and not w.controls.status.value.startswith("error") and time.time() - t0 < 300:
            app.processEvents()
            time.sleep(0.05)
    if "Train tissue" in widgets:
        widgets["Train tissue"].live.value = False
        widgets["Train tissue"].new_labels.changed.emit(True)
        widgets["Train tissue"].train_button.changed.emit(True)  # nothing painted: the status says so
    if "Train cells" in widgets:
        widgets["Train cells"].new_points.changed.emit(True)
    for _ in range(100):
        app.processEvents()
        time.sleep(0.02)


def main(out: str, names: list[str], use: bool = False) -> int:
    viewer = napari.Viewer(show=True)
    manifest = npe2.PluginManager.instance().get_manifest("mmnst-path-napari")
    commands = {w.display_name: w.command for w in manifest.contributions.widgets or ()}
    window = viewer.window._qt_window
    docks = {}
    for name in names:
        before = set(viewer.window.dock_widgets)
        get_app_model().commands.execute_command(commands[name]).result()
        (new,) = set(viewer.window.dock_widgets) - before
        docks[name] = new
    app = QApplication.instance()
    for _ in range(20):
        app.processEvents()
    if use:
        _use(viewer, app, {name: viewer.window.dock_widgets[docks[name]] for name in names})
    screen = app.primaryScreen().availableGeometry()
    window.resize(screen.width(), screen.height())
    for _ in range(40):
        app.processEvents()
    window.resize(screen.width(), screen.height())  # again, once the docks' minimums followed the first one
    for _ in range(40):
        app.processEvents()
    for name in names:
        dock = viewer.window.dock_widgets[docks[name]]
        qdock = dock.native.parentWidget()
        while qdock is not None and not qdock.inherits("QDockWidget"):
            qdock = qdock.parentWidget()
        parts = ", ".join(f"{type(w).__name__} {w.minimumSizeHint().height()}/{w.minimumHeight()}"
                          for w in dock.native.children() if hasattr(w, "minimumSizeHint") and w.isVisible())
        if "--debug" in sys.argv:
            w = qdock.widget()
            print("constraint", qdock.layout().sizeConstraint(), w.layout().sizeConstraint(), qdock.minimumHeight())
            qdock.layout().invalidate()
            qdock.layout().activate()
            print("after invalidate", qdock.minimumHeight(), qdock.minimumSizeHint().height())
            print(name, "widget", type(w).__name__, w.minimumSizeHint().height(), w.minimumHeight(),
                  "native", dock.native.minimumSizeHint().height(), dock.native.minimumHeight(),
                  "title", qdock.titleBarWidget().sizeHint().height() if qdock.titleBarWidget() else None,
                  "hint", w.sizeHint().height(), w is dock.native, w.sizePolicy().verticalPolicy(),
                  "layout min", qdock.layout().minimumSize().height(), qdock.minimumHeight(),
                  [(type(c).__name__, c.minimumSizeHint().height(), c.sizeHint().height()) for c in qdock.children()
                   if hasattr(c, "sizeHint") and hasattr(c, "isVisible") and c.isVisible()])
        print(f"{name}: dock minimum {qdock.minimumSizeHint().height()} px, shown {qdock.height()} px ({parts})")
    need = window.minimumSizeHint().height()
    print(f"window minimum {need} px, window {window.height()} px, screen {screen.height()} px: "
          f"{'fits' if need <= screen.height() else 'too tall'}")
    window.grab().save(out)
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], [n.strip() for n in sys.argv[2].split(",")], use="--use" in sys.argv[3:]))
