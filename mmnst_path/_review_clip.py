"""How much of a review's tissue annotations lies outside the image (clipped), said where the review is reported.

A tissue annotation of a review (:func:`mmnst_path._review_tissue.area_annotations`) changes the blocks of the
result's class map whose centre it holds, so its part outside the image changes nothing: it is clipped. One lying
wholly outside was drawn on another image and is refused (ConfigError naming it); one partly outside is applied and
its clipped part recorded (:func:`annotations_off_image`: area and % of the annotation outside the image, in
``review.json``'s ``tissue_classes.annotations_clipped``) and said in one sentence (:func:`clipped_words`: the
``mmnst-path review`` line, napari Export's status line) so that a reviewer whose outline ran off the tile knows
the corrected area is not the area drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = ["annotations_off_image", "clipped_words", "ring_area"]


def ring_area(ring: Any) -> float:
    """Area (px²) of a closed (K, 2) ring, whatever its orientation (shoelace)."""
    r = np.asarray(ring, np.float64).reshape(-1, 2)
    if len(r) < 3:
        return 0.0
    y, x = r[:, 0], r[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _depth_signs(rings: Sequence[np.ndarray]) -> list[int]:
    """+1 for an outer ring, -1 for a hole: a ring whose first corner lies inside an odd number of the others."""
    from ._review_tissue import _inside

    signs = []
    for i, ring in enumerate(rings):
        p = np.asarray(ring, np.float64)[:1]
        depth = sum(int(_inside(np.asarray(o, np.float64), p[:, 0], p[:, 1])[0])
                    for j, o in enumerate(rings) if j != i)
        signs.append(-1 if depth % 2 else 1)
    return signs


def annotations_off_image(polygons: Sequence[tuple[int, Sequence[np.ndarray]]], shape: Sequence[int],
                          classes: Sequence[str], *, mpp: float, source: str) -> list[dict[str, Any]]:
    """The annotations partly outside the level-0 image ``shape``: how much of each is clipped.

    Parameters
    ----------
    polygons : sequence of (class index, rings)
        :func:`~mmnst_path._review_tissue.area_annotations`' form: level-0 (row, col) rings, pixel centres at
        integers (outer rings and holes, even-odd).
    shape : (rows, cols, ...)
        The level-0 image size in pixels.
    classes : sequence of str
        The class map's classes (names of the class indices).
    mpp : float
        Level-0 µm per pixel (areas in mm²).
    source : str
        What the annotations came from (named in the error).

    Returns
    -------
    list of dict
        One record per annotation partly outside, in file order: ``annotation`` (1-based number), ``class``,
        ``area_mm2`` (the annotation's), ``outside_mm2`` and ``outside_pct`` (its part outside the image).

    Raises
    ------
    ConfigError
        An annotation lies wholly outside the image (drawn on another image?).
    """
    from ._ring_clip import clip_ring

    if not (mpp and float(mpp) > 0):
        msg = f"mpp={mpp!r}: the level-0 µm per pixel must be a positive number"
        raise ValueError(msg)
    height, width = float(shape[0]), float(shape[1])
    mm2 = (float(mpp) / 1000.0) ** 2
    out = []
    for n, (k, rings) in enumerate(polygons, 1):
        rings = [np.asarray(r, np.float64) for r in ([rings] if isinstance(rings, np.ndarray) else rings)]
        pts = np.concatenate(rings)
        lo, hi = pts.min(axis=0) + 0.5, pts.max(axis=0) + 0.5  # GeoJSON (pixel corner) coordinates
        if hi[0] <= 0 or hi[1] <= 0 or lo[0] >= height or lo[1] >= width:
            msg = (f"edits={source!r}: tissue annotation {n} ({classes[k]}, x {lo[1]:.0f}-{hi[1]:.0f}, y "
                   f"{lo[0]:.0f}-{hi[0]:.0f} px) lies outside the image ({shape[1]} x {shape[0]} px): was it drawn "
                   "on another image?")
            raise ConfigError(msg)
        if lo[0] >= 0 and lo[1] >= 0 and hi[0] <= height and hi[1] <= width:
            continue  # wholly inside: nothing clipped
        total = inside = 0.0
        for sign, ring in zip(_depth_signs(rings), rings, strict=True):
            xy = np.column_stack([ring[:, 1] + 0.5, ring[:, 0] + 0.5])  # (x, y) at pixel corners
            clipped = clip_ring(xy.tolist(), width, height)
            total += sign * ring_area(ring)
            if clipped is not None:
                inside += sign * ring_area(np.asarray(clipped)[:, ::-1])
        outside = max(total - inside, 0.0)
        if total <= 0 or outside <= 0:
            continue
        out.append({"annotation": n, "class": classes[k], "area_mm2": total * mm2, "outside_mm2": outside * mm2,
                    "outside_pct": 100.0 * outside / total})
    return out


def clipped_words(records: Sequence[Mapping[str, Any]] | None) -> str:
    """One sentence of :func:`annotations_off_image`'s records ("" without any): "annotation 2 (necrosis):
    37.5 % of its 0.0040 mm² outside the image, clipped (only its part inside corrects the map)"."""
    if not records:
        return ""
    parts = [f"annotation {r['annotation']} ({r['class']}): {float(r['outside_pct']):.1f} % of its "
             f"{float(r['area_mm2']):.4f} mm² outside the image" for r in records]
    return "; ".join(parts) + ", clipped (only the part inside the image corrects the class map)"
