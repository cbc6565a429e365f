"""The nucleus detector's compiled seed pooling and post-watershed passes, and the vectorised
running extremes, against the numpy / scipy expressions they replace (identical results).

- ``_numba.label_points`` is ``ndi.label(points, structure=np.ones((3, 3)))`` (numbering by the
  first pixel in raster order included);
- ``_pooled_markers`` and ``_contour_areas`` give the markers / labels / areas of the numpy
  path of ``nuclei._labels_of`` (``_morphology.BACKEND = "scipy"``), and the whole detector the
  same labels on generated and real tiles;
- ``extreme_axis1`` (doubling) and ``disk_extreme`` equal scipy's filters, signed zeros aside
  for floats (equal values; a -0.0 / +0.0 tie may come out with the other sign).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect import _morphology, nuclei
from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes

_numba = pytest.importorskip("mmnst_path.detect._numba")


def _points(shape: tuple[int, int], density: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = rng.random(shape) < density
    if density > 0.05:  # clusters and long chains too
        pts |= ndi.binary_dilation(rng.random(shape) < density / 20, iterations=2)
    return pts


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (17, 1), (3, 3), (40, 61), (128, 97)])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.2, 0.5, 1.0])
def test_label_points_equals_ndi_label(shape: tuple[int, int], density: float) -> None:
    for seed in range(3):
        pts = _points(shape, density, seed + shape[0])
        ref, n_ref = ndi.label(pts, structure=np.ones((3, 3), bool))
        out = np.zeros(shape, np.int32)
        n = _numba.label_points(np.flatnonzero(pts).astype(np.int64), out)
        assert n == n_ref
        np.testing.assert_array_equal(out, ref)


def test_label_points_u_shapes_take_the_first_pixels_number() -> None:
    """Components that meet below their starts (a U, a V, nested) keep raster-order numbers."""
    pts = np.zeros((9, 12), bool)
    pts[0, [0, 4, 6, 11]] = True
    pts[1, [1, 3, 7, 10]] = True
    pts[2, 2] = True  # joins the first V
    pts[2, 8:10] = True  # joins the second V
    pts[4, 5] = True
    pts[5, [4, 6]] = True
    pts[6, 3:8] = True
    ref, n_ref = ndi.label(pts, structure=np.ones((3, 3), bool))
    out = np.zeros(pts.shape, np.int32)
    assert _numba.label_points(np.flatnonzero(pts).astype(np.int64), out) == n_ref
    np.testing.assert_array_equal(out, ref)


def _fused_inputs(seed: int) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (70, 83)
    n_seeds = int(rng.integers(0, 30))
    labels = rng.integers(0, n_seeds + 1, shape).astype(np.int32)
    labels[rng.random(shape) < 0.4] = 0
    comp, n_comp = ndi.label((labels == 0) & (rng.random(shape) < 0.5))
    values = rng.normal(0.3, 0.2, shape).astype(np.float32)
    values[rng.random(shape) < 0.05] = 0.0
    values[rng.random(shape) < 0.02] = -0.0
    return labels, comp.astype(np.int32), n_seeds, int(n_comp), values


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.75])
def test_contour_areas_equal_the_numpy_expressions(seed: int, fraction: float) -> None:
    labels, comp, n_seeds, n_comp, values = _fused_inputs(seed)
    params = NucleusParams(contour_fraction=fraction)
    ref = np.where(comp > 0, comp + n_seeds, labels) if n_comp else labels.copy()
    n_ref = int(ref.max())
    if fraction > 0 and n_ref:
        peak = nuclei._label_max(values, ref, n_ref)
        ref = np.where(values >= np.float32(fraction) * peak[ref], ref, 0)
    area_ref = np.bincount(ref.ravel(), minlength=n_ref + 1)
    before = labels.copy()
    out, area, n_all = nuclei._contour_areas(_numba, labels, comp, n_seeds, n_comp, values, params)
    np.testing.assert_array_equal(labels, before)  # the watershed's labels are not modified
    assert n_all == n_ref
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(area, area_ref)
    table = np.arange(n_all + 1, dtype=np.int32)[::-1].copy()
    relabelled = out.copy()
    _numba.relabel_into(relabelled, table)
    np.testing.assert_array_equal(relabelled, table[out])


def _stain_planes(seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(seed, size=256)
    hem, dab = stain_planes(np.asarray(tile.rgb))
    return hem, dab, float(tile.mpp)


def _detect_both(monkeypatch: pytest.MonkeyPatch, hem: np.ndarray, dab: np.ndarray, mpp: float,
                 params: NucleusParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    params = params if params is not None else NucleusParams()
    monkeypatch.setattr(_morphology, "BACKEND", "auto")
    fast = nuclei_from_stains(hem, dab, mpp=mpp, params=params, return_labels=True)
    monkeypatch.setattr(_morphology, "BACKEND", "scipy")
    slow = nuclei_from_stains(hem, dab, mpp=mpp, params=params, return_labels=True)
    monkeypatch.setattr(_morphology, "BACKEND", "auto")
    assert fast.labels is not None
    assert slow.labels is not None
    return fast.labels, slow.labels


def test_pooled_markers_equal_the_plane_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_pooled_markers`` against the numpy pooling on the seeds of both stains of a plane
    pair with many touching and coinciding seeds."""
    rng = np.random.default_rng(5)
    shape = (90, 110)
    response = rng.normal(0.5, 0.3, shape).astype(np.float32)
    response[rng.random(shape) < 0.1] = 0.8  # ties
    foreground = rng.random(shape) < 0.7
    seed_r, seed_c = [], []
    for k in range(2):
        pts = _points(shape, 0.08, 11 + k)
        r, c = np.nonzero(pts)
        seed_r.append(r)
        seed_c.append(c)
    seed_r.append(seed_r[0][:50])  # the same pixels from both stains
    seed_c.append(seed_c[0][:50])
    for mpp in (0.25, 0.5, 1.0):
        params = NucleusParams()
        markers, n = nuclei._pooled_markers(_numba, seed_r, seed_c, response, foreground, mpp, params)
        seeds = np.zeros(shape, bool)
        for r, c in zip(seed_r, seed_c, strict=True):
            seeds[r, c] = True
        rows, cols = np.nonzero(seeds & foreground)
        seed_resp = np.where(seeds, response, -np.inf).astype(np.float32)
        half = np.full(rows.shape, max(1, round(params.min_seed_distance_um / mpp)), dtype=np.intp)
        monkeypatch.setattr(_morphology, "BACKEND", "scipy")
        strongest = seed_resp[rows, cols] >= nuclei._window_max_at(seed_resp, rows, cols, half)
        monkeypatch.setattr(_morphology, "BACKEND", "auto")
        peaks = np.zeros(shape, bool)
        peaks[rows[strongest], cols[strongest]] = True
        ref, n_ref = ndi.label(peaks, structure=np.ones((3, 3), bool))
        assert n == n_ref
        np.testing.assert_array_equal(markers, ref)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_detector_labels_equal_the_numpy_path(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    hem, dab, mpp = _stain_planes(seed)
    for params in (NucleusParams(), NucleusParams(contour_fraction=0.0)):
        fast, slow = _detect_both(monkeypatch, hem, dab, mpp, params)
        assert fast.max() > 0
        np.testing.assert_array_equal(fast, slow)


def test_detector_labels_equal_the_numpy_path_on_a_real_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67" / "shidc" / "p1_0299_9.jpg"
    if not path.is_file():
        pytest.skip("shared data not available")
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB"))[::2, ::2].copy()  # ~0.42 µm/px
    hem, dab = stain_planes(rgb)
    fast, slow = _detect_both(monkeypatch, hem, dab, 0.42)
    assert fast.max() > 50
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8])
@pytest.mark.parametrize("h", [1, 2, 3, 5, 8, 12, 40])
@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_extreme_axis1_equals_scipy(dtype: type, h: int, mode: str) -> None:
    rng = np.random.default_rng(h)
    for shape in ((5, 1), (7, 3), (33, 70)):
        img: np.ndarray = (rng.random(shape) * 200).astype(dtype)
        if dtype == np.float32:
            img[rng.random(shape) < 0.2] = -0.0
            img[rng.random(shape) < 0.2] = 0.0
        for is_max, filt in ((True, ndi.maximum_filter1d), (False, ndi.minimum_filter1d)):
            out = np.empty_like(img)
            _numba.extreme_axis1(img, h, is_max, mode == "constant", out)
            ref = filt(img, 2 * h + 1, axis=1, mode=mode, cval=0)
            np.testing.assert_array_equal(out, ref)  # values (a signed zero may differ)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8])
@pytest.mark.parametrize("radius", [1.5, 2.0, 3.2, 5.0, 7.5])
@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_disk_extreme_equals_scipy(dtype: type, radius: float, mode: str) -> None:
    rng = np.random.default_rng(int(radius * 10))
    foot = _morphology._disk(radius)
    img: np.ndarray = (rng.random((47, 58)) * 200).astype(dtype)
    for op, filt in (("max", ndi.maximum_filter), ("min", ndi.minimum_filter)):
        got = _morphology._disk_extreme(img, foot, op=op, mode=mode)
        ref = filt(img, footprint=foot, mode=mode, cval=0)
        np.testing.assert_array_equal(got, ref)
