"""The tissue mask's labelling steps through the compiled run labeller and its ink dilation by
window counts: the same labels as ``ndi.label`` (4- and 8-connected) and, on thumbnails with a
dark slide edge, pen ink, holes and dust, the same mask as the scipy back end."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

pytest.importorskip("numba")

from mmnst_path.tiling import tissue


def test_labels_equal_ndimage():
    rng = np.random.default_rng(25)
    for _ in range(200):
        shape = (int(rng.integers(1, 50)), int(rng.integers(1, 50)))
        x = rng.random(shape) < rng.choice([0.2, 0.5, 0.8])
        for eight in (False, True):
            got, n = tissue._labels(x, eight=eight)
            ref, n_ref = ndi.label(x, structure=np.ones((3, 3), bool) if eight else None)
            assert got.dtype == ref.dtype
            assert n == n_ref
            np.testing.assert_array_equal(got, ref)


def _thumbnail(seed):
    rng = np.random.default_rng(seed)
    img = np.full((160, 200, 3), (238, 236, 240), np.uint8)  # glass
    yy, xx = np.mgrid[:160, :200]
    for cy, cx, r in ((60, 70, 40), (110, 140, 30), (30, 160, 12)):
        blob = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        img[blob] = (200, 120, 170)  # eosin-pink tissue
    img[55:62, 65:73] = (238, 236, 240)  # a small hole (filled) and a large one (kept)
    img[100:125, 130:150] = (238, 236, 240)
    img[:, :9] = (40, 40, 42)  # a dark slide edge touching the border (removed as ink)
    img[140:146, 20:120] = (60, 170, 80)  # green pen
    img[10, 10] = (150, 80, 120)  # dust
    img[80:83, 185:188] = (150, 80, 120)
    noise = rng.integers(-6, 7, img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("mpp", [8.0, 16.0, None])
def test_tissue_mask_with_ink_and_holes_same_as_scipy(monkeypatch, seed, mpp):
    img = _thumbnail(seed)
    ran = []
    real = tissue._square_dilation
    monkeypatch.setattr(tissue, "_square_dilation", lambda m, h: ran.append(h) or real(m, h))
    fast = tissue.tissue_mask(img, mpp=mpp)
    assert 1 in ran  # the ink was dilated by window counts
    monkeypatch.setattr(tissue, "GAUSSIAN_BACKEND", "scipy")
    monkeypatch.setattr(tissue, "_square_dilation", lambda m, h: ndi.binary_dilation(
        m, structure=np.ones((2 * h + 1,) * 2, bool)) if h == 1 else real(m, h))
    ref = tissue.tissue_mask(img, mpp=mpp)
    np.testing.assert_array_equal(fast, ref)
    assert not fast[:, :9].any()  # the dark edge is not tissue
    assert fast[60, 40]


def test_small_regions_and_holes_as_with_ndimage_labels():
    """Regions (8-connected) under the size are dropped and holes (4-connected, off the border)
    up to the size are filled, as ``ndi.label`` with those connectivities gives them: random
    masks, where diagonal contacts decide."""
    rng = np.random.default_rng(7)
    for _ in range(150):
        x = rng.random((int(rng.integers(2, 40)), int(rng.integers(2, 40)))) < rng.choice([0.3, 0.5, 0.7])
        size = float(rng.integers(2, 9))
        labels, n = ndi.label(x, structure=np.ones((3, 3), bool))
        keep = np.bincount(labels.ravel(), minlength=n + 1) >= size
        keep[0] = False
        np.testing.assert_array_equal(tissue._remove_small(x, size), keep[labels])
        holes, n = ndi.label(~x)
        fill = np.bincount(holes.ravel(), minlength=n + 1) <= size
        fill[0] = False
        fill[np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))] = False
        np.testing.assert_array_equal(tissue._fill_small_holes(x, size), x | fill[holes])
