"""Train tissue's class legend stays whole with Train cells docked beside it (session 37, N2): the status wrapped
to five lines after a save took its extra height from the legend, which showed 6 of its 10 classes in a
1920 x 1200 window (keratin, melanin, ... : the values to paint them were gone)."""

from __future__ import annotations

import npe2
import pytest
from mmnst_path_napari._widgets import TrainCellsWidget, TrainTissueWidget
from napari._app_model import get_app_model

pytestmark = pytest.mark.napari

SAVED = ("saved /tmp/some/folder/final/my_tissue.mmnst (sha256:10fe8d133e474592); use it with --tissue-model "
         "/tmp/some/folder/final/my_tissue.mmnst")
PREVIEW = "previewed region:\nclass  mm²  % classed\nnecrosis  0.1087  41.5 %\nstroma  0.0316  12.1 %"


def _open(viewer, qtbot, names):
    manifest = npe2.PluginManager.instance().get_manifest("mmnst-path-napari")
    commands = {w.display_name: w.command for w in manifest.contributions.widgets or ()}
    opened = {}
    for name in names:  # the Plugins menu entry's command, what a click runs
        before = set(viewer.window.dock_widgets)
        get_app_model().commands.execute_command(commands[name]).result()
        (new,) = set(viewer.window.dock_widgets) - before
        opened[name] = viewer.window.dock_widgets[new]
        qtbot.wait(300)  # docked and laid out, as a user's second click finds it
    return opened


def _visible(label) -> int:
    return label.visibleRegion().boundingRect().height()


@pytest.mark.parametrize("order", [("Train tissue", "Train cells"), ("Train cells", "Train tissue")])
def test_the_legend_shows_every_class_with_both_train_widgets_docked(make_napari_viewer, qtbot, order):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1920, 1200)
    opened = _open(viewer, qtbot, order)
    tissue, cells = opened["Train tissue"], opened["Train cells"]
    assert isinstance(tissue, TrainTissueWidget)
    assert isinstance(cells, TrainCellsWidget)
    tissue.status.value = SAVED
    tissue.results.value = PREVIEW
    cells.status.value = SAVED.replace("tissue", "cells")
    qtbot.wait(500)
    legend = tissue.legend.native
    rows = len(tissue.classes)
    assert rows == 10  # the H&E default model's 8 classes, keratin and melanin
    assert legend.sizeHint().height() >= rows * legend.fontMetrics().lineSpacing()
    assert legend.height() >= legend.sizeHint().height()
    assert _visible(legend) >= legend.sizeHint().height()
    # and the wrapped status is whole too (its lines are not taken from the rows below it either)
    status = tissue.status.native
    assert status.height() >= status.heightForWidth(status.width())
    # a shorter status gives the height back (the minimum follows the text, it does not only grow)
    tall = tissue.native.minimumHeight()
    tissue.status.value = "trained"
    qtbot.wait(300)
    assert tissue.native.minimumHeight() < tall
    assert _visible(legend) >= legend.sizeHint().height()
