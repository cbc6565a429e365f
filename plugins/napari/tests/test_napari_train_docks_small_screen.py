"""Both Train docks on a laptop screen (session 38 H5): Train tissue's form was 664 px tall with no scroll
area, and with Train cells docked below it napari's window could not be smaller than 960 px, past the
bottom of a 1280 x 800 or 1366 x 768 screen (Train cells' own buttons and status below the screen).
Train tissue's settings now scroll as Train cells' and Analyze's do; its status and classes table stay
in view below them.

Mutation caught: Train tissue without the scroll area (the window's minimum height is 960 px again).
"""

from __future__ import annotations

import npe2
import pytest
from napari._app_model import get_app_model

pytestmark = pytest.mark.napari


def _open_from_the_plugins_menu(viewer, qtbot, names):  # type: ignore[no-untyped-def]
    manifest = npe2.PluginManager.instance().get_manifest("mmnst-path-napari")
    commands = {w.display_name: w.command for w in manifest.contributions.widgets or ()}
    opened = {}
    for name in names:
        before = set(viewer.window.dock_widgets)
        get_app_model().commands.execute_command(commands[name]).result()
        (new,) = set(viewer.window.dock_widgets) - before
        opened[name] = viewer.window.dock_widgets[new]
        qtbot.wait(200)
    return opened


@pytest.mark.parametrize("screen", [(1280, 800), (1366, 768)])
def test_both_train_docks_fit_a_laptop_screen_and_every_control_is_reachable(make_napari_viewer, qtbot, screen):
    width, height = screen
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    opened = _open_from_the_plugins_menu(viewer, qtbot, ("Train tissue", "Train cells"))
    window.resize(width, height)
    qtbot.wait(500)
    assert window.minimumSizeHint().height() <= height
    assert window.height() == height  # the window took the screen's height, not its own minimum
    tissue, cells = opened["Train tissue"], opened["Train cells"]
    legend = tissue.legend.native  # the values to paint show whole, without scrolling
    assert legend.visibleRegion().boundingRect().height() >= legend.sizeHint().height()
    for widget, last in ((tissue, tissue.load_button), (cells, cells.load_button)):
        status = widget.status.native
        assert status.isVisible()
        bottom = status.mapTo(window, status.rect().bottomLeft()).y()
        assert bottom <= window.height()  # the status line is on the screen
        area = widget.form.native.parentWidget().parentWidget()  # the form's scroll area (viewport's parent)
        area.ensureWidgetVisible(last.native)  # a scroll down reaches the last button
        qtbot.wait(100)
        assert not last.native.visibleRegion().isEmpty()
