"""Nucleus detection on generated Beer–Lambert images with known centroids."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.detect.nuclei import Nuclei, NucleusParams, detect_nuclei, nuclei_from_stains
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset

MPP = 0.5


def test_finds_positive_and_pale_negative_nuclei(discs):
    centres, radii, h, d = discs.grid()
    rgb = discs.render((256, 256), centres, radii, h, d)
    nuc = detect_nuclei(rgb, mpp=MPP, stains=get_preset("H-DAB"))
    recall, precision = discs.recall_precision(nuc, centres, tol_px=3.0)
    assert recall >= 0.95
    assert precision >= 0.95
    # features: the positives have a high DAB mean, the negatives a low one
    det = np.c_[nuc.row, nuc.col]
    nearest = np.argmin(((det[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    truth_pos = np.asarray(d)[nearest] > 0.3
    assert np.all(nuc.dab_od_mean[truth_pos] > 0.3)
    assert np.all(nuc.dab_od_mean[~truth_pos] < 0.1)
    # areas close to the discs' (pi r^2) within 35 %
    true_area = np.pi * np.asarray(radii)[nearest] ** 2
    assert np.median(np.abs(nuc.area_um2 / true_area - 1)) < 0.35
    assert np.all((nuc.circularity > 0.6) & (nuc.circularity <= 1.0))


def test_touching_pair_is_split(discs):
    centres = np.array([(40.0, 40.0), (40.0, 55.0)])  # 7.5 µm apart, radius 4.5 µm: overlapping
    rgb = discs.render((80, 96), centres, [4.5, 4.5], [0.35, 0.35], [0.0, 0.0])
    nuc = detect_nuclei(rgb, mpp=MPP, stains="H-DAB")
    assert len(nuc) == 2
    recall, _ = discs.recall_precision(nuc, centres, tol_px=3.0)
    assert recall == 1.0


def test_tile_border_independence(discs):
    centres, radii, h, d = discs.grid(shape=(400, 400), spacing=30, seed=3)
    rgb = discs.render((400, 400), centres, radii, h, d, seed=4)
    params = NucleusParams()
    full = detect_nuclei(rgb, mpp=MPP, params=params)
    r0, c0 = 70, 90
    crop = detect_nuclei(rgb[r0:, c0:], mpp=MPP, params=params)
    margin = params.halo_um() / MPP
    inner = lambda rr, cc: (rr >= r0 + margin) & (cc >= c0 + margin)  # noqa: E731
    keep_full = inner(full.row, full.col)
    keep_crop = inner(crop.row + r0, crop.col + c0)
    assert keep_full.sum() >= 5
    a = np.c_[full.row[keep_full], full.col[keep_full]]
    b = np.c_[crop.row[keep_crop] + r0, crop.col[keep_crop] + c0]
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(full.area_um2[keep_full], crop.area_um2[keep_crop])
    np.testing.assert_allclose(full.dab_od_mean[keep_full], crop.dab_od_mean[keep_crop], atol=1e-6)


def test_label_image_matches_features(discs):
    centres, radii, h, d = discs.grid(shape=(128, 128), seed=5)
    rgb = discs.render((128, 128), centres, radii, h, d)
    nuc = detect_nuclei(rgb, mpp=MPP, return_labels=True)
    assert nuc.labels is not None
    assert nuc.labels.dtype == np.int32
    assert nuc.labels.max() == len(nuc)
    area_px = np.bincount(nuc.labels.ravel())[1:]
    np.testing.assert_allclose(area_px * MPP**2, nuc.area_um2)
    # without the flag no label image is kept
    assert detect_nuclei(rgb, mpp=MPP).labels is None


def test_physical_parameters_scale_with_mpp(discs):
    """The same scene rendered at 0.5 and 0.25 µm/px gives the same nuclei in µm."""
    centres, radii, h, d = discs.grid(shape=(128, 128), seed=6)
    coarse = discs.render((128, 128), centres, radii, h, d)
    fine = np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)
    a = detect_nuclei(coarse, mpp=0.5)
    b = detect_nuclei(fine, mpp=0.25)
    assert len(a) == len(b)
    np.testing.assert_allclose(np.sort(b.area_um2), np.sort(a.area_um2), rtol=0.2)


def test_empty_image_gives_no_nuclei():
    rgb = np.full((64, 64, 3), 240, np.uint8)
    nuc = nuclei_from_stains(np.zeros((64, 64)), np.zeros((64, 64)), mpp=MPP)
    assert len(nuc) == 0
    assert len(detect_nuclei(rgb, mpp=MPP)) == 0


def test_params_are_validated():
    with pytest.raises(ConfigError, match="min_area_um2"):
        NucleusParams(min_area_um2=300, max_area_um2=200)
    with pytest.raises(ConfigError, match="nucleus_radius_um"):
        NucleusParams(nucleus_radius_um=(0.0,))
    with pytest.raises(ConfigError, match="unknown NucleusParams"):
        NucleusParams.from_mapping({"radius": 3})
    p = NucleusParams.from_mapping(NucleusParams().to_mapping())
    assert p == NucleusParams()


def test_banded_watershed_equals_one_watershed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flooding bands of whole foreground components gives skimage's one-call labels."""
    from scipy import ndimage as ndi
    from skimage.segmentation import watershed

    from mmnst_path.detect import _morphology as mod

    rng = np.random.default_rng(5)
    for trial in range(4):
        shape = (int(rng.integers(60, 200)), int(rng.integers(60, 200)))
        noise = ndi.gaussian_filter(rng.random(shape), 2.0)
        mask = noise > np.quantile(noise, 0.45 + 0.1 * trial)  # many components, some large
        image = -ndi.gaussian_filter(rng.random(shape), 1.0).astype(np.float32)
        seeds = mask & (rng.random(shape) < 0.01)
        markers, _ = ndi.label(seeds, structure=np.ones((3, 3), bool))
        markers = markers.astype(np.int32)
        expected = watershed(image, markers, mask=mask)
        for rows in (8, 25, 1000):
            monkeypatch.setattr(mod, "WATERSHED_BAND_ROWS", rows)
            got = mod._watershed_by_bands(image, markers, mask)
            assert got.dtype == np.int32
            assert np.array_equal(got, expected), (trial, rows)
    assert not mod._watershed_by_bands(image, markers, np.zeros(shape, bool)).any()


def test_window_max_at_is_the_same_with_and_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-point window maximum (seed suppression) equals a brute-force maximum over the
    window clipped to the image, whichever back end computes it."""
    from mmnst_path.detect import _morphology, nuclei

    rng = np.random.default_rng(11)
    image = rng.random((40, 57)).astype(np.float32)
    image[rng.random(image.shape) < 0.3] = -np.inf
    rows = rng.integers(0, 40, 200)
    cols = rng.integers(0, 57, 200)
    half = rng.integers(1, 9, 200)
    expected = np.array([image[max(r - h, 0) : r + h + 1, max(c - h, 0) : c + h + 1].max()
                         for r, c, h in zip(rows, cols, half, strict=True)], dtype=np.float32)
    for backend in ("auto", "scipy"):
        monkeypatch.setattr(_morphology, "BACKEND", backend)
        assert np.array_equal(nuclei._window_max_at(image, rows, cols, half), expected)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2), (37, 64), (120, 90)])
def test_fused_log_scales_equal_the_numpy_laplacian(monkeypatch: pytest.MonkeyPatch, shape: tuple[int, int]) -> None:
    """The fused (numba) LoG scale update gives the numpy path's best response, seeds and
    scales bit for bit, edges and one-pixel images included."""
    from scipy import ndimage as ndi

    from mmnst_path.detect import _morphology, nuclei

    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    contrast = ndi.gaussian_filter(rng.random(shape), 1.5).astype(np.float32) * 3
    radii = (6.0, 8.0, 10.0)
    got = {}
    for backend in ("auto", "scipy"):
        monkeypatch.setattr(_morphology, "BACKEND", backend)
        got[backend] = nuclei._log_seeds(contrast, radii, 0.8, 0.0)
    for a, b in zip(got["auto"], got["scipy"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_detection_is_the_same_with_and_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every compiled kernel together (Gaussian, running extremes, LoG scales, watershed) gives
    the nuclei, features and labels of the scipy / scikit-image path on a real tile."""
    from pathlib import Path

    from PIL import Image

    from mmnst_path.detect import _morphology

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67" / "shidc" / "p1_0299_1.jpg"
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))[200:800:2, 300:900:2].copy()  # 300² at about 0.42 µm/px
    out = {}
    for backend in ("auto", "scipy"):
        monkeypatch.setattr(_morphology, "BACKEND", backend)
        out[backend] = detect_nuclei(rgb, mpp=0.42, return_labels=True)
    assert len(out["auto"]) > 20
    np.testing.assert_array_equal(out["auto"].labels, out["scipy"].labels)
    for name in Nuclei.FEATURES:
        np.testing.assert_array_equal(getattr(out["auto"], name), getattr(out["scipy"], name))


@pytest.mark.parametrize("margins", [(120, 120, 120, 120), (0, 90, 60, 0), (7, 0, 0, 0), (0, 0, 0, 0)])
def test_unstained_margins_are_cropped_with_the_same_nuclei(monkeypatch: pytest.MonkeyPatch,
                                                            margins: tuple[int, int, int, int]) -> None:
    """Detecting on the stained box plus the filters' reach gives the labels and features of
    the whole planes, for white margins on any sides (a tile read past the slide's edge)."""
    from pathlib import Path

    from PIL import Image

    from mmnst_path.detect import nuclei as mod

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67" / "bcdata" / "5.png"
    with Image.open(path) as im:
        tissue = np.asarray(im.convert("RGB"))[::2, ::2]  # 320² at 0.5 µm/px
    top, bottom, left, right = margins
    rgb = np.full((320 + top + bottom, 320 + left + right, 3), 255, dtype=np.uint8)
    rgb[top : top + 320, left : left + 320] = tissue
    out = {}
    for crop in (True, False):
        monkeypatch.setattr(mod, "CROP_EMPTY_MARGINS", crop)
        out[crop] = detect_nuclei(rgb, mpp=0.5, return_labels=True)
    assert len(out[True]) > 50
    np.testing.assert_array_equal(out[True].labels, out[False].labels)
    for name in Nuclei.FEATURES:
        np.testing.assert_array_equal(getattr(out[True], name), getattr(out[False], name))
    if sum(margins) >= 200:  # the box is smaller than the planes: the crop was used
        hem_pos = np.maximum(mod.stain_planes(rgb)[0], 0)
        dab_pos = np.maximum(mod.stain_planes(rgb)[1], 0)
        box = mod._stained_box(hem_pos, dab_pos, 0.5, NucleusParams())
        assert box is not None
        assert (box[0].stop - box[0].start) * (box[1].stop - box[1].start) < 0.9 * rgb.shape[0] * rgb.shape[1]


def test_unstained_planes_give_no_nuclei_and_params_can_rule_the_crop_out() -> None:
    from mmnst_path.detect import nuclei as mod

    zeros = np.zeros((80, 90), np.float32)
    assert len(nuclei_from_stains(zeros, zeros, mpp=0.5)) == 0
    plane = zeros.copy()
    plane[30:40, 30:40] = 1.0
    # with a foreground threshold <= 0 unstained pixels are foreground: no crop
    assert mod._stained_box(plane, zeros, 0.5, NucleusParams(foreground_od=0.0)) is None
    assert mod._stained_box(plane, zeros, 0.5, NucleusParams(seed_min_response=0.0)) is None
    box = mod._stained_box(np.pad(plane, 200), np.pad(zeros, 200), 0.5, NucleusParams())
    assert box is not None
    assert box[0].start > 0
    assert box[1].stop < 490


def test_cropped_box_keeps_the_watershed_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stained strip shorter than a watershed band is cropped to more than a band's rows when
    the planes are taller, so the same banded flood runs as over the whole planes."""
    from mmnst_path.detect import _morphology
    from mmnst_path.detect import nuclei as mod

    monkeypatch.setattr(_morphology, "WATERSHED_BAND_ROWS", 200)
    plane = np.zeros((400, 120), np.float32)
    plane[200:210, 50:60] = 1.0
    box = mod._stained_box(plane, np.zeros_like(plane), 0.5, NucleusParams())
    assert box is not None
    assert box[0].stop - box[0].start == 201  # the stained rows and their margins are 128
    assert box[0].start <= 200
    assert box[0].stop >= 210
