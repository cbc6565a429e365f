"""A reviewer's melanin corrections: blocks of the run's melanin map marked "melanin" or "no melanin", and the
melanin area and fraction of tissue recomputed from them.

A run's melanin result is a low-resolution map (``SlideResult.maps["melanin"]``: the melanin share of the tissue
of every block, NaN where a block holds no tissue; blocks of ``downsample`` level-0 pixels, 16 µm at 0.5 µm/px)
over a finer tissue map (``maps["tissue"]``: the tissue share of every pixel). A correction acts on whole blocks
of the melanin map: a block marked :data:`MELANIN_ADD` is melanin over all its tissue, one marked
:data:`MELANIN_REMOVE` holds none; the others keep the run's share. The reviewed area is the run's area with the
difference of the changed blocks added (the run's exact area is kept for the blocks left alone, as the tissue
class review keeps the run's areas); the tissue (the denominator) is the run's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["MELANIN_ADD", "MELANIN_REMOVE", "block_tissue_mm2", "reviewed_melanin"]

#: the value of a block painted "melanin" (all its tissue is melanin)
MELANIN_ADD = 1
#: the value of a block painted "no melanin" (none of it is)
MELANIN_REMOVE = 2


def block_tissue_mm2(tissue: Any, *, tissue_downsample: float, downsample: float, grid: tuple[int, int],
                     mpp: float) -> np.ndarray:
    """(M, N) tissue area (mm²) of every block of a ``grid`` of ``downsample`` level-0 px, from a tissue share
    map of ``tissue_downsample`` px per pixel (NaN counted as no tissue). The block must be a whole number of
    tissue pixels (ValueError naming both otherwise)."""
    ratio = float(downsample) / float(tissue_downsample)
    k = round(ratio)
    if k < 1 or abs(ratio - k) > 1e-6:
        msg = (f"downsample={downsample!r} is not a whole number of tissue map pixels "
               f"(tissue_downsample={tissue_downsample!r})")
        raise ValueError(msg)
    t = np.nan_to_num(np.asarray(tissue, np.float64), nan=0.0)
    rows, cols = grid
    padded = np.zeros((rows * k, cols * k))
    h, w = min(t.shape[0], rows * k), min(t.shape[1], cols * k)
    padded[:h, :w] = t[:h, :w]
    px_mm2 = (float(tissue_downsample) * float(mpp) / 1000.0) ** 2
    return padded.reshape(rows, k, cols, k).sum(axis=(1, 3)) * px_mm2


def reviewed_melanin(melanin: Any, corrections: Any, block_tissue: Any, *, area_mm2: float,
                     tissue_mm2: float) -> dict[str, Any]:
    """The melanin area and fraction of tissue with the reviewer's block corrections.

    Parameters
    ----------
    melanin : (M, N) array
        The run's melanin share of each block's tissue (NaN: no tissue).
    corrections : (M, N) integer array
        0 keeps the run's block, :data:`MELANIN_ADD` makes all its tissue melanin, :data:`MELANIN_REMOVE` none.
    block_tissue : (M, N) array
        Tissue area (mm²) of every block (:func:`block_tissue_mm2`).
    area_mm2, tissue_mm2 : float
        The run's melanin area and the tissue it is a fraction of (``melanin_area_mm2`` / ``melanin_tissue_mm2``).

    Returns
    -------
    dict
        ``melanin_area_mm2``, ``melanin_fraction_pct`` (NaN without tissue), ``measured_area_mm2``,
        ``measured_fraction_pct``, ``added_mm2`` / ``removed_mm2`` (melanin area the changed blocks gained / lost),
        ``blocks_added`` / ``blocks_removed`` (blocks painted, whatever they held) and ``changed_blocks``.
    """
    m = np.asarray(melanin, np.float64)
    c = np.asarray(corrections)
    t = np.asarray(block_tissue, np.float64)
    if c.shape != m.shape or t.shape != m.shape:
        msg = f"corrections shape {c.shape} and block_tissue shape {t.shape} must equal the melanin map's {m.shape}"
        raise ValueError(msg)
    bad = ~np.isin(c, (0, MELANIN_ADD, MELANIN_REMOVE))
    if bad.any():
        msg = f"corrections hold {sorted(np.unique(c[bad]).tolist())}: only 0, {MELANIN_ADD} and {MELANIN_REMOVE}"
        raise ValueError(msg)
    before = np.nan_to_num(m, nan=0.0) * t
    after = np.where(c == MELANIN_ADD, t, np.where(c == MELANIN_REMOVE, 0.0, before))
    diff = after - before
    area = max(float(area_mm2) + float(diff.sum()), 0.0)
    tissue = float(tissue_mm2)

    def pct(a: float) -> float:
        return 100.0 * a / tissue if tissue > 0 and math.isfinite(tissue) else float("nan")

    return {"melanin_area_mm2": area, "melanin_fraction_pct": pct(area), "measured_area_mm2": float(area_mm2),
            "measured_fraction_pct": pct(float(area_mm2)), "tissue_mm2": tissue,
            "added_mm2": float(diff[diff > 0].sum()), "removed_mm2": float(-diff[diff < 0].sum()),
            "blocks_added": int((c == MELANIN_ADD).sum()), "blocks_removed": int((c == MELANIN_REMOVE).sum()),
            "changed_blocks": int(np.count_nonzero(diff))}
