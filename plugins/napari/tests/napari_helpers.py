"""Helpers shared by the napari plugin tests (not a test module)."""

from __future__ import annotations

from typing import Any


def wait_idle(qtbot: Any, widget: Any) -> None:
    """Wait until an analysis widget's threaded run has ended (finished, failed or cancelled)."""
    qtbot.waitUntil(
        lambda: (
            not widget.controls.cancel_button.enabled
            and (widget.worker is None or not widget.worker.is_running)
        ),
        timeout=240_000,
    )


def assert_keeps_lines(qtbot: Any, box: Any, lines: int) -> None:
    """A shown magicgui text box keeps room for ``lines`` lines of its font: its minimum height, and
    the height the layout gave it (the test screen's size decides how much room there is otherwise)."""
    qtbot.wait(300)
    native = box.native
    assert native.isVisible()
    need = lines * native.fontMetrics().lineSpacing()
    assert native.minimumHeight() >= need
    assert native.height() >= need


def button(widget: Any, text: str) -> Any:
    """The one widget of ``widget`` (searched through nested containers) whose text is ``text``."""
    found = []

    def walk(container: Any) -> None:
        for w in container:
            if getattr(w, "text", None) == text:
                found.append(w)
            if hasattr(w, "__iter__") and not isinstance(w, str):
                walk(w)

    walk(widget)
    assert len(found) == 1, text
    return found[0]


def open_plugin_widget(viewer: Any, name: str, plugin: str = "mmnst-path-napari") -> Any:
    """A widget opened as from Plugins > mmnst_path > ``name`` (its command in napari's app model); the dock widget
    it added."""
    from napari._app_model import get_app_model

    before = set(viewer.window.dock_widgets)
    get_app_model().commands.execute_command(f"{plugin}.{name}").result()
    (new,) = set(viewer.window.dock_widgets) - before
    return viewer.window.dock_widgets[new]
