"""The tissue classes of a pipeline tile around its core: which blocks to classify (:func:`class_window`),
the owned area of each class and its map sums from the block labels (:func:`class_sums`), both exact, and
the Ki67 cells outside the tumour region (:func:`outside_excluded`), and the part of a tile image the tissue
stage reads (:func:`tissue_part`)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TISSUE_INSIDE_SLIDE", "WINDOW_MARGIN_BLOCKS", "class_sums", "class_window", "outside_excluded",
           "tissue_part"]

#: The tissue stage (class map, tumour region, necrosis) of a pipeline tile reads the tile image cut at the
#: slide's edge (:meth:`~mmnst_path.tiling.Tile.inside_slices`), so its features' filters reflect the image at
#: the edge, as in a call on the bare image (every generated benchmark, the models' training), instead of
#: reading the white margin past it (which read the outer ~40 µm of tissue at an image file's edge as
#: stroma: session 38 H7, 2.12 pp of the README necrosis sample's miss). Not where the class map draws the
#: Ki67 tumour region (``[ki67] count_in = "tumour"``): the Ki67 stage keeps the margin it was measured with.
#: False = the whole tile image, white margin included (before session 39).
TISSUE_INSIDE_SLIDE = True

#: Blocks the window of :func:`class_window` keeps beyond the core's blocks and the reach of the class
#: map's smoothing: room for a necrotic region that meets the core to be seen whole, or at least
#: ``min_area_um2`` of it (:func:`~mmnst_path.quantify._necrosis_window.check_exact`).
WINDOW_MARGIN_BLOCKS = 8


def class_window(shape: tuple[int, int], core: tuple[slice, slice], *, mpp: float, model: Any,
                  origin: tuple[int, int] | None, smooth_um: float, necrosis: Any = None
                  ) -> tuple[tuple[int, int, int, int] | None, tuple[int, int, int, int] | None]:
    """(window, need) on the block grid of :func:`~mmnst_path.classify.tissue.classify_tissue` of an image of
    ``shape`` with ``origin``: ``need`` the blocks under the ``core`` pixels and one more on each side (a Ki67
    centroid rounds to a pixel beside the core), ``window`` those grown by the class map's reach
    (:func:`~mmnst_path.quantify._necrosis_window.reach_blocks`), the intact-nucleus veto's where it runs
    (``necrosis``: the :class:`~mmnst_path.quantify.necrosis.NecrosisParams` of the class map, or None) and
    :data:`WINDOW_MARGIN_BLOCKS`; (None, None) when that is the whole grid or the core is empty."""
    from ..classify.tissue import tissue_factors
    from ..quantify._necrosis_window import reach_blocks, veto_reach_blocks

    f, kj = tissue_factors(model, mpp)
    big = f * kj
    rows, cols = core
    if rows.stop <= rows.start or cols.stop <= cols.start:
        return None, None
    off = [int(v) % big for v in origin] if origin is not None else [0, 0]
    grid = [-(-(shape[i] + off[i]) // big) for i in (0, 1)]
    need = []
    for sl, o, g in ((rows, off[0], grid[0]), (cols, off[1], grid[1])):
        need += [max((sl.start + o) // big - 1, 0), min((sl.stop - 1 + o) // big + 2, g)]
    grow = reach_blocks(smooth_um, big * mpp) + WINDOW_MARGIN_BLOCKS
    if necrosis is not None and necrosis.intact_veto_density > 0 and mpp <= necrosis.intact_max_mpp_um:
        grow += veto_reach_blocks(necrosis, big * mpp)
    window = (max(need[0] - grow, 0), min(need[1] + grow, grid[0]), max(need[2] - grow, 0), min(need[3] + grow, grid[1]))
    if window == (0, grid[0], 0, grid[1]):
        return None, None
    return window, (need[0], need[1], need[2], need[3])


def class_sums(labels: np.ndarray, n_classes: int, owned: np.ndarray, core: tuple[slice, slice], *,
                origin: tuple[int, int], factor: int, map_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Owned pixels per class (``(K,)`` int) and their sums over the map blocks of the core (``(K, r, c)``
    float64, :func:`~mmnst_path.pipeline._worker._block_sums`'s grid) from the class ``labels`` of the tile's blocks (tile pixel ``(i, j)``
    in block ``((i + off_r) // factor, (j + off_c) // factor)``, ``off = origin mod factor``, as
    :func:`~mmnst_path.classify.tissue.region_mask`), without a pixel mask per class: the owned pixels
    (inside ``core``) counted per cell of both block grids, each cell's count given to its block's class."""
    rs, cs = core
    if rs.stop <= rs.start or cs.stop <= cs.start:
        return np.zeros(n_classes, np.int64), np.zeros((n_classes, 0, 0))
    cuts, cells, maps = [], [], []
    for sl, o, n in ((rs, origin[0], labels.shape[0]), (cs, origin[1], labels.shape[1])):
        px = np.arange(sl.start, sl.stop)
        cell = np.minimum((px + o % factor) // factor, n - 1) if n else np.zeros(px.size, np.intp)
        block = (o + px) // map_px
        starts = np.r_[0, np.flatnonzero((np.diff(cell) != 0) | (np.diff(block) != 0)) + 1]
        cuts.append(starts)
        cells.append(cell[starts])
        maps.append(block[starts] - block[0])
    counts = np.add.reduceat(np.add.reduceat(owned[rs, cs].astype(np.int64), cuts[0], axis=0), cuts[1], axis=1)
    shape = (int(maps[0][-1]) + 1, int(maps[1][-1]) + 1)
    if labels.size == 0:  # (no class anywhere: region_mask's empty masks)
        return np.zeros(n_classes, np.int64), np.zeros((n_classes, *shape))
    cls = labels[np.ix_(cells[0], cells[1])].astype(np.intp)
    where = (cls * shape[0] + maps[0][:, None]) * shape[1] + maps[1][None, :]
    per = np.bincount(where.ravel(), weights=counts.ravel().astype(np.float64), minlength=n_classes * shape[0] * shape[1])
    sums = per.reshape(n_classes, *shape)
    return np.rint(sums.sum(axis=(1, 2))).astype(np.int64), sums


def outside_excluded(cells: Any, region: np.ndarray) -> Any:
    """Ki67 cells whose centroid lies outside ``region`` (M, N bool) turned ``excluded`` (no intensity bin)."""
    from dataclasses import replace

    if not len(cells):
        return cells
    r = np.clip(np.rint(cells.row).astype(np.intp), 0, region.shape[0] - 1)
    c = np.clip(np.rint(cells.col).astype(np.intp), 0, region.shape[1] - 1)
    cls = np.asarray(cells.cls).copy()
    outside = ~region[r, c]
    out = outside & np.isin(cls, ("positive", "negative", "pigment"))
    if not outside.any():
        return cells
    cls[out] = "excluded"
    bins = np.where(cls == "positive", cells.intensity_bin, 0).astype(np.int8)
    # (a nucleus outside the region stays out of the index, in a spindle sheet or not)
    return replace(cells, cls=cls, intensity_bin=bins, in_spindle_sheet=np.asarray(cells.in_spindle_sheet) & ~outside)


def tissue_part(rgb: np.ndarray, owned: np.ndarray, tile: Any, *, clip: bool
                ) -> tuple[tuple[slice, slice] | None, np.ndarray, np.ndarray, tuple[int, int], tuple[slice, slice]]:
    """(part, image, owned, origin, core) the tissue stage of ``tile`` reads: with ``clip`` (and
    :data:`TISSUE_INSIDE_SLIDE`) the tile image ``rgb`` cut to the slide (``part``, the slices of
    :meth:`~mmnst_path.tiling.Tile.inside_slices`), with its ``owned`` pixels, analysis-grid origin and core
    slices moved with it; else (or when the whole tile lies inside the slide) ``part`` is None and the rest
    is the whole tile's. The owned core always lies inside the slide: the counts read the same pixels."""
    origin, core = (int(tile.origin[0]), int(tile.origin[1])), tile.core_slices
    part = tile.inside_slices() if clip and TISSUE_INSIDE_SLIDE else None
    if part is None:
        return None, rgb, owned, origin, core
    r0, c0 = part[0].start, part[1].start
    moved = (slice(core[0].start - r0, core[0].stop - r0), slice(core[1].start - c0, core[1].stop - c0))
    return part, np.ascontiguousarray(rgb[part]), owned[part], (origin[0] + r0, origin[1] + c0), moved
