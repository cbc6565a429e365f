"""Grid planning: which level-0 rectangles to read, at which pyramid level, and who owns what.

The slide is cut on a regular grid defined at the *analysis resolution* (default 0.5 µm/px).
Each :class:`Tile` owns a *core* (half-open level-0 rectangle; the cores partition the slide)
and is read with a *halo* around it, wide enough for the largest object to be detected, so an
object whose centroid lies in a core is seen whole by the tile that owns it. Counting only
what a tile owns makes totals independent of the tile size and of the number of workers.

Planning is pure: it reads only the slide's level shapes, downsamples and mpp, and the
optional tissue mask and region of interest. Nothing is read from disk.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import ConfigError, RegionError
from ..geometry import Box, require_mpp
from .tissue import TissueResult

__all__ = ["SlideGeometry", "Tile", "halo_px", "plan_grid", "read_tile"]

_EPS = 1e-9


class _HasGeometry(Protocol):
    level_shapes: tuple[tuple[int, int], ...]
    level_downsamples: tuple[float, ...]
    mpp: float | None


@dataclass(frozen=True, slots=True)
class SlideGeometry:
    """The pyramid geometry of a slide, enough to plan a grid without opening it.

    Attributes
    ----------
    level_shapes : tuple of (rows, cols)
        Shape of every level, level 0 first.
    level_downsamples : tuple of float
        Downsample of every level relative to level 0.
    mpp : float or None
        Microns per pixel at level 0.
    """

    level_shapes: tuple[tuple[int, int], ...]
    level_downsamples: tuple[float, ...] = (1.0,)
    mpp: float | None = None

    @classmethod
    def of(cls, slide: _HasGeometry) -> SlideGeometry:
        """Copy the geometry of a reader (or any object with the same three attributes)."""
        return cls(
            tuple((int(r), int(c)) for r, c in slide.level_shapes),
            tuple(float(d) for d in slide.level_downsamples),
            None if slide.mpp is None else float(slide.mpp),
        )


@dataclass(frozen=True, slots=True)
class Tile:
    """One unit of work: a level-0 core it owns and the larger rectangle read around it.

    Attributes
    ----------
    index : int
        Position in the planned tuple (results of :func:`map_tiles` come in this order).
    grid_pos : (int, int)
        (row, col) of the tile in the full grid (skipped tiles leave gaps).
    core : Box
        Level-0 rectangle owned by the tile (half-open; the cores of a grid partition the
        slide). Objects whose level-0 centroid is in ``core`` belong to this tile.
    read : Box
        Level-0 rectangle read: the core grown by the halo. It may extend past the slide (the
        outside reads as white), unless planned with ``clip_at_edge=True``.
    level : int
        Pyramid level read.
    analysis_mpp : float
        Effective µm per pixel of the tile image given to the analysis function (the target,
        or the level's own mpp when that is within the resampling tolerance).
    scale : float
        Level-0 pixels per analysis pixel.
    shape : (int, int)
        (rows, cols) of the tile image at the analysis resolution (the read box).
    origin : (int, int)
        Analysis-grid coordinates of the tile image's pixel (0, 0): analysis pixel ``(i, j)``
        of the image is pixel ``(origin[0] + i, origin[1] + j)`` of the slide's analysis grid.
    halo : int
        Halo width in analysis pixels (on the sides away from the slide's edge).
    grid_shape : (int, int) or None
        (rows, cols) of the slide's analysis grid: tile-image pixel ``(i, j)`` lies inside the slide
        when ``0 <= origin[0] + i < grid_shape[0]`` and ``0 <= origin[1] + j < grid_shape[1]``
        (:meth:`inside_slices`). None (a tile made by hand): unknown.
    """

    index: int
    grid_pos: tuple[int, int]
    core: Box
    read: Box
    level: int
    analysis_mpp: float
    scale: float
    shape: tuple[int, int]
    origin: tuple[int, int]
    halo: int
    grid_shape: tuple[int, int] | None = None

    def owns(self, row_l0: float | np.ndarray, col_l0: float | np.ndarray) -> bool | np.ndarray:
        """Whether level-0 point(s) ``(row_l0, col_l0)`` lie in the core (half-open)."""
        r = np.asarray(row_l0, dtype=np.float64)
        c = np.asarray(col_l0, dtype=np.float64)
        inside = (
            (r >= self.core.row) & (r < self.core.row_end) & (c >= self.core.col) & (c < self.core.col_end)
        )
        return bool(inside) if inside.ndim == 0 else inside

    def level0_from_analysis(
        self, row: float | np.ndarray, col: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Level-0 (row, col) of analysis-pixel coordinates of the tile image.

        Pixel-index convention on both sides: the centre of pixel ``i`` is at ``i``.
        """
        r = (self.origin[0] + np.asarray(row, dtype=np.float64) + 0.5) * self.scale - 0.5
        c = (self.origin[1] + np.asarray(col, dtype=np.float64) + 0.5) * self.scale - 0.5
        return r, c

    def inside_slices(self) -> tuple[slice, slice] | None:
        """Slices of the tile image inside the slide (its analysis grid), or None when the whole image is
        (or when :attr:`grid_shape` is unknown): the part past the slide's edge, which reads as white,
        is what they leave out."""
        if self.grid_shape is None:
            return None
        (m, n), (o_r, o_c) = self.shape, self.origin
        r0, r1 = max(0, -o_r), min(m, self.grid_shape[0] - o_r)
        c0, c1 = max(0, -o_c), min(n, self.grid_shape[1] - o_c)
        if (r0, r1, c0, c1) == (0, m, 0, n):
            return None
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))

    def analysis_from_level0(
        self, row_l0: float | np.ndarray, col_l0: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`level0_from_analysis`: tile-image coordinates of level-0 points."""
        r = (np.asarray(row_l0, dtype=np.float64) + 0.5) / self.scale - 0.5 - self.origin[0]
        c = (np.asarray(col_l0, dtype=np.float64) + 0.5) / self.scale - 0.5 - self.origin[1]
        return r, c

    def owns_analysis(self, row: float | np.ndarray, col: float | np.ndarray) -> bool | np.ndarray:
        """Whether tile-image point(s) (analysis pixels, e.g. object centroids) are owned."""
        return self.owns(*self.level0_from_analysis(row, col))

    @property
    def core_slices(self) -> tuple[slice, slice]:
        """Slices of the tile image holding the pixels whose centre the tile owns.

        Over a grid, these slices partition the slide's analysis pixels exactly.
        """

        def first_owned(l0: int, origin: int) -> int:
            # smallest i with (origin + i + 0.5) * scale - 0.5 >= l0
            return math.ceil((l0 + 0.5) / self.scale - 0.5 - origin - _EPS)

        r0 = first_owned(self.core.row, self.origin[0])
        r1 = first_owned(self.core.row_end, self.origin[0])
        c0 = first_owned(self.core.col, self.origin[1])
        c1 = first_owned(self.core.col_end, self.origin[1])
        clip_r = lambda v: min(max(v, 0), self.shape[0])  # noqa: E731
        clip_c = lambda v: min(max(v, 0), self.shape[1])  # noqa: E731
        return slice(clip_r(r0), clip_r(r1)), slice(clip_c(c0), clip_c(c1))


def halo_px(max_object_um: float, analysis_mpp: float, *, context_um: float = 0.0) -> int:
    """Halo width in analysis pixels for objects up to ``max_object_um`` across.

    The halo is the full largest object diameter (not the radius), so an object whose
    centroid is anywhere in the core is read whole even when it is elongated, plus
    ``context_um`` of extra context for filters that look around the object.
    """
    for name, value in (("max_object_um", max_object_um), ("context_um", context_um)):
        if not math.isfinite(value) or value < 0:
            msg = f"{name} must be a finite length >= 0 in µm, got {value!r}"
            raise ConfigError(msg)
    return math.ceil(max_object_um / analysis_mpp - _EPS) + math.ceil(context_um / analysis_mpp - _EPS)


def _choose_level(
    mpp0: float, downsamples: Sequence[float], target_mpp: float, tolerance: float
) -> tuple[int, float, float]:
    """(level, effective analysis mpp, level-0 px per analysis px) for ``target_mpp``."""
    level = 0
    for i, ds in enumerate(downsamples):
        if mpp0 * ds <= target_mpp * (1 + tolerance + _EPS) and ds >= downsamples[level]:
            level = i
    level_mpp = mpp0 * downsamples[level]
    if level_mpp > target_mpp * (1 + tolerance + _EPS):
        warnings.warn(
            f"the slide's level 0 ({mpp0:.4g} µm/px) is coarser than the analysis resolution "
            f"{target_mpp:.4g} µm/px: analysing at {mpp0:.4g} µm/px without upsampling",
            stacklevel=3,
        )
        return 0, mpp0, 1.0
    if abs(level_mpp / target_mpp - 1) <= tolerance + _EPS:
        return level, level_mpp, float(downsamples[level])
    return level, target_mpp, target_mpp / mpp0


def _polygon_intersects_box(poly: np.ndarray, box: Box) -> bool:
    """Exact test: does the closed polygon (K, 2) (row, col) overlap the half-open box?"""
    r0, r1, c0, c1 = box.row, box.row_end, box.col, box.col_end
    p = poly
    q = np.roll(poly, -1, axis=0)
    # Liang-Barsky clipping of every edge against the box
    d = q - p
    t0 = np.zeros(len(p))
    t1 = np.ones(len(p))
    ok = np.ones(len(p), dtype=bool)
    for axis, lo, hi in ((0, r0, r1), (1, c0, c1)):
        for pk, qk in ((-d[:, axis], p[:, axis] - lo), (d[:, axis], hi - p[:, axis])):
            parallel = pk == 0
            ok &= ~(parallel & (qk < 0))
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(parallel, 0.0, qk / np.where(parallel, 1.0, pk))
            t0 = np.where(~parallel & (pk < 0), np.maximum(t0, t), t0)
            t1 = np.where(~parallel & (pk > 0), np.minimum(t1, t), t1)
    if np.any(ok & (t0 <= t1)):
        return True
    # no edge crosses the box: the box is inside the polygon or disjoint from it
    cr, cc = (r0 + r1) / 2, (c0 + c1) / 2
    inside = False
    for (pr, pc), (qr, qc) in zip(p, q, strict=True):
        if (pr > cr) != (qr > cr):
            c_cross = pc + (cr - pr) * (qc - pc) / (qr - pr)
            if cc < c_cross:
                inside = not inside
    return inside


def as_polygons(roi: Sequence[np.ndarray] | None) -> list[np.ndarray]:
    """Validate an ROI: polygons as (K >= 3, 2) float64 arrays of level-0 (row, col) vertices.

    ``None`` (the whole slide) gives an empty list; anything else malformed is a ConfigError.
    """
    if roi is None:
        return []
    polys = []
    for i, poly in enumerate(roi):
        arr = np.asarray(poly, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 3:
            msg = f"roi[{i}] must be a (K, 2) array of level-0 (row, col) vertices with K >= 3, got shape {arr.shape}"
            raise ConfigError(msg)
        if not np.isfinite(arr).all():
            bad = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
            msg = f"roi[{i}] vertex {bad} is not a finite (row, col) position: {arr[bad].tolist()}"
            raise ConfigError(msg)
        polys.append(arr)
    if not polys:
        msg = "roi must hold at least one polygon (or be None for the whole slide), got an empty list"
        raise ConfigError(msg)
    return polys


def plan_grid(
    slide: _HasGeometry,
    *,
    max_object_um: float,
    tile_um: float = 512.0,
    analysis_mpp: float = 0.5,
    context_um: float = 0.0,
    mpp: float | None = None,
    tissue: TissueResult | None = None,
    min_tissue_fraction: float = 0.0,
    roi: Sequence[np.ndarray] | None = None,
    resample_tolerance: float = 0.02,
    clip_at_edge: bool = False,
) -> tuple[Tile, ...]:
    """Cut a slide into analysis tiles.

    Parameters
    ----------
    slide : SlideReader or SlideGeometry
        Anything with ``level_shapes``, ``level_downsamples`` and ``mpp``; only read.
    max_object_um : float
        Largest object to detect across (e.g. the maximal nucleus diameter), in µm; sets the
        halo (see :func:`halo_px`).
    tile_um : float
        Core side in µm (``round(tile_um / analysis_mpp)`` analysis pixels).
    analysis_mpp : float
        Target analysis resolution, µm per pixel. The level read is the least detailed level
        at least as detailed as this; it is resampled to it unless within
        ``resample_tolerance``, in which case the level's own mpp is used as is.
    context_um : float
        Extra halo for filters that look beyond the object itself, µm.
    mpp : float, optional
        Level-0 µm per pixel overriding the slide's (required when the slide has none).
    tissue : TissueResult, optional
        Tiles whose core touches no tissue are skipped (or less than
        ``min_tissue_fraction`` of it when that is > 0).
    min_tissue_fraction : float
        Minimum tissue fraction of the mask pixels under a core for the tile to be kept.
    roi : sequence of (K, 2) arrays, optional
        Polygons in level-0 (row, col); only tiles whose core overlaps one are kept.
    resample_tolerance : float
        Relative mpp difference under which a level is used without resampling.
    clip_at_edge : bool
        False (default, the reference): the halo extends past the slide's edge and reads as
        white. True: the read box stops at the edge, so the filters of the analysis see the edge
        as their image border (reflected); a small image read as one tile then costs only its
        own pixels (a 640² field at 0.25 µm/px with the default 135 µm halo is 320² analysis
        pixels instead of 862²), but results near the edge change: on the real Ki67 tiles the
        index MAE went from 4.76 to 6.48 pp on BCData (and 4.42 -> 4.15 on SHIDC, 4.93 -> 4.82
        on DeepLIIF; the default cell model's context features were trained with white
        margins), so it is not the default. Either way a tile's result does not depend on the
        tile size: the edge is the slide's. (The default pays little for the white margin:
        :func:`mmnst_path.pipeline._worker.analyze_tile` runs its stages on the non-white part
        grown by each stage's reach, with the same results as on the whole tile.)

    Returns
    -------
    tuple of Tile
        In row-major grid order, ``index`` running from 0.

    Raises
    ------
    MissingMetadataError
        When neither the slide nor ``mpp`` gives the pixel size.
    ConfigError
        On a non-positive size or resolution, or a malformed ROI.
    """
    mpp0 = require_mpp(mpp if mpp is not None else slide.mpp, what="slide (needed to plan the tile grid)")
    for name, value in (("tile_um", tile_um), ("analysis_mpp", analysis_mpp)):
        if not math.isfinite(value) or value <= 0:
            msg = f"{name} must be a positive finite number, got {value!r}"
            raise ConfigError(msg)
    if not 0 <= min_tissue_fraction <= 1:
        msg = f"min_tissue_fraction must be in [0, 1], got {min_tissue_fraction!r}"
        raise ConfigError(msg)
    if not 0 <= resample_tolerance < 0.5:
        msg = f"resample_tolerance must be in [0, 0.5), got {resample_tolerance!r}"
        raise ConfigError(msg)
    rows0, cols0 = (int(v) for v in slide.level_shapes[0])
    if tissue is not None and tuple(tissue.slide_shape) != (rows0, cols0):
        msg = (
            f"tissue mask was computed for a slide of shape {tissue.slide_shape}, "
            f"but the slide planned has level-0 shape {(rows0, cols0)}"
        )
        raise RegionError(msg)
    polys = as_polygons(roi)

    level, eff_mpp, scale = _choose_level(mpp0, list(slide.level_downsamples), analysis_mpp, resample_tolerance)
    tile = max(1, round(tile_um / eff_mpp))
    halo = halo_px(max_object_um, eff_mpp, context_um=context_um)
    n_rows = math.ceil(rows0 / scale - _EPS)
    n_cols = math.ceil(cols0 / scale - _EPS)

    on_grid = READ_ON_GRID and grid_resampled(level, scale)

    def l0(g: int) -> int:
        # level-0 coordinate of the analysis-grid line g (floor(l0 / ds) == g on level reads)
        return math.ceil(g * scale - _EPS)

    tiles: list[Tile] = []
    for i, ra in enumerate(range(0, n_rows, tile)):
        rb = min(ra + tile, n_rows)
        for j, ca in enumerate(range(0, n_cols, tile)):
            cb = min(ca + tile, n_cols)
            row_end = rows0 if rb == n_rows else min(l0(rb), rows0)
            col_end = cols0 if cb == n_cols else min(l0(cb), cols0)
            core = Box(l0(ra), l0(ca), row_end - l0(ra), col_end - l0(ca))
            if core.height <= 0 or core.width <= 0:
                continue
            if tissue is not None:
                if min_tissue_fraction > 0:
                    if tissue.fraction_in(core) < min_tissue_fraction:
                        continue
                elif not tissue.any_in(core):
                    continue
            if polys and not any(_polygon_intersects_box(p, core) for p in polys):
                continue
            r_lo, r_hi, c_lo, c_hi = ra - halo, rb + halo, ca - halo, cb + halo
            if clip_at_edge:  # the slide's edge is the image border (no white margin)
                r_lo, r_hi, c_lo, c_hi = max(r_lo, 0), min(r_hi, n_rows), max(c_lo, 0), min(c_hi, n_cols)
            if on_grid:  # the level-0 pixels the grid's analysis pixels r_lo .. r_hi overlap
                rr0, cc0 = math.floor(r_lo * scale), math.floor(c_lo * scale)
                read = Box(rr0, cc0, math.ceil(r_hi * scale) - rr0, math.ceil(c_hi * scale) - cc0)
            else:
                read = Box(l0(r_lo), l0(c_lo), l0(r_hi) - l0(r_lo), l0(c_hi) - l0(c_lo))
            tiles.append(
                Tile(
                    index=len(tiles),
                    grid_pos=(i, j),
                    core=core,
                    read=read,
                    level=level,
                    analysis_mpp=eff_mpp,
                    scale=scale,
                    shape=(r_hi - r_lo, c_hi - c_lo),
                    origin=(r_lo, c_lo),
                    halo=halo,
                    grid_shape=(n_rows, n_cols),
                )
            )
    return tuple(tiles)


#: Tiles read at level 0 with a non-integer factor are resampled onto the slide's analysis grid
#: (:func:`mmnst_path.io._resample.resize_area_grid`: analysis pixel g covers level-0
#: ``[g s, (g + 1) s)`` in every tile), so a tile's pixels do not depend on its halo or position.
#: False: each tile's integer read box stretched onto its pixels (before 2026-12-03 session 10).
READ_ON_GRID = True


def grid_resampled(level: int, scale: float) -> bool:
    """Whether tiles of this level and scale (level-0 px per analysis px) are resampled onto the
    slide's analysis grid (:data:`READ_ON_GRID`): level 0 at a non-integer factor."""
    return level == 0 and not float(scale).is_integer()


def read_tile(reader: object, tile: Tile) -> np.ndarray:
    """Read a tile's image (core + halo) at its analysis resolution.

    Parameters
    ----------
    reader : SlideReader
        Open slide.
    tile : Tile
        A tile planned for this slide.

    Returns
    -------
    (tile.shape[0], tile.shape[1], 3) uint8 ndarray
        RGB pixels at ``tile.analysis_mpp``; white outside the slide.
    """
    from ..io._base import SlideReader
    from ..io._resample import _pasted, resize_area, resize_area_grid

    on_grid = READ_ON_GRID and grid_resampled(tile.level, tile.scale)
    if READ_PART and isinstance(reader, SlideReader) and type(reader).read_region is SlideReader.read_region:
        # a read past the slide's edge (a lone tile's halo): only the slide's part and a white
        # margin as wide as an output's taps are read and resampled (the same pixels; a reader
        # whose read_region is its own still has it called)
        ds = reader.level_downsamples[tile.level]
        factor = tile.scale if on_grid else max(tile.read.height / ds / tile.shape[0], tile.read.width / ds / tile.shape[1])
        part, at, canvas = reader.read_region_part(tile.read, tile.level, margin=math.ceil(factor) + 3)
        if part.shape[:2] != canvas and canvas != tile.shape:
            if on_grid:
                return resize_area_grid(part, tile.shape, tile.origin, tile.scale, (tile.read.row, tile.read.col),
                                        at=at, canvas=canvas)
            return resize_area(part, tile.shape, at=at, canvas=canvas)
        img = part if part.shape[:2] == canvas else _pasted(part, at, canvas)
    else:
        img = reader.read_region(tile.read, tile.level)  # type: ignore[attr-defined]
    if img.shape[:2] == tile.shape:
        return img
    if on_grid:
        return resize_area_grid(img, tile.shape, tile.origin, tile.scale, (tile.read.row, tile.read.col))
    return resize_area(img, tile.shape)


#: Read only the part of a tile's read that holds the slide (plus a white margin) when the read
#: extends past the slide's edge, and resample it as the whole white canvas (bit-identical,
#: :meth:`~mmnst_path.io.SlideReader.read_region_part`). Opt-in (False = read and resample the
#: canvas, the default): it does less work, but on lone SHIDC tiles the canvas it no longer
#: allocates was what raised glibc's dynamic mmap threshold to ~26 MB, and without it the
#: later stages page-fault ~7,000 times a tile (~16 ms of system CPU; benchmarks/README.md,
#: session 24 H2).
READ_PART = False
