"""One "image µm/px" for an image without a pixel size, shared by Analyze, Train tissue and Train cells.

A JPEG or PNG tile has no pixel size; the user enters it in a widget's ``image µm/px`` box. The value is kept
on the image layer (``metadata["mmnst_path"]["entered_mpp"]``), so the other widgets' boxes follow it: a tile
whose µm/px was entered in Analyze is ready to train on (session 40 H3's walk, D6: Train tissue had no box and
Analyze's value did not reach it). An image whose file gives its pixel size (the layer's µm scale) keeps it; the
box then shows it, greyed. The layer's placement is never changed: the layers a widget adds over such an image
stay in its pixel coordinates (the µm/px is used for the measurements, not for the display).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from magicgui.widgets import ComboBox, FloatSpinBox

from ._common import layer_mpp

if TYPE_CHECKING:
    from collections.abc import Callable

    import napari

__all__ = ["MPP_HINT", "entered_mpp", "image_mpp", "link_mpp_box", "mpp_box", "set_entered_mpp", "unknown_mpp_words"]

#: where the entered value is kept, under the layer's ``metadata["mmnst_path"]``
ENTERED_KEY = "entered_mpp"
#: the usual pixel sizes, said where the user is asked for one
MPP_HINT = "about 0.25 at 40x, 0.5 at 20x"
#: label of the box (the same words in every widget)
MPP_LABEL = "image µm/px"


def mpp_box() -> FloatSpinBox:
    """An ``image µm/px`` box (0 = not entered)."""
    return FloatSpinBox(label=MPP_LABEL, value=0.0, min=0.0, max=100.0, step=0.01)


def entered_mpp(layer: Any) -> float | None:
    """The µm/px a user entered for ``layer`` in a widget's box; None when none was."""
    meta = layer.metadata.get("mmnst_path") if isinstance(layer.metadata, dict) else None
    value = meta.get(ENTERED_KEY) if isinstance(meta, dict) else None
    return float(value) if value else None


def set_entered_mpp(layer: Any, mpp: float | None) -> None:
    """Keep ``mpp`` (µm per level-0 pixel; None or 0 clears it) as the entered pixel size of ``layer``.

    The layer's ``metadata`` is set anew, so its ``metadata`` event tells the other widgets' boxes.
    """
    value = float(mpp) if mpp else None
    if value is not None and not (math.isfinite(value) and value > 0):
        msg = f"mpp must be a positive number of µm per pixel, got {mpp!r}"
        raise ValueError(msg)
    if entered_mpp(layer) == value:
        return
    meta = dict(layer.metadata)
    own = dict(meta.get("mmnst_path") or {})
    if value is None:
        own.pop(ENTERED_KEY, None)
    else:
        own[ENTERED_KEY] = value
    meta["mmnst_path"] = own
    layer.metadata = meta


def image_mpp(layer: Any) -> tuple[float | None, str]:
    """(µm per level-0 pixel of ``layer``, where it came from): the file's, else the entered one, else None."""
    known = layer_mpp(layer)
    if known:
        return known, "from the file"
    entered = entered_mpp(layer)
    if entered:
        return entered, "entered by the user"
    return None, "unknown"


def unknown_mpp_words(layer: Any, why: str) -> str:
    """The status line of an image without a pixel size: what to enter where, and why it is needed."""
    return f"image {layer.name!r} has no pixel size: enter its µm/px in '{MPP_LABEL}' ({MPP_HINT}); {why}"


def link_mpp_box(
    viewer: napari.viewer.Viewer,
    image: ComboBox,
    box: FloatSpinBox,
    *,
    per_image: bool = True,
    on_change: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """Tie ``box`` to the pixel size of the layer chosen in ``image``; returns the function that syncs it.

    The box shows the file's pixel size greyed, else the value entered for that layer (in any widget), else
    0 (``per_image``; without it, a box keeps its value from the image chosen before, as Analyze's did). A
    value the user types is kept on the layer. ``on_change()`` follows every change of the chosen image or
    of its pixel size.
    """
    state: dict[str, Any] = {"syncing": False, "last": None}

    def sync(*_: Any) -> None:
        try:
            layer = image.value
            state["syncing"] = True
            if layer is None:
                box.enabled = True
            elif layer_mpp(layer):
                box.enabled = False
                if per_image:
                    box.value = float(layer_mpp(layer) or 0.0)
            else:
                box.enabled = True
                entered = entered_mpp(layer)
                if entered or per_image:
                    box.value = entered or 0.0
        except RuntimeError:  # the dock widget was closed: its Qt side is gone
            return
        finally:
            state["syncing"] = False
        now = None if layer is None else (layer.unique_id, image_mpp(layer))
        if on_change is not None and now != state["last"]:  # (another layer's metadata: nothing to say)
            on_change()
        state["last"] = now

    def typed(*_: Any) -> None:
        layer = image.value
        if state["syncing"] or layer is None or layer_mpp(layer):
            return
        set_entered_mpp(layer, float(box.value))  # its metadata event syncs every linked box

    watched: set[Any] = set()

    def watch(layer: Any) -> None:
        uid = layer.unique_id
        if uid not in watched:
            watched.add(uid)
            for event in (layer.events.metadata, layer.events.scale, layer.events.units):  # (a µm scale set later)
                event.connect(sync)

    for layer in viewer.layers:
        watch(layer)
    viewer.layers.events.inserted.connect(lambda event: watch(event.value))
    image.changed.connect(sync)
    box.changed.connect(typed)
    sync()
    return sync
