"""A layer the user adds beside the plugin's µm layers takes the image's scale and units.

The plugin shows a slide with a known pixel size in µm (``scale`` = mpp, units ``"µm"``), and
every layer it adds follows that image. A Shapes, Points or Labels layer the user adds with
napari's buttons or ``viewer.add_shapes()`` gets napari's defaults (scale 1, units ``"pixel"``):
napari then warns "Inconsistent units across layers; units will not be used for rendering", and
since world coordinates are µm, a shape typed in pixel numbers lands at the wrong place.

:func:`follow_image_units` has the viewer call :func:`adopt_image_units` on each layer it takes
in, early enough that napari's canvas never sees the mixed units; it gives such a layer the image's scale, translate and units, so its
data coordinates are the image's level-0 pixels. napari's *New Labels* with no layer selected makes a
512 x 512 pixel layer: beside a µm slide it gets an empty label grid covering the whole image instead
(level-0 pixels for a tile, a power-of-two grid for a big slide, as Train tissue's training labels), not
a 512-pixel corner of it. A layer that came with its own scale, translate
or units (opened from a file that carries them, or added by the plugin) is never touched, nor is
one added when no RGB image (a slide) has a physical unit or when the µm slides disagree on their
placement.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["adopt_image_units", "follow_current_viewer", "follow_image_units"]

#: the side of the Labels layer napari's *New Labels* makes when no layer is selected
_NEW_LABELS_SIDE = 512
#: the viewer method behind napari's *New Labels* (menu, layer-list button)
_NEW_LABELS_CALL = "_new_labels"
#: the unit names napari gives a layer that has no physical unit
_PIXEL_UNITS = frozenset({"pixel", "pixels", "px"})


def _is_pixel(units: Any) -> bool:
    return all(str(u) in _PIXEL_UNITS for u in units)


def _has_default_placement(layer: Any) -> bool:
    """True when ``layer`` has napari's defaults: scale 1, no translate / rotate / shear, pixel units."""
    return (
        np.allclose(np.asarray(layer.scale, dtype=np.float64), 1.0)
        and np.allclose(np.asarray(layer.translate, dtype=np.float64), 0.0)
        and np.allclose(np.asarray(layer.rotate, dtype=np.float64), np.eye(layer.ndim))
        and np.allclose(np.asarray(layer.shear, dtype=np.float64), 0.0)
        and np.allclose(np.asarray(layer.affine.affine_matrix, dtype=np.float64), np.eye(layer.ndim + 1))
        and _is_pixel(layer.units)
    )


def _from_new_labels_button(layer: Any) -> bool:
    """True when ``layer`` is the empty 512 x 512 grid napari's *New Labels* makes with no layer selected
    (a script's ``add_labels(np.zeros((512, 512)))`` is left as it came)."""
    if layer.data.shape != (_NEW_LABELS_SIDE, _NEW_LABELS_SIDE):
        return False
    frame = sys._getframe(1)
    while frame is not None:  # napari's ViewerModel._new_labels is on the stack while it adds the layer
        if frame.f_code.co_name == _NEW_LABELS_CALL and "napari" in frame.f_code.co_filename:
            return not np.any(layer.data)
        frame = frame.f_back
    return False


def _cover_image(layer: Any, layers: Any, units: tuple[str, str]) -> None:
    """Give the Labels ``layer`` an empty grid over the largest µm RGB image (they share a placement)."""
    from napari.layers import Image

    from ._layers import raster_transform
    from ._tissue import labels_downsample

    images = [lay for lay in layers
              if lay is not layer and isinstance(lay, Image) and lay.rgb and not _is_pixel(lay.units[-2:])]
    image = max(images, key=lambda lay: int(np.prod((lay.data[0] if lay.multiscale else lay.data).shape[:2])))
    data = image.data[0] if image.multiscale else image.data
    rows, cols = int(data.shape[-3]), int(data.shape[-2])
    d = labels_downsample((rows, cols))
    place = raster_transform(downsample=d, mpp=float(image.scale[-1]))
    layer.data = np.zeros((-(-rows // d), -(-cols // d)), dtype=layer.data.dtype)
    layer.units = units
    layer.scale = place["scale"]
    shift = zip(place["translate"], image.translate[-2:], strict=True)
    layer.translate = tuple(float(a) + float(b) for a, b in shift)


def _reference_image(layers: Any, new: Any) -> Any | None:
    """The 2-D placement ``(scale, translate, units)`` shared by every RGB image with a physical unit.

    Only RGB images (the slides) count: the plugin's maps are one-channel images placed at their own
    coarser scale. None when no RGB image (other than ``new``) has a unit, or when such images disagree.
    """
    from napari.layers import Image

    placements = set()
    for lay in layers:
        if lay is new or not isinstance(lay, Image) or not lay.rgb or _is_pixel(lay.units[-2:]):
            continue
        placements.add(
            (
                tuple(float(s) for s in lay.scale[-2:]),
                tuple(float(t) for t in lay.translate[-2:]),
                tuple(str(u) for u in lay.units[-2:]),
            )
        )
    return placements.pop() if len(placements) == 1 else None


def adopt_image_units(layer: Any, layers: Any) -> bool:
    """Give a user-added 2-D Shapes / Points / Labels layer the image's scale, translate and units.

    Parameters
    ----------
    layer : napari.layers.Layer
        The layer just inserted into ``layers``.
    layers : napari.components.LayerList
        The viewer's layer list (the image layers are read from it).

    Returns
    -------
    bool
        True when ``layer`` was given the image's placement; False when it was left as it came
        (another layer type, not 2-D, Shapes or Points that came with data, its own scale / translate /
        units, or no single µm image).
    """
    from napari.layers import Labels, Points, Shapes

    if not isinstance(layer, Shapes | Points | Labels) or layer.ndim != 2:
        return False
    if isinstance(layer, Shapes | Points) and len(layer.data) > 0:  # a script's shapes or points: their numbers
        return False  # are world coordinates (µm) as napari reads them; only an empty layer a user draws on follows
    if not _has_default_placement(layer):
        return False
    ref = _reference_image(layers, layer)
    if ref is None:
        return False
    scale, translate, units = ref
    if isinstance(layer, Labels) and _from_new_labels_button(layer):
        _cover_image(layer, layers, units)
        return True
    layer.units = units
    layer.scale = scale
    layer.translate = translate
    return True


#: marks the callback :func:`follow_image_units` connects (so a viewer is followed once)
_MARK = "_mmnst_path_follows_units"


def follow_image_units(viewer: Any) -> None:
    """Make layers the user adds to ``viewer`` take the image's units (see :func:`adopt_image_units`).

    napari's Qt canvas draws a new layer, and warns of mixed units, inside napari's own callbacks of
    the layer list's ``inserted`` event, which run before any plugin's. A layer that makes the units
    mixed changes ``viewer.dims.units`` earlier, while napari's viewer takes the layer in, so the
    layer is placed there (the index comes from the ``inserting`` event); ``inserted`` places any
    layer that did not change the units. Following a viewer twice connects nothing more; None (no
    viewer, e.g. a reader called outside napari) does nothing.
    """
    if viewer is None:
        return
    layers, dims = viewer.layers, viewer.dims
    if any(getattr(cb, _MARK, False) for cb in layers.events.inserted.callbacks):
        return
    pending: list[int] = []  # where the layer being inserted will be in the list

    def inserting(event: Any) -> None:
        n = len(layers)
        index = int(event.index)
        pending[:] = [min(max(index + n if index < 0 else index, 0), n)]

    def units_changed(_event: Any = None) -> None:
        if pending:
            index = pending.pop()
            if index < len(layers):
                adopt_image_units(layers[index], layers)

    def inserted(event: Any) -> None:
        pending.clear()
        adopt_image_units(event.value, layers)

    setattr(inserted, _MARK, True)
    layers.events.inserting.connect(inserting)
    dims.events.units.connect(units_changed)
    layers.events.inserted.connect(inserted)


def follow_current_viewer() -> None:
    """:func:`follow_image_units` of napari's current viewer, if napari is running one."""
    try:
        import napari
    except ImportError:  # the reader used without napari installed
        return
    follow_image_units(napari.current_viewer())
