"""Glue between a napari image and the library's tissue classifier (no Qt): read a region at a
working resolution, classify it with block-grid alignment and context, collect training rows
from a painted label grid.

Three pixel grids appear here, all counted in level-0 pixels of the slide:

- the *label grid* of the training Labels layer: ``d`` level-0 px per label pixel
  (:func:`labels_downsample`: 1 for tiles, a power of two for big slides);
- the *working grid* the classifier reads: ``w`` level-0 px per pixel
  (:func:`work_downsample`, about the pipeline's analysis resolution);
- the model's *output grid*: ``F`` working pixels per class block
  (:attr:`mmnst_path.classify.TissueMap.factor`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ClassBox",
    "classify_box",
    "labels_downsample",
    "read_on_grid",
    "training_rows",
    "work_downsample",
]

#: longest side of the training-label grid (a whole-slide label layer at level 0 would be huge)
MAX_LABEL_SIDE = 8192
#: a block takes the painted class covering at least this share of it (strokes are thin)
MIN_COVER = 0.25
#: working-grid pixels per side of one classification chunk
CHUNK = 2048
#: working-grid pixels per side of the label chunk one training window covers (small, so that a
#: new stroke recomputes little: the features of windows whose paint is unchanged are cached)
TRAIN_CHUNK = 512


def labels_downsample(shape: tuple[int, int]) -> int:
    """Level-0 pixels per training-label pixel: 1 for tiles, a power of two for big slides."""
    side = max(shape)
    return 1 if side <= MAX_LABEL_SIDE else 2 ** math.ceil(math.log2(side / MAX_LABEL_SIDE))


def work_downsample(mpp: float, target_um: float) -> int:
    """Largest power of two ``w`` with ``w * mpp <= target_um`` (1 when the image is coarser)."""
    w = 1
    while 2 * w * mpp <= target_um * 1.001:
        w *= 2
    return w


def read_on_grid(reader: Any, r0: int, c0: int, h: int, w: int, d: int) -> np.ndarray:
    """RGB (h, w, 3) uint8 of grid pixels [r0, r0+h) x [c0, c0+w) at ``d`` level-0 px each."""
    from mmnst_path.geometry import Box

    box = Box(r0 * d, c0 * d, h * d, w * d)
    if d == 1:
        return np.asarray(reader.read_region(box, 0))
    from mmnst_path.io._resample import resize_area

    img = np.asarray(reader.read_region(box, reader.best_level_for_downsample(d)))
    return img if img.shape[:2] == (h, w) else resize_area(img, (h, w))


@dataclass(frozen=True)
class ClassBox:
    """Classes of a region on the model's output grid.

    Attributes
    ----------
    labels : (m, n) int8 ndarray
        Class indices into ``classes``.
    classes : tuple of str
    origin : (int, int)
        Level-0 (row, col) of the top-left block's corner (a multiple of ``downsample``).
    downsample : int
        Level-0 pixels per block side.
    weight : (m, n) float32 ndarray
        Share of each block inside the image (edge blocks run past it).
    model_id : str
    """

    labels: np.ndarray
    classes: tuple[str, ...]
    origin: tuple[int, int]
    downsample: int
    weight: np.ndarray
    model_id: str


def classify_box(
    reader: Any,
    box: Any,
    *,
    bounds: tuple[int, int],
    mpp: float,
    w: int,
    model: Any,
    stains: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> ClassBox:
    """Tissue classes of the level-0 ``box`` (blocks aligned to the image's output grid).

    The region is read at ``w`` level-0 px per pixel in chunks of about :data:`CHUNK` pixels,
    each with the model's context (:func:`~mmnst_path.classify.tissue.tissue_halo_um`) around it,
    so the classes of a block do not depend on the chunking nor on the box: a preview of the view
    shows the blocks of the whole-image result.

    Parameters
    ----------
    reader : SlideReader
    box : Box
        Level-0 region.
    bounds : (rows, cols)
        Level-0 image shape.
    mpp : float
        µm per level-0 pixel.
    w : int
        Level-0 px per working pixel.
    model : ClassifierModel
        Tissue model.
    stains : str or StainMatrix, optional
        None: the model's own.
    progress : callable(done, total), optional
        Called after every chunk (may raise to stop).
    """
    from mmnst_path.classify import classify_tissue
    from mmnst_path.classify.tissue import tissue_factors, tissue_halo_um

    f, kj = tissue_factors(model, mpp * w)
    big = f * kj  # working px per output block
    H, W = math.ceil(bounds[0] / w), math.ceil(bounds[1] / w)
    nb_r, nb_c = math.ceil(H / big), math.ceil(W / big)
    b_r0, b_c0 = max(0, (box.row // w) // big), max(0, (box.col // w) // big)
    b_r1 = min(nb_r, math.ceil(math.ceil(box.row_end / w) / big))
    b_c1 = min(nb_c, math.ceil(math.ceil(box.col_end / w) / big))
    b_r1, b_c1 = max(b_r1, b_r0 + 1), max(b_c1, b_c0 + 1)
    out = np.zeros((b_r1 - b_r0, b_c1 - b_c0), np.int8)
    halo = math.ceil(tissue_halo_um(model) / (mpp * w) / big) * big
    step = max(1, CHUNK // big)
    chunks = [(i, j) for i in range(b_r0, b_r1, step) for j in range(b_c0, b_c1, step)]
    for n, (i, j) in enumerate(chunks):
        i1, j1 = min(b_r1, i + step), min(b_c1, j + step)
        r0, c0 = max(0, i * big - halo), max(0, j * big - halo)
        r1, c1 = min(H, i1 * big + halo), min(W, j1 * big + halo)
        rgb = read_on_grid(reader, r0, c0, r1 - r0, c1 - c0, w)
        tmap = classify_tissue(rgb, mpp=mpp * w, model=model, stains=stains, origin=(r0, c0))
        oi, oj = i - r0 // big, j - c0 // big
        out[i - b_r0 : i1 - b_r0, j - b_c0 : j1 - b_c0] = tmap.labels[oi : oi + i1 - i, oj : oj + j1 - j]
        if progress is not None:
            progress(n + 1, len(chunks))
    ds = big * w
    rows_in = np.clip(bounds[0] - np.arange(b_r0, b_r1) * ds, 0, ds) / ds
    cols_in = np.clip(bounds[1] - np.arange(b_c0, b_c1) * ds, 0, ds) / ds
    weight = np.outer(rows_in, cols_in).astype(np.float32)
    return ClassBox(out, tuple(model.class_names), (b_r0 * ds, b_c0 * ds), ds, weight, model.model_id)


def _regrid(labels: np.ndarray, d: int, w: int) -> np.ndarray:
    """A label grid of ``d`` level-0 px per pixel on the working grid of ``w`` (powers of two)."""
    if d == w:
        return labels
    if d > w:
        k = d // w
        return np.repeat(np.repeat(labels, k, axis=0), k, axis=1)
    k = w // d
    return labels[k // 2 :: k, k // 2 :: k]


def training_rows(
    reader: Any,
    labels: np.ndarray,
    *,
    d: int,
    bounds: tuple[int, int],
    mpp: float,
    w: int,
    classes: Sequence[str],
    stains: Any,
    settings: Any = None,
    cache: dict[Any, Any] | None = None,
    places: list[np.ndarray] | None = None,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, int]]:
    """Training rows (:func:`mmnst_path.classify.train_tissue.tissue_training_rows`) of painted labels.

    The label grid (``d`` level-0 px per pixel; value ``k`` = ``classes[k - 1]``) is cut into
    chunks of :data:`TRAIN_CHUNK` working pixels; each window with paint is read around the
    paint's bounding box with the features' context and gives the blocks its paint covers
    (at least :data:`MIN_COVER` of a block).

    ``cache`` (a dict kept by the caller between calls) holds the rows of every window by its
    position and labels: a new stroke recomputes only the windows whose paint changed. It is
    pruned to the windows of this call. ``places`` (a list the caller gives) receives, per entry of ``rows``, the
    (k, 2) level-0 (row, col) µm of its blocks' centres: the held-out figures of a training card hold out
    spatial squares of the image with them (:func:`mmnst_path.classify.train.holdout_folds`).

    Returns
    -------
    rows : list of (x, y)
    counts : dict
        Labelled blocks per class name.
    """
    from mmnst_path.classify.tissue_features import TissueFeatureSettings
    from mmnst_path.classify.train_tissue import tissue_training_blocks

    settings = settings or TissueFeatureSettings()
    lab = np.asarray(labels)
    H, W = math.ceil(bounds[0] / w), math.ceil(bounds[1] / w)
    halo = math.ceil(settings.halo_um() / (mpp * w))
    span = max(1, TRAIN_CHUNK * w // d)  # label px per window side
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    counts: dict[str, int] = {}
    used: dict[Any, Any] = {}
    for i in range(0, lab.shape[0], span):
        for j in range(0, lab.shape[1], span):
            part = lab[i : i + span, j : j + span]
            if not part.any():
                continue
            rr, cc = np.nonzero(part)
            # paint bounding box on the working grid
            a0, b0 = (i + rr.min()) * d // w, (j + cc.min()) * d // w
            a1, b1 = min(H, -(-(i + rr.max() + 1) * d // w)), min(W, -(-(j + cc.max() + 1) * d // w))
            r0, c0, r1, c1 = max(0, a0 - halo), max(0, b0 - halo), min(H, a1 + halo), min(W, b1 + halo)
            win = _window_labels(lab, (i, j, i + span, j + span), d, w, (r0, c0, r1, c1))
            if not win.any():
                continue
            key = (r0, c0, r1, c1, d, w, str(stains), tuple(classes), repr(settings),
                   hashlib.sha1(np.ascontiguousarray(win).tobytes()).hexdigest())  # fmt: skip
            if cache is not None and key in cache:
                x, y, rc_um = cache[key]
            else:
                rgb = read_on_grid(reader, r0, c0, r1 - r0, c1 - c0, w)
                x, y, rc_um = tissue_training_blocks(rgb, win, mpp=mpp * w, classes=list(classes), stains=stains,
                                                     settings=settings, min_cover=MIN_COVER)  # fmt: skip
            used[key] = (x, y, rc_um)
            if len(y):
                rows.append((x, y))
                if places is not None:  # the window's origin: working-grid (r0, c0) -> level-0 µm
                    places.append(np.asarray(rc_um, float).reshape(-1, 2) + np.array([r0, c0], float) * w * mpp)
                for name, n in zip(*np.unique(y, return_counts=True), strict=True):
                    counts[str(name)] = counts.get(str(name), 0) + int(n)
    if cache is not None:
        cache.clear()
        cache.update(used)
    return rows, counts


def _window_labels(
    lab: np.ndarray, own: tuple[int, int, int, int], d: int, w: int, win: tuple[int, int, int, int]
) -> np.ndarray:
    """The labels of one window (working-grid rows/cols ``win``) with only the paint of the
    label-grid chunk ``own`` (rows/cols ``[o0, o2) x [o1, o3)``) kept."""
    r0, c0, r1, c1 = win
    # label-grid pixels covering the window
    lr0, lc0 = r0 * w // d, c0 * w // d
    lr1, lc1 = -(-r1 * w // d), -(-c1 * w // d)
    part = np.array(lab[lr0:lr1, lc0:lc1])
    rows, cols = np.arange(lr0, lr0 + part.shape[0]), np.arange(lc0, lc0 + part.shape[1])
    part[~((rows >= own[0]) & (rows < own[2]))] = 0
    part[:, ~((cols >= own[1]) & (cols < own[3]))] = 0
    grid = _regrid(part, d, w)
    # offset of the window inside the regridded part, then crop / pad to its shape
    off_r, off_c = r0 - lr0 * d // w, c0 - lc0 * d // w
    out = np.zeros((r1 - r0, c1 - c0), lab.dtype)
    sub = grid[off_r : off_r + out.shape[0], off_c : off_c + out.shape[1]]
    out[: sub.shape[0], : sub.shape[1]] = sub
    return out
