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


def ki67_tile(path: Any, *, mark: bool = False) -> Any:
    """A 192² crop of the sample Ki67 tile written at ``path`` (0.5 µm/px in its tags), its folders made; ``mark``
    whitens an 8² corner: other bytes, same size (another image)."""
    from pathlib import Path

    import numpy as np
    import tifffile

    samples = Path(__file__).resolve().parents[3] / "sample_tiles"
    rgb = np.ascontiguousarray(tifffile.imread(samples / "ki67_primary.tif")[:192, :192])
    if mark:
        rgb[:8, :8] = 255
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return path


def nuclei_of(viewer: Any) -> list[Any]:
    """The viewer's nuclei layers (read from a result or made by a run)."""
    return [lay for lay in viewer.layers if lay.metadata.get("mmnst_path", {}).get("kind") == "nuclei"]


def search_done(qtbot: Any, export: Any) -> Any:
    """``export`` once its search for an image's results has ended (the image is read in a worker thread)."""
    qtbot.waitUntil(lambda: export.find_worker is None, timeout=30_000)
    return export
