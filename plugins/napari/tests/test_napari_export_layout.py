"""Export docked under Review in a laptop-sized window: the status line (the one sign a save, an export or an
import worked) stays in view, the form above it scrolls, and the reviewer box says what it is for."""

from __future__ import annotations

from napari_helpers import button, open_plugin_widget


def test_the_export_status_stays_in_view_under_review(make_napari_viewer, qtbot):
    from qtpy.QtCore import QPoint
    from qtpy.QtWidgets import QScrollArea

    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1600, 1000)
    open_plugin_widget(viewer, "review_widget")
    widget = open_plugin_widget(viewer, "export_widget")
    qtbot.wait(300)
    status = widget.status
    status.value = ("review saved in gen_ki67_pigment: Ki67 21.2 % (1283 / 6053); melanin 9.91 % of tissue "
                    "(measured 9.10 %; 12 whole 16 µm blocks changed); mmnst-path report /tmp/results rebuilds "
                    "the report")  # fmt: skip
    qtbot.wait(300)
    native = status.native
    assert native.isVisible()
    bottom = native.mapTo(window, QPoint(0, native.height())).y()
    central_bottom = window.height() - window.statusBar().height()
    assert bottom <= central_bottom, (bottom, central_bottom)
    # the status's four wrapped lines whole: its top below the scrolled form (it overlapped the first line)
    assert native.height() >= native.heightForWidth(native.width())
    # every button of the form is still reachable: the form sits in a scroll area (not cut at the window's edge)
    save = button(widget, "save review to result folder")
    parent = save.native.parent()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parent()
    assert parent is not None
    area_bottom = parent.mapTo(window, QPoint(0, parent.height())).y()
    assert native.mapTo(window, QPoint(0, 0)).y() >= area_bottom
    assert widget.reviewer.label == "reviewer"
    assert widget.reviewer.native.placeholderText()
