"""The intact-nucleus model's planes computed on boxes around the candidates are the whole tile's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.quantify import _intact_model
from mmnst_path.quantify._intact_model import (
    SETTINGS,
    _blob_shape,
    _Planes,
    candidate_features,
    candidate_peaks,
)
from mmnst_path.quantify._intact_nuclei import IntactNuclei
from mmnst_path.stain import load_stains, od_from_rgb
from mmnst_path.synthetic import he_necrosis_tile

NAMES = ("h", "e", "h1", "grad", "fine", 0, 1, 2)


def _whole_tile_windows(od: np.ndarray, r: np.ndarray, c: np.ndarray, half: int, mpp: float) -> dict:
    """The windows as the whole-tile path reads them: planes over the whole image, ``np.pad`` reflect, strided."""
    matrix = load_stains("H&E")
    od = np.asarray(od, np.float32)
    h = np.maximum(od @ matrix.inverse[:, matrix.index("hematoxylin")], 0).astype(np.float32)
    e = np.maximum(od @ matrix.inverse[:, matrix.index("eosin")], 0).astype(np.float32)
    h1 = ndi.gaussian_filter(h, 0.5 / mpp)
    grad = np.hypot(ndi.sobel(h1, 0), ndi.sobel(h1, 1)) / (8 * mpp)
    fine = h1 - ndi.gaussian_filter(h, 1.5 / mpp)
    planes = {"h": h, "e": e, "h1": h1, "grad": grad, "fine": fine, 0: od[..., 0], 1: od[..., 1], 2: od[..., 2]}
    w = 2 * half + 1
    return {k: np.lib.stride_tricks.sliding_window_view(np.pad(p, half, mode="reflect"), (w, w))[r, c]
            for k, p in planes.items()}


def _od(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Smooth random stain with dark blobs: a float32 optical density with structure at nuclear scale."""
    rng = np.random.default_rng(seed)
    od = ndi.gaussian_filter(rng.random((*shape, 3)), (3, 3, 0)) * 1.5
    od[rng.random(shape) < 0.01] += 1.0
    return od.astype(np.float32)


def _planes(od: np.ndarray, r: np.ndarray, c: np.ndarray, half: int, mpp: float) -> _Planes:
    matrix = load_stains("H&E")
    return _Planes(od, r, c, half=half, mpp=mpp, h_inverse=matrix.inverse[:, matrix.index("hematoxylin")],
                   e_inverse=matrix.inverse[:, matrix.index("eosin")])


@pytest.mark.parametrize(("shape", "mpp", "seed"), [((300, 420), 0.5, 0), ((257, 199), 0.25, 1),
                                                     ((180, 260), 1.0, 2), ((233, 301), 0.37, 3),
                                                     ((12, 90), 0.5, 4)])
def test_box_windows_are_the_whole_tile_windows(shape: tuple[int, int], mpp: float, seed: int) -> None:
    od = _od(shape, seed)
    rng = np.random.default_rng(100 + seed)
    m, n = shape
    # clusters, lone candidates, and candidates on every edge and corner of the image
    r = np.concatenate([rng.integers(0, m, 6), np.clip(rng.normal(m / 3, 4, 8), 0, m - 1).astype(int),
                        [0, 0, m - 1, m - 1, 0, m - 1, m // 2, m // 2, 1, m - 2]])
    c = np.concatenate([rng.integers(0, n, 6), np.clip(rng.normal(n / 4, 4, 8), 0, n - 1).astype(int),
                        [0, n - 1, 0, n - 1, n // 2, n // 2, 0, n - 1, n - 2, 1]])
    half = max(2, round(SETTINGS["window_um"] / mpp))
    planes = _planes(od, r, c, half, mpp)
    want = _whole_tile_windows(od, r, c, half, mpp)
    for name in NAMES:
        got = planes.windows(name)
        assert got.dtype == np.float32
        assert got.shape == want[name].shape
        assert np.array_equal(got, want[name]), name
    boxes = [b for b, _ in planes.boxes]  # less than the image, or the whole image as one box
    assert sum((b[1] - b[0]) * (b[3] - b[2]) for b in boxes) < m * n or boxes == [(0, m, 0, n)]


def test_sparse_candidates_use_several_small_boxes() -> None:
    od = _od((600, 600), 5)
    r, c = np.array([0, 20, 300, 599, 580]), np.array([0, 25, 310, 599, 5])
    planes = _planes(od, r, c, 16, 0.5)
    assert len(planes.boxes) == 4  # the first two windows touch: one box
    assert sum((b[1] - b[0]) * (b[3] - b[2]) for b, _ in planes.boxes) < 0.2 * 600 * 600
    want = _whole_tile_windows(od, r, c, 16, 0.5)
    for name in NAMES:
        assert np.array_equal(planes.windows(name), want[name]), name


def test_dense_candidates_fall_back_to_the_whole_image() -> None:
    od = _od((120, 120), 6)
    rr, cc = np.mgrid[0:120:7, 0:120:7]
    planes = _planes(od, rr.ravel(), cc.ravel(), 16, 0.5)
    assert [b for b, _ in planes.boxes] == [(0, 120, 0, 120)]
    want = _whole_tile_windows(od, rr.ravel(), cc.ravel(), 16, 0.5)
    for name in NAMES:
        assert np.array_equal(planes.windows(name), want[name]), name


@pytest.mark.parametrize(("size", "seed", "fraction"), [(320, 3, 0.4), (256, 4, 0.15)])
def test_features_are_those_of_the_whole_tile_windows(tmp_path, monkeypatch, size: int, seed: int,
                                                      fraction: float) -> None:
    """candidate_features with the box planes equals it with the whole tile's padded windows, bit for bit."""
    t = he_necrosis_tile(size=size, seed=seed, necrosis_fraction=fraction)
    np.save(tmp_path / "rgb.npy", t.rgb)
    rgb = np.load(tmp_path / "rgb.npy")
    od = od_from_rgb(rgb)
    nuc = candidate_peaks(rgb, od, mpp=t.mpp)
    m, n = od.shape[:2]
    # the tile's candidates (a subset, so that the boxes are sparse) plus some on the edges and corners
    k = np.arange(0, len(nuc.row), 3)
    extra = np.array([[0, 0], [0, n - 1], [m - 1, 0], [m - 1, n - 1], [0, n // 3], [m // 2, n - 1]], float)
    cols = [np.concatenate([np.asarray(a)[k], v]) for a, v in
            zip((nuc.row, nuc.col, nuc.contrast_od, nuc.hematoxylin_od, nuc.surround_tissue, nuc.fill),
                (extra[:, 0], extra[:, 1], [0.1] * 6, [0.3] * 6, [1.0] * 6, [0.5] * 6), strict=True)]
    sub = IntactNuclei(*cols)
    assert len(sub.row) > 10
    got = candidate_features(od, sub, mpp=t.mpp)
    half = max(2, round(SETTINGS["window_um"] / t.mpp))
    r = np.clip(np.round(sub.row).astype(int), 0, m - 1)
    c = np.clip(np.round(sub.col).astype(int), 0, n - 1)
    want_windows = _whole_tile_windows(od, r, c, half, t.mpp)
    # the reference: the whole tile's windows, boolean-indexed, and the per-window blob loop (the code before boxes)
    monkeypatch.setattr(_Planes, "windows", lambda self, name: np.array(want_windows[name]))
    monkeypatch.setattr(_Planes, "pixels", lambda self, name, mask: np.array(want_windows[name])[:, mask])
    monkeypatch.setattr(_intact_model, "_blob_shape",
                        lambda mask, wg, dist, yy, xx, *, mpp: _loop_blob_shape(mask, wg, dist, yy, xx, mpp))
    want = candidate_features(od, sub, mpp=t.mpp)
    assert got.dtype == want.dtype == np.float32
    assert np.array_equal(got, want)


def _loop_blob_shape(mask: np.ndarray, wg: np.ndarray, dist: np.ndarray, yy: np.ndarray, xx: np.ndarray,
                     mpp: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-window loop (label, erosion, np.cov per window) the vectorised blob shape replaces."""
    n, half = len(mask), mask.shape[1] // 2
    area, ecc, edge = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        lab, _ = ndi.label(mask[i])
        k = lab[half, half]
        blob = lab == k if k else dist <= 1.0
        area[i] = blob.sum() * mpp * mpp
        cov = np.cov(np.vstack([yy[blob], xx[blob]])) if blob.sum() > 2 else np.eye(2)
        ev = np.linalg.eigvalsh(cov)
        ecc[i] = np.sqrt(1 - ev[0] / max(ev[1], 1e-6))
        edge[i] = wg[i][blob & ~ndi.binary_erosion(blob)].mean()
    return area, ecc, edge


@pytest.mark.parametrize(("mpp", "seed"), [(0.5, 0), (0.25, 1), (1.0, 2)])
def test_blob_shape_is_the_per_window_loop(mpp: float, seed: int) -> None:
    """Blobs touching the window's edges, several blobs per window, centre off the mask, one- and two-pixel blobs."""
    half = max(2, round(SETTINGS["window_um"] / mpp))
    w = 2 * half + 1
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[-half: half + 1, -half: half + 1].astype(float)
    dist = np.hypot(yy, xx) * mpp
    field = ndi.gaussian_filter(rng.random((40, w, w)), (0, 1.5, 1.5))
    mask = field >= np.quantile(field, rng.uniform(0.3, 0.8, 40))[:, None, None]
    mask[0] = True  # the whole window: the blob meets every edge
    mask[1] = False  # centre off the mask: the 1 µm disc
    mask[2] = False
    mask[2, half, half] = True  # one pixel
    mask[3] = False
    mask[3, half, half: half + 2] = True  # two pixels
    mask[4] = False
    mask[4, :, half] = True  # a line through the window, edge to edge
    mask[5, half] = False  # centre row cut out
    wg = rng.random((40, w, w)).astype(np.float32)
    want = _loop_blob_shape(mask, wg, dist, yy, xx, mpp)
    got = _blob_shape(mask, wg, dist, yy, xx, mpp=mpp)
    for g, v in zip(got, want, strict=True):
        assert g.dtype == v.dtype == np.float64
        assert np.array_equal(g, v, equal_nan=True)


def test_pixels_reduce_as_the_boolean_indexed_windows() -> None:
    """``pixels(name, mask)`` holds ``windows(name)[:, mask]``'s values in its memory order: row means and standard
    deviations are equal bit for bit (numpy sums in memory order)."""
    od = _od((300, 420), 7)
    rng = np.random.default_rng(8)
    r, c = rng.integers(0, 300, 60), rng.integers(0, 420, 60)
    half = max(2, round(SETTINGS["window_um"] / 0.5))
    planes = _planes(od, r, c, half, 0.5)
    yy, xx = np.mgrid[-half: half + 1, -half: half + 1]
    dist = np.hypot(yy, xx) * 0.5
    for sel in (dist <= 1.5, dist <= 3.0, (dist >= 5.0) & (dist <= 8.0)):
        for name in NAMES:
            got, want = planes.pixels(name, sel), planes.windows(name)[:, sel]
            assert np.array_equal(got, want)
            assert np.array_equal(got.mean(1), want.mean(1))
            assert np.array_equal(got.std(1), want.std(1))
