"""Session 37 H12: Train tissue's class legend with Train cells docked beside it (N2), measured and pictured.

    PYTHONPATH=.:plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" python \
        benchmarks/experiments/napari_legend_s37.py OUT.png [ORDER] [HEIGHT]

ORDER is ``tissue-first`` (default: Train tissue, then Train cells docked under it, as H7's walk had them) or
``cells-first``. Both widgets are opened through the Plugins menu commands in a 1920 x HEIGHT window (default 1200);
Train tissue's status gets a three-line save message and its results box a preview table (what a session leaves);
prints the legend's visible height against the height its rows need and saves a screenshot of the window.
"""

import sys
import time

import napari
import npe2
from mmnst_path_napari._widgets import TrainCellsWidget, TrainTissueWidget
from napari._app_model import get_app_model
from qtpy.QtWidgets import QApplication


def pump(sec: float) -> None:
    t = time.time()
    while time.time() - t < sec:
        QApplication.processEvents()
        time.sleep(0.02)


out = sys.argv[1]
order = sys.argv[2] if len(sys.argv) > 2 else "tissue-first"
height = int(sys.argv[3]) if len(sys.argv) > 3 else 1200
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1920, height)
manifest = npe2.PluginManager.instance().get_manifest("mmnst-path-napari")
commands = {w.display_name: w.command for w in manifest.contributions.widgets or ()}
names = ["Train tissue", "Train cells"] if order == "tissue-first" else ["Train cells", "Train tissue"]
widgets = {}
for name in names:
    before = set(viewer.window.dock_widgets)
    get_app_model().commands.execute_command(commands[name]).result()
    pump(0.3)
    (new,) = set(viewer.window.dock_widgets) - before
    widgets[name] = viewer.window.dock_widgets[new]
tissue = widgets["Train tissue"]
assert isinstance(tissue, TrainTissueWidget)
assert isinstance(widgets["Train cells"], TrainCellsWidget)
tissue.status.value = ("saved /tmp/s37_h7/nap/final/my_tissue.mmnst (sha256:10fe8d133e474592); use it with "
                       "--tissue-model /tmp/s37_h7/nap/final/my_tissue.mmnst")
tissue.results.value = ("previewed region:\nclass       mm²   % classed\nnecrosis  0.1087  41.5 %\n"
                        "stroma    0.0316  12.1 %\ntumour    0.1215  46.4 %")
widgets["Train cells"].status.value = ("saved /tmp/s37_h7/nap/final/my_cells.mmnst (sha256:b23df5f579298909); "
                                       "use it with --cell-model /tmp/s37_h7/nap/final/my_cells.mmnst")
pump(1.5)
legend = tissue.legend.native
need = legend.sizeHint().height()
shown = legend.visibleRegion().boundingRect().height()
rows = len(tissue.classes)
print(f"window {viewer.window._qt_window.height()} px; legend: {rows} rows need {need} px, {legend.height()} px "
      f"given, {shown} px visible; {'WHOLE' if shown >= need else 'CLIPPED'}")
viewer.window._qt_window.grab().save(out)
viewer.close()
