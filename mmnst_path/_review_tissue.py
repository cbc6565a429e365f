"""Tissue-class corrections of a review (:mod:`mmnst_path.review`): the class map of a quantify result as the
pathologist corrected it, by painting in napari or by drawing classified annotations in QuPath.

A quantify result with a tissue model keeps its class map as ``tissue_classes.png`` (one pixel per block of
``downsample`` level-0 pixels, value = class index, 255 = not analysed) and the class areas in result.json's
``tissue_classes`` legend. A correction changes whole blocks of that grid: painted blocks (napari) or the blocks
whose centre lies inside a classified annotation polygon (QuPath GeoJSON ``Necrosis``, ``Stroma``, ``Tumor``...;
later annotations over earlier ones; the holes of a polygon are outside it; blocks the run called background or
did not analyse stay so under a tissue annotation). The reviewed areas are the run's own areas with the area the run
measured in each changed block moved to its new class (a class's area spread over its blocks, each by its share
inside the image: :func:`reviewed_class_areas`, the one computation of napari's *as painted* table and
``mmnst-path review``), so the classed tissue is conserved and a review that changes nothing gives the measured
figures. The corrected grid is kept beside the review (:data:`REVIEW_TISSUE_MAP`) so napari reopens it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._class_vocab import CLASS_SYNONYMS, NOT_A_CORRECTION
from ._review_columns import TISSUE_REVIEW_COLUMNS
from .errors import ConfigError

__all__ = [
    "NOT_TISSUE",
    "REVIEW_TISSUE_MAP",
    "TISSUE_REVIEW_COLUMNS",
    "area_annotations",
    "class_map_png",
    "classified_annotations",
    "edge_weight",
    "paint_annotations",
    "read_class_map",
    "reviewed_class_areas",
    "tissue_review_row",
]

#: the corrected class map of a review (same form as tissue_classes.png)
REVIEW_TISSUE_MAP = "review_tissue_classes.png"
#: classes that are not tissue: left out of the "% of tissue" denominator
NOT_TISSUE = frozenset({"background"})
# CLASS_SYNONYMS, NOT_A_CORRECTION: one list for review and training (:mod:`mmnst_path._class_vocab`)


def edge_weight(grid: tuple[int, int], downsample: float, shape: Sequence[int]) -> np.ndarray:
    """Share of every grid pixel inside an image of level-0 ``shape`` (edge pixels run past it)."""
    d = float(downsample)
    rows = np.clip(shape[0] - np.arange(grid[0]) * d, 0, d) / d
    cols = np.clip(shape[1] - np.arange(grid[1]) * d, 0, d) / d
    return np.outer(rows, cols)


def reviewed_class_areas(classes: Sequence[str], areas_at_run: Mapping[str, float], before: Any, now: Any, *,
                         downsample: float, mpp: float, shape: Sequence[int]) -> dict[str, Any]:
    """Class areas of a corrected class map: the run's areas with the area of every changed block moved.

    The run's class areas are finer than its argmax grid (per-pixel fractions), so a changed block moves the area
    the run measured for its class in that block: the class's run area over the (edge-weighted) blocks the grid
    gives it, times the block's weight. Area is conserved (all of a class's blocks changed moves all of its
    area; no clipping); a block the run did not analyse that is given a class adds its area inside the image,
    one whose class is erased removes its share. A class with area but no block of its own (a small class the
    per-pixel fractions give area inside other classes' blocks) has that area spread over the run's tissue blocks
    (over every analysed block for a class outside the tissue) by their weight: a changed block moves its share
    too, so annotating all the tissue as one class gives 100 % of it.

    Parameters
    ----------
    classes : sequence of str
        Class names; value ``k`` of the grids is ``classes[k]`` (any other value is unclassed).
    areas_at_run : mapping
        The run's area (mm²) per class (result.json's legend, the library's numbers).
    before, now : (M, N) integer arrays
        The grid the run gave and the corrected grid, in the same values.
    downsample : float
        Level-0 pixels per grid pixel side.
    mpp : float
        µm per level-0 pixel.
    shape : (rows, cols, ...)
        Level-0 image shape (edge blocks count by their share inside it).

    Returns
    -------
    dict
        ``{"area_mm2": {class: mm²}, "pct_of_tissue": {class: %}, "tissue_mm2": float, "changed_blocks": int}``;
        % of the classed tissue (classes outside :data:`NOT_TISSUE`), NaN when there is none.
    """
    before, now = np.asarray(before), np.asarray(now)
    if before.shape != now.shape:
        msg = f"now: corrected class map shape {now.shape} differs from the run's {before.shape}"
        raise ValueError(msg)
    if not (math.isfinite(float(mpp)) and float(mpp) > 0):
        msg = f"mpp must be a positive number of µm per pixel, got {mpp!r}"
        raise ValueError(msg)
    changed = before != now
    weight = edge_weight(now.shape, float(downsample), shape)
    block_mm2 = (float(downsample) * float(mpp)) ** 2 / 1e6
    area = {str(k): float(v) for k, v in areas_at_run.items()}
    moved = np.zeros(len(classes))  # mm² leaving each class: its run area spread over its blocks
    for k, name in enumerate(classes):
        held = float(weight[before == k].sum())
        leaving = float(weight[changed & (before == k)].sum())
        run_area = float(area.get(name, 0.0))
        moved[k] = run_area if held > 0 and leaving >= held else (run_area * leaving / held if held > 0 else 0.0)
        area[name] = run_area - float(moved[k])
    for k, name in enumerate(classes):
        for j in range(len(classes)):  # the area the run measured in the blocks moving j -> k
            to_k = float(weight[changed & (before == j) & (now == k)].sum())
            held = float(weight[before == j].sum())
            if to_k > 0 and held > 0:
                area[name] = area.get(name, 0.0) + float(area_at(areas_at_run, classes[j])) * to_k / held
        unclassed = float(weight[changed & (now == k) & ((before < 0) | (before >= len(classes)))].sum())
        area[name] = area.get(name, 0.0) + unclassed * block_mm2  # a block the run did not analyse: its full area
    _move_blockless(area, classes, areas_at_run, before, now, weight)
    tissue = sum(a for name, a in area.items() if name not in NOT_TISSUE)
    pct = {name: (100.0 * a / tissue if tissue > 0 and name not in NOT_TISSUE else math.nan)
           for name, a in area.items()}  # fmt: skip
    return {"area_mm2": area, "pct_of_tissue": pct, "tissue_mm2": tissue, "changed_blocks": int(changed.sum())}


def _move_blockless(area: dict[str, float], classes: Sequence[str], areas_at_run: Mapping[str, float], before: Any,
                    now: Any, weight: Any) -> None:
    """Move, in ``area``, the run area of every class without a block of its own: spread over the run's tissue
    blocks (every analysed block for a non-tissue class) by weight, each changed block's share goes to its new
    class (or leaves, for a block whose class was erased)."""
    n = len(classes)
    analysed = (before >= 0) & (before < n)
    tissue_blocks = analysed & ~np.isin(before, [k for k, c in enumerate(classes) if c in NOT_TISSUE])
    changed = before != now
    for k, name in enumerate(classes):
        run_area = area_at(areas_at_run, name)
        if run_area <= 0 or bool((before == k).any()):
            continue
        over = tissue_blocks if name not in NOT_TISSUE else analysed
        total = float(weight[over].sum())
        if total <= 0:
            continue
        area[name] = area.get(name, 0.0) - run_area * float(weight[over & changed].sum()) / total
        for j, other in enumerate(classes):
            to_j = float(weight[over & changed & (now == j)].sum())
            if to_j > 0:
                area[other] = area.get(other, 0.0) + run_area * to_j / total


def area_at(areas: Mapping[str, float], name: str) -> float:
    """The run's area (mm²) of class ``name`` (0 when it is not in ``areas``)."""
    return float(areas.get(name, 0.0) or 0.0)


def read_class_map(folder: Path, doc: Mapping[str, Any], *, name: str | None = None) -> dict[str, Any] | None:
    """The class map of a quantify result folder (``name``: another file of the same form, such as a review's
    :data:`REVIEW_TISSUE_MAP`), None when no tissue model ran: ``{"labels"`` (int16, -1 = not analysed),
    ``"classes"``, ``"colours"``, ``"areas"`` (mm² per class at the run), ``"downsample"``, ``"mpp"``,
    ``"shape"}``."""
    from PIL import Image

    legend = doc.get("tissue_classes") or {}
    m = legend.get("map") or {}
    if not legend.get("classes") or not m.get("file"):
        return None
    path = Path(folder) / (name or str(m["file"]))
    try:
        with Image.open(path) as img:
            raw = np.asarray(img)
    except (OSError, ValueError) as exc:
        msg = f"{path}: the class map cannot be read ({exc})"
        raise ConfigError(msg) from exc
    classes = [str(c["name"]) for c in sorted(legend["classes"], key=lambda c: int(c["index"]))]
    colours = [[int(v) for v in c["colour"]] for c in sorted(legend["classes"], key=lambda c: int(c["index"]))]
    labels = np.where(raw < len(classes), raw.astype(np.int16), -1).astype(np.int16)  # 255: not analysed
    if list(labels.shape) != [int(v) for v in m.get("shape", labels.shape)]:
        msg = f"{path}: shape {labels.shape} differs from result.json's map shape {m.get('shape')}"
        raise ConfigError(msg)
    areas = {str(c["name"]): float(c.get("area_mm2") or 0.0) for c in legend["classes"]}
    return {"labels": labels, "classes": classes, "colours": colours, "areas": areas,
            "downsample": float(m["downsample"]), "mpp": float(doc["mpp"]), "shape": tuple(doc["shape"])}


def _tissue_class(name: str, classes: Sequence[str], where: str) -> int | None:
    """Index of an annotation class among ``classes`` (None for a region that is no correction)."""
    low = name.strip().lower()
    if low in NOT_A_CORRECTION:
        return None
    low = CLASS_SYNONYMS.get(low, low)
    if low not in classes:
        msg = (f"{where}: class {name!r} is not a tissue class of this result ({', '.join(classes)}; QuPath's "
               "Tumor / Immune cells are read as tumour / inflammatory); rename it or leave it unclassified")
        raise ConfigError(msg)
    return list(classes).index(low)


def area_annotations(features: Sequence[Mapping[str, Any]], classes: Sequence[str], *,
                     source: str) -> tuple[list[tuple[int, list[np.ndarray]]], int]:
    """Classified polygon annotations of ``features`` as area corrections: ``([(class index, [(K, 2) level-0
    (row, col) rings])], regions skipped)``, one entry per annotation holding every ring of its polygons (outer
    rings and holes: a block is inside when its centre is inside an odd number of them). Detections are nuclei
    (not read here); unclassified, ``Region*`` and ``Ignore*`` annotations and the run's own regions of interest
    (written back into its cells.geojson) are skipped and counted. A class
    outside ``classes`` raises ConfigError naming it."""
    out: list[tuple[int, list[np.ndarray]]] = []
    skipped = 0
    for i, f in enumerate(features):
        name = _annotation_class(f)
        if name is None:
            continue
        if _run_roi(f):  # the region the run measured, written back: where, not what (its class is no correction)
            skipped += 1
            continue
        k = _tissue_class(name, classes, f"{source}: annotation {i}")
        if k is None:
            skipped += 1
            continue
        rings = _rings(f["geometry"])
        if rings:
            out.append((k, rings))
    return out, skipped


def _annotation_class(feature: Mapping[str, Any]) -> str | None:
    """The class name of a polygon annotation (the first part of a derived class, "" when unclassified); None for
    a feature that is no polygon annotation (a detection, a tile, a point or line)."""
    from ._geojson_read import _props, feature_kind

    geometry = feature.get("geometry")
    if feature_kind(feature) in ("detection", "tile") or not isinstance(geometry, Mapping):
        return None
    if geometry.get("type") not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return None
    c = _props(feature).get("classification")
    if isinstance(c, Mapping):  # QuPath 0.4+ may give the parts of a derived class as "names"
        names = c.get("names")
        name = str(names[0]) if isinstance(names, list) and names else str(c.get("name") or "")
    else:
        name = str(c or "")
    return name.split(":", 1)[0]


def classified_annotations(features: Sequence[Mapping[str, Any]]) -> int:
    """How many polygon annotations of ``features`` :func:`area_annotations` would read as corrections (classified,
    not ``Region*`` / ``Ignore*``), whatever their class."""
    return sum(1 for f in features
               if (name := _annotation_class(f)) is not None and name.strip().lower() not in NOT_A_CORRECTION
               and not _run_roi(f))


def _run_roi(feature: Mapping[str, Any]) -> bool:
    """Whether ``feature`` is a region of interest a run measured, as its cells.geojson writes it back
    (:data:`mmnst_path._geojson_regions.ROI_METADATA`)."""
    from ._geojson_read import _props
    from ._geojson_regions import is_run_roi

    return is_run_roi(_props(feature))


def _rings(geometry: Mapping[str, Any]) -> list[np.ndarray]:
    """Every ring (outer and holes) of a Polygon / MultiPolygon / GeometryCollection as (K, 2) level-0 (row, col)
    arrays, pixel centres at integers (GeoJSON x, y at pixel corners)."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [r for g in geometry.get("geometries") or [] if isinstance(g, Mapping) for r in _rings(g)]
    polys = [coords] if kind == "Polygon" else (coords or []) if kind == "MultiPolygon" else []
    out = []
    for poly in polys:
        for ring_xy in poly or []:
            ring = np.asarray([p[:2] for p in ring_xy], dtype=np.float64).reshape(-1, 2)
            if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
                ring = ring[:-1]
            if len(ring) >= 3:
                out.append(np.column_stack([ring[:, 1] - 0.5, ring[:, 0] - 0.5]))
    return out


def _inside(ring: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Even-odd test of the points (rows, cols) against a closed (row, col) ring."""
    inside = np.zeros(rows.shape, bool)
    r0, c0 = ring[:, 0], ring[:, 1]
    r1, c1 = np.roll(r0, -1), np.roll(c0, -1)
    for ra, ca, rb, cb in zip(r0, c0, r1, c1, strict=True):
        if ra == rb:
            continue
        crosses = (ra > rows) != (rb > rows)
        at = ca + (rows - ra) * (cb - ca) / (rb - ra)
        inside ^= crosses & (cols < at)
    return inside


def paint_annotations(labels: Any, polygons: Sequence[tuple[int, Sequence[np.ndarray]]], *, downsample: float,
                      glass: int | None = None, shape: Sequence[int] | None = None) -> np.ndarray:
    """The class grid with every block whose centre lies inside a polygon set to its class (file order: a later
    annotation over an earlier one). ``labels``: (M, N) grid; ``polygons``: ``(class index, rings)`` with the
    rings of one annotation (outer and holes, even-odd; one (K, 2) array is one ring) in level-0 (row, col), pixel centres at
    integers; block ``[i, j]`` covers level-0 rows ``i * downsample`` to ``(i + 1) * downsample``. Blocks the
    run did not analyse (negative) and, with ``glass`` (the background class), blocks the run called background
    keep their value under a tissue annotation: an outline drawn round necrosis reclassifies the tissue inside
    it, not the glass of its holes and edges (an annotation of the background class itself does apply). With
    the level-0 image ``shape``, a block the image edge cuts is tested at the centre of its part inside the image
    (its full centre can lie past the edge, where no annotation clipped to the image reaches)."""
    base = np.asarray(labels)
    out = np.array(labels, copy=True)
    fixed = (base < 0) | (base == glass) if glass is not None else base < 0
    d = float(downsample)
    centre_r, centre_c = ((np.arange(n) + 0.5) * d - 0.5 for n in out.shape[:2])
    if shape is not None:  # the inside part's centre: (start + min(end, image edge)) / 2
        centre_r, centre_c = ((np.arange(n) * d + np.minimum((np.arange(n) + 1) * d, float(edge))) / 2 - 0.5
                              for n, edge in zip(out.shape[:2], shape[:2], strict=True))
    rows, cols = np.meshgrid(centre_r, centre_c, indexing="ij")
    for k, rings in polygons:
        inside = np.zeros(rows.shape, bool)
        for ring in [rings] if isinstance(rings, np.ndarray) else rings:  # a hole is inside its outer ring
            inside ^= _inside(np.asarray(ring, np.float64), rows, cols)
        out[inside & (~fixed if k != glass else base >= 0)] = k  # not-analysed blocks stay so under any class
    return out


def class_map_png(labels: Any, classes: Sequence[str], colours: Sequence[Sequence[int]]) -> bytes:
    """A class grid (-1 = not analysed) as tissue_classes.png is written: indexed PNG, 255 = not analysed,
    the classes' display colours as palette."""
    from PIL import Image

    from ._picture_style import class_display_colour

    index = np.asarray(labels, dtype=np.int16)
    img = Image.fromarray(np.where((index < 0) | (index >= len(classes)), 255, index).astype(np.uint8))
    palette = [255, 255, 255] * 256
    for k, (name, rgb) in enumerate(zip(classes, colours, strict=True)):
        palette[3 * k : 3 * k + 3] = list(class_display_colour(name, rgb))
    img.putpalette(palette)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def tissue_review_row(tissue: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`TISSUE_REVIEW_COLUMNS` of a review's ``tissue_classes`` (:func:`reviewed_class_areas` form)."""
    area, pct = tissue.get("area_mm2") or {}, tissue.get("pct_of_tissue") or {}

    def num(v: Any) -> float | None:
        return None if v is None or not math.isfinite(float(v)) else float(v)

    return {"necrosis_area_reviewed_mm2": num(area.get("necrosis")),
            "necrosis_fraction_reviewed_pct": num(pct.get("necrosis")),
            "necrosis_tissue_reviewed_mm2": num(tissue.get("tissue_mm2")),
            "tumour_fraction_reviewed_pct": num(pct.get("tumour")),
            "stroma_fraction_reviewed_pct": num(pct.get("stroma")),
            "tissue_blocks_reviewed": tissue.get("changed_blocks")}
