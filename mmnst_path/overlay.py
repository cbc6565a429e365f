"""Quality-control pictures of a :class:`~mmnst_path.aggregate.SlideResult`: tissue.png and overlay.png.

``tissue.png``
    The tissue-detection thumbnail with the tissue outline (green) and the regions of interest
    (yellow).
``overlay.png``
    Four panels side by side, each the thumbnail with a map blended over it: (1) tissue outline,
    ROI and Ki67 hot spot (cyan box); (2) per-tile Ki67 index heatmap (blue 0 % -> yellow 50 %
    -> red 100 %, grey where no nucleus was counted); (3) melanin fraction (brown); (4) necrosis
    fraction (magenta). A panel whose measure was not run says so.

Everything is drawn from the low-resolution maps the result carries (never full resolution).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .aggregate import LowResMap, SlideResult

__all__ = ["overlay_image", "overlay_png", "thumbnail_png", "tissue_image", "tissue_png"]

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
    box = draw.textbbox((4, 4), text)
    draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill=(255, 255, 255))
    draw.text((4, 4), text, fill=(0, 0, 0))


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
    return pil, ds


def tissue_image(result: SlideResult, rois: Sequence[np.ndarray] = ()) -> np.ndarray:
    """(m, n, 3) uint8: thumbnail, tissue outline (green), ROIs (yellow, level-0 (row, col) vertices)."""
    pil, _ = _tissue_panel(result, rois)
    return np.asarray(pil)


def overlay_image(result: SlideResult, rois: Sequence[np.ndarray] = ()) -> np.ndarray:
    """(m, 4 n + 12, 3) uint8: the four panels described in the module docstring."""
    from PIL import Image, ImageDraw

    base, ds = _thumbnail(result)
    shape = base.shape[:2]
    panels = []

    first, _ = _tissue_panel(result, rois)
    h = result.hotspot
    if h is not None:
        ImageDraw.Draw(first).rectangle(
            (h.box.col / ds, h.box.row / ds, h.box.col_end / ds - 1, h.box.row_end / ds - 1), outline=_CYAN, width=3
        )
    _label(first, "tissue (green), ROI (yellow), hot spot (cyan)")
    panels.append(first)

    def panel(key: str, title: str, colours: Any, alpha: Any) -> Any:
        m = result.maps.get(key)
        if m is None:
            pil = Image.fromarray((base * 0.4 + 150).astype(np.uint8))
            _label(pil, f"{title}: not measured")
            return pil
        values = _resample(m, shape, ds)
        defined = np.isfinite(values)
        v = np.where(defined, values, 0.0)
        pil = Image.fromarray(_blend(base.astype(np.float64), colours(v), np.where(defined, alpha(v), 0.0)))
        _label(pil, title)
        return pil

    panels.append(panel("ki67", "Ki67 index per tile (blue 0% > red 100%)", _ki67_colours, lambda v: np.full(v.shape, 0.55)))
    panels.append(panel("melanin", "melanin fraction (brown)", lambda v: np.broadcast_to([90, 45, 0.0], (*v.shape, 3)),
                        lambda v: np.sqrt(v) * 0.9))
    panels.append(panel("necrosis", "necrosis fraction (magenta)", lambda v: np.broadcast_to([230, 0, 200.0], (*v.shape, 3)),
                        lambda v: v * 0.7))
    gap = 4
    out = np.full((shape[0], len(panels) * shape[1] + gap * (len(panels) - 1), 3), 255, np.uint8)
    for i, p in enumerate(panels):
        out[:, i * (shape[1] + gap) : i * (shape[1] + gap) + shape[1]] = np.asarray(p)
    return out


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
