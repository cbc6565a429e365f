"""Run the library on a region of a slide and turn its result into napari layers (no Qt).

The plugin holds no algorithm: the analysis is :func:`mmnst_path.pipeline.analyze_slide` on the
layer's open reader with the region given as level-0 ROI polygons, and the numbers shown are
the library's (``SlideResult.metrics``; :func:`mmnst_path.quantify.ki67.ki67_metrics` of the
counts after a review).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mmnst_path.aggregate import SlideResult
from mmnst_path.geometry import Box

from ._layers import LayerData, heatmap_layer, hotspot_layer, points_layer, results_text

__all__ = ["box_polygon", "ki67_from_classes", "layers_from_result", "panel_text", "run_analysis"]

#: colormap and display range of the low-resolution fraction maps
MAP_STYLE = {"melanin": ("copper", "melanin fraction"), "necrosis": ("green", "necrosis fraction")}


def box_polygon(box: Box) -> np.ndarray:
    """(4, 2) level-0 (row, col) vertices of ``box``'s outline (pixel edges at -0.5 offsets)."""
    r0, c0 = box.row - 0.5, box.col - 0.5
    r1, c1 = box.row_end - 0.5, box.col_end - 0.5
    return np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]], dtype=np.float64)


def run_analysis(
    reader: Any,
    config: Any,
    *,
    mpp: float | None,
    roi: Sequence[np.ndarray] | None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> SlideResult:
    """Analyse ``reader`` (whole image, or the ROI polygons) with the library.

    Parameters
    ----------
    reader : SlideReader
        Open library reader of the image layer.
    config : AnalysisConfig
        Analysis parameters.
    mpp : float or None
        µm per level-0 pixel overriding the file's metadata (needed when it has none).
    roi : sequence of (K, 2) float arrays or None
        Level-0 (row, col) polygons; None analyses the whole image.
    progress : callable(done, total), optional
        Tile progress; raising from it aborts the analysis (used for Cancel).
    workers : int, optional
        Worker processes (None: the library default; in-memory images run in this process).
    """
    from mmnst_path.pipeline import analyze_slide

    if getattr(reader, "path", None) is None:
        workers = 1
    return analyze_slide(reader, config, mpp=mpp, roi=roi, progress=progress, workers=workers)


def ki67_from_classes(classes: Any, bins: Any) -> tuple[Any, dict[str, Any]]:
    """Library Ki67 counts and metrics of reviewed nucleus classes (positive bin forced to >= 1)."""
    from mmnst_path.quantify.ki67 import Ki67Counts, ki67_metrics

    cls = np.asarray(classes).astype(str)
    b = np.asarray(bins, dtype=np.int64).copy()
    pos = cls == "positive"
    b[pos & (b < 1)] = 1  # a nucleus the reviewer made positive counts at least as 1+
    counts = Ki67Counts.from_classes(cls, b)
    return counts, dict(ki67_metrics(counts))


def layers_from_result(result: SlideResult, *, mpp: float | None) -> list[LayerData]:
    """Layer data tuples: nuclei Points, melanin / necrosis maps, Ki67 heatmap, hot-spot Shapes.

    ``mpp`` is the display scale of the image layer (None when it is shown in pixels).
    """
    layers: list[LayerData] = []
    if "ki67" in result.measures or len(result.cells):
        layers.append(points_layer(result.cells, mpp=mpp))
    for key, (cmap, name) in MAP_STYLE.items():
        m = result.maps.get(key)
        if m is None:
            continue
        data, kw, kind = heatmap_layer(
            np.asarray(m.image, np.float32),
            downsample=m.downsample,
            mpp=mpp,
            name=name,
            contrast_limits=(0.0, 1.0),
        )
        kw["colormap"] = cmap
        layers.append((data, kw, kind))
    k = result.maps.get("ki67")
    if k is not None:
        layers.append(heatmap_layer(k.image, downsample=k.downsample, mpp=mpp, name="Ki67 heatmap"))
    h = result.hotspot
    if h is not None:
        label = f"hot spot {h.index_pct:.1f} % (n={h.nuclei})" if math.isfinite(h.index_pct) else "hot spot"
        layers.append(hotspot_layer(h.box, mpp=mpp, label=label))
    return layers


def panel_text(result: SlideResult, *, reviewed: Mapping[str, Any] | None = None) -> str:
    """Results panel text from the library's metrics, or from ``reviewed`` Ki67 metrics."""
    m = dict(result.metrics)
    if reviewed is not None:
        k = dict(reviewed)
    else:
        k = {
            "index_pct": m.get("ki67_index_pct"),
            "ci_low_pct": m.get("ki67_ci_low_pct"),
            "ci_high_pct": m.get("ki67_ci_high_pct"),
            "h_score": m.get("h_score"),
            "positive": m.get("ki67_positive"),
            "negative": m.get("ki67_negative"),
            "pigment": m.get("ki67_pigment"),
        }
    counts = {name: k[name] for name in ("positive", "negative", "pigment") if k.get(name) is not None}
    return results_text(
        k if (reviewed is not None or "ki67" in result.measures) else None,
        counts,
        melanin_pct=_first(m, "melanin_fraction_pct", "melanin_pct"),
        necrosis_pct=_first(m, "necrosis_fraction_pct", "necrosis_pct"),
        hotspot_pct=m.get("ki67_hotspot_index_pct") if reviewed is None else None,
    )


def _first(m: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if n in m:
            return m[n]
    return None
