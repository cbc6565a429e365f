"""The white point (colour of the glass) of an image or slide, and the red-chromogen stain matrices that
take it as their background (:mod:`mmnst_path.stain.guess` re-exports both).

Split out of :mod:`mmnst_path.stain.guess` word for word (session 29); the white point is in
8-bit R, G, B.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RED_CHROMOGENS", "estimate_white_point", "with_slide_white_point"]

#: Red Ki67 chromogens whose stain matrix takes the slide's white point (:func:`with_slide_white_point`).
RED_CHROMOGENS = ("aec", "fast_red")


def estimate_white_point(rgb: np.ndarray, tissue: np.ndarray | None = None, *, min_intensity: int = 150,
                         min_pixels: int = 16, min_share: float = 0.005,
                         plateau: float | None = 6.0, plateau_share: float = 0.02) -> tuple[float, float, float] | None:
    """White point (glass colour, 8-bit R, G, B) of an image from its bright non-tissue pixels.

    Unlike :func:`mmnst_path.stain.estimate_background` the glass may be tinted (a yellowish or
    bluish white balance): the candidates are the pixels outside ``tissue`` whose darkest
    channel is at least ``min_intensity``; the per-channel median of the brighter half of them
    is returned. When there are too few (the tissue detector, which looks for neutral glass,
    may take tinted glass for tissue), the brightest 1 % of the image is glass when it is a
    plateau: at least ``plateau_share`` of the image lies within ``plateau`` grey levels of
    their median in every channel.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    tissue : (M, N) bool ndarray, optional
        Tissue pixels (never glass). Default: none are.
    min_intensity : int
        Smallest 8-bit value of a glass pixel in any channel.
    min_pixels, min_share : int, float
        Fewer candidates than ``max(min_pixels, min_share * pixels)``: None (no glass visible,
        e.g. a tile that is all tissue).
    plateau, plateau_share : float or None, float
        Grey-level tolerance and image share of the bright plateau; ``plateau=None``: glass only
        outside ``tissue``.

    Returns
    -------
    tuple of 3 float or None
    """
    px = np.asarray(rgb).reshape(-1, 3)
    need = max(min_pixels, min_share * px.shape[0])
    bright = px.min(axis=1) >= min_intensity
    if tissue is not None:
        cand = px[bright & ~np.asarray(tissue, bool).reshape(-1)].astype(np.float64)
        if cand.shape[0] >= need:
            s = cand.sum(axis=1)
            med = np.median(cand[s >= np.median(s)], axis=0)
            return (float(med[0]), float(med[1]), float(med[2]))
    if plateau is None:
        return None
    # tinted glass may have been taken for tissue: a plateau of the brightest pixels
    s = px.astype(np.int32).sum(axis=1)
    top = px[(s >= np.quantile(s, 0.99)) & bright].astype(np.float64)
    if top.shape[0] < min_pixels:
        return None
    med = np.median(top, axis=0)
    near = np.all(np.abs(px.astype(np.float64) - med) <= plateau, axis=1)
    if near.sum() < max(need, plateau_share * px.shape[0]):
        return None
    return (float(med[0]), float(med[1]), float(med[2]))


def with_slide_white_point(matrix: Any, thumbnail: np.ndarray, tissue: np.ndarray | None) -> Any:
    """A red-chromogen stain matrix with the white point of the slide's glass as its background.

    OD taken against 255 on a tinted scan (yellowish glass: blue ~200) adds a constant to every
    pixel's OD that turns red AEC / Fast Red towards brown; the pigment model then marks red
    positives as melanin (generated ``varied`` tiles, seeds 0-1, shipped model: Dice 0.71 / 0.84
    with 255, 0.83 / 0.91 with the tile's white point for AEC / Fast Red). The white point
    comes from the slide's thumbnail (:func:`estimate_white_point`), once per slide, so every
    tile uses the same one.

    Matrices with a background already, with DAB (H-DAB, the double stains: their results stay
    as they were) or without a red chromogen (:data:`RED_CHROMOGENS`), and slides with no glass
    visible, are returned unchanged.
    """
    from .vectors import StainMatrix

    names = tuple(matrix.names)
    if (matrix.background is not None or "dab" in names or not any(c in names for c in RED_CHROMOGENS)):
        return matrix
    white = estimate_white_point(thumbnail, tissue)
    if white is None:
        return matrix
    given = [n for n in names if n != "residual"]
    vectors = np.stack([matrix.vector(n) for n in given])
    note = f"white point ({white[0]:.0f}, {white[1]:.0f}, {white[2]:.0f}) from the slide's glass"
    return StainMatrix(tuple(given), vectors, name=matrix.name,
                       reference=f"{matrix.reference}; {note}" if matrix.reference else note,
                       background=white, _warn=False)
