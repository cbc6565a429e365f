"""Band helpers of the pigment pixel features (issue #16): the per-window feature columns
(:func:`_window_columns`, the Gaussians and disk extremes computed at the candidates only), the
reach of their filter chains, and the ``wide_um`` blur computed once per tile for the bands of
:func:`mmnst_path.classify.pigment.pigment_probability` (:func:`_wide`, :func:`_wide_at`,
:func:`_band_starts`). Moved out of :mod:`mmnst_path.classify.pigment` unchanged (same values)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..detect._morphology import _disk_extreme
from ..detect._pigment_core import _disk_of, nonzero_rc
from ._pigment_at import disk_extreme_at
from ._pigment_gauss import gaussian_at
from ._pigment_granules import GRANULE_FEATURES, granule_reach_px
from ._pigment_reach_bodies import BOUNDED_FEATURES, bounded_reach_px

if TYPE_CHECKING:
    from ._pigment_features import PigmentFeatureSettings

__all__: list[str] = []


def _gauss_reach(sigma_px: float) -> int:
    """Pixels a :func:`_blur` reads on each side (scipy's kernel radius, 0 when it does not blur)."""
    return int(4.0 * sigma_px + 0.5) if sigma_px >= 0.3 else 0


def _disk_reach(radius_px: float) -> int:
    return _disk_of(radius_px).shape[0] // 2


def feature_reach_px(settings: PigmentFeatureSettings, mpp: float, *, wide: bool = True) -> int:
    """Pixels the non-body features of a pixel read beyond the fine-scale OD (``fine``, ``total``)
    and the OD itself: the longest chain of Gaussians and disk extremes in
    :func:`_window_columns` (for :func:`pigment_features` windows). ``wide=False``: without the
    ``wide_um`` blur (computed over the whole tile beforehand, the widest filter by far)."""
    s = settings
    return max(
        _gauss_reach(s.context_um / mpp), _gauss_reach(s.wide_um / mpp) if wide else 0,  # ctx, wide
        2 * _disk_reach(s.granule_um / mpp), 2 * _disk_reach(s.cluster_um / mpp),  # openings
        _disk_reach(s.peak_um / mpp), _gauss_reach(3 * s.fine_um / mpp),  # peak, cv
        _gauss_reach(s.granule_um / mpp),  # dog, hue_sd
        _disk_reach(s.context_um / mpp) + _gauss_reach(s.context_um / mpp),  # dark_share
    )


def feature_chain_px(settings: PigmentFeatureSettings, mpp: float, names: list[str] | tuple[str, ...]) -> int:
    """Pixels the features ``names`` of a candidate read beyond the raw OD (:func:`od_from_rgb`,
    a per-pixel table of the RGB): the longest chain of reflect-border filters behind them,
    summed step by step (the lean window's bound, :func:`mmnst_path.pipeline._reach.learned_pigment_reach_px`).

    The chains (``f``: the ``fine_um`` Gaussian of :func:`fine_od`, which ``fine`` and ``total``
    are; ``g(x)``: a Gaussian of scale x, 4 sigma; ``d(x)``: a disk of radius x):

    ===============================================  ====================================
    ``u_*``, ``grey``, ``log_od``, ``blob_*``         f (the body table thresholds f)
    ``tophat_{granule, cluster}``                     f + 2 d(scale) (erosion, then dilation)
    ``erode``, ``erode_{cluster}``                    f + d(scale)
    ``peak``                                          f + d(``peak_um``)
    ``cv``                                            f + g(3 ``fine_um``)
    ``dog``, ``hue_sd``                               f + g(``granule_um``)
    ``dark_share``                                    f + d(``context_um``) + g(``context_um``)
    ``ctx_*``                                         g(``context_um``) of the raw OD
    ``rel_u_b``                                       max(f, g(``context_um``))
    ``wide_u_b``                                      g(``wide_um``) of the raw OD
    ``gran_*``                                        f + :func:`~._pigment_granules.granule_reach_px`
    ``body_*``                                        f + g(``body_um``) + ``hole_um``
    ===============================================  ====================================

    The ``body_*`` chain (:func:`~._pigment_reach_bodies.bounded_reach_px`): the brown mask is a
    threshold of f; a hole pixel is decided by the brown pixels ``hole_um`` along each axis, and
    the columns are Gaussians of ``body_um`` (reflect border) of the brown and hole masks and of
    the OD on the brown mask, so a value reads f + g(``body_um``) + ``hole_um`` of the raw OD.
    """
    s = settings
    f = _gauss_reach(s.fine_um / mpp)
    ctx = _gauss_reach(s.context_um / mpp)
    chains = {
        f"tophat_{s.granule_um:g}": f + 2 * _disk_reach(s.granule_um / mpp),
        f"tophat_{s.cluster_um:g}": f + 2 * _disk_reach(s.cluster_um / mpp),
        "erode": f + _disk_reach(s.granule_um / mpp),
        f"erode_{s.cluster_um:g}": f + _disk_reach(s.cluster_um / mpp),
        "peak": f + _disk_reach(s.peak_um / mpp),
        "cv": f + _gauss_reach(3 * s.fine_um / mpp),
        "dog": f + _gauss_reach(s.granule_um / mpp),
        "hue_sd": f + _gauss_reach(s.granule_um / mpp),
        "dark_share": f + _disk_reach(s.context_um / mpp) + ctx,
        "ctx_log_od": ctx, "ctx_u_r": ctx, "ctx_u_b": ctx, "ctx_grey": ctx,
        "rel_u_b": max(f, ctx),
        "wide_u_b": _gauss_reach(s.wide_um / mpp),
    }
    for name in BOUNDED_FEATURES:
        chains[name] = f + bounded_reach_px(s.body_um, s.hole_um, mpp)
    gran = f + granule_reach_px(s, mpp)
    return max((gran if name in GRANULE_FEATURES else chains.get(name, f) for name in names), default=0)


def _wide(od: np.ndarray, s: PigmentFeatureSettings, mpp: float, cand: np.ndarray,
          planes: list[np.ndarray] | None = None) -> np.ndarray:
    """(M, N, 2) red and blue OD blurred at ``wide_um`` (the ``wide_u_b`` feature's input) at the
    ``cand`` pixels (computed there only), 0 elsewhere; ``planes``: ``od``'s channels (:func:`_candidates`)."""
    at = nonzero_rc(cand)
    out = np.zeros((*cand.shape, 2), np.float32)
    for i, c in enumerate((0, 2)):
        out[..., i][at] = _blur_at(od[..., c] if planes is None else planes[c], s.wide_um / mpp, at)
    return out


def _wide_at(od: np.ndarray, s: PigmentFeatureSettings, mpp: float, cand: np.ndarray,
             planes: list[np.ndarray] | None = None) -> np.ndarray:
    """(K, 2) the values of :func:`_wide` at the ``cand`` pixels, in row-major order (the same
    values, held for the candidates only: 8 bytes a candidate instead of 8 bytes a tile pixel)."""
    at = nonzero_rc(cand)
    return np.stack([_blur_at(od[..., c] if planes is None else planes[c], s.wide_um / mpp, at) for c in (0, 2)],
                    axis=1)


def _band_starts(blocks: list[tuple[Any, np.ndarray]], k: int) -> list[int] | None:
    """Where each band's candidates start in the row-major order of all ``k`` candidates of the
    tile, and ``k`` last, when the bands (:func:`_blocks`) take them in that order: one column span,
    candidate rows in increasing, disjoint ranges, every candidate in a band. Else None."""
    starts = [0]
    cols = blocks[0][0][1] if blocks else None
    last_row = -1
    for (rs, cs), sel in blocks:
        rows = np.flatnonzero(sel.any(axis=1))
        if cs != cols or rows.size == 0 or rs.start + int(rows[0]) <= last_row:
            return None
        last_row = rs.start + int(rows[-1])
        starts.append(starts[-1] + int(np.count_nonzero(sel)))
    return starts if starts[-1] == k else None


def _window_columns(od: np.ndarray, fine: np.ndarray, total: np.ndarray, cand: np.ndarray,
                    s: PigmentFeatureSettings, mpp: float, wanted: list[str],
                    wide: np.ndarray | None = None, wide_at_cand: bool = False,
                    planes: list[np.ndarray] | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """The non-body feature columns of the ``cand`` pixels of one window (row-major order), as
    (name, column) pairs computed one after the other;
    ``wide``: the window of :func:`_wide` computed over the whole tile (else computed here), or
    with ``wide_at_cand`` the rows of :func:`_wide_at` of this window's candidates, in order;
    ``planes``: ``od``'s three channels as (M, N) planes (:func:`_candidates`; the same values,
    read by the blurs without copying them out of ``od`` again)."""
    chan = (lambda ch: od[..., ch]) if not planes else planes.__getitem__
    # every filtered value is needed at the candidates only: the Gaussians are computed there (the
    # same operations as the whole-window filters, so the same values); each erosion once
    at = nonzero_rc(cand)
    total = np.ascontiguousarray(total)
    flat = np.flatnonzero(cand)  # (the same pixels, row-major: gathers by flat index are the fast ones)
    f = _gather(fine, at, flat)
    t = _gather(total, at, flat)
    u = f / np.maximum(t, 1e-6)[:, None]
    c = np.stack([_blur_at(chan(ch), s.context_um / mpp, at) for ch in range(3)], axis=1)
    ct = np.sqrt(np.einsum("kc,kc->k", c, c))
    cu = c / np.maximum(ct, 1e-6)[:, None]
    w = (np.stack([_blur_at(chan(ch), s.wide_um / mpp, at) for ch in (0, 2)], axis=1)
         if wide is None else wide if wide_at_cand else wide[cand])
    wsum = np.maximum(np.abs(w).sum(axis=1), 1e-6)
    g_disk, c_disk = _disk_of(s.granule_um / mpp), _disk_of(s.cluster_um / mpp)
    eroded: dict[bytes, np.ndarray] = {}

    def erosion(disk: np.ndarray) -> np.ndarray:  # whole window, once per disk (tophat and erode)
        key = disk.tobytes() + bytes([disk.shape[0]])
        if key not in eroded:
            eroded[key] = _disk_extreme(total, disk, op="min")
        return eroded[key]

    def opened(disk: np.ndarray) -> np.ndarray:  # the dilation at the candidates only (the same values)
        return disk_extreme_at(erosion(disk), disk, at, op="max")

    def cv() -> np.ndarray:
        mean = _blur_at(total, 3 * s.fine_um / mpp, at)
        m2 = _blur_at(total * total, 3 * s.fine_um / mpp, at)
        return np.sqrt(np.maximum(m2 - mean * mean, 0.0)) / (mean + 0.05)

    cols: dict[str, Any] = {
        "u_r": lambda: u[:, 0], "u_g": lambda: u[:, 1], "u_b": lambda: u[:, 2],
        "grey": lambda: _sum3(u) / math.sqrt(3.0),
        "log_od": lambda: np.log10(t + 0.02),
        f"tophat_{s.granule_um:g}": lambda: (t - opened(g_disk)) / (t + 0.05),
        f"tophat_{s.cluster_um:g}": lambda: (t - opened(c_disk)) / (t + 0.05),
        "peak": lambda: t / np.maximum(disk_extreme_at(total, _disk_of(s.peak_um / mpp), at, op="max"), 1e-6),
        "cv": cv,
        "ctx_log_od": lambda: np.log10(ct + 0.02),
        "ctx_u_r": lambda: cu[:, 0], "ctx_u_b": lambda: cu[:, 2],
        "wide_u_b": lambda: w[:, 1] / wsum,
        "erode": lambda: _gather(erosion(g_disk), at, flat) / np.maximum(t, 1e-6),
        "ctx_grey": lambda: _sum3(cu) / math.sqrt(3.0),
        f"erode_{s.cluster_um:g}": lambda: _gather(erosion(c_disk), at, flat) / np.maximum(t, 1e-6),
        "dog": lambda: (t - _blur_at(total, s.granule_um / mpp, at)) / (t + 0.05),
        "rel_u_b": lambda: u[:, 2] - cu[:, 2],
        "hue_sd": lambda: _hue_sd(fine, total, s.granule_um / mpp, at),
        "dark_share": lambda: _dark_share(total, s.context_um / mpp, at),
    }
    for name in wanted:  # one column at a time: the caller stores it before the next is computed
        yield name, np.asarray(cols[name]())


def _gather(img: np.ndarray, at: tuple[np.ndarray, np.ndarray], flat: np.ndarray) -> np.ndarray:
    """``img[at]`` of an (M, N) or (M, N, C) image at the pixels ``at`` (``flat``: their raveled
    indices, ``at[0] * N + at[1]``): the same values, by ``np.take`` over the raveled image when it
    is C-contiguous (2-10x faster than a 2-D fancy or boolean index), else by ``img[at]``."""
    if img.flags.c_contiguous:
        return np.take(img.reshape(img.shape[0] * img.shape[1], *img.shape[2:]), flat, axis=0)
    return img[at]


def _sum3(v: np.ndarray) -> np.ndarray:
    """``v.sum(axis=1)`` of a (K, 3) float array, bit for bit: numpy adds a short row from 0 in
    order (``((0 + a) + b) + c``, so a row of -0.0 sums to +0.0), here one column at a time
    instead of a reduction per row (~25x faster; tests/classify/test_pigment_s29_kernels.py)."""
    return ((v.dtype.type(0) + v[:, 0]) + v[:, 1]) + v[:, 2]


def _blur_at(img: np.ndarray, sigma_px: float, at: tuple[np.ndarray, ...]) -> np.ndarray:
    """``_blur(img, sigma_px)[at]``, computed at the pixels ``at`` only (bit-identical)."""
    return gaussian_at(img if img.flags.c_contiguous else np.ascontiguousarray(img), sigma_px, at)


def _hue_sd(fine: np.ndarray, total: np.ndarray, sigma_px: float, at: tuple[np.ndarray, ...]) -> np.ndarray:
    """``_local_sd(fine[..., 2] / np.maximum(total, 1e-3), sigma_px, at)``: the blue share and its
    square in one compiled pass when numba is there (:func:`._pigment_brown.blue_share_planes`,
    the same float32 values)."""
    from ._pigment_brown import blue_share_planes

    planes = blue_share_planes(fine, total)
    if planes is None:
        return _local_sd(fine[..., 2] / np.maximum(total, 1e-3), sigma_px, at)
    img, sq = planes
    m1 = _blur_at(img, sigma_px, at)
    m2 = _blur_at(sq, sigma_px, at)
    return np.sqrt(np.maximum(m2 - m1 * m1, 0.0))


def _local_sd(img: np.ndarray, sigma_px: float, at: tuple[np.ndarray, ...]) -> np.ndarray:
    """Gaussian-weighted local standard deviation of ``img`` at the pixels ``at``."""
    img = np.clip(img, 0.0, 1.0).astype(np.float32)
    m1 = _blur_at(img, sigma_px, at)
    m2 = _blur_at(img * img, sigma_px, at)
    return np.sqrt(np.maximum(m2 - m1 * m1, 0.0))


def _dark_share(total: np.ndarray, sigma_px: float, at: tuple[np.ndarray, ...]) -> np.ndarray:
    """Share of the pixels (Gaussian window) whose OD is >= half of the OD of the local top (a
    solid chromogen-filled nucleus: ~1; granules with gaps or a granule on pale cytoplasm: low)."""
    top = _disk_extreme(total, _disk_of(sigma_px), op="max")
    return _blur_at((total >= 0.5 * top).astype(np.float32), sigma_px, at)
