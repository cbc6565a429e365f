"""Tissue class maps as napari layers, their per-class areas, and the pigment QC sentences (no Qt).

A class map is the library's :class:`~mmnst_path.classify.TissueMap` grid (or any integer grid of
class indices): raster pixel ``[i, j]`` covers ``downsample`` level-0 pixels per side from a
level-0 ``origin``. In the Labels layer, value ``k + 1`` is class ``classes[k]`` (0 = nothing),
coloured with the model's class colours, so a painted training label and a predicted class use
the same value and colour.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mmnst_path.report import (
    MARKER_LABELS,
    NEAR_BLACK_WARN_MIN,
    NEAR_BLACK_WARN_PCT,
    PIGMENT_WARN_PCT,
    melanocytic_text,
    near_black_warning,
    pigment_warning,
    qc_warnings,
    stroma_warning,
)

from ._layers import LayerData, raster_transform

__all__ = [
    "CLASS_MAP_KEY",
    "MARKER_LABELS",
    "NEAR_BLACK_WARN_MIN",
    "NEAR_BLACK_WARN_PCT",
    "NOT_TISSUE",
    "PIGMENT_WARN_PCT",
    "class_areas",
    "class_colormap",
    "class_legend_html",
    "class_map_layer",
    "class_table_text",
    "display_colours",
    "melanocytic_text",
    "near_black_warning",
    "painted_areas",
    "pigment_warning",
    "qc_warnings",
    "stroma_warning",
    "tissue_class_layer",
]

#: classes that are not tissue: left out of the "% of tissue" denominator
NOT_TISSUE = frozenset({"background"})


def display_colours(classes: Sequence[str], colours: Sequence[Sequence[int]]) -> list[tuple[int, int, int]]:
    """The colours (RGB 0-255) the classes are shown in: the library's pictures' display colours
    (:func:`mmnst_path._picture_style.class_display_colour`: necrosis magenta, never melanin's brown; blood
    orange), else the card's. The layer's metadata and a trained model keep the card's colours."""
    from mmnst_path._picture_style import class_display_colour

    return [class_display_colour(str(name), rgb) for name, rgb in zip(classes, colours, strict=True)]


def class_colormap(colours: Sequence[Sequence[int]], *, alpha: float = 1.0, classes: Sequence[str] = ()) -> Any:
    """napari ``DirectLabelColormap``: label ``k + 1`` in ``colours[k]`` (RGB 0-255), 0 transparent; with
    ``classes``, in their :func:`display_colours`."""
    from napari.utils.colormaps import DirectLabelColormap

    if classes:
        colours = display_colours(classes, colours)

    table: dict[int | None, tuple[float, float, float, float]] = {
        None: (0.0, 0.0, 0.0, 0.0),
        0: (0.0, 0.0, 0.0, 0.0),
    }
    for k, rgb in enumerate(colours):
        r, g, b = (float(v) / 255.0 for v in rgb)
        table[k + 1] = (r, g, b, float(alpha))
    return DirectLabelColormap(color_dict=table)


def class_map_layer(
    labels: np.ndarray,
    *,
    classes: Sequence[str],
    colours: Sequence[Sequence[int]],
    downsample: float,
    origin: tuple[float, float] = (0.0, 0.0),
    mpp: float | None,
    name: str,
    model_id: str = "",
    opacity: float = 0.45,
) -> LayerData:
    """Labels layer data of a class-index grid (value ``k + 1`` = ``classes[k]``).

    Parameters
    ----------
    labels : (M, N) integer ndarray
        Class indices into ``classes`` (negative = no class).
    classes, colours : sequences
        Class names and their RGB (0-255) colours, in the model's order.
    downsample : float
        Level-0 pixels per grid pixel side.
    origin : (row, col)
        Level-0 pixel of the grid's top-left corner.
    mpp : float or None
        Slide µm per level-0 pixel (world scale), None for pixel units.
    name : str
        Layer name.
    model_id : str
        Content id of the model that produced the map (kept in the layer's metadata).
    """
    arr = np.asarray(labels)
    if arr.ndim != 2 or arr.dtype.kind not in "iu":
        msg = f"{name}: expected a 2-D integer grid of class indices, got {arr.dtype} {arr.shape}"
        raise ValueError(msg)
    if len(classes) != len(colours):
        msg = f"{name}: {len(classes)} classes but {len(colours)} colours"
        raise ValueError(msg)
    data = np.where(arr >= 0, arr.astype(np.int32) + 1, 0).astype(
        np.uint8 if len(classes) < 255 else np.uint16
    )
    kwargs: dict[str, Any] = {
        "name": name,
        "opacity": opacity,
        "colormap": class_colormap(colours, classes=classes),
        # the class name beside the label value in the status bar on hover ("2; class: stroma"), not the number alone
        "features": {"index": list(range(len(classes) + 1)), "class": ["not analysed", *map(str, classes)]},
        "metadata": {
            "mmnst_path": {
                "kind": "tissue classes",
                "classes": list(classes),
                "colours": [list(map(int, c)) for c in colours],
                "downsample": float(downsample),
                "origin": tuple(origin),
                "model_id": model_id,
            }
        },
        **raster_transform(downsample=downsample, origin=origin, mpp=mpp),
    }
    if mpp:
        kwargs["units"] = ("µm", "µm")
    return (data, kwargs, "labels")


def class_areas(
    labels: np.ndarray, classes: Sequence[str], *, block_um2: float, weight: np.ndarray | None = None
) -> dict[str, Any]:
    """Area (mm²) and % of tissue of every class of a class-index grid.

    Parameters
    ----------
    labels : (M, N) integer ndarray
        Class indices (negative = no class).
    classes : sequence of str
    block_um2 : float
        Area of one whole grid pixel (µm²).
    weight : (M, N) float ndarray, optional
        Share of each grid pixel inside the image (edge pixels run past it); 1 when omitted.

    Returns
    -------
    dict
        ``{"area_mm2": {class: mm²}, "pct_of_tissue": {class: %}, "tissue_mm2": float}``; a
        class outside :data:`NOT_TISSUE` counts as tissue; % is NaN when there is no tissue.
    """
    lab = np.asarray(labels)
    w = np.ones(lab.shape, np.float64) if weight is None else np.asarray(weight, np.float64)
    area = {name: float(w[lab == k].sum()) * block_um2 / 1e6 for k, name in enumerate(classes)}
    tissue = sum(a for name, a in area.items() if name not in NOT_TISSUE)
    pct = {name: (100.0 * a / tissue if tissue > 0 and name not in NOT_TISSUE else math.nan)
           for name, a in area.items()}  # fmt: skip
    return {"area_mm2": area, "pct_of_tissue": pct, "tissue_mm2": tissue}


def class_table_text(areas: Mapping[str, Any]) -> str:
    """Plain-text table of :func:`class_areas` (classes with no area left out): area and % of the classed
    area (all the class map did not call background), in the HTML report's words; not the "tissue analysed"
    of the results box (the tissue mask), which differs."""
    lines = [f"{'class':14s} {'mm²':>9s} {'% classed':>10s}"]
    for name, a in areas["area_mm2"].items():
        if a <= 0:
            continue
        p = areas["pct_of_tissue"][name]
        lines.append(f"{name:14s} {a:9.4f} {'' if math.isnan(p) else f'{p:8.1f} %':>10s}")
    lines.append(f"{'classed area':14s} {areas['tissue_mm2']:9.4f}")
    return "\n".join(lines)


def class_legend_html(
    classes: Sequence[str], colours: Sequence[Sequence[int]], *, values: bool = True
) -> str:
    """Rich-text legend: a colour swatch per class (its :func:`display_colours`), with its label value
    (``k + 1``) to paint."""
    items = []
    for k, (name, rgb) in enumerate(zip(classes, display_colours(classes, colours), strict=True)):
        hexc = "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))
        key = f"{k + 1} " if values else ""
        items.append(f'<span style="color:{hexc}">■</span>&nbsp;{key}{html.escape(name)}')
    return "<br>".join(items)


#: key of the tissue class map in :attr:`SlideResult.maps`
CLASS_MAP_KEY = "tissue_classes"


def tissue_class_layer(result: Any, *, mpp: float | None, name: str = "tissue classes") -> LayerData | None:
    """Labels layer data of a result's tissue class map (None when the result has none).

    The map is ``result.maps["tissue_classes"]``: a low-resolution grid of class indices (-1 =
    nothing analysed) whose ``downsample`` level-0 pixels per side start at the image's corner.
    Class names, colours and areas come from the result's legend (``result.tissue_classes``:
    ``{"classes": [{"index", "name", "colour", "area_mm2", "pct_of_tissue"}]}``, the library's
    numbers); a result without one takes the names and colours of the tissue model its config
    names, and the areas are counted on the map. The layer's metadata holds the areas
    (:func:`class_areas` form).
    """
    m = getattr(result, "maps", {}).get(CLASS_MAP_KEY)
    if m is None:
        return None
    legend = list((getattr(result, "tissue_classes", None) or {}).get("classes") or ())
    if legend:
        legend = sorted(legend, key=lambda c: int(c["index"]))
        classes = [str(c["name"]) for c in legend]
        colours = [tuple(int(v) for v in c["colour"]) for c in legend]
    else:
        from mmnst_path.classify import resolve_model

        spec = (result.config.get("necrosis") or {}).get("tissue_model", "default")
        model = resolve_model(str(spec), "tissue")
        if model is None:
            return None
        classes = list(model.class_names)
        colours = [tuple(c.colour) for c in model.classes]
    labels = np.asarray(m.image)
    labels = np.where((labels >= 0) & (labels < len(classes)), labels, -1).astype(np.int16)
    data = class_map_layer(labels, classes=classes, colours=colours, downsample=float(m.downsample), mpp=mpp,
                           name=name)  # fmt: skip
    if legend and all("area_mm2" in c for c in legend):
        area = {c["name"]: float(c["area_mm2"]) for c in legend}
        areas = {"area_mm2": area,
                 "pct_of_tissue": {c["name"]: float(c.get("pct_of_tissue", math.nan)) for c in legend},
                 "tissue_mm2": sum(a for n, a in area.items() if n not in NOT_TISSUE)}  # fmt: skip
    else:
        shape = tuple(int(v) for v in result.shape)
        areas = class_areas(labels, classes, block_um2=(float(m.downsample) * float(result.mpp)) ** 2,
                            weight=_edge_weight(labels.shape, float(m.downsample), shape))  # fmt: skip
    data[1]["metadata"]["mmnst_path"]["areas"] = areas
    return data


def _edge_weight(grid: tuple[int, int], d: float, shape: tuple[int, ...]) -> np.ndarray:
    """Share of every grid pixel inside an image of level-0 ``shape`` (edge pixels run past it)."""
    from mmnst_path._review_tissue import edge_weight

    return edge_weight(grid, d, shape)


def painted_areas(layer: Any, *, shape: tuple[int, ...], mpp: float) -> dict[str, Any]:
    """Class areas of a run's tissue class layer as the reviewer painted it (a necrosis region drawn or
    erased): the run's own areas (``areas_at_run`` in its metadata, the library's numbers) with the area the
    run measured in each block the strokes changed against the grid the run gave (``labels_at_run``) moved to
    its new class (:func:`mmnst_path._review_tissue.reviewed_class_areas`: the classed tissue is conserved),
    each grid pixel by its share inside the image of level-0 ``shape``; a value that names no class counts as unclassed. :func:`class_areas`
    form, with ``changed_blocks`` (grid pixels whose class the reviewer changed)."""
    from mmnst_path._review_tissue import reviewed_class_areas

    meta = layer.metadata["mmnst_path"]
    # layer value k + 1 is class k: the library's grids count from 0
    before = np.asarray(meta["labels_at_run"]).astype(np.int32) - 1
    now = np.asarray(layer.data).astype(np.int32) - 1
    return reviewed_class_areas(list(meta["classes"]), meta["areas_at_run"]["area_mm2"], before, now,
                                downsample=float(meta["downsample"]), mpp=float(mpp), shape=shape)
