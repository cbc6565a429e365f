"""Nucleus detection's first pass, compiled (:func:`mmnst_path.detect._numba.clip_stained`): the
clipped stain planes are numpy's ``np.maximum(plane, 0.0)`` bit for bit (NaN kept, -0.0 to +0.0)
from strided planes as the stain separation hands them, and the stained box it gives
``_stained_box`` is the one the numpy scan finds (so the same crop, the same nuclei)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from mmnst_path.detect import NucleusParams
from mmnst_path.detect import nuclei as mod
from mmnst_path.detect._numba import clip_stained


def _planes(shape, seed, spots):
    rng = np.random.default_rng(seed)
    conc = np.zeros((*shape, 3), np.float32)  # (the stain separation's (M, N, stains) layout)
    conc[..., :2] = -rng.random((*shape, 2), np.float32)  # negative: clipped to 0
    for r, c, which in spots:
        conc[r, c, which] = rng.random(dtype=np.float32) + np.float32(0.01)
    return conc


@pytest.mark.parametrize(("shape", "spots"), [
    ((40, 50), [(3, 7, 0), (30, 45, 1), (12, 2, 1)]),
    ((1, 9), [(0, 4, 0)]),
    ((17, 1), [(16, 0, 1)]),
    ((25, 30), []),  # nothing stained
    ((25, 30), [(24, 29, 0), (0, 0, 1)]),  # the corners
])
def test_clip_stained_equals_numpy(shape, spots):
    conc = _planes(shape, shape[0], spots)
    conc[0, 0, 0] = -0.0
    conc[shape[0] // 2, 0, 1] = np.nan  # (kept by np.maximum; not stained)
    hem, dab = conc[..., 0], conc[..., 1]
    hem_pos = np.empty(shape, np.float32)
    dab_pos = np.empty(shape, np.float32)
    bounds = clip_stained(hem, dab, hem_pos, dab_pos)
    for got, plane in ((hem_pos, hem), (dab_pos, dab)):
        # the kernel's own rule bit for bit (NaN kept, -0.0 written as +0.0), then numpy's values; not
        # numpy's bits at -0.0, whose sign depends on the CPU's dispatched loop (outputs never read it)
        want = np.where((plane > 0) | np.isnan(plane), plane, np.float32(0.0))
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
        np.testing.assert_array_equal(got, np.maximum(plane, 0.0))
    stained = (np.maximum(hem, 0.0) > 0) | (np.maximum(dab, 0.0) > 0)
    rows, cols = np.nonzero(stained)
    want = (rows.min(), rows.max(), cols.min(), cols.max()) if rows.size else (-1, -1, -1, -1)
    assert tuple(bounds) == tuple(int(x) for x in want)


def test_the_compiled_bounds_give_the_numpy_box():
    conc = _planes((400, 380), 1, [(150, 160, 0), (220, 170, 1), (200, 240, 0)])
    hem, dab = conc[..., 0], conc[..., 1]
    hem_pos = np.empty(hem.shape, np.float32)
    dab_pos = np.empty(hem.shape, np.float32)
    bounds = tuple(int(b) for b in clip_stained(hem, dab, hem_pos, dab_pos))
    params = NucleusParams()
    box = mod._stained_box(hem_pos, dab_pos, 0.5, params, bounds)
    assert box is not None
    assert box[1].start > 0
    assert box == mod._stained_box(hem_pos, dab_pos, 0.5, params)
    assert mod._stained_box(hem_pos * 0, dab_pos * 0, 0.5, params, (-1, -1, -1, -1)) == (slice(0, 0), slice(0, 0))
