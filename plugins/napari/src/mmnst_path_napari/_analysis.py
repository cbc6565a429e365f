"""Run the library on a region of a slide and turn its result into napari layers (no Qt).

The plugin holds no algorithm: the analysis is :func:`mmnst_path.pipeline.analyze_slide` on the
layer's open reader with the region given as level-0 ROI polygons, and the numbers shown are
the library's (``SlideResult.metrics``; :func:`mmnst_path.quantify.ki67.ki67_metrics` of the
counts after a review).
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmnst_path.aggregate import SlideResult, hotspot_in_box
from mmnst_path.geometry import Box

from ._classmap import melanocytic_text
from ._layers import (
    MAP_COLORS,
    LayerData,
    fraction_colormap,
    heatmap_layer,
    hotspot_layer,
    points_layer,
    results_text,
)

__all__ = [
    "WEAK_STAIN_TIP",
    "AnalysisPlan",
    "box_polygon",
    "done_words",
    "hidden_maps",
    "hotspot_caption",
    "hotspot_label",
    "ki67_from_classes",
    "layers_from_result",
    "notice_text",
    "panel_text",
    "plan_analysis",
    "positive_threshold_field",
    "recorded_warnings",
    "reviewed_hotspot_caption",
    "run_analysis",
    "weak_stain_text",
]

#: layer names of the fraction maps
MAP_NAMES = {"melanin": "melanin fraction", "necrosis": "necrosis fraction"}
#: the nucleus classes the results box counts (the index is positive / (positive + negative))
COUNTED_CLASSES = ("positive", "negative", "pigment", "excluded")


#: ``Ki67Params`` fields holding a stain's Ki67 positive threshold (log10 OD of the chromogen): DAB and
#: AEC under hematoxylin read ``positive_threshold_od``; Fast Red tiles count at
#: ``fast_red_positive_threshold_od`` (``Ki67Params.for_chromogen``), azure B tiles at
#: ``azure_positive_threshold_od`` (``Ki67Params.for_counterstain``, which wins over the chromogen).
THRESHOLD_FIELDS = ("positive_threshold_od", "fast_red_positive_threshold_od", "azure_positive_threshold_od")


def _ki67_stains(matrix: Any) -> tuple[str, str]:
    """Ki67 chromogen and counterstain of a stain matrix (``"dab"``, ``"hematoxylin"`` when it has no
    Ki67 chromogen)."""
    from mmnst_path.errors import ConfigError
    from mmnst_path.quantify.ki67 import chromogen_of, counterstain_of

    try:
        return chromogen_of(matrix), counterstain_of(matrix)
    except ConfigError:
        return "dab", "hematoxylin"


def positive_threshold_field(matrix: Any) -> tuple[str, str]:
    """(``Ki67Params`` field, label) of the positive threshold the Ki67 tiles of a stain matrix count
    at: ``("azure_positive_threshold_od", "positive DAB OD ≥ (Azure B)")`` for AzureB-DAB,
    ``("fast_red_positive_threshold_od", "positive Fast Red OD ≥")`` for H-FastRed,
    ``("positive_threshold_od", "positive AEC OD ≥")`` for H-AEC. A matrix without a Ki67 chromogen
    gives DAB's field and label."""
    from mmnst_path._geojson_names import STAIN_DISPLAY

    chromogen, counterstain = _ki67_stains(matrix)
    label = f"positive {STAIN_DISPLAY['chromogen'].get(chromogen, 'DAB')} OD ≥"
    if counterstain == "azure_b":
        return "azure_positive_threshold_od", f"{label} (Azure B)"
    if chromogen == "fast_red":
        return "fast_red_positive_threshold_od", label
    return "positive_threshold_od", label


#: the weak-stain check box's tooltip: what its short text means
WEAK_STAIN_TIP = ("weak-stain adaptation ([ki67] weak_stain_adaptation): on a weakly stained slide the chromogen's "
                  "positive threshold is lowered, at the lowest to the floor named (log10 OD); Fast Red and azure B "
                  "counterstain tiles already count at or below it, so the box changes nothing there")


def weak_stain_text(matrix: Any, params: Any) -> str:
    """The weak-stain check box's text for a stain matrix (None: stains detected at the run) and
    ``Ki67Params``: the slide step (``apply_slide_threshold``) lowers the chromogen's threshold to
    ``weak_stain_min_threshold_od`` at the lowest (log10 OD of the chromogen, after
    ``for_chromogen``); where the tiles already count at or below that (Fast Red 0.25, azure B
    counterstain 0.225) the box changes nothing, and says so."""
    from mmnst_path._geojson_names import STAIN_DISPLAY
    if matrix is None:
        floor = min(params.weak_stain_min_threshold_od, params.positive_threshold_od)
        return f"follow weak staining to {floor:g} OD (DAB, AEC)"  # (short: "down" was cut at ~370 px docks)
    chromogen, counterstain = _ki67_stains(matrix)
    p = params.for_chromogen(chromogen)
    floor = min(p.weak_stain_min_threshold_od, p.positive_threshold_od)
    if floor < p.for_counterstain(counterstain).positive_threshold_od:
        return f"follow weak {STAIN_DISPLAY['chromogen'].get(chromogen, 'DAB')} staining down to {floor:g} OD"
    stain = "Azure B" if counterstain == "azure_b" else STAIN_DISPLAY["chromogen"].get(chromogen, "DAB")
    return f"follow weak staining (no effect with {stain})"


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
    threads: int | None = None,
) -> SlideResult:
    """Analyse ``reader`` (whole image, or the ROI polygons) with the library, tiles in threads.

    The tiles run on threads of this process (a Dask client without worker processes), never
    on spawned processes: a spawned pool re-imports the caller's ``__main__`` (a napari script
    without an ``if __name__ == "__main__":`` guard then hangs), and a GUI must not fork.

    Parameters
    ----------
    reader : SlideReader
        Open library reader of the image layer.
    config : AnalysisConfig
        Analysis parameters (explicit stains: see :func:`plan_analysis`).
    mpp : float or None
        µm per level-0 pixel overriding the file's metadata (needed when it has none).
    roi : sequence of (K, 2) float arrays or None
        Level-0 (row, col) polygons; None analyses the whole image.
    progress : callable(done, total), optional
        Tile progress; raising from it aborts the analysis (used for Cancel).
    threads : int, optional
        Tile threads (default: the number of CPUs); 1 runs the tiles one after the other.
    """
    from mmnst_path.pipeline import analyze_slide

    n = int(threads) if threads else (os.cpu_count() or 1)
    if n <= 1:
        return analyze_slide(reader, config, mpp=mpp, roi=roi, progress=progress, workers=1)
    from distributed import Client

    with Client(
        processes=False, n_workers=1, threads_per_worker=n, dashboard_address=None, set_as_default=False
    ) as client:
        return analyze_slide(reader, config, mpp=mpp, roi=roi, progress=progress, scheduler=client)


@contextlib.contextmanager
def recorded_warnings() -> Iterator[list[str]]:
    """The warnings raised inside the block (a stain close call, a tissue model's training caution, an analysis
    µm/px outside the models' range, a named stain the image contradicts...), each once and on one line, as
    ``mmnst-path quantify`` records them in its row: Analyze's warning line shows them (napari showed them only as
    passing notifications, or not at all from its worker thread). The list fills when the block ends."""
    said: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield said
    said.extend(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))


def notice_text(plan: Any, result: SlideResult, said: Sequence[str] = ()) -> str:
    """Analyze's warning line: the measures the stains refused, the QC sentences of the result, then the run's
    other warnings (:func:`recorded_warnings`), each sentence once."""
    from ._classmap import qc_warnings

    qc = qc_warnings(result.metrics)
    shown = {" ".join(str(w).split()) for w in [*plan.refused, *qc]}
    return "\n".join([*plan.refused, *(f"⚠ {w}" for w in qc), *(f"⚠ {w}" for w in said if w not in shown)])


@dataclass(frozen=True)
class AnalysisPlan:
    """What Analyze will run: the resolved config and why some ticked measures are not run.

    Attributes
    ----------
    config : AnalysisConfig
        Explicit stains (a preset name or an estimated matrix) and the measures to run.
    stains : str
        Stain matrix name as shown to the user.
    stains_source : str
        ``"detected from the image"``, ``"chosen"`` or ``"estimated from the image (reference X)"``.
    refused : tuple of str
        One sentence per ticked measure the stains do not allow.
    skipped : tuple of str
        The ``optional`` measures (ticked by default, not by the user) the stains do not allow,
        left out quietly.
    """

    config: Any
    stains: str
    stains_source: str
    refused: tuple[str, ...]
    skipped: tuple[str, ...] = ()


def plan_analysis(
    reader: Any,
    mapping: Mapping[str, Any],
    *,
    ticked: Sequence[str],
    estimate_box: Box | None = None,
    positive_od: float | None = None,
    optional: Sequence[str] = (),
) -> AnalysisPlan:
    """Resolve the stains (``"auto"``: the CLI's detection) and the measures they allow.

    Parameters
    ----------
    reader : SlideReader
        The image (its mpp already known).
    mapping : mapping
        :meth:`AnalysisConfig.to_mapping` of the widget's values; ``stains`` may be ``"auto"``.
    ticked : sequence of str
        Measures the user asked for.
    estimate_box : Box, optional
        Estimate the stain vectors (Macenko) on this level-0 region, with the chosen or
        detected preset as reference.
    positive_od : float, optional
        Ki67 positive threshold (log10 OD) for the resolved stains: set in the field their tiles
        count at (:func:`positive_threshold_field`; Analyze's box when the stains are detected).
    optional : sequence of str
        Ticked measures left out without a refusal when the stains do not allow them (Analyze's
        necrosis, ticked by default: on an IHC slide it is skipped, not refused, unless the user ticked it).

    Raises
    ------
    ValueError
        When none of the ticked measures applies to the stains (the message says why).
    """
    from mmnst_path.pipeline import AnalysisConfig, applicable_measures
    from mmnst_path.quantify._ki67_stains import marker_channel

    m = dict(mapping)
    m["measures"] = []
    stains = str(m.get("stains", "auto"))
    source = "chosen"
    if stains.strip().lower() == "auto":
        guess = detect_image_stains(reader, m)
        stains = guess.name
        source = "detected from the image"
        ki67 = dict(m.get("ki67") or {})
        if guess.marker and ki67.get("melanocyte_marker", "auto") == "auto":  # as the CLI: the marker's place
            m["ki67"] = {**ki67, "melanocyte_marker": guess.marker}
            source += f", {'SOX10' if guess.marker == 'nuclear' else 'MART-1'} ({guess.marker} marker)"
    shown = stains
    if estimate_box is not None:
        from mmnst_path.stain import estimate_stains

        level = reader.best_level_for_downsample(max(1.0, (estimate_box.area / 2048**2) ** 0.5))
        rgb = reader.read_region(estimate_box, level)
        source = f"estimated from the view (reference {stains}, {source})"
        stains = estimate_stains(rgb, reference=stains).to_json(indent=None)
    m["stains"] = stains
    if marker_channel(AnalysisConfig(stains=stains).stain_matrix()) is None:  # a single stain: no marker to read
        m["ki67"] = {**dict(m.get("ki67") or {}), "melanocyte_marker": "auto"}  # (one chosen while auto: the CLI's)
    config = AnalysisConfig.from_mapping(m)
    matrix = config.stain_matrix()
    if positive_od is not None:
        m["ki67"] = {**dict(m.get("ki67") or {}), positive_threshold_field(matrix)[0]: float(positive_od)}
        config = AnalysisConfig.from_mapping(m)
    allowed = applicable_measures(config, matrix)
    refused = []
    skipped = tuple(name for name in ticked if name in optional and name not in allowed)
    for name in ticked:
        if name in allowed or name in skipped:
            continue
        if name == "ki67":
            refused.append(
                f"Ki67 NOT measured: the stains {shown} ({source}) have no Ki67 chromogen (DAB, AEC, Fast Red); "
                "choose an IHC stain matrix (e.g. H-DAB) if this is a Ki67 slide"
            )
        else:  # (in words: a pathologist reads no Python list of stain names)
            refused.append(f"{name} NOT measured: it needs an H&E slide (eosin); the stains {shown} have no eosin "
                           f"(untick {name} for IHC slides)")
    chosen = [name for name in ticked if name in allowed]
    if not chosen:
        msg = f"nothing to measure: {'; '.join(refused) or 'no measure ticked the stains allow'}"
        raise ValueError(msg)
    m["measures"] = chosen
    return AnalysisPlan(AnalysisConfig.from_mapping(m), shown, source, tuple(refused), skipped)


def detect_image_stains(reader: Any, mapping: Mapping[str, Any] | None = None) -> Any:
    """The stains Analyze's ``auto`` resolves to on an image: the tissue (``mapping``'s tissue
    settings, default the library's), then the CLI's guess on it (a ``StainGuess``: ``.name`` a preset)."""
    from mmnst_path.pipeline import AnalysisConfig
    from mmnst_path.tiling import detect_tissue

    m = dict(mapping) if mapping is not None else AnalysisConfig().to_mapping()
    base = AnalysisConfig.from_mapping({**m, "stains": "H-DAB", "measures": []})
    tissue = detect_tissue(reader, mask_mpp=base.tissue_mpp, params=base.tissue)
    return _detect_stains(reader, tissue)


def _detect_stains(reader: Any, tissue: Any) -> Any:
    """The CLI's stain guess (:func:`mmnst_path.stain.guess.guess_stains_detail`) on the tissue
    thumbnail, with where the chromogen sits (tissue patches when the thumbnail does not resolve
    nuclei), so double stains are found as on the command line; an ambiguous guess warns."""
    from mmnst_path.stain.guess import guess_stains_detail, warn_if_ambiguous
    from mmnst_path.stain.places import PATCH_MPP, PLACES_MAX_MPP, tissue_patches

    mpp0 = getattr(reader, "mpp", None)
    if mpp0 is None or tissue.mask_mpp is None:  # no pixel size: colour alone
        guess = guess_stains_detail(tissue.thumbnail, tissue.mask)
        warn_if_ambiguous(guess)
        return guess
    mpp0 = float(mpp0)
    patches = None
    if tissue.mask_mpp > PLACES_MAX_MPP:
        patches = tissue_patches(reader, tissue.mask, tissue.scale, mpp0)
    guess = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp, patches=patches,
                                patches_mpp=max(PATCH_MPP, mpp0))
    warn_if_ambiguous(guess)
    return guess


def ki67_from_classes(classes: Any, bins: Any, *, near_black: Any = None,
                      melanocytic: Any = None) -> tuple[Any, dict[str, Any]]:
    """Library Ki67 counts and metrics of reviewed nucleus classes (positive bin forced to >= 1);
    ``near_black`` (bool per nucleus) adds the near-black QC counts, ``melanocytic`` (a double stain's
    marker-positive nuclei) the melanocyte-restricted index. The library's
    :func:`mmnst_path.review.reviewed_ki67`, which ``mmnst-path review`` computes saved edits with."""
    from mmnst_path.review import reviewed_ki67

    return reviewed_ki67(classes, bins, near_black=near_black, melanocytic=melanocytic)


def hotspot_label(result: SlideResult) -> str:
    """What the hot-spot window is: a hot spot only when it holds enough nuclei."""
    h = result.hotspot
    if h is None:
        return ""
    need = result.config.get("hotspot_min_nuclei")
    if not h.meets_min_nuclei:
        text = f"densest window, {h.nuclei} nuclei (< {need} needed): no hot spot"
    elif math.isfinite(h.index_pct):
        text = f"hot spot {h.index_pct:.1f} % (n={h.nuclei})"
    else:
        text = "hot spot"
    if getattr(h, "whole_image", False):
        text += ", whole image (smaller than the window)"
    return text


def hotspot_caption(result: SlideResult) -> str:
    """The frame's short caption (at most ~30 characters, so it fits over a narrow canvas);
    the results box carries ``hotspot_label``'s whole sentence."""
    h = result.hotspot
    if h is None:
        return ""
    if not h.meets_min_nuclei:
        return f"no hot spot ({h.nuclei} < {result.config.get('hotspot_min_nuclei')} nuclei)"
    return _caption(h, h.index_pct, h.nuclei)


def _caption(h: Any, index_pct: float, n: int) -> str:
    what = "whole image" if getattr(h, "whole_image", False) else "hot spot"  # (no smaller window: not a spot)
    return f"{what} {index_pct:.1f} % (n={n})" if math.isfinite(index_pct) else what


def reviewed_hotspot_caption(result: SlideResult, classes: Any, data: Any) -> str | None:
    """The frame's caption over reviewed nuclei (``classes`` and level-0 (row, col) ``data`` of the nuclei
    layer): the positive and negative nuclei in the frame counted by the library's
    :func:`mmnst_path.aggregate.hotspot_in_box`, so the caption follows Review as the box does (session 35's
    walk: the box said 15.4 %, the frame still 15.5 %). None without a hot spot (a densest window with too few
    nuclei keeps its caption)."""
    h = result.hotspot
    if h is None or not h.meets_min_nuclei:
        return None
    rc = np.asarray(data, dtype=np.float64).reshape(-1, 2)
    cls = np.asarray(classes).astype(str)
    tumour = (cls == "positive") | (cls == "negative")
    counted = hotspot_in_box(rc[tumour, 0], rc[tumour, 1], cls[tumour] == "positive", h.box,
                             mpp=float(result.mpp), min_nuclei=0)
    return _caption(h, counted.index_pct, counted.nuclei)


def layers_from_result(result: SlideResult, *, mpp: float | None) -> list[LayerData]:
    """Layer data tuples, bottom to top: melanin / necrosis fraction maps, Ki67 heatmap (all
    semi-transparent, each block where it is, :func:`~._layers.exact_raster`; the Ki67 heatmap hidden until its
    eye is ticked), hot-spot frame, nuclei Points on top.

    ``mpp`` is the display scale of the image layer (None when it is shown in pixels).
    """
    layers: list[LayerData] = []
    shape = (int(result.shape[0]), int(result.shape[1]))
    for key, name in MAP_NAMES.items():
        m = result.maps.get(key)
        if m is None:
            continue
        layers.append(
            heatmap_layer(
                np.asarray(m.image, np.float32), downsample=m.downsample, mpp=mpp, name=name,
                contrast_limits=(0.0, 1.0), shape=shape, colormap=fraction_colormap(name, MAP_COLORS[key]),
                opacity=0.6,
            )
        )  # fmt: skip
        if key == "melanin":  # Review's melanin corrections are painted over this run's map
            layers[-1][1]["metadata"]["mmnst_path"]["result"] = result
        if key == "necrosis" and "tissue_classes" in result.maps:
            # the class map shows necrosis in its own colour; the fraction map over it (green then) hid that colour and
            # read as the class map's (green) stroma (session 35's walk through he_necrosis.tif)
            layers[-1][1]["visible"] = False
    k = result.maps.get("ki67")
    if k is not None:
        heat = heatmap_layer(k.image, downsample=k.downsample, mpp=mpp, name="Ki67 heatmap", shape=shape, opacity=0.35)
        # present but hidden: over the whole slide its dark low end hid the DAB brown (session 34's shots)
        heat[1]["visible"] = False
        layers.append(heat)
    if result.hotspot is not None:
        layers.append(hotspot_layer(result.hotspot.box, mpp=mpp, label=hotspot_caption(result)))
    if "ki67" in result.measures or len(result.cells):
        layers.append(points_layer(result.cells, mpp=mpp))
    for _, kwargs, _ in layers:
        kwargs["metadata"].setdefault("mmnst_path", {})["source"] = "analyze"
    return layers


def hidden_maps(layers: Sequence[LayerData]) -> tuple[str, ...]:
    """Names of the layers :func:`layers_from_result` adds hidden (the legend says how to show them)."""
    return tuple(str(kw["name"]) for _, kw, _ in layers if kw.get("visible") is False)


def done_words(result: SlideResult) -> str:
    """The status line of a finished run: the nuclei found when Ki67 was measured, else the measures."""
    if "ki67" in result.measures:
        return f"done: {len(result.cells)} nuclei"
    return "done: " + ", ".join(result.measures)


def panel_text(
    result: SlideResult, *, reviewed: Mapping[str, Any] | None = None, header: Sequence[str] = ()
) -> str:
    """Results panel text from the library's metrics, or from ``reviewed`` Ki67 metrics.

    The figures come first (a docked box shows its first few lines without scrolling: session 35's walk found
    the index below the fold), then the tissue area and the ``header`` lines (stains and where they came from,
    pixel size, models).
    """
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
            "excluded": m.get("ki67_excluded"),
            "denominator": m.get("ki67_denominator"),
        }
    counts = {name: k[name] for name in COUNTED_CLASSES if k.get(name) is not None}
    hot = result.hotspot
    whole = bool(getattr(hot, "whole_image", False))  # the "hot spot" is the whole image: the sentence says so
    text = results_text(
        k if (reviewed is not None or "ki67" in result.measures) else None,
        counts,
        melanin_pct=_first(m, "melanin_fraction_pct", "melanin_pct"),
        necrosis_pct=_first(m, "necrosis_fraction_pct", "necrosis_pct"),
        hotspot_pct=m.get("ki67_hotspot_index_pct")
        if reviewed is None and hot is not None and hot.meets_min_nuclei and not whole
        else None,
    )
    # the figures first, where a docked box of a few lines shows them without scrolling; then where they came from
    lines = [text]
    if reviewed is None and (melano := melanocytic_text(m)):
        lines.append(melano)
    if reviewed is None and hot is not None and (not hot.meets_min_nuclei or whole):
        lines.append(hotspot_label(result))
    area = _first(m, "tissue_area_mm2")
    if area is not None and math.isfinite(float(area)):
        lines.append(
            f"tissue analysed: {float(area):.3f} mm²" + ("  (NO TISSUE FOUND)" if float(area) == 0 else "")
        )
    lines += header
    return "\n".join(lines)


def _first(m: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if n in m:
            return m[n]
    return None
