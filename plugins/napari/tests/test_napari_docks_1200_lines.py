"""Three docks stacked on a 1920 x 1200 screen (session 42 H8's leftover, session 43 H6).

Each dock's minimum height was the sum of its parts (the scrolled settings, a status held whole, a results box,
Analyze's colour key): after a run, Analyze + Train tissue + Train cells needed a 1285 px window and Analyze + Review
+ Export 1308 px, so the window ran past the bottom of a 1200-line screen (1414 px in session 42 H8's walk). Each
dock now scrolls as a whole past its share of the screen: the window fits, and every control and status line is
reached by scrolling.

Mutation caught: a dock without the whole-dock scroll area (the window's minimum is over 1200 px again).
"""

from __future__ import annotations

import pytest
from napari_helpers import ki67_tile, open_plugin_widget, wait_idle

pytestmark = pytest.mark.napari

SCREEN = (1920, 1200)


def _leaves(container):  # type: ignore[no-untyped-def]
    """The shown controls and lines of a magicgui container (through nested containers)."""
    out = []
    for w in container:
        if hasattr(w, "__iter__") and not isinstance(w, str):
            out.extend(_leaves(w))
        elif w.native.isVisibleTo(container.native):
            out.append(w)
    return out


def _reached(qtbot, native) -> bool:  # type: ignore[no-untyped-def]
    """Scroll every scroll area holding ``native`` (innermost first) to show it; True when some of it shows."""
    from qtpy.QtWidgets import QScrollArea

    parent = native.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            parent.ensureWidgetVisible(native)
        parent = parent.parentWidget()
    qtbot.wait(20)
    return not native.visibleRegion().isEmpty()


@pytest.mark.parametrize("names", [("analyze_widget", "train_tissue_widget", "train_cells_widget"),
                                   ("analyze_widget", "review_widget", "export_widget")])
def test_three_docks_fit_a_1200_line_screen_and_every_control_is_reached(make_napari_viewer, qtbot, tmp_path, names):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    viewer.open(str(ki67_tile(tmp_path / "ki67.tif")), plugin="mmnst-path-napari")
    docks = {name: open_plugin_widget(viewer, name) for name in names}
    analyze = docks["analyze_widget"]
    analyze.region.value = "whole image"
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    assert analyze.result is not None, analyze.controls.status.value
    if "train_tissue_widget" in docks:  # as in use: labels made, a status line of two lines
        docks["train_tissue_widget"].live.value = False
        docks["train_tissue_widget"].new_labels.changed.emit(True)
        docks["train_tissue_widget"].train_button.changed.emit(True)
        docks["train_cells_widget"].new_points.changed.emit(True)
    for _ in range(2):  # once the docks' minimums followed the first size
        window.resize(*SCREEN)
        qtbot.wait(300)
    assert window.minimumSizeHint().height() <= SCREEN[1]
    assert window.height() <= SCREEN[1]
    for name, widget in docks.items():
        form = getattr(widget, "form", None)  # the scrolled settings (Analyze's, the Train docks': not in the list)
        shown = _leaves(widget) + (_leaves(form) if form is not None and form not in list(widget) else [])
        assert len(shown) > 5, name
        missed = [getattr(w, "label", "") or getattr(w, "text", "") or type(w).__name__ for w in shown
                  if not _reached(qtbot, w.native)]
        assert not missed, (name, missed)
