"""The compiled watershed (detect/_numba_flood.py) gives scikit-image's labels, ties included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from mmnst_path.detect import _morphology
from mmnst_path.detect import _numba_flood as flood_mod


def _exact(image: np.ndarray, markers: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The float-comparison replica of skimage's binary heap alone (what :func:`flood` uses when
    a value is NaN)."""
    out = np.where(mask, markers, 0).astype(np.int32)
    flood_mod._flood_exact(image.ravel(), mask.ravel(), out.ravel(), image.shape[0], image.shape[1],
                           int(mask.sum()))
    return out


def _random_case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A small landscape full of ties (few grey levels, signed zeros, sometimes NaN), a mask with
    holes and a handful of markers (some outside the mask, some sharing a label or negative)."""
    shape = (int(rng.integers(1, 45)), int(rng.integers(1, 45)))
    levels = int(rng.choice([1, 2, 3, 5, 40]))
    image = rng.integers(0, levels, shape).astype(np.float32) * np.float32(rng.choice([1.0, -1.0]))
    if rng.random() < 0.15:
        image = rng.random(shape).astype(np.float32)
    if rng.random() < 0.1:  # -0.0 and +0.0 compare equal
        image[rng.random(shape) < 0.5] = np.float32(-0.0)
    if rng.random() < 0.05:
        image[rng.integers(0, shape[0]), rng.integers(0, shape[1])] = np.nan
    mask = rng.random(shape) < rng.choice([0.5, 0.8, 1.0])
    markers = np.zeros(shape, np.int32)
    k = int(rng.integers(0, 14))
    markers[rng.integers(0, shape[0], k), rng.integers(0, shape[1], k)] = rng.integers(-2, 6, k)
    return image, markers, mask


def test_flood_equals_skimage_on_tied_landscapes() -> None:
    """2,000 random cases: the dispatcher (skimage's binary heap while tied markers are queued,
    then a 4-ary heap) and the float replica alone give skimage's labels, ties included."""
    rng = np.random.default_rng(16)
    n_fast = n_exact = 0
    for _ in range(2000):
        image, markers, mask = _random_case(rng)
        expected = watershed(image, markers, mask=mask)
        out = np.empty(image.shape, np.int32)
        fast = flood_mod.flood(image, markers, mask, out)
        n_fast += bool(fast)
        n_exact += not fast
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(_exact(image, markers, mask), expected)
    assert n_fast > 300  # both paths were exercised
    assert n_exact > 300


def test_tied_markers_are_detected() -> None:
    image = np.array([[0.0, 1.0, 0.0]], np.float32)
    markers = np.array([[1, 0, 2]], np.int32)
    mask = np.ones(image.shape, bool)
    assert not flood_mod.distinct_priorities(image, markers, mask)
    image[0, 2] = np.float32(-0.0)  # equal to +0.0
    assert not flood_mod.distinct_priorities(image, markers, mask)
    image[0, 2] = 0.5
    assert flood_mod.distinct_priorities(image, markers, mask)
    mask[0, 2] = False  # a marker outside the mask is no marker
    image[0, 2] = 0.0
    assert flood_mod.distinct_priorities(image, markers, mask)
    image[0, 1] = np.nan
    mask[0, 2] = True
    image[0, 2] = 0.5
    assert not flood_mod.distinct_priorities(image, markers, mask)


@pytest.mark.parametrize("rows", [8, 25, 1000])
def test_banded_flood_equals_banded_skimage_with_ties(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """With markers that tie, the compiled path floods the same bands as skimage does and gets
    its labels; without ties it floods once and still gets them."""
    monkeypatch.setattr(_morphology, "WATERSHED_BAND_ROWS", rows)
    rng = np.random.default_rng(rows)
    for trial in range(6):
        shape = (int(rng.integers(40, 160)), int(rng.integers(40, 160)))
        noise = ndi.gaussian_filter(rng.random(shape), 2.0)
        mask = noise > np.quantile(noise, 0.45 + 0.05 * trial)
        image = -ndi.gaussian_filter(rng.random(shape), 1.0).astype(np.float32)
        if trial % 2:  # few grey levels: markers tie
            image = np.round(image * 20).astype(np.float32)
        markers, _ = ndi.label(mask & (rng.random(shape) < 0.02), structure=np.ones((3, 3), bool))
        markers = markers.astype(np.int32)
        monkeypatch.setattr(_morphology, "BACKEND", "scipy")
        expected = _morphology._watershed_by_bands(image, markers, mask)
        monkeypatch.setattr(_morphology, "BACKEND", "auto")
        got = _morphology._watershed_by_bands(image, markers, mask)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("folder", "name", "mpp"), [("bcdata", "0.png", 0.25), ("shidc", "p1_0299_9.jpg", 0.21),
                                                      ("deepliif", "22_2.png", 0.31)])
def test_real_tile_watersheds_equal_skimage(monkeypatch: pytest.MonkeyPatch, shared_data: Path, folder: str,
                                            name: str, mpp: float) -> None:
    """Every watershed of the default pipeline on real tiles (p1_0299_9: a tile whose markers tie
    in value) gives skimage's labels, and so the whole analysis is the same."""
    from PIL import Image

    from mmnst_path.pipeline import analyze_region

    rgb = np.asarray(Image.open(shared_data / "ki67" / folder / name).convert("RGB"))
    calls: list[tuple[np.ndarray, ...]] = []
    original = _morphology._watershed_by_bands

    def spy(image: np.ndarray, markers: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = original(image, markers, mask)
        calls.append((image.copy(), markers.copy(), mask.copy(), out))
        return out

    monkeypatch.setattr("mmnst_path.detect.nuclei._watershed_by_bands", spy)
    result = analyze_region(rgb, mpp=mpp)
    assert calls
    for image, markers, mask, out in calls:
        assert out.max() > 20
        monkeypatch.setattr(_morphology, "BACKEND", "scipy")
        np.testing.assert_array_equal(out, original(image, markers, mask))
        monkeypatch.setattr(_morphology, "BACKEND", "auto")
    assert result.counts["ki67"].total > 50


def test_flood_of_a_large_noisy_image_equals_skimage() -> None:
    """A 600 x 700 noise landscape from 50 seeds: the flood front outgrows the fast heap's first
    allocation (2^14 keys), which then grows; the labels stay skimage's."""
    rng = np.random.default_rng(3)
    image = rng.random((600, 700)).astype(np.float32)
    markers = np.zeros(image.shape, np.int32)
    markers[rng.integers(0, 600, 50), rng.integers(0, 700, 50)] = np.arange(1, 51, dtype=np.int32)
    mask = rng.random(image.shape) < 0.9
    out = np.empty(image.shape, np.int32)
    assert flood_mod.flood(image, markers, mask, out)
    np.testing.assert_array_equal(out, watershed(image, markers, mask=mask))


def test_tied_flood_of_a_large_noisy_image_equals_skimage() -> None:
    """Few grey levels on 400 x 500 px: markers tie, the packed replica's heap grows past its
    first allocation, and the labels stay skimage's."""
    rng = np.random.default_rng(4)
    image = rng.integers(0, 6, (400, 500)).astype(np.float32)
    markers = np.zeros(image.shape, np.int32)
    markers[rng.integers(0, 400, 60), rng.integers(0, 500, 60)] = np.arange(1, 61, dtype=np.int32)
    mask = rng.random(image.shape) < 0.9
    out = np.empty(image.shape, np.int32)
    assert not flood_mod.flood(image, markers, mask, out)
    np.testing.assert_array_equal(out, watershed(image, markers, mask=mask))


def test_plateau_seeds_of_one_label_need_no_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    """Markers that tie in value but carry one label (a seed plateau of adjacent pixels, or
    separate seeds given the same label) may come off the queue in any order: the 4-ary heap
    then gives skimage's labels, in one call and in bands."""
    rng = np.random.default_rng(21)
    same_label_ties = 0
    for _ in range(1500):
        shape = (int(rng.integers(3, 50)), int(rng.integers(3, 50)))
        image = rng.integers(0, int(rng.choice([2, 3, 8, 1000])), shape).astype(np.float32)
        mask = rng.random(shape) < rng.choice([0.6, 0.9, 1.0])
        seeds = rng.random(shape) < rng.choice([0.01, 0.05, 0.2])
        for r, c in zip(*np.nonzero(seeds.copy()), strict=True):  # plateaus: a seed's neighbours join it
            if rng.random() < 0.5 and c + 1 < shape[1]:
                seeds[r, c + 1] = True
                image[r, c + 1] = image[r, c]
            if rng.random() < 0.3 and r + 1 < shape[0]:
                seeds[r + 1, c] = True
                image[r + 1, c] = image[r, c]
        markers = ndi.label(seeds, structure=np.ones((3, 3), bool))[0].astype(np.int32)
        if rng.random() < 0.3:  # separate seeds sharing labels
            markers[markers > 0] = markers[markers > 0] % 3 + 1
        expected = watershed(image, markers, mask=mask)
        out = np.empty(shape, np.int32)
        fast = flood_mod.flood(image, markers, mask, out)
        values = image[(markers != 0) & mask]
        same_label_ties += bool(fast and np.unique(values).size < values.size)
        np.testing.assert_array_equal(out, expected)
        monkeypatch.setattr(_morphology, "WATERSHED_BAND_ROWS", 8)
        monkeypatch.setattr(_morphology, "BACKEND", "scipy")
        banded = _morphology._watershed_by_bands(image, markers, mask)
        monkeypatch.setattr(_morphology, "BACKEND", "auto")
        np.testing.assert_array_equal(_morphology._watershed_by_bands(image, markers, mask), banded)
    assert same_label_ties > 100
