"""The Ki67 hot spot: the window of a given area with the highest index, and the index inside a given box.

Split out of :mod:`mmnst_path.aggregate` (which re-exports everything here); coordinates are level-0 pixels,
(row, col).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError
from .geometry import Box

__all__ = ["Hotspot", "find_hotspot", "hotspot_in_box", "wilson_interval"]


def wilson_interval(successes: int, n: int, *, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion, as fractions in [0, 1]; NaNs when ``n == 0``."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))



# ------------------------------------------------------------------------------------------------
# hot spot
@dataclass(frozen=True)
class Hotspot:
    """The hot-spot window and its Ki67 counts.

    Attributes
    ----------
    box : Box
        Level-0 window (clipped to the image).
    area_mm2 : float
        Physical area of ``box``.
    positive, negative : int
        Tumour nuclei counted in the window.
    index_pct, ci_low_pct, ci_high_pct : float
        Ki67 index in the window with its 95 % Wilson interval (NaN when no nucleus).
    meets_min_nuclei : bool
        Whether the window holds at least the required number of tumour nuclei (when no window
        does, the most populated one is reported and this is ``False``).
    whole_image : bool
        True when the image is smaller than the window and the whole image was used.
    """

    box: Box
    area_mm2: float
    positive: int
    negative: int
    index_pct: float
    ci_low_pct: float
    ci_high_pct: float
    meets_min_nuclei: bool
    whole_image: bool

    @property
    def nuclei(self) -> int:
        return self.positive + self.negative


def hotspot_in_box(row: np.ndarray, col: np.ndarray, positive: np.ndarray, box: Box, *, mpp: float,
                   min_nuclei: int, whole_image: bool = False) -> Hotspot:
    """The hot-spot record of the tumour nuclei whose centroid lies in ``box`` (``[row, row_end) x
    [col, col_end)``, level-0 pixels): the count :func:`find_hotspot` gives its window, for a box chosen
    elsewhere (a reviewed frame, a user's box).

    Parameters
    ----------
    row, col : (n,) float
        Level-0 centroids of the tumour nuclei (positive and negative only).
    positive : (n,) bool
        Whether each nucleus is Ki67 positive.
    box : Box
        The window, level-0 pixels.
    mpp : float
        Level-0 microns per pixel (for the window's area).
    min_nuclei : int
        Minimum tumour nuclei for ``meets_min_nuclei``.
    whole_image : bool
        Whether the window is the whole image.
    """
    row = np.asarray(row, dtype=np.float64)
    col = np.asarray(col, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    if row.ndim != 1 or row.shape != col.shape or row.shape != positive.shape:
        msg = (f"hotspot_in_box: row, col and positive must be 1-D arrays of one length, got shapes {row.shape}, "
               f"{col.shape}, {positive.shape}")
        raise ConfigError(msg)
    if isinstance(mpp, bool) or not isinstance(mpp, numbers.Real) or not (math.isfinite(mpp) and mpp > 0):
        msg = f"hotspot_in_box: mpp must be a positive number of µm per pixel, got {mpp!r}"
        raise ConfigError(msg)
    inside = (row >= box.row) & (row < box.row_end) & (col >= box.col) & (col < box.col_end)
    n = int(np.count_nonzero(inside))
    p = int(np.count_nonzero(inside & positive))
    lo, hi = wilson_interval(p, n)
    return Hotspot(
        box=box,
        area_mm2=box.area * mpp * mpp / 1e6,
        positive=p,
        negative=n - p,
        index_pct=100.0 * p / n if n else math.nan,
        ci_low_pct=100.0 * lo,
        ci_high_pct=100.0 * hi,
        meets_min_nuclei=n >= min_nuclei,
        whole_image=whole_image,
    )


def find_hotspot(
    row: np.ndarray,
    col: np.ndarray,
    positive: np.ndarray,
    *,
    shape: tuple[int, int],
    mpp: float,
    area_mm2: float = 1.0,
    min_nuclei: int = 500,
    bins_per_side: int = 20,
) -> Hotspot:
    """Square window of fixed physical area with the highest Ki67 index.

    Among windows holding at least ``min_nuclei`` tumour nuclei, the one with the highest index;
    when none does, the most populated window. Windows slide on a grid of ``bins_per_side`` steps
    per window side (so the window position is resolved to 1/20 of its side by default); counts
    per window come from integral images of a cell-count grid, so the search costs O(grid size).
    When the image is smaller than the window on both axes the whole image is the hot spot; on
    one axis only, the window is clipped to the image on that axis.

    Parameters
    ----------
    row, col : (n,) float
        Level-0 centroids of the tumour nuclei (positive and negative only).
    positive : (n,) bool
        Whether each nucleus is Ki67 positive.
    shape : (rows, cols)
        Level-0 extent of the image.
    mpp : float
        Level-0 microns per pixel.
    area_mm2 : float
        Window area (mm²).
    min_nuclei : int
        Minimum tumour nuclei of an eligible window.
    bins_per_side : int
        Grid steps per window side.

    Returns
    -------
    Hotspot
    """
    if not (area_mm2 > 0 and math.isfinite(area_mm2)):
        msg = f"hotspot area_mm2 must be a positive number of mm², got {area_mm2!r}"
        raise ConfigError(msg)
    row = np.asarray(row, dtype=np.float64)
    col = np.asarray(col, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    rows, cols = int(shape[0]), int(shape[1])
    side_px = math.sqrt(area_mm2) * 1000.0 / mpp
    if rows <= side_px and cols <= side_px:
        return hotspot_in_box(row, col, positive, Box(0, 0, rows, cols), mpp=mpp, min_nuclei=min_nuclei, whole_image=True)

    bin_px = side_px / bins_per_side
    n_r, n_c = max(1, math.ceil(rows / bin_px)), max(1, math.ceil(cols / bin_px))
    br = np.clip((row // bin_px).astype(np.int64), 0, n_r - 1)
    bc = np.clip((col // bin_px).astype(np.int64), 0, n_c - 1)
    flat = br * n_c + bc
    total = np.bincount(flat, minlength=n_r * n_c).reshape(n_r, n_c)
    pos = np.bincount(flat, weights=positive, minlength=n_r * n_c).reshape(n_r, n_c)
    w_r, w_c = min(bins_per_side, n_r), min(bins_per_side, n_c)

    def window_sums(grid: np.ndarray) -> np.ndarray:
        s = np.zeros((n_r + 1, n_c + 1), dtype=np.float64)
        s[1:, 1:] = np.cumsum(np.cumsum(grid, axis=0), axis=1)
        return s[w_r:, w_c:] - s[:-w_r, w_c:] - s[w_r:, :-w_c] + s[:-w_r, :-w_c]

    win_n = window_sums(total)
    win_p = window_sums(pos)
    eligible = win_n >= min_nuclei
    if eligible.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(eligible, win_p / np.maximum(win_n, 1), -1.0)
        # highest index; ties -> more nuclei (lexicographic via a tiny tie-break)
        score = score + win_n * 1e-12
    else:
        score = win_n.astype(np.float64)
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    r0, c0 = round(i * bin_px), round(j * bin_px)
    r1, c1 = min(rows, round((i + w_r) * bin_px)), min(cols, round((j + w_c) * bin_px))
    box = Box(r0, c0, r1 - r0, c1 - c0)
    return hotspot_in_box(row, col, positive, box, mpp=mpp, min_nuclei=min_nuclei)
