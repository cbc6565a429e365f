"""Pure conversions between the library's results and napari layer data tuples (no Qt).

Coordinate convention: every overlay lives in the *level-0 pixel* data frame of the slide and
gets the slide image's ``scale`` (µm per level-0 pixel, or 1 when mpp is unknown), so points,
masks and shapes line up with the image in world (µm) coordinates. A raster produced at a
coarser analysis resolution (``downsample`` level-0 pixels per raster pixel, top-left corner at
level-0 ``origin``) is placed with ``scale = downsample * s`` and
``translate = (origin + (downsample - 1) / 2) * s``: napari puts pixel centres at integer data
coordinates, so a raster pixel covering level-0 pixels ``[o + j d, o + (j + 1) d)`` is centred
at level-0 coordinate ``o + j d + (d - 1) / 2``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from mmnst_path.aggregate import CELL_CLASSES, CELL_TYPES, CellTable

from ._caption import keep_caption_on_canvas  # (re-exported: the frame's layer and its caption go together)

__all__ = [
    "CLASSES",
    "CLASS_COLORS",
    "added_nucleus_features",
    "cells_from_points",
    "class_colors",
    "exact_raster",
    "features_from_cells",
    "fraction_colormap",
    "heatmap_layer",
    "hotspot_layer",
    "keep_caption_on_canvas",
    "legend_html",
    "mask_layer",
    "points_layer",
    "raster_transform",
    "results_text",
    "shape_boxes",
]

LayerData = tuple[Any, dict[str, Any], str]

#: Nucleus classes (the library's class codes index this tuple).
CLASSES: tuple[str, ...] = tuple(CELL_CLASSES)

#: RGBA colour of every class: positive red, negative blue, pigment grey, excluded teal (the GeoJSON's
#: Excluded colour, 0 160 160; it was yellow, the hot-spot frame's colour, in session 34's shots)
CLASS_COLORS: Mapping[str, tuple[float, float, float, float]] = {
    "positive": (1.0, 0.0, 0.0, 1.0),
    "negative": (0.0, 0.35, 1.0, 1.0),
    "pigment": (0.6, 0.6, 0.6, 1.0),
    "excluded": (0.0, 160 / 255, 160 / 255, 1.0),
}
#: what each ring means, in the legend's words (excluded: the cell model's call, not counted)
CLASS_WORDS: Mapping[str, str] = {
    "pigment": "pigment (not counted)",
    "excluded": "excluded = not tumour (cell model: stromal / lymphocyte), not counted",
}
#: colour of the hot-spot frame and its caption
HOTSPOT_COLOR = "yellow"
_UNKNOWN_COLOR = (1.0, 1.0, 1.0, 1.0)

#: colour (at fraction 1; fraction 0 is transparent) of the melanin and necrosis fraction maps: melanin
#: brown; necrosis the magenta the library's pictures and napari's tissue class map draw it in
#: (:data:`mmnst_path._picture_style.CLASS_DISPLAY_RGB`; it was green, which is the class map's stroma)
MAP_COLORS: Mapping[str, tuple[float, float, float]] = {
    "melanin": (0.55, 0.27, 0.07),
    "necrosis": (230 / 255, 0.0, 200 / 255),
}


def _flag(cols: Mapping[str, Any], key: str, n: int) -> np.ndarray:
    """(n,) bool of a flag column (bool, or the 1.0 / 0.0 a GeoJSON file reads back), False without it."""
    from mmnst_path._geojson_read import flag_values

    v = cols.get(key)
    if v is None or np.shape(v) != (n,):
        return np.zeros(n, bool)
    return flag_values(v)  # NaN (not measured) -> False


#: Measurements a Points layer carries only when the table has them (the CLI's cells.geojson, an
#: analysis), written back under the same column: the chromogen's OD max and the outline's shape.
OPTIONAL_MEASUREMENTS = ("dab_od_max", "circularity", "eccentricity")


def features_from_cells(cells: CellTable) -> dict[str, np.ndarray]:
    """Per-point features of a Points layer: class (name), dab_od (the Ki67 chromogen's OD mean, whatever
    the chromogen), counterstain_od (the nuclear counterstain's, hematoxylin or azure B: NaN when the
    table has none), area_um2, intensity_bin, cell_type,
    near_black (the near-black QC flag, ``Ki67Cells.near_black``), in_spindle_sheet (the cell model
    called the nucleus stromal and it lies in a spindle sheet, ``[ki67] spindle_sheet``) and
    reviewed (the reviewer set the nucleus's class: added or re-classed in the Review widget); and
    those of :data:`OPTIONAL_MEASUREMENTS` the table has (dab_od_max: the chromogen's OD max,
    circularity, eccentricity; float32, NaN where a nucleus lacks it), and a double stain's melanocytic flag."""
    n = len(cells)
    cols = cells.columns
    optional = {key: np.asarray(cols[key], dtype=np.float32) for key in OPTIONAL_MEASUREMENTS
                if key in cols and np.shape(cols[key]) == (n,)}
    return {
        "class": np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls, np.intp)]
        if n
        else np.zeros(0, object),
        "dab_od": np.asarray(cols.get("dab_od_mean", np.full(n, np.nan)), dtype=np.float32),
        "counterstain_od": np.asarray(cols.get("hematoxylin_od_mean", np.full(n, np.nan)), dtype=np.float32),
        "area_um2": np.asarray(cols.get("area_um2", np.full(n, np.nan)), dtype=np.float32),
        "intensity_bin": np.asarray(cols.get("intensity_bin", np.zeros(n)), dtype=np.int8),
        # the cell model's class (tumour, lymphocyte, stromal...), "unclassified" without one
        "cell_type": np.asarray(CELL_TYPES, dtype=object)[np.asarray(cols["cell_type"], np.intp)]
        if n and "cell_type" in cols
        else np.full(n, "unclassified", dtype=object),
        "near_black": _flag(cols, "near_black", n),
        "in_spindle_sheet": _flag(cols, "in_spindle_sheet", n),
        "reviewed": _flag(cols, "reviewed", n),
        **optional,
        # a Ki67 / MART-1 or SOX10 double stain's marker-positive nuclei (only a double stain's table has it)
        **({"melanocytic": _flag(cols, "melanocytic", n)} if "melanocytic" in cols else {}),
    }


def cells_from_points(data: np.ndarray, features: Any) -> CellTable:
    """Library :class:`~mmnst_path.aggregate.CellTable` of a nuclei Points layer (after review).

    ``data`` is (N, 2) level-0 (row, col); ``features`` a mapping / DataFrame with at least
    ``class``; ``dab_od``, ``area_um2`` and ``intensity_bin`` are used when present, as is
    ``counterstain_od`` (``hematoxylin_od_mean``, when some point has it: its GeoJSON name says
    the counterstain, "Azure B OD mean"), those of :data:`OPTIONAL_MEASUREMENTS` (when some point
    has them: "DAB OD max" / "AEC OD max", "Circularity", "Eccentricity"), and the
    flags ``near_black``, ``in_spindle_sheet`` and ``reviewed`` (bool columns, written to GeoJSON as
    1 / 0 measurements) and ``cell_type`` (the type names of :func:`features_from_cells`, back to
    codes; a name it does not know is ``unclassified``), so saved edits keep what the Review
    panel's spindle-cell sentence reads.
    """
    pts = np.asarray(data, dtype=np.float64).reshape(-1, 2)
    n = len(pts)
    names = np.asarray(features["class"], dtype=object) if n else np.zeros(0, object)
    code = np.full(n, CELL_CLASSES.index("excluded"), np.int8)
    for i, name in enumerate(CELL_CLASSES):
        code[names == name] = i

    def col(key: str, dtype: Any, fill: float) -> np.ndarray:
        try:
            return np.asarray(features[key], dtype=dtype)
        except (KeyError, ValueError, TypeError):
            return np.full(n, fill, dtype)

    columns = {
        "dab_od_mean": col("dab_od", np.float64, np.nan),
        "area_um2": col("area_um2", np.float64, np.nan),
        "intensity_bin": col("intensity_bin", np.int8, 0),
    }
    present = getattr(features, "columns", features)
    if n and "counterstain_od" in present:
        counter = col("counterstain_od", np.float64, np.nan)
        if np.isfinite(counter).any():
            columns["hematoxylin_od_mean"] = counter
    for key in ("near_black", "in_spindle_sheet", "reviewed", "melanocytic"):
        if n and key in present:
            columns[key] = np.asarray(features[key], dtype=bool)
    for key in OPTIONAL_MEASUREMENTS:
        if n and key in present:
            values = col(key, np.float64, np.nan)
            if np.isfinite(values).any():
                columns[key] = values
    if n and "cell_type" in present:
        types = np.asarray(features["cell_type"], dtype=object)
        code_of = np.zeros(n, np.int8)
        for i, name in enumerate(CELL_TYPES):
            code_of[types == name] = i
        if (code_of > 0).any():  # all "unclassified": no cell model ran, write no type
            columns["cell_type"] = code_of
    return CellTable(pts[:, 0].copy(), pts[:, 1].copy(), code, columns)


def class_colors(classes: Any) -> np.ndarray:
    """RGBA colours (N, 4) float32 of the nucleus classes (vectorised, fine for 10⁵+ points)."""
    cls = np.asarray(classes, dtype=object)
    out = np.empty((len(cls), 4), np.float32)
    out[:] = _UNKNOWN_COLOR
    for name, color in CLASS_COLORS.items():
        out[cls == name] = color
    return out


def _scale(mpp: float | None) -> tuple[float, float]:
    s = float(mpp) if mpp else 1.0
    return (s, s)


def _units(mpp: float | None) -> dict[str, Any]:
    return {"units": ("µm", "µm")} if mpp else {}


def points_layer(
    cells: CellTable, *, mpp: float | None, name: str = "nuclei", diameter_um: float = 8.0
) -> LayerData:
    """Points layer of the nuclei: rings coloured by class (squares for a double stain's melanocytic nuclei),
    per-point features.

    Parameters
    ----------
    cells : mmnst_path.aggregate.CellTable
        Nuclei in level-0 pixels (library result).
    mpp : float or None
        Slide µm per level-0 pixel (the layer's scale), None when unknown (scale 1).
    name : str
        Layer name.
    diameter_um : float
        Drawn ring diameter in µm (in pixels when mpp is unknown).

    Returns
    -------
    (data (N, 2) float64 level-0 (row, col), kwargs, "points")
    """
    data = np.column_stack([np.asarray(cells.row, np.float64), np.asarray(cells.col, np.float64)])
    data = data.reshape(-1, 2)
    size = diameter_um / float(mpp) if mpp else diameter_um
    features = features_from_cells(cells)
    colors = class_colors(features["class"])
    kwargs: dict[str, Any] = {
        "name": name,
        "features": features,
        "feature_defaults": added_nucleus_features(features),
        "size": size,
        "face_color": "transparent",
        "border_color": colors,
        "border_width": 0.18,
        "border_width_is_relative": True,
        "scale": _scale(mpp),
        "metadata": {"mmnst_path": {"kind": "nuclei", "mpp": mpp}},
        **_units(mpp),
    }
    if "melanocytic" in features and len(data):  # a double stain: its marker-positive nuclei as squares, as the pictures
        kwargs["symbol"] = np.where(features["melanocytic"], "square", "disc")
    return (data, kwargs, "points")


def added_nucleus_features(columns: Any, cls: str = "positive") -> dict[str, Any]:
    """The features of a nucleus the reviewer adds, of class ``cls``: a tumour nucleus, not measured
    (NaN measurements), judged by the reviewer; ``columns`` are the nuclei layer's feature names."""
    return {
        "class": cls,
        "dab_od": np.nan,
        "counterstain_od": np.nan,
        "area_um2": np.nan,
        "intensity_bin": 1 if cls == "positive" else 0,
        "cell_type": "tumour",  # a nucleus the reviewer adds is a tumour nucleus,
        "near_black": False,  # not measured,
        "in_spindle_sheet": False,
        "reviewed": True,  # and judged by the reviewer
        **{key: np.nan for key in OPTIONAL_MEASUREMENTS if key in columns},
        **({"melanocytic": False} if "melanocytic" in columns else {}),  # its marker not read: not in the melanocyte index
    }


def raster_transform(
    *, downsample: float, origin: tuple[float, float] = (0.0, 0.0), mpp: float | None
) -> dict[str, tuple[float, float]]:
    """``scale`` and ``translate`` placing a raster of ``downsample`` level-0 px per pixel.

    Parameters
    ----------
    downsample : float
        Level-0 pixels per raster pixel (> 0).
    origin : (row, col)
        Level-0 pixel of the raster's top-left corner.
    mpp : float or None
        Slide µm per level-0 pixel (world scale), None for pixel units.
    """
    if not (downsample > 0 and math.isfinite(downsample)):
        msg = f"downsample must be a positive number of level-0 pixels per raster pixel, got {downsample!r}"
        raise ValueError(msg)
    s = _scale(mpp)[0]
    d = float(downsample)
    return {
        "scale": (d * s, d * s),
        "translate": ((origin[0] + (d - 1) / 2) * s, (origin[1] + (d - 1) / 2) * s),
    }


def exact_raster(
    values: np.ndarray,
    *,
    downsample: float,
    shape: tuple[int, int],
    mpp: float | None,
    origin: tuple[float, float] = (0.0, 0.0),
    max_error_px: float = 16.0,
    max_side: int = 4096,
) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """A slide-wide low-resolution map placed at its true block size, cropped to the blocks that touch the image.

    A map pixel (block) covers ``downsample`` level-0 pixels from ``origin``, so the last block of an image that is
    not a whole number of blocks is partial. Every block is placed where it is (:func:`raster_transform`, the
    placement of every map layer: the tissue class map, a mask, the melanin corrections), so the blocks of two maps
    of one grid coincide. The map is repeated ``k`` times per axis (nearest neighbour: same values) so one raster
    pixel covers at most ``max_error_px`` level-0 pixels (while its longest side stays within ``max_side``) and
    cropped to the raster pixels that touch the image: the drawing runs past the image's far edges by less than one
    raster pixel (a tile-grid Ki67 map of 1024 px blocks by < 16 px, not by up to a block), and no block is moved
    or stretched. (Until session 42 the raster was stretched to end exactly at the image edge, which moved the far
    blocks of a 16 µm melanin map by up to 5 µm against the class map of the same grid: H5's walk, #10.)

    Parameters
    ----------
    values : (M, N) ndarray
        Map, pixel ``[i, j]`` covering level-0 ``origin + ([i d, (i+1) d) x [j d, (j+1) d))``.
    downsample : float
        ``d``, level-0 pixels per map pixel.
    shape : (rows, cols)
        Level-0 image shape the map belongs to.
    mpp : float or None
        Slide µm per level-0 pixel (world scale), None for pixel units.
    origin : (row, col)
        Level-0 pixel of the map's top-left corner.

    Returns
    -------
    (raster, {"scale": (sr, sc), "translate": (tr, tc)}) for a napari layer.
    """
    arr = np.asarray(values)
    if arr.ndim != 2:
        msg = f"exact_raster: expected a 2-D map, got shape {arr.shape}"
        raise ValueError(msg)
    if not (downsample > 0 and math.isfinite(downsample)):
        msg = f"downsample must be a positive number of level-0 pixels per raster pixel, got {downsample!r}"
        raise ValueError(msg)
    rows, cols = int(shape[0]) - float(origin[0]), int(shape[1]) - float(origin[1])
    k = max(1, math.ceil(float(downsample) / max_error_px))
    k = max(1, min(k, max_side // max(1, max(arr.shape))))
    fine = float(downsample) / k
    n_r = max(1, min(arr.shape[0] * k, math.ceil(rows / fine)))
    n_c = max(1, min(arr.shape[1] * k, math.ceil(cols / fine)))
    up = np.repeat(np.repeat(arr, k, axis=0), k, axis=1)[:n_r, :n_c] if k > 1 else arr[:n_r, :n_c]
    return np.ascontiguousarray(up), raster_transform(downsample=fine, origin=origin, mpp=mpp)


def mask_layer(
    mask: np.ndarray,
    *,
    downsample: float,
    origin: tuple[float, float] = (0.0, 0.0),
    mpp: float | None,
    name: str,
    color: tuple[float, float, float, float],
) -> LayerData:
    """Labels layer (label 1 = mask) of a boolean mask at its analysis resolution.

    ``mask`` is (M, N) bool; each pixel covers ``downsample`` level-0 pixels from ``origin``.
    """
    arr = np.asarray(mask)
    if arr.ndim != 2:
        msg = f"{name}: expected a 2-D mask, got shape {arr.shape}"
        raise ValueError(msg)
    from napari.utils.colormaps import DirectLabelColormap

    kwargs: dict[str, Any] = {
        "name": name,
        "opacity": 0.5,
        "colormap": DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 0: (0, 0, 0, 0), 1: color}),
        "metadata": {"mmnst_path": {"kind": name, "downsample": float(downsample), "origin": tuple(origin)}},
        **raster_transform(downsample=downsample, origin=origin, mpp=mpp),
        **_units(mpp),
    }
    return (arr.astype(np.uint8), kwargs, "labels")


def heatmap_layer(
    values: np.ndarray,
    *,
    downsample: float,
    origin: tuple[float, float] = (0.0, 0.0),
    mpp: float | None,
    name: str = "Ki67 heatmap",
    contrast_limits: tuple[float, float] = (0.0, 100.0),
    shape: tuple[int, int] | None = None,
    colormap: Any = "inferno",
    opacity: float = 0.45,
) -> LayerData:
    """Image layer of a low-resolution map (Ki67 index %, or a fraction; NaN where undefined).

    With ``shape`` (the level-0 image shape) the map is cropped to the image by :func:`exact_raster` (its blocks
    where they are, the last one partial); without it, it is placed whole by :func:`raster_transform`.
    """
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim != 2:
        msg = f"{name}: expected a 2-D map, got shape {arr.shape}"
        raise ValueError(msg)
    if shape is not None:
        arr, transform = exact_raster(arr, downsample=downsample, shape=shape, mpp=mpp, origin=origin)
    else:
        transform = raster_transform(downsample=downsample, origin=origin, mpp=mpp)
    if np.isnan(arr).any():
        # undefined (no nucleus / no tissue) must show the slide, not the colormap's low end:
        # NaN becomes a value just below the range, drawn fully transparent
        lo, hi = contrast_limits
        below = lo - (hi - lo) / 254
        arr = np.where(np.isnan(arr), np.float32(below), arr)
        colormap = _transparent_below(colormap)
        contrast_limits = (below, hi)
    kwargs: dict[str, Any] = {
        "name": name,
        "colormap": colormap,
        "opacity": opacity,
        "contrast_limits": contrast_limits,
        "blending": "translucent",
        "interpolation2d": "nearest",
        "metadata": {
            "mmnst_path": {"kind": "heatmap", "downsample": float(downsample), "origin": tuple(origin)}
        },
        **transform,
        **_units(mpp),
    }
    return (arr, kwargs, "image")


def _transparent_below(colormap: Any) -> Any:
    """``colormap`` squeezed into [1/255, 1] of the range, with [0, 1/255) fully transparent."""
    from napari.utils.colormaps import Colormap, ensure_colormap

    cmap = ensure_colormap(colormap)
    n = 64
    x = np.linspace(0.0, 1.0, n)
    colors = np.asarray(cmap.map(x), dtype=np.float32)
    step = 1.0 / 255
    controls = np.concatenate([[0.0, step * 0.999], step + (1 - step) * x])
    colors = np.concatenate([[[0, 0, 0, 0], [0, 0, 0, 0]], colors])
    name = f"{cmap.name} (undefined transparent)"
    return Colormap(colors=colors, controls=controls, name=name, display_name=name)


def fraction_colormap(name: str, rgb: tuple[float, float, float]) -> Any:
    """A napari colormap from transparent (fraction 0) to ``rgb`` (fraction 1): a map of mostly
    zeros leaves the slide visible instead of darkening it."""
    from napari.utils.colormaps import Colormap

    r, g, b = rgb
    return Colormap(colors=[[r, g, b, 0.0], [r, g, b, 1.0]], name=name, display_name=name)


def hotspot_layer(box: Any, *, mpp: float | None, name: str = "Ki67 hot spot", label: str = "") -> LayerData:
    """Shapes layer with the hot-spot rectangle (``box`` has row, col, height, width in level-0 px)."""
    r0, c0 = float(box.row), float(box.col)
    r1, c1 = r0 + float(box.height), c0 + float(box.width)
    rect = np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]], dtype=np.float64) - 0.5
    kwargs: dict[str, Any] = {
        "name": name,
        "shape_type": "rectangle",
        "edge_color": HOTSPOT_COLOR,
        "face_color": "transparent",
        "edge_width": max(2.0, 2.0 / (mpp or 1.0)) if mpp else 2.0,
        "scale": _scale(mpp),
        "features": {"label": [label]},
        "text": {"string": "{label}", "color": HOTSPOT_COLOR, "anchor": "upper_left", "size": 10},
        "metadata": {"mmnst_path": {"kind": "hotspot"}},
        **_units(mpp),
    }
    return ([rect], kwargs, "shapes")


def shape_boxes(shapes: list[np.ndarray], *, bounds: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Level-0 integer boxes (row, col, height, width) bounding each shape, clipped to ``bounds``.

    ``shapes`` are (K, 2) vertex arrays in level-0 pixel coordinates (napari pixel centres,
    so a vertex at -0.5 is the outer edge of pixel 0). Empty boxes are dropped.
    """
    out = []
    rows, cols = bounds
    for verts in shapes:
        v = np.asarray(verts, dtype=np.float64)[:, -2:]
        r0 = max(0, math.floor(v[:, 0].min() + 0.5))
        c0 = max(0, math.floor(v[:, 1].min() + 0.5))
        r1 = min(rows, math.ceil(v[:, 0].max() + 0.5))
        c1 = min(cols, math.ceil(v[:, 1].max() + 0.5))
        if r1 > r0 and c1 > c0:
            out.append((r0, c0, r1 - r0, c1 - c0))
    return out


def _hex(rgb: Any) -> str:
    return "#" + "".join(f"{round(255 * float(v)):02x}" for v in tuple(rgb)[:3])


def legend_html(measures: Any = ("ki67", "melanin", "necrosis"), *, hidden: Any = ()) -> str:
    """Rich-text legend of the colours the analysis layers use (for a Qt label); the fraction maps named in
    ``hidden`` (layer names) are said to be hidden."""
    sq = '<span style="color:{c}">&#9632;</span>'
    ring = '<span style="color:{c}">&#9711;</span>'
    parts = []
    if "ki67" in measures:
        # one class a line where it needs words, each ring beside its word (no wrap between them)
        rings = [ring.format(c=_hex(CLASS_COLORS[k])) + "&nbsp;" + CLASS_WORDS.get(k, k) for k in CLASS_COLORS]
        parts.append("nuclei: " + " ".join(rings[:2]))
        parts += rings[2:]
        parts.append(
            "Ki67 heatmap (per tile, hidden: tick its eye in the layer list): "
            + " ".join(sq.format(c=c) for c in ("#000004", "#781c6d", "#ed6925", "#fcffa4"))
            + " 0 → 100 % positive"
        )
        parts.append(sq.format(c="#ffff00") + " hot-spot window (yellow frame)")
    for key in ("melanin", "necrosis"):
        if key in measures:
            off = "hidden: tick its eye; " if f"{key} fraction" in hidden else ""
            parts.append(sq.format(c=_hex(MAP_COLORS[key])) + f" {key} fraction ({off}transparent = 0, solid = 100 %)")
    return "<br>".join(parts)


def _fmt(value: Any, spec: str = ".1f", unit: str = "") -> str:
    if value is None:
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "n/a"
    return f"{v:{spec}}{unit}"


def results_text(
    metrics: Mapping[str, Any] | None,
    counts: Mapping[str, int],
    *,
    melanin_pct: float | None = None,
    necrosis_pct: float | None = None,
    hotspot_pct: float | None = None,
) -> str:
    """Plain-text summary for the results panel.

    ``metrics`` is the library's ``ki67_metrics`` dict (index %, CI, H-score...) or None when
    Ki67 was not measured; ``counts`` maps class -> number of nuclei.
    """
    lines = []
    if metrics is not None:
        index = _pick(metrics, "index_pct", "ki67_index_pct")
        lo = _pick(metrics, "ci_low_pct", "ki67_ci_low_pct")
        hi = _pick(metrics, "ci_high_pct", "ki67_ci_high_pct")
        lines += [
            f"Ki67 index: {_fmt(index, '.1f', ' %')}{tumour_nuclei_words(metrics, counts)}",
            f"95% CI {_fmt(lo)} – {_fmt(hi)} %",
            "nuclei: " + ", ".join(f"{k} {int(v)}{COUNT_NOTES.get(k, '')}" for k, v in counts.items()),
            f"H-score: {_fmt(_pick(metrics, 'h_score'), '.0f')} (of 0–300)",
        ]
    if hotspot_pct is not None:
        lines.append(f"hot spot index: {_fmt(hotspot_pct, '.1f', ' %')}")
    if melanin_pct is not None:
        lines.append(f"melanin: {_fmt(melanin_pct, '.2f', ' %')} of tissue")
    if necrosis_pct is not None:
        lines.append(f"necrosis: {_fmt(necrosis_pct, '.2f', ' %')} of tissue")
    return "\n".join(lines) if lines else "nothing measured"


#: what the nuclei line adds after a class the index leaves out (the words of the nuclei page's legend)
COUNT_NOTES = {"pigment": " (not counted)", "excluded": " (not tumour, not counted)"}


def tumour_nuclei_words(metrics: Mapping[str, Any], counts: Mapping[str, int]) -> str:
    """What the index is of, as the CLI's and the report's ``n`` (positive + negative tumour nuclei):
    " (212 of 549 tumour nuclei; 37 excluded as not tumour)"; "" without the counts."""
    if counts.get("positive") is None or counts.get("negative") is None:
        return ""
    n = _pick(metrics, "denominator", "ki67_denominator") or int(counts["positive"]) + int(counts["negative"])
    excluded = "" if counts.get("excluded") is None else f"; {int(counts['excluded'])} excluded as not tumour"
    return f" ({int(counts['positive'])} of {int(n)} tumour nuclei{excluded})"


def _pick(d: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if n in d:
            return d[n]
    return None
