"""Windows of the pigment pixel features (issue #16): which part of a tile each group of
candidate pixels needs filtered, so that :mod:`mmnst_path.classify.pigment` filters windows
around the candidates, not the whole tile, with the same values."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..detect._morphology import _square_extreme, compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}


def _windows(where: np.ndarray, reach: int) -> list[tuple[Any, np.ndarray]]:
    """Windows that hold every ``where`` pixel with ``reach`` pixels around it (clipped to the
    image): the bounding box of ``where`` grown by ``reach`` or, when cheaper, one box per group
    of pixels whose grown boxes touch. Returns (window slices, the group's pixels in the window)."""
    m, n = where.shape
    rows = np.flatnonzero(where.any(axis=1))
    cols = np.flatnonzero(where.any(axis=0))
    whole = (slice(max(int(rows[0]) - reach, 0), min(int(rows[-1]) + 1 + reach, m)),
             slice(max(int(cols[0]) - reach, 0), min(int(cols[-1]) + 1 + reach, n)))
    whole_area = (whole[0].stop - whole[0].start) * (whole[1].stop - whole[1].start)
    if whole_area < m * n // 2 or np.count_nonzero(where) > whole_area // 8:
        return [(whole, where[whole])]
    if _grown_at_least(where, reach) >= whole_area // 2:  # the group boxes would cover half of it
        return [(whole, where[whole])]
    # groups on a grid b times coarser: blocks holding a pixel, grown by ceil(reach / b) blocks
    # (every pixel within reach of a pixel lies in them), 8-connected; a group's window is the box
    # of its blocks within `whole`. Any such windows give the same feature values (each holds its
    # pixels' reach); coarse ones cost a few rows and columns more filtering, not an image-sized
    # dilation and labelling.
    b = max(1, reach // 4)
    k = -(-reach // b)
    blocks = _block_any(where, b)
    grown = _square_extreme(blocks, 2 * k + 1, op="max") if k else blocks
    groups, _ = ndi.label(grown, structure=np.ones((3, 3), dtype=bool))
    wins = []
    for gid, (rb, cb) in enumerate(ndi.find_objects(groups), start=1):
        r0, r1 = max(rb.start * b, whole[0].start), min(rb.stop * b, whole[0].stop)
        c0, c1 = max(cb.start * b, whole[1].start), min(cb.stop * b, whole[1].stop)
        wins.append((gid, (slice(r0, r1), slice(c0, c1))))
    if sum((a.stop - a.start) * (c.stop - c.start) for _, (a, c) in wins) >= whole_area // 2:
        return [(whole, where[whole])]
    out = []
    for gid, (rs, cs) in wins:
        ri = np.arange(rs.start, rs.stop) // b
        ci = np.arange(cs.start, cs.stop) // b
        out.append(((rs, cs), (groups[np.ix_(ri, ci)] == gid) & where[rs, cs]))
    return out


def _block_any_py(where, b, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[i // b, j // b] = 1`` where some ``where[i, j]`` (uint8 0 / 1) of the block is 1
    (``out``: (ceil(M / b), ceil(N / b)) uint8): the block's rows OR-ed into one line (a pass the
    compiler vectorises), then each block's part of the line."""
    m, n = where.shape
    acc = np.empty(n, np.uint8)
    for bi in range(out.shape[0]):
        acc[:] = 0
        for i in range(bi * b, min(bi * b + b, m)):
            row = where[i]
            for j in range(n):
                acc[j] |= row[j]
        dst = out[bi]
        for bj in range(out.shape[1]):
            v = 0
            for j in range(bj * b, min(bj * b + b, n)):
                v |= acc[j]
            dst[bj] = 1 if v else 0


def _block_any(where: np.ndarray, b: int) -> np.ndarray:
    """(ceil(M / b), ceil(N / b)) uint8, C-contiguous: 1 where the ``b`` x ``b`` block of ``where``
    (the last ones cut at the edge) holds a True pixel. With numba in one pass over ``where``
    (~20x faster than numpy's reduction over a padded (mb, b, nb, b) view), else that reduction:
    the same array (tests/classify/test_pigment_s29_kernels.py)."""
    m, n = where.shape
    mb, nb = -(-m // b), -(-n // b)
    kern = compiled_kernel(_KERNEL, _block_any_py) if where.dtype == bool else None
    if kern is not None:
        out = np.zeros((mb, nb), np.uint8)
        kern(np.ascontiguousarray(where).view(np.uint8), int(b), out)
        return out
    pad = np.zeros((mb * b, nb * b), dtype=bool)
    pad[:m, :n] = where
    return np.ascontiguousarray(pad.reshape(mb, b, nb, b).any(axis=(1, 3)), dtype=np.uint8)


def _grown_at_least(where: np.ndarray, reach: int) -> int:
    """A lower bound of the pixels within ``reach`` (square window) of a ``where`` pixel: the
    blocks of ``b`` px within ``k`` blocks of a block holding one (every pixel of them is within
    ``(k + 1) b - 1 <= reach`` px of it), counted on a grid ``b`` times coarser. The groups of
    :func:`_windows` cover at least this many pixels, so when it is half the whole box already
    the exact grown mask and its labels are not needed."""
    b = max(1, reach // 4)
    k = (reach + 1) // b - 1
    if k < 1:
        return 0
    m, n = where.shape
    mb, nb = -(-m // b), -(-n // b)
    blocks = _block_any(where, b)
    near = _square_extreme(blocks, 2 * k + 1, op="max")
    rows = np.full(mb, b, np.int64)
    rows[-1] = m - (mb - 1) * b
    cols = np.full(nb, b, np.int64)
    cols[-1] = n - (nb - 1) * b
    return int(rows @ near.astype(np.int64) @ cols)


def _blocks(cand: np.ndarray, reach: int, max_rows: int) -> list[tuple[Any, np.ndarray]]:
    """:func:`_windows` of ``cand``, each cut into bands of whole rows holding at most ``max_rows``
    candidates and ``4 * max_rows`` pixels (but at least ``8 * reach`` rows, so re-filtered
    margins cost at most a quarter), every band's window grown by ``reach`` rows on both sides
    (clipped to the image)."""
    m = cand.shape[0]
    out: list[tuple[Any, np.ndarray]] = []
    for win, sel in _windows(cand, reach):
        per_row = np.count_nonzero(sel, axis=1)
        if int(per_row.sum()) <= max_rows and sel.size <= 4 * max_rows:
            out.append((win, sel))
            continue
        r0, h = win[0].start, sel.shape[0]
        before = np.concatenate([[0], np.cumsum(per_row)])  # candidates in rows [0, i)
        a = 0
        while a < h:
            b = int(np.searchsorted(before, before[a] + max_rows, side="right")) - 1
            b = min(b, a + 4 * max_rows // max(sel.shape[1], 1))
            b = min(max(b, a + 8 * max(reach, 1)), h)
            if before[b] > before[a]:
                lo, hi = max(r0 + a - reach, 0), min(r0 + b + reach, m)
                band = np.zeros((hi - lo, sel.shape[1]), dtype=bool)
                band[r0 + a - lo : r0 + b - lo] = sel[a:b]
                out.append(((slice(lo, hi), win[1]), band))
            a = b
    return out
