"""Region annotations of a result for QuPath's GeoJSON (session 42 H9, H5's walk #6): where each tissue class is
(necrosis first), where melanin is, and the Ki67 hot-spot window.

Each tissue class of the run's class map (``SlideResult.maps["tissue_classes"]``, blocks of ``downsample``
level-0 px) is one QuPath annotation: a ``MultiPolygon`` with holes tracing the exact block edges, in level-0
pixel corners (``x = col + 0.5``), clipped to the image, classified ``{"name": "Necrosis", "color": [r, g, b]}``
(the class's display colour) and measured (``Tissue area µm^2``: the run's area of the class, ``% of tissue``).
The background class (glass) is left out. Read back by ``mmnst-path review --tissue-annotations`` (or as an edits
file without nuclei), a class region reclassifies exactly its own blocks: the round trip changes nothing.

The melanin map (``maps["melanin"]``: the melanin share of each block's tissue) gives one annotation named
``Melanin``, the blocks where melanin is at least :data:`MELANIN_BLOCK_SHARE` of the tissue, classified
``Region: Melanin``: a ``Region*`` class, which a review skips, since a block of a ``Melanin`` class would be
read back as melanin over all its tissue (a correction) and change the figures. Its measurements are the run's
``Melanin area mm^2`` and ``Melanin %`` (of all the tissue, not only these blocks).

The Ki67 hot-spot window is an unclassified rectangle annotation named ``Ki67 hot spot`` (``Ki67 densest window``
when it holds too few nuclei for a hot spot) with its counts and index.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "MELANIN_BLOCK_SHARE",
    "REGION_METADATA",
    "ROI_METADATA",
    "block_rings",
    "class_features",
    "is_run_region",
    "is_run_roi",
    "region_features",
    "rois_union_feature",
]

#: ``properties.metadata`` of every annotation written here: what the run measured, not a region of interest
#: (:func:`mmnst_path.geojson.rois_from_features` and so napari's import skip them).
REGION_METADATA = {"mmnst_path": "measured region"}

#: ``properties.metadata`` of the regions of interest a run measured, written back into its cells.geojson (the
#: ``--roi`` polygons, or the whole image): where it measured, not a class claim, so a review never reads one as a
#: tissue or melanin correction (a ROI classified ``Tumor`` repainted its whole area tumour), while ``--roi`` reads
#: them back as regions of interest.
ROI_METADATA = {"mmnst_path": "region of interest"}

#: Blocks of the melanin map drawn as the ``Melanin`` region: melanin at least this share of the block's tissue.
MELANIN_BLOCK_SHARE = 0.5


def _cycles(mask: np.ndarray) -> list[np.ndarray]:
    """Closed rings of (y, x) pixel-corner vertices around the True pixels of a 2-D bool ``mask`` (the region on
    the right, walking clockwise on the screen); collinear vertices dropped. Every boundary edge is on exactly one
    ring, so the even-odd inside of all the rings is the mask."""
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}
    inner = m[1:-1, 1:-1]
    for (dr, dc), (a, b) in (((-1, 0), ((0, 0), (0, 1))), ((0, 1), ((0, 1), (1, 1))),
                             ((1, 0), ((1, 1), (1, 0))), ((0, -1), ((1, 0), (0, 0)))):
        out = inner & ~m[1 + dr : m.shape[0] - 1 + dr, 1 + dc : m.shape[1] - 1 + dc]
        for r, c in zip(*np.nonzero(out), strict=True):
            start = (int(r) + a[0], int(c) + a[1])
            edges.setdefault(start, []).append((int(r) + b[0], int(c) + b[1]))
    rings = []
    while edges:
        start = next(iter(edges))
        ring = [start]
        here = start
        while True:
            nxt = edges[here].pop()
            if not edges[here]:
                del edges[here]
            if nxt == start:
                break
            ring.append(nxt)
            here = nxt
        pts = np.asarray(ring, dtype=np.float64)
        prev, after = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
        turn = (pts[:, 0] - prev[:, 0]) * (after[:, 1] - pts[:, 1]) - (pts[:, 1] - prev[:, 1]) * (after[:, 0] - pts[:, 0])
        rings.append(pts[turn != 0])
    return rings


def block_rings(mask: np.ndarray) -> list[list[np.ndarray]]:
    """Polygons of a 2-D bool block ``mask``: ``[[outer, hole, ...], ...]`` of (y, x) block-corner rings, one
    polygon per 4-connected part (an island inside a hole is a polygon of its own). Each part and each hole is
    traced in its own bounding box, so a part with many holes costs what its holes' boxes hold."""
    from scipy import ndimage as ndi

    labels, _ = ndi.label(np.asarray(mask, dtype=bool))
    out = []
    for k, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None:
            continue
        part = labels[sl] == k
        filled = ndi.binary_fill_holes(part)
        offset = np.array([sl[0].start, sl[1].start], dtype=np.float64)
        outers = _cycles(filled)
        holes: list[np.ndarray] = []
        gaps = filled & ~part  # the holes (with any island of another part inside them)
        if gaps.any():
            hole_labels, _ = ndi.label(gaps)
            for j, hs in enumerate(ndi.find_objects(hole_labels), start=1):
                if hs is None:
                    continue
                at = np.array([hs[0].start, hs[1].start], dtype=np.float64)
                holes += [r + at for r in _cycles(ndi.binary_fill_holes(hole_labels[hs] == j))]
        if len(outers) == 1:
            out.append([outers[0] + offset, *(h + offset for h in holes)])
        else:  # (not expected for a filled 4-connected part) every ring a polygon: even-odd still holds
            out.extend([[r + offset] for r in outers + holes])
    return out


def _xy(ring: np.ndarray, downsample: float, shape: Sequence[int]) -> list[list[float]]:
    """A closed GeoJSON [x, y] ring (level-0 pixel corners) of a (y, x) block-corner ring, clipped to the image."""
    y = np.clip(ring[:, 0] * downsample, 0, shape[0])
    x = np.clip(ring[:, 1] * downsample, 0, shape[1])
    pts = [[round(float(a), 3), round(float(b), 3)] for a, b in zip(x, y, strict=True)]
    return [*pts, pts[0]]


def _area_feature(fid: str, name: str, cls: Mapping[str, Any], polys: list[list[np.ndarray]], downsample: float,
                  shape: Sequence[int], measurements: Mapping[str, float]) -> dict[str, Any]:
    coords = [[_xy(r, downsample, shape) for r in rings] for rings in polys]
    return {"type": "Feature", "id": fid, "geometry": {"type": "MultiPolygon", "coordinates": coords},
            "properties": {"objectType": "annotation", "name": name, "classification": dict(cls), "isLocked": True,
                           "metadata": dict(REGION_METADATA),
                           "measurements": {k: float(v) for k, v in measurements.items() if math.isfinite(v)}}}


def is_run_region(props: Mapping[str, Any]) -> bool:
    """Whether a feature's ``properties`` mark it as one of the run's measured regions (:data:`REGION_METADATA`)."""
    meta = props.get("metadata")
    return isinstance(meta, Mapping) and meta.get("mmnst_path") == REGION_METADATA["mmnst_path"]


def is_run_roi(props: Mapping[str, Any]) -> bool:
    """Whether a feature's ``properties`` mark it as a region of interest a run measured (:data:`ROI_METADATA`)."""
    meta = props.get("metadata")
    return isinstance(meta, Mapping) and meta.get("mmnst_path") == ROI_METADATA["mmnst_path"]


def rois_union_feature(rois: Sequence[Any], measurements: Mapping[str, float], *, seed: str = "") -> dict[str, Any]:
    """One unclassified annotation ``All ROIs`` (a MultiPolygon of every ROI with its holes) carrying the area
    measures of a run with several ROIs (:func:`mmnst_path.geojson.image_measurements`: of the ROIs together)."""
    from .geojson import _ring_xy, _uuid

    coords = [[_ring_xy(r) for r in roi.rings] for roi in rois]
    return {"type": "Feature", "id": _uuid(f"{seed}:rois", 0), "geometry": {"type": "MultiPolygon", "coordinates": coords},
            "properties": {"objectType": "annotation", "name": "All ROIs", "isLocked": True,
                           "metadata": dict(REGION_METADATA), "measurements": dict(measurements)}}


def _finite(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def class_features(result: Any, *, seed: str = "") -> list[dict[str, Any]]:
    """The tissue-class annotations of ``result`` (necrosis first, then the model's order; background left out):
    one ``MultiPolygon`` per class on the exact block edges of its class map, none when no tissue model ran. The
    class part of :func:`region_features`, and the whole of ``tissue_classes.geojson``
    (:func:`mmnst_path._class_regions.class_regions_geojson`)."""
    from ._picture_style import class_display_colour
    from .geojson import _uuid

    out: list[dict[str, Any]] = []
    shape = tuple(int(v) for v in result.shape)
    cmap = result.maps.get("tissue_classes") if result.maps else None
    if cmap is None or not result.tissue_classes:
        return out
    index = np.asarray(cmap.image)
    classes = sorted((c for c in result.tissue_classes["classes"] if c["name"] != "background"),
                     key=lambda c: (c["name"] != "necrosis", c["index"]))
    for c in classes:
        polys = block_rings(index == c["index"])
        if not polys:
            continue
        colour = [int(v) for v in class_display_colour(c["name"], c["colour"])]
        name = str(c["name"]).capitalize()  # as the review reads it back (a lab's "plasma_rich_stroma" too)
        meas = {"Tissue area µm^2": _finite(c.get("area_mm2")) * 1e6, "% of tissue": _finite(c.get("pct_of_tissue"))}
        out.append(_area_feature(_uuid(f"{seed}:class", int(c["index"])), name, {"name": name, "color": colour},
                                 polys, float(cmap.downsample), shape, meas))
    return out


def region_features(result: Any, *, seed: str = "") -> list[dict[str, Any]]:
    """The region annotations of ``result`` (a :class:`~mmnst_path.aggregate.SlideResult`): tissue classes
    (necrosis first, then the model's order; background left out), ``Melanin``, the Ki67 hot spot; each only when
    the run made its map (or found a hot spot). ``seed`` makes the features' UUIDs (as the nuclei's)."""
    from .geojson import _uuid

    out = class_features(result, seed=seed)
    shape = tuple(int(v) for v in result.shape)
    mel = result.maps.get("melanin")
    if mel is not None:
        share = np.nan_to_num(np.asarray(mel.image, dtype=np.float64), nan=0.0)
        polys = block_rings(share >= MELANIN_BLOCK_SHARE)
        if polys:
            meas = {"Melanin area mm^2": _finite(result.metrics.get("melanin_area_mm2")),
                    "Melanin %": _finite(result.metrics.get("melanin_fraction_pct"))}
            out.append(_area_feature(_uuid(f"{seed}:melanin", 0), "Melanin",
                                     {"name": "Region: Melanin", "color": [90, 60, 30]}, polys,
                                     float(mel.downsample), shape, meas))
    hot = result.hotspot
    if hot is not None:
        b = hot.box
        ring = [[b.col, b.row], [b.col + b.width, b.row], [b.col + b.width, b.row + b.height],
                [b.col, b.row + b.height], [b.col, b.row]]
        name = "Ki67 hot spot" if hot.meets_min_nuclei else "Ki67 densest window"
        meas = {"Num Positive": float(hot.positive), "Num Negative": float(hot.negative),
                "Positive %": _finite(hot.index_pct)}
        out.append({"type": "Feature", "id": _uuid(f"{seed}:hotspot", 0),
                    "geometry": {"type": "Polygon", "coordinates": [[[float(x), float(y)] for x, y in ring]]},
                    "properties": {"objectType": "annotation", "name": name, "isLocked": True,
                                   "metadata": dict(REGION_METADATA), "measurements": {k: v for k, v in meas.items() if math.isfinite(v)}}})
    return out
