"""Clip a polygon ring to a rectangle (nucleus outlines at the image border, for cells.geojson).

A nucleus cut by the image border has an outline that reaches past it; QuPath then holds an object
partly outside the image. :func:`clip_ring` intersects the ring with the image rectangle
(Sutherland-Hodgman: the ring against each of the four sides in turn), which is exact for a ring
whose part inside the rectangle is one piece (a nucleus outline, star-shaped about its centre, with
the centre in the image). Points on a side are put exactly on it; consecutive repeated points and
points in the middle of a straight run along a side are dropped, so the ring stays a valid closed
GeoJSON ring (at least four positions, first = last, non-zero area) or, when nothing of the polygon
is inside, None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["clip_ring", "ring_inside"]

#: decimals of a point computed on a side (the other coordinate is the side's, exactly)
_DECIMALS = 6


def ring_inside(ring: Sequence[Sequence[float]], width: float, height: float) -> bool:
    """Whether every position of ``ring`` ([x, y] pairs) lies in ``[0, width] x [0, height]``."""
    return all(0.0 <= x <= width and 0.0 <= y <= height for x, y in ring)


def _clip_side(points: list[tuple[float, float]], axis: int, bound: float, keep_low: bool) -> list[tuple[float, float]]:
    """The part of the closed polygon ``points`` (open list) on one side of ``coordinate[axis] = bound``."""

    def inside(p: tuple[float, float]) -> bool:
        return p[axis] <= bound if keep_low else p[axis] >= bound

    def crossing(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
        t = (bound - p[axis]) / (q[axis] - p[axis])
        other = round(p[1 - axis] + t * (q[1 - axis] - p[1 - axis]), _DECIMALS)
        return (bound, other) if axis == 0 else (other, bound)

    out: list[tuple[float, float]] = []
    n = len(points)
    for i in range(n):
        p, q = points[i - 1], points[i]  # the edge p -> q
        if inside(q):
            if not inside(p):
                out.append(crossing(p, q))
            out.append(q)
        elif inside(p):
            out.append(crossing(p, q))
    return out


def _tidy(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop repeated consecutive points, then middle points of collinear runs (cyclically), one at a time."""
    pts = [p for i, p in enumerate(points) if p != points[i - 1]] if len(points) > 1 else list(points)
    i = 0
    while len(pts) >= 3 and i < len(pts):
        a, b, c = pts[i - 1], pts[i], pts[(i + 1) % len(pts)]
        if (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) == 0.0 or a == c:
            del pts[i]
            i = max(i - 1, 0)  # the point before may have become a middle point
        else:
            i += 1
    return pts


def clip_ring(ring: Sequence[Sequence[float]], width: float, height: float) -> list[list[float]] | None:
    """The closed ring of ``ring`` ∩ ``[0, width] x [0, height]``, or None when they share no area.

    Parameters
    ----------
    ring : sequence of [x, y]
        A closed or open polygon ring (QuPath coordinates: pixel corners at integers).
    width, height : float
        The rectangle's sides (image width and height in pixels).

    Returns
    -------
    list of [x, y] or None
        ``ring`` itself (as lists) when it lies inside; else the clipped ring, closed (first
        position repeated last), with at least three distinct corners.
    """
    if not (math.isfinite(width) and width > 0 and math.isfinite(height) and height > 0):
        msg = f"clip_ring: width and height must be positive, got width={width!r}, height={height!r}"
        raise ValueError(msg)
    pts = [(float(x), float(y)) for x, y in ring]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if ring_inside(pts, width, height):
        return [list(p) for p in (*pts, pts[0])] if pts else None
    for axis, bound, keep_low in ((0, 0.0, False), (0, float(width), True), (1, 0.0, False), (1, float(height), True)):
        pts = _clip_side(pts, axis, bound, keep_low)
        if not pts:
            return None
    pts = _tidy(pts)
    if len(pts) < 3:
        return None
    area2 = sum(pts[i - 1][0] * pts[i][1] - pts[i][0] * pts[i - 1][1] for i in range(len(pts)))
    if area2 == 0.0:
        return None
    return [list(p) for p in (*pts, pts[0])]
