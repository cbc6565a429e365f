"""Quality-control pictures of a :class:`~mmnst_path.aggregate.SlideResult`: tissue.png and overlay.png.

``tissue.png``
    The tissue-detection thumbnail with the tissue outline (green), the regions of interest
    (yellow) and a scale bar (bottom right; "500 µm", "2 mm"; "500 um" where no font with µ is installed,
    see :mod:`mmnst_path._picture_style`).
``overlay.png``
    Panels side by side, each the thumbnail with a map blended over it: (1) tissue.png with
    the Ki67 hot spot (cyan box), labelled with only what it draws (:func:`tissue_legend`);
    (2) per-tile Ki67 index heatmap (blue 0 % -> yellow 50 % -> red 100 %, with that colour key
    under the label; no tint where no nucleus was counted); (3) melanin fraction (brown, darker =
    more); (4) necrosis fraction (magenta). A measure that was not run (Ki67 on H&E, necrosis on IHC, one
    not asked) has no panel (session 42 H9: before, a pale copy of the slide labelled "not measured";
    summary.csv and report.html say why it was not measured). When a tissue model ran, a last panel shows its class map (``maps["tissue_classes"]``) in the class colours
    (:func:`~mmnst_path._picture_style.class_display_colour`: necrosis magenta as in panel 4, never
    melanin's brown), with a legend giving each class's area and its share of the classed area (all the
    class map did not call background, pale areas included: a wider base than necrosis %'s stained
    tissue, so the same necrotic area reads a few points lower there). The legend sits where it hides the
    least tissue (:func:`legend_place`), or under the panel, in a white strip below the picture, when tissue
    fills every place it could go.

Everything above is drawn from the low-resolution maps the result carries (never full resolution).

``nuclei_hotspot.png``, ``nuclei_field_N.png``
    Full-resolution fields (300 µm, at most 1024 px) of the hot spot and of a few random places
    with nuclei, every nucleus ringed in its class colour (positive red, negative blue, pigment
    grey, excluded teal), so a pathologist can check the classification without napari
    (:func:`nucleus_fields`, which reads these pixels from the slide).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._picture_style import area_text, class_display_colour, melanocytic_flags, picture_font, units
from .aggregate import CELL_CLASSES, LowResMap, SlideResult
from .geometry import Box

__all__ = [
    "CLASS_RGB",
    "NucleusField",
    "field_boxes",
    "legend_corner",
    "legend_place",
    "nucleus_field_image",
    "nucleus_fields",
    "overlay_image",
    "overlay_png",
    "scale_bar_um",
    "thumbnail_png",
    "tissue_image",
    "tissue_legend",
    "tissue_png",
]

#: Long side of a panel, pixels (small thumbnails are enlarged to it).
PANEL_PX = 384
_GREEN = (0, 200, 0)
_YELLOW = (255, 215, 0)
_CYAN = (0, 230, 255)


def _thumbnail(result: SlideResult) -> tuple[np.ndarray, float]:
    """(m, n, 3) uint8 panel base and its level-0 pixels per panel pixel."""
    from PIL import Image

    thumb = result.maps.get("thumbnail")
    if thumb is not None and np.asarray(thumb.image).ndim == 3:
        img, ds = np.asarray(thumb.image, np.uint8), float(thumb.downsample)
    else:  # no thumbnail recorded: a neutral background of the slide's proportions
        ds = max(result.shape) / PANEL_PX
        img = np.full((max(1, round(result.shape[0] / ds)), max(1, round(result.shape[1] / ds)), 3), 235, np.uint8)
    scale = PANEL_PX / max(img.shape[:2])
    if abs(scale - 1) > 1e-3:
        size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
        img = np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BILINEAR))
        ds = ds / scale
    return img, ds


def _resample(m: LowResMap, shape: tuple[int, int], ds: float) -> np.ndarray:
    """Map values on a (rows, cols) grid of ``ds`` level-0 px per pixel (nearest neighbour)."""
    image = np.asarray(m.image, dtype=np.float64)
    ri = np.minimum(((np.arange(shape[0]) + 0.5) * ds / m.downsample).astype(np.intp), image.shape[0] - 1)
    ci = np.minimum(((np.arange(shape[1]) + 0.5) * ds / m.downsample).astype(np.intp), image.shape[1] - 1)
    return image[np.ix_(ri, ci)]


def _outline(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage as ndi

    return mask & ~ndi.binary_erosion(mask, iterations=1, border_value=0)


def _blend(base: np.ndarray, color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = np.clip(alpha, 0, 1)[..., None]
    return np.clip(base * (1 - a) + color * a, 0, 255).astype(np.uint8)


def _ki67_colours(index_pct: np.ndarray) -> np.ndarray:
    """Blue (0 %) -> yellow (50 %) -> red (100 %)."""
    t = np.clip(index_pct / 100.0, 0, 1)[..., None]
    blue, yellow, red = np.array([40, 80, 255.0]), np.array([255, 230, 0.0]), np.array([220, 20, 20.0])
    return np.where(t < 0.5, blue + (yellow - blue) * (t / 0.5), yellow + (red - yellow) * ((t - 0.5) / 0.5))


def _draw_polygons(img: Any, polygons: Sequence[np.ndarray], ds: float, colour: tuple[int, int, int]) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    for poly in polygons:
        pts = [(float(c) / ds, float(r) / ds) for r, c in np.asarray(poly, np.float64)]
        if len(pts) >= 3:
            draw.line([*pts, pts[0]], fill=colour, width=2)


def _label(img: Any, text: str) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    font = picture_font()
    text = units(text, font)
    box = draw.textbbox((4, 4), text, font=font)
    draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill=(255, 255, 255))
    draw.text((4, 4), text, fill=(0, 0, 0), font=font)


def scale_bar_um(um_per_px: float, panel_px: int) -> float:
    """Length (µm) of a picture's scale bar: the largest 1, 2 or 5 x 10^k µm no longer than a quarter
    of ``panel_px`` picture pixels of ``um_per_px`` µm each (NaN when the pixel size is unknown)."""
    if not (math.isfinite(um_per_px) and um_per_px > 0 and panel_px > 0):
        return math.nan
    most = panel_px / 4 * um_per_px
    k = math.floor(math.log10(most))
    return max(m * 10.0**k for m in (1, 2, 5) if m * 10.0**k <= most)


def _scale_bar(img: Any, um_per_px: float) -> None:
    """A black scale bar with its length ("500 µm", "2 mm") at the bottom right of ``img``, on white."""
    from PIL import ImageDraw

    um = scale_bar_um(um_per_px, img.size[0])
    if not math.isfinite(um):
        return
    length = um / um_per_px
    font = picture_font()
    text = units(f"{um / 1000:g} mm" if um >= 1000 else f"{um:g} µm", font)
    draw = ImageDraw.Draw(img)
    x1, y1 = img.size[0] - 6, img.size[1] - 6
    x0 = x1 - length
    box = draw.textbbox((0, 0), text, font=font)
    draw.rectangle((min(x0, x1 - box[2]) - 3, y1 - 5 - box[3] - 4, x1 + 3, y1 + 3), fill=(255, 255, 255))
    draw.rectangle((x0, y1 - 3, x1, y1), fill=(0, 0, 0))
    draw.text((x1 - box[2], y1 - 5 - box[3]), text, fill=(0, 0, 0), font=font)


def _tissue_panel(result: SlideResult, rois: Sequence[np.ndarray]) -> tuple[Any, float]:
    from PIL import Image

    base, ds = _thumbnail(result)
    img = base.copy()
    tissue = result.maps.get("tissue")
    if tissue is not None:
        mask = _resample(tissue, base.shape[:2], ds) > 0.5
        img[_outline(mask)] = _GREEN
    pil = Image.fromarray(img)
    _draw_polygons(pil, rois, ds, _YELLOW)
    _scale_bar(pil, ds * float(result.mpp))
    return pil, ds


def tissue_legend(result: SlideResult, rois: Sequence[np.ndarray] = ()) -> str:
    """The first overlay panel's label: only what it draws (tissue; the ROIs and the hot-spot box
    when there are any, the box named "densest window" when it holds too few nuclei for a hot spot)."""
    parts = ["tissue (green)"]
    if len(rois):
        parts.append("ROI (yellow)")
    if result.hotspot is not None:
        parts.append("hot spot (cyan)" if result.hotspot.meets_min_nuclei else "densest window, no hot spot (cyan)")
    return ", ".join(parts)


def _ki67_colour_bar(img: Any) -> None:
    """The Ki67 panel's colour key under its label: a blue-yellow-red bar from 0 to 100 %."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    x0, y0, width, height = 8, 22, 120, 8
    colours = _ki67_colours(np.linspace(0, 100, width)).astype(np.uint8)
    draw.rectangle((x0 - 4, y0 - 3, x0 + width + 30, y0 + height + 14), fill=(255, 255, 255))
    for i, c in enumerate(colours):
        draw.line((x0 + i, y0, x0 + i, y0 + height), fill=tuple(int(v) for v in c))
    draw.rectangle((x0, y0, x0 + width, y0 + height), outline=(0, 0, 0))
    font = picture_font()
    for frac, text in ((0, "0"), (0.5, "50"), (1, "100 %")):
        draw.text((x0 + frac * width - (0 if frac < 1 else 6), y0 + height + 1), text, fill=(0, 0, 0), font=font)


def tissue_image(result: SlideResult, rois: Sequence[np.ndarray] = ()) -> np.ndarray:
    """(m, n, 3) uint8: thumbnail, tissue outline (green), ROIs (yellow, level-0 (row, col) vertices)."""
    pil, _ = _tissue_panel(result, rois)
    return np.asarray(pil)


def overlay_image(result: SlideResult, rois: Sequence[np.ndarray] = ()) -> np.ndarray:
    """(m, k n + 4 (k - 1), 3) uint8: the k panels described in the module docstring (the tissue panel, one per
    measured map, the tissue-class panel when a tissue model ran); (m + s, ..., 3) when the class legend goes in
    a strip s px high under it."""
    from PIL import Image, ImageDraw

    base, ds = _thumbnail(result)
    shape = base.shape[:2]
    panels = []

    first, _ = _tissue_panel(result, rois)
    h = result.hotspot
    if h is not None:
        x0, y0 = h.box.col / ds, h.box.row / ds
        # at least one panel pixel: a hot spot thinner than a pixel (a 1-px strip) still draws
        x1, y1 = max(x0, h.box.col_end / ds - 1), max(y0, h.box.row_end / ds - 1)
        ImageDraw.Draw(first).rectangle((x0, y0, x1, y1), outline=_CYAN, width=3)
    _label(first, tissue_legend(result, rois))
    panels.append(first)

    def panel(key: str, title: str, key_text: str, colours: Any, alpha: Any) -> Any:
        m = result.maps.get(key)
        if m is None:  # not measured (Ki67 on H&E, necrosis on IHC, a measure not asked): no panel
            return None
        values = _resample(m, shape, ds)
        defined = np.isfinite(values)
        v = np.where(defined, values, 0.0)
        pil = Image.fromarray(_blend(base.astype(np.float64), colours(v), np.where(defined, alpha(v), 0.0)))
        _label(pil, f"{title} ({key_text})")
        if key == "ki67":
            _ki67_colour_bar(pil)
        return pil

    stains = str((result.stains or {}).get("name") or "")  # which stain the index was read on (a mixed batch)
    panels.append(panel("ki67", f"Ki67 index per tile{', ' + stains if stains else ''}", "no tint: no nucleus counted", _ki67_colours,
                        lambda v: np.full(v.shape, 0.55)))
    panels.append(panel("melanin", "melanin fraction", "brown: darker = more",
                        lambda v: np.broadcast_to([90, 45, 0.0], (*v.shape, 3)), lambda v: np.sqrt(v) * 0.9))
    panels.append(panel("necrosis", "necrosis fraction", "magenta: stronger = more",
                        lambda v: np.broadcast_to([230, 0, 200.0], (*v.shape, 3)), lambda v: v * 0.7))
    panels = [p for p in panels if p is not None]
    strip = None
    if result.maps.get("tissue_classes") is not None and result.tissue_classes:
        classes, strip = _classes_panel(result, base, ds)
        panels.append(classes)
    gap = 4
    below = 0 if strip is None else strip.size[1]  # the class legend under its panel: every place hid tissue
    width = len(panels) * shape[1] + gap * (len(panels) - 1)
    # the strip ends under the class panel's right edge and reaches left under the other panels (white there);
    # wider than the whole picture (a narrow slide strip), the picture widens: no name or figure is cut
    wide = 0 if strip is None else strip.size[0]
    out = np.full((shape[0] + below, max(width, wide), 3), 255, np.uint8)
    for i, p in enumerate(panels):
        out[: shape[0], i * (shape[1] + gap) : i * (shape[1] + gap) + shape[1]] = np.asarray(p)
    if strip is not None:
        x1 = max(width, wide)
        out[shape[0] :, x1 - wide : x1] = np.asarray(strip)
    return out


def _classes_panel(result: SlideResult, base: np.ndarray, ds: float) -> tuple[Any, Any]:
    """The tissue class map in the display colours over the thumbnail, with a legend (class, area,
    % of the classed area) where it hides the least tissue (:func:`legend_place`); and the legend as a strip to
    go under the panel (None when it fits in the panel)."""
    from PIL import Image, ImageDraw

    legend = result.tissue_classes["classes"]
    index = _resample(result.maps["tissue_classes"], base.shape[:2], ds).astype(np.intp)
    palette = np.zeros((256, 3))
    for c in legend:
        palette[c["index"]] = class_display_colour(c["name"], c["colour"])
    defined = index >= 0
    alpha = np.where(defined, 0.6, 0.0)
    pil = Image.fromarray(_blend(base.astype(np.float64), palette[np.where(defined, index, 0)], alpha))
    font = picture_font()
    shown = [c for c in legend if c["area_mm2"] > 0]
    strip = None
    if shown:
        width = max(ImageDraw.Draw(pil).textbbox((0, 0), units(_legend_text(c), font), font=font)[2] for c in shown)
        tissue = defined & ~np.isin(index, [c["index"] for c in legend if c["name"] == "background"])
        place = legend_place(tissue, (math.ceil(20 + width), 4 + 12 * len(shown)))
        if place is None:
            strip = Image.new("RGB", (max(pil.size[0], math.ceil(24 + width)), 10 + 12 * len(shown)), (255, 255, 255))
        target = pil if strip is None else strip
        x, y = place if place is not None else (0, 0)
        draw = ImageDraw.Draw(target)
        draw.rectangle((x + 2, y + 2, x + 20 + width, y + 6 + 12 * len(shown)), fill=(255, 255, 255))
        y += 4
        for c in shown:
            draw.rectangle((x + 5, y + 2, x + 13, y + 10), fill=class_display_colour(c["name"], c["colour"]),
                           outline=(0, 0, 0))
            draw.text((x + 17, y), units(_legend_text(c), font), fill=(0, 0, 0), font=font)
            y += 12
    _label(pil, CLASSES_LABEL)
    return pil, strip


#: Rows at the top of a panel kept for its label: a legend in a top corner starts below them.
LABEL_ROWS = 20


def legend_corner(tissue: np.ndarray, size: tuple[int, int]) -> tuple[int, int]:
    """(x, y) of the top-left of a legend of ``size`` (width, height) px in the corner of a panel that hides
    the fewest ``tissue`` pixels (bool, the panel's shape): bottom left, bottom right, top right (below the
    label), top left (below the label), the first of equals. The class map under the legend stays visible
    where the picture has room for it (a slide filling its bottom-left corner no longer loses it)."""
    rows, cols = tissue.shape
    w, h = min(size[0] + 4, cols), min(size[1] + 4, rows)
    top = min(LABEL_ROWS, max(rows - h, 0))
    corners = [(0, rows - h), (cols - w, rows - h), (cols - w, top), (0, top)]
    hidden = [int(np.count_nonzero(tissue[y : y + h, x : x + w])) for x, y in corners]
    return corners[int(np.argmin(hidden))]


#: Share of a legend's box that may be tissue for the legend to stay in its panel (else it goes under the panel).
LEGEND_MAX_TISSUE = 0.05


def legend_place(tissue: np.ndarray, size: tuple[int, int], *, step: int = 8,
                 max_tissue: float = LEGEND_MAX_TISSUE) -> tuple[int, int] | None:
    """(x, y) of the top-left of a legend of ``size`` (width, height) px where it hides the fewest ``tissue``
    pixels (bool, the panel's shape), below the panel's label: the corners of :func:`legend_corner` first (the
    first of equals, so a corner free of tissue keeps the legend there), then every place on a ``step`` px grid;
    None (draw it outside the panel) when the best place still hides tissue on more than ``max_tissue`` of the
    legend's box, as on a tile that tissue fills edge to edge."""
    rows, cols = tissue.shape
    w, h = min(size[0] + 4, cols), min(size[1] + 4, rows)
    top = min(LABEL_ROWS, max(rows - h, 0))
    summed = np.zeros((rows + 1, cols + 1), np.int64)
    summed[1:, 1:] = np.cumsum(np.cumsum(tissue, axis=0), axis=1)
    corners = [(0, rows - h), (cols - w, rows - h), (cols - w, top), (0, top)]
    grid = [(x, y) for y in range(top, rows - h + 1, max(1, step)) for x in range(0, cols - w + 1, max(1, step))]
    xy = np.asarray(corners + grid, np.intp)
    x, y = xy[:, 0], xy[:, 1]
    hidden = summed[y + h, x + w] - summed[y, x + w] - summed[y + h, x] + summed[y, x]
    best = int(np.argmin(hidden))
    if hidden[best] > max_tissue * w * h:
        return None
    return int(x[best]), int(y[best])


#: The class panel's label: its percentages are of the classed area, not of necrosis %'s tissue.
CLASSES_LABEL = "tissue classes: area, % of classed area"


def _legend_text(c: Any) -> str:
    pct = c["pct_of_tissue"]
    return f"{c['name']} {area_text(c['area_mm2'])}" + ("" if not math.isfinite(pct) else f" ({pct:.1f} %)")


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def tissue_png(result: SlideResult, rois: Sequence[np.ndarray] = ()) -> bytes:
    """PNG bytes of :func:`tissue_image`."""
    return _png(tissue_image(result, rois))


def overlay_png(result: SlideResult, rois: Sequence[np.ndarray] = ()) -> bytes:
    """PNG bytes of :func:`overlay_image`."""
    return _png(overlay_image(result, rois))


def thumbnail_png(png: bytes, max_px: int = 160) -> bytes:
    """A smaller copy of a PNG (long side ``max_px``), e.g. for the HTML report."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    scale = max_px / max(img.size)
    if scale < 1:
        img = img.resize((max(1, math.floor(img.size[0] * scale)), max(1, math.floor(img.size[1] * scale))),
                         Image.Resampling.LANCZOS)
    return _png(np.asarray(img))


# ------------------------------------------------------------------------------------------------
# per-nucleus check pictures (full resolution)
#: ring colour of each nucleus class in the check pictures (RGB)
CLASS_RGB = {
    "positive": (230, 0, 0),
    "negative": (0, 90, 255),
    "pigment": (140, 140, 140),
    "excluded": (0, 160, 160),  # teal, as in the GeoJSON and napari (session 34)
}


@dataclass(frozen=True)
class NucleusField:
    """One full-resolution picture of a field with every nucleus ringed by its class.

    Attributes
    ----------
    name : str
        File stem (``nuclei_hotspot``, ``nuclei_field_1``...).
    title : str
        What the field is (hot spot, random field n).
    box : Box
        Level-0 region shown (1 picture pixel = 1 level-0 pixel, plus a caption strip on top).
    counts : dict
        Nuclei of each class in the picture.
    png : bytes
    """

    name: str
    title: str
    box: Box
    counts: dict[str, int]
    png: bytes


def _field_box(center_rc: tuple[float, float], side: int, shape: tuple[int, int]) -> Box:
    h, w = min(side, shape[0]), min(side, shape[1])
    r0 = int(min(max(0, round(center_rc[0] - h / 2)), shape[0] - h))
    c0 = int(min(max(0, round(center_rc[1] - w / 2)), shape[1] - w))
    return Box(r0, c0, h, w)


def _overlaps(a: Box, b: Box) -> bool:
    return a.row < b.row_end and b.row < a.row_end and a.col < b.col_end and b.col < a.col_end


def field_boxes(result: SlideResult, *, side_px: int, n_random: int = 3, seed: str = "") -> list[tuple[str, str, Box]]:
    """(name, title, level-0 box) of the check fields: the densest field of the hot-spot window
    (when there is one) and up to ``n_random`` random fields centred on random classified nuclei
    (seeded by ``seed``, e.g. the input name, so a rerun shows the same fields), not overlapping."""
    import zlib

    cells = result.cells
    shape = (int(result.shape[0]), int(result.shape[1]))
    names = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls, np.intp)] if len(cells) else np.zeros(0, object)
    tumour = (names == "positive") | (names == "negative")
    out: list[tuple[str, str, Box]] = []
    h = result.hotspot
    if h is not None and tumour.any():
        inside = tumour & (cells.row >= h.box.row) & (cells.row < h.box.row_end) \
            & (cells.col >= h.box.col) & (cells.col < h.box.col_end)  # fmt: skip
        if inside.any():
            # the field of the window with the most tumour nuclei (coarse search on their centroids)
            rr, cc = cells.row[inside], cells.col[inside]
            best = max(
                zip(rr, cc, strict=True),
                key=lambda p: int(np.sum((np.abs(rr - p[0]) < side_px / 2) & (np.abs(cc - p[1]) < side_px / 2))),
            ) if inside.sum() <= 2000 else (float(np.median(rr)), float(np.median(cc)))  # fmt: skip
            # a field inside the hot-spot window, not the window: its own "% here" differs from the table's hot spot
            window = f"{h.area_mm2:.2f} mm², Ki67 {h.index_pct:.1f} %"
            title = (f"densest field of the hot spot ({window})" if h.meets_min_nuclei
                     else f"densest field of the densest window ({window}; too few nuclei for a hot spot)")
            out.append(("nuclei_hotspot", title, _field_box(best, side_px, shape)))
    candidates = np.flatnonzero(tumour)
    rng = np.random.default_rng(zlib.crc32(seed.encode("utf-8")))
    for i in rng.permutation(candidates)[: 50 * max(1, n_random)]:
        if sum(name.startswith("nuclei_field") for name, _, _ in out) >= n_random:
            break
        box = _field_box((float(cells.row[i]), float(cells.col[i])), side_px, shape)
        if any(_overlaps(box, b) for _, _, b in out):
            continue
        k = sum(name.startswith("nuclei_field") for name, _, _ in out) + 1
        out.append((f"nuclei_field_{k}", f"random field {k}", box))
    return out


def _font(size: int) -> Any:
    from PIL import ImageFont

    font = picture_font(size)
    if font is not None:
        return font
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def nucleus_field_image(result: SlideResult, rgb: np.ndarray, box: Box, title: str) -> tuple[np.ndarray, dict[str, int]]:
    """(picture, counts): ``rgb`` (the level-0 pixels of ``box``) with every nucleus of the result
    inside ringed in its class colour (ring radius from its area), a caption with the counts and
    colours, and a 50 µm scale bar."""
    from PIL import Image, ImageDraw

    cells = result.cells
    mpp = float(result.mpp)
    sel = (cells.row >= box.row) & (cells.row < box.row_end) & (cells.col >= box.col) & (cells.col < box.col_end)
    idx = np.flatnonzero(sel)
    names: np.ndarray = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls, np.intp)[idx]]
    area = cells.columns.get("area_um2")
    default_r = 4.0 / mpp  # an 8 µm nucleus when the area is not recorded
    counts = {k: int(np.sum(np.asarray(names) == k)) for k in CLASS_RGB}
    font = _font(13)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    head, legend = _caption_layout(measure, font, box, mpp, title, counts)
    melano = melanocytic_flags(getattr(result, "metrics", None) or {}, cells.columns, idx)
    if melano is not None:  # a double stain: its marker-positive nuclei drawn as squares, said in the caption
        head = [*head, f"squares: melanocytic ({melano[1]}), {int(melano[0].sum())} of {len(idx)} nuclei"]
    caption = 44 + 20 * (len(head) + len(legend) - 2)
    pil = Image.new("RGB", (box.width, box.height + caption), (255, 255, 255))
    pil.paste(Image.fromarray(np.asarray(rgb, np.uint8)), (0, caption))
    draw = ImageDraw.Draw(pil)
    width = max(2, round(0.6 / mpp))
    for k, (j, name) in enumerate(zip(idx, names, strict=True)):
        r = default_r
        if area is not None and math.isfinite(float(area[j])) and area[j] > 0:
            r = math.sqrt(float(area[j]) / math.pi) / mpp
        r += width + 1
        y, x = float(cells.row[j]) - box.row + caption, float(cells.col[j]) - box.col
        shape = draw.rectangle if melano is not None and melano[0][k] else draw.ellipse
        shape((x - r, y - r, x + r, y + r), outline=CLASS_RGB.get(str(name), (255, 255, 255)), width=width)
    for i, text in enumerate(head):
        draw.text((6, 4 + 20 * i), text, fill=(0, 0, 0), font=font)
    for i, line in enumerate(legend):
        y = 24 + 20 * (len(head) - 1 + i)
        for x, text, colour in line:
            if colour is not None:
                draw.ellipse((x - 16, y + 1, x - 4, y + 13), outline=colour, width=3)
            draw.text((x, y), text, fill=(0, 0, 0), font=font)
    bar = 50 / mpp  # 50 µm scale bar, bottom left
    y = box.height + caption - 10
    draw.rectangle((4, y - 24, 12 + max(bar, 40), y + 4), fill=(255, 255, 255))  # readable on tissue
    draw.rectangle((8, y - 4, 8 + bar, y), fill=(0, 0, 0))
    draw.text((8, y - 20), units("50 µm", picture_font(13)), fill=(0, 0, 0), font=font)
    return np.asarray(pil), counts


def _caption_layout(draw: Any, font: Any, box: Box, mpp: float, title: str, counts: dict[str, int]
                    ) -> tuple[list[str], list[list[tuple[float, str, tuple[int, int, int] | None]]]]:
    """(heading lines, legend lines of (x of the text, text, ring colour or None)) of a check picture's
    caption, flowed into the picture's width: on one line each, a 512 px field (a 256 µm tile) cut
    "Ki67 26.4 % here" off, and a 300 µm field at 1 µm/px most of the legend. A caption that fits is
    laid out as before (heading at y 4, legend at y 24, 44 px)."""
    limit = box.width - 4
    head = [""]
    um = units("µm", picture_font(13))
    for word in f"{title}: {box.height * mpp:.0f} x {box.width * mpp:.0f} {um} at level-0 row {box.row}, col {box.col}".split(" "):
        wider = f"{head[-1]} {word}" if head[-1] else word
        if head[-1] and 6 + draw.textlength(wider, font=font) > limit:
            head.append(word)
        else:
            head[-1] = wider
    items: list[tuple[str, tuple[int, int, int] | None]] = [(f"{k} {counts[k]}", c) for k, c in CLASS_RGB.items()]
    pos, neg = counts["positive"], counts["negative"]
    if pos + neg:
        items.append((f"Ki67 {100 * pos / (pos + neg):.1f} % here", None))
    lines: list[list[tuple[float, str, tuple[int, int, int] | None]]] = [[]]
    x = 6.0
    for text, colour in items:
        for _ in range(2):  # on this line, or else at the start of a new one
            start = x + (16 if colour is not None else 8)
            if start + draw.textlength(text, font=font) <= limit or not lines[-1]:
                break
            lines.append([])
            x = 6.0 - (0 if colour is not None else 8)
        lines[-1].append((start, text, colour))
        x = start + draw.textlength(text, font=font) + 12
    return head, lines


def nucleus_fields(
    result: SlideResult, reader: Any, *, side_um: float = 300.0, max_side_px: int = 1024, n_random: int = 3
) -> list[NucleusField]:
    """Full-resolution check pictures of the hot spot and ``n_random`` random fields.

    Parameters
    ----------
    result : SlideResult
        A result with classified nuclei (Ki67).
    reader : SlideReader
        The slide the result came from (level-0 pixels are read from it).
    side_um : float
        Field side in µm (at most ``max_side_px`` level-0 pixels).
    """
    if not len(result.cells):
        return []
    side = max(64, min(max_side_px, round(side_um / float(result.mpp))))
    out = []
    for name, title, box in field_boxes(result, side_px=side, n_random=n_random, seed=str(result.input)):
        rgb = reader.read_region(box, 0)
        img, counts = nucleus_field_image(result, rgb, box, title)
        out.append(NucleusField(name, title, box, counts, _png(img)))
    return out
