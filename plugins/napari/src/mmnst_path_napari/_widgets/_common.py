"""Helpers shared by the widgets: layer choices, the library reader behind a layer, view boxes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, Label, ProgressBar, PushButton

if TYPE_CHECKING:
    import napari

__all__ = [
    "CELL_PREVIEW_KIND",
    "PANEL_LINES",
    "Cancelled",
    "RunControls",
    "add_or_replace",
    "image_bounds",
    "keep_lines",
    "keep_top_rows",
    "layer_mpp",
    "layer_reader",
    "model_file",
    "notice_label",
    "nuclei_layers",
    "rgb_image_layers",
    "scroll_area",
    "shown_when_set",
    "view_box",
]


#: lines of text a results panel keeps room for (it shrank to 3-4; 12 made Analyze + Review docked 1540 px
#: tall in session 34's shots, on a 1200-line screen: with 5 and Analyze's scrolled settings, 1130 px)
PANEL_LINES = 5


def keep_lines(box: Any, lines: int = PANEL_LINES) -> None:
    """Give a magicgui text box a minimum height of ``lines`` lines of its font (plus its frame)."""
    native = box.native
    # one line spare: the font napari's style sheet sets once shown can be a pixel taller per line
    native.setMinimumHeight((lines + 1) * native.fontMetrics().lineSpacing() + 2 * native.frameWidth())


#: style of a panel's warning line (what the user must act on; the results box keeps the figures)
NOTICE_STYLE = "color: #ff7a45; font-weight: bold"


def wrap_text(label: Label) -> Label:
    """Let a label's text wrap at the dock's width. magicgui gives a ``Label`` a fixed size policy, so the
    layout sized it by its unwrapped text however ``wordWrap`` was set: one long legend line ("necrosis
    fraction (hidden: tick its eye; ...)") widened the dock past a 1800 px window and cut its right edge."""
    from qtpy.QtWidgets import QSizePolicy

    label.native.setWordWrap(True)
    label.native.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    return label


class _ShownWhenSet(Label):
    """A label shown only while it says something (a magicgui ``Label`` emits no ``changed``: its value setter
    shows or hides it)."""

    @property
    def value(self) -> Any:
        return Label.value.fget(self)  # type: ignore[attr-defined]

    @value.setter
    def value(self, value: Any) -> None:
        Label.value.fset(self, value)  # type: ignore[attr-defined]
        self.visible = bool(str(value or "").strip())


def notice_label() -> Label:
    """An orange, word-wrapped warning line: the measures refused and the QC sentences, said once
    (the results box beside it keeps the figures, not these sentences again); shown only while it says
    something (empty, it took its dock's height for nothing: :func:`shown_when_set`)."""
    label = wrap_text(_ShownWhenSet(value=""))
    label.native.setStyleSheet(NOTICE_STYLE)
    label.visible = False
    return label


def shown_when_set(widget: Any) -> Any:
    """Show a magicgui text box only while it holds text, followed on every change: empty, it took its dock's height
    for nothing (Analyze's warning line, Train tissue's classes table before a preview: Analyze + Train tissue +
    Train pigment docked needed a 1285 px window on a 1200-line screen, session 44 H11)."""
    def follow(*_: Any) -> None:
        widget.visible = bool(widget.native.toPlainText().strip())

    widget.native.textChanged.connect(follow)  # (a value set by the code emits no magicgui ``changed``)
    follow()
    return widget


#: px a scrolled settings form keeps in view at least (about 5 rows)
SCROLL_MIN_PX = 160


def scroll_area(form: Any, min_px: int = SCROLL_MIN_PX) -> Any:
    """A frameless vertical ``QScrollArea`` around a form's Qt widget (napari docks a magicgui
    container's ``.native``, its inner widget, so ``Container(scrollable=True)`` does not scroll
    there): the dock then needs only ``min_px`` of the form's height, as wide as the form."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QFrame, QScrollArea

    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(form)
    area.setMinimumHeight(min_px)
    _track_width(area, form)
    return area


#: ``metadata["mmnst_path"]["kind"]`` of Train cells' preview of cell classes (not nuclei to review or export)
CELL_PREVIEW_KIND = "cell classes preview"


def keep_top_rows(area: Any, form: Any, rows: int) -> None:
    """Keep the scroll ``area``'s minimum height at the form's first ``rows`` rows, so they always show whole
    (Train tissue's class legend, the values to paint: with a status and a classes table below, docked above
    Train cells, the layout gave the area its 160 px minimum and the legend showed 3 of its 10 classes);
    followed whenever the form's layout asks for a new size (a class added makes the legend taller)."""
    def follow() -> None:
        layout = form.layout()
        count = min(rows, layout.count())
        need = layout.contentsMargins().top() + layout.spacing() * max(count - 1, 0)
        need += sum(layout.itemAt(i).sizeHint().height() for i in range(count)) + 2 * area.frameWidth()
        if need > area.minimumHeight() or need < area.minimumHeight() - 1:
            area.setMinimumHeight(max(need, SCROLL_MIN_PX))

    _on_layout_change(form, form, follow)  # the filter parented to the form: lives as long as it


def _track_width(area: Any, form: Any) -> None:
    """Keep the area's minimum width at least the form's minimum plus the scroll bar whenever the form's layout
    asks for a new size (a text grown later, or napari's style sheet applied once shown, widened the form
    past an area sized once: the form's right edge was cut, "necrosis (needs e")."""
    def follow() -> None:  # (grow only: a dock narrowing after each run moved the canvas under the user)
        need = form.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width()
        if need > area.minimumWidth():
            area.setMinimumWidth(need)

    _on_layout_change(form, area, follow)  # the filter parented to the area: lives as long as it


def hold_wrapped_lines(widget: Any) -> None:
    """Keep ``widget``'s minimum height at what its rows need at its width, wrapped lines included.

    Qt sizes a form's minimum from each row's one-line minimum, but lays a word-wrapped label out at its
    wrapped height: docked at that minimum (Train tissue above Train cells in a 1920 x 1200 window), a status
    wrapped to five lines took its extra 64 px from the other rows and the class legend showed 6 of its 10
    classes. Followed on every layout request and resize (the status changes, the dock narrows or widens).
    """
    from qtpy.QtCore import QEvent, QObject

    def hold() -> None:
        layout = widget.layout()
        if layout is None or not layout.hasHeightForWidth():
            return
        need = layout.minimumHeightForWidth(widget.width())
        if need != widget.minimumHeight():
            widget.setMinimumHeight(need)

    class Hold(QObject):
        def eventFilter(self, obj: Any, event: Any) -> bool:
            if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
                hold()
            return False

    widget.installEventFilter(Hold(widget))  # parented to the widget: lives as long as it
    hold()


class Cancelled(Exception):
    """Raised inside a worker (from a progress callback) when the user pressed Cancel."""


def model_file(path: Any) -> Path:
    """The ``.mmnst`` file chosen in a widget's file box, refused by name when none is chosen.

    An empty magicgui file box reads as the working folder: saved "with the suffix" it wrote the model
    next to that folder as ``<folder>.mmnst`` (Train tissue), and loaded it said the folder is not a file.
    """
    text = "" if path is None else str(path)
    if text in ("", ".") or Path(text).is_dir():
        msg = "model file: choose a .mmnst file first"
        raise ValueError(msg)
    return Path(text)


def rgb_image_layers(viewer: napari.Viewer) -> list[Any]:
    """RGB image layers of the viewer (the images the library can analyse)."""
    from napari.layers import Image

    return [lay for lay in viewer.layers if isinstance(lay, Image) and lay.rgb]


def nuclei_layers(viewer: napari.Viewer) -> list[Any]:
    """Points layers holding nuclei (a ``class`` feature), less Train cells' training points and preview (their
    ``class`` is a cell type: made while Review was docked, the training points became the nuclei it reviewed and
    its panel failed on their missing measurements, session 43 H6)."""
    from napari.layers import Points

    def trained(lay: Any) -> bool:
        meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        return isinstance(meta, dict) and (bool(meta.get("training")) or meta.get("kind") == CELL_PREVIEW_KIND)

    return [lay for lay in viewer.layers if isinstance(lay, Points) and "class" in lay.features and not trained(lay)]


def layer_choice(viewer: napari.Viewer, label: str, finder: Any, *, nullable: bool = False) -> ComboBox:
    """A combo box of layers (by name) refreshed whenever the viewer's layer list changes (``nullable``: None is
    a choice too)."""

    def choices(_widget: Any) -> list[tuple[str, Any]]:
        return [(lay.name, lay) for lay in finder(viewer)]

    box = ComboBox(label=label, choices=choices, nullable=nullable)
    for ev in (viewer.layers.events.inserted, viewer.layers.events.removed, viewer.layers.events.reordered):
        ev.connect(lambda *_: box.reset_choices())

    def follow_name(layer: Any) -> None:  # magicgui keeps a choice by its name: a renamed layer's entry went stale and
        layer.events.name.connect(lambda *_: box.reset_choices())  # choosing it snapped back (session 44 H11)

    for layer in viewer.layers:
        follow_name(layer)
    viewer.layers.events.inserted.connect(lambda event: follow_name(event.value))
    return box


def layer_mpp(layer: Any) -> float | None:
    """µm per level-0 pixel of an image layer: the library metadata, else a µm ``scale``."""
    meta = layer.metadata.get("mmnst_path", {}) if isinstance(layer.metadata, dict) else {}
    if meta.get("mpp"):
        return float(meta["mpp"])
    units = [str(u) for u in getattr(layer, "units", ())]
    if units and units[-1] in {"micrometer", "µm", "um", "micron"}:
        return float(layer.scale[-1])
    return None


def layer_reader(layer: Any, *, mpp: float | None) -> Any:
    """The library reader behind ``layer`` (the plugin's reader), or an ArrayReader of its pixels."""
    reader = layer.metadata.get("reader") if isinstance(layer.metadata, dict) else None
    if reader is not None:
        if reader.mpp is None and mpp is not None:
            from mmnst_path.io import ArrayReader

            if reader.level_count == 1:  # small image: give it the user's mpp
                return ArrayReader(np.asarray(reader.read_region(_full_box(reader.shape), 0)), mpp=mpp)
        return reader
    from mmnst_path.io import ArrayReader

    data = layer.data[0] if layer.multiscale else layer.data
    return ArrayReader(np.asarray(data), mpp=mpp)


def _full_box(shape: tuple[int, int]) -> Any:
    from mmnst_path.geometry import Box

    return Box(0, 0, int(shape[0]), int(shape[1]))


def image_bounds(layer: Any) -> tuple[int, int]:
    """Level-0 (rows, cols) of an image layer."""
    data = layer.data[0] if layer.multiscale else layer.data
    return int(data.shape[0]), int(data.shape[1])


def view_box(viewer: napari.Viewer, layer: Any) -> Any:
    """Level-0 :class:`~mmnst_path.geometry.Box` of ``layer`` visible on the canvas (clipped)."""
    from mmnst_path.geometry import Box

    scene = getattr(viewer, "scene", None)  # napari >= 0.9 (viewer.camera is deprecated there)
    camera = scene.camera if scene is not None else viewer.camera
    center = np.asarray(camera.center, dtype=np.float64)[-2:]
    zoom = float(camera.zoom)
    h, w = viewer.canvas.size
    half = np.array([h, w], dtype=np.float64) / (2 * zoom)
    corners_world = [center - half, center + half]
    corners = [np.asarray(layer.world_to_data(_pad(c, viewer.dims.ndim)))[-2:] for c in corners_world]
    lo = np.minimum(corners[0], corners[1])
    hi = np.maximum(corners[0], corners[1])
    rows, cols = image_bounds(layer)
    r0, c0 = max(0, math.floor(lo[0] + 0.5)), max(0, math.floor(lo[1] + 0.5))
    r1, c1 = min(rows, math.ceil(hi[0] + 0.5)), min(cols, math.ceil(hi[1] + 0.5))
    return Box(r0, c0, max(0, r1 - r0), max(0, c1 - c0))


def _pad(point: np.ndarray, ndim: int) -> np.ndarray:
    return np.concatenate([np.zeros(max(0, ndim - len(point))), point])


def add_or_replace(viewer: napari.Viewer, layer_data: tuple[Any, dict[str, Any], str]) -> Any:
    """Add a layer data tuple, replacing the data of an existing layer of the same name and kind."""
    from napari.layers import Layer

    data, kwargs, kind = layer_data
    name = kwargs.get("name")
    # ``__class__``, not ``type()``: a widget opened from the Plugins menu sees its layers through
    # napari's public-only proxy, whose type() is the proxy's
    if name in viewer.layers and viewer.layers[name].__class__.__name__.lower() == kind:
        viewer.layers.remove(viewer.layers[name])  # re-adding keeps every kwarg (scale, colours)
    return viewer.add_layer(Layer.create(data, kwargs, kind))


class RunControls(Container):
    """Run / Cancel buttons, a progress bar and a status line."""

    def __init__(self, run_text: str = "Run") -> None:
        self.run_button = PushButton(text=run_text)
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.progress = ProgressBar(value=0, min=0, max=100, label="progress")
        self.status = Label(value="")
        buttons = Container(widgets=[self.run_button, self.cancel_button], layout="horizontal", labels=False)
        super().__init__(widgets=[buttons, self.progress, self.status], labels=False)
        for box in (self, buttons):  # nested: the dock's own margins frame them (36 px of a dock's height given back)
            box.margins = (0, 0, 0, 0)

    def busy(self, flag: bool) -> None:
        self.run_button.enabled = not flag
        self.cancel_button.enabled = flag


def start_worker(compute: Any, show: Any, status: Any, on_finished: Any = None) -> Any:
    """Run ``compute()`` on a napari worker thread, then ``show(result)`` in the GUI thread; an
    error goes to the ``status`` label as one line; ``on_finished()`` runs after either."""
    from napari.qt.threading import create_worker

    worker = create_worker(compute, _start_thread=False, _ignore_errors=True)
    worker.returned.connect(show)
    worker.errored.connect(lambda exc: setattr(status, "value", f"error: {exc}"))
    if on_finished is not None:
        worker.finished.connect(on_finished)
    status.value = "working..."
    worker.start()
    return worker


def _on_layout_change(form: Any, parent: Any, follow: Any) -> None:
    """Call ``follow`` now and whenever ``form``'s layout asks for a new size or its style changes (an event
    filter owned by ``parent``)."""
    from qtpy.QtCore import QEvent, QObject

    class Follow(QObject):
        def eventFilter(self, obj: Any, event: Any) -> bool:
            if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.StyleChange):
                follow()
            return False

    form.installEventFilter(Follow(parent))
    follow()
