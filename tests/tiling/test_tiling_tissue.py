"""Tissue detection: synthetic artefacts (pen, dust, borders, holes) and the real slides / tiles."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.geometry import Box
from mmnst_path.io import ArrayReader, open_slide
from mmnst_path.tiling import TissueParams, detect_tissue, tissue_mask

MPP_THUMB = 8.0  # µm per pixel of the synthetic thumbnails


def _disc(shape, centre, radius):
    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (rr - centre[0]) ** 2 + (cc - centre[1]) ** 2 <= radius**2


@pytest.fixture(scope="module")
def artefact_thumb():
    """A 300 x 400 thumbnail at 8 µm/px: glass, tissue with holes, pen, dust, dark border."""
    rng = np.random.default_rng(1)
    shape = (300, 400)
    img = np.empty((*shape, 3), np.float32)
    img[:] = (242, 241, 243)
    truth = np.zeros(shape, bool)
    # tissue: an H&E pink ellipse with purple texture, an IHC piece (light blue + brown), melanin
    rr, cc = np.mgrid[0:300, 0:400]
    he = ((rr - 150) / 90) ** 2 + ((cc - 130) / 80) ** 2 < 1
    img[he] = (215, 140, 190)
    img[he & (rng.random(shape) < 0.3)] = (140, 90, 170)
    ihc = (rr > 40) & (rr < 120) & (cc > 250) & (cc < 340)
    img[ihc] = (170, 175, 205)  # haematoxylin counterstain, light blue
    img[ihc & (rng.random(shape) < 0.3)] = (150, 100, 60)  # DAB
    melanin = (rr > 180) & (rr < 240) & (cc > 250) & (cc < 330)
    img[melanin] = (70, 50, 35)  # dense brown pigment
    truth |= he | ihc | melanin
    small_hole = _disc(shape, (150, 100), 4)  # ~3,200 µm² lumen: filled
    big_hole = _disc(shape, (150, 160), 20)  # ~80,000 µm²: stays background
    img[small_hole | big_hole] = (242, 241, 243)
    truth[big_hole] = False
    # artefacts: blue pen stroke through glass and over tissue, green pen, black ink, dust, border
    blue = (np.abs(rr - 0.3 * cc - 200) < 3) & (cc > 20) & (cc < 380)
    img[blue] = (40, 80, 180)
    green = (np.abs(cc - 370) < 3) & (rr > 150) & (rr < 290)
    img[green] = (40, 130, 70)
    black = _disc(shape, (270, 200), 8)
    img[black] = (25, 25, 28)
    dust = np.zeros(shape, bool)
    for centre in ((20, 30), (280, 60), (30, 200), (260, 330)):
        dust |= _disc(shape, centre, 2)
    img[dust] = (120, 120, 120)
    img[:, :6] = (10, 10, 10)  # black scanner border on the left
    img[-6:, :] = (90, 90, 92)  # dark grey slide edge at the bottom
    img += rng.normal(0, 1.5, img.shape)
    artefacts = blue | green | black | dust
    artefacts[:, :6] = True
    artefacts[-6:, :] = True
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), truth, artefacts, blue


def test_artefacts_removed_tissue_kept(artefact_thumb):
    rgb, truth, artefacts, blue = artefact_thumb
    mask = tissue_mask(rgb, mpp=MPP_THUMB)
    # pen marks, dust, borders: none of it is tissue (except ink drawn over tissue, see below)
    on_glass = artefacts & ~truth
    assert mask[on_glass].mean() < 0.01
    # the tissue is found: H&E, light-blue IHC counterstain, DAB and dense melanin
    inter = (mask & truth).sum()
    union = (mask | truth).sum()
    assert inter / union > 0.93
    assert mask[truth & ~blue].mean() > 0.97
    # the small lumen is filled, the big hole stays background
    assert mask[_disc(rgb.shape[:2], (150, 100), 4)].all()
    assert not mask[_disc(rgb.shape[:2], (150, 160), 14)].any()


def test_switching_pen_removal_off_keeps_green_ink(artefact_thumb):
    rgb, _, _, _ = artefact_thumb
    green_ink = (slice(160, 280), slice(368, 372))
    assert not tissue_mask(rgb, mpp=MPP_THUMB)[green_ink].any()
    assert tissue_mask(rgb, mpp=MPP_THUMB, params=TissueParams(remove_pen=False))[green_ink].mean() > 0.9


def test_min_region_size_is_physical(artefact_thumb):
    _rgb, _, _, _ = artefact_thumb
    img = np.full((200, 200, 3), 242, np.uint8)
    img[_disc((200, 200), (100, 100), 6)] = (200, 120, 180)  # ~113 px
    # at 8 µm/px the disc is ~7,200 µm²: kept with a 5,000 µm² minimum, dropped with 10,000
    assert tissue_mask(img, mpp=8.0, params=TissueParams(min_region_um2=5_000)).sum() > 80
    assert tissue_mask(img, mpp=8.0, params=TissueParams(min_region_um2=10_000)).sum() == 0


def test_a_small_crop_of_tissue_is_not_removed_as_dust():
    """A 96 µm field (0.0092 mm², under the 10,000 µm² dust size) that is all tissue keeps it, so
    analyze_region of a small crop counts its nuclei instead of reading empty."""
    from skimage.io import imread

    from mmnst_path.pipeline import analyze_region

    rgb = imread(Path(__file__).resolve().parents[2] / "sample_tiles" / "ki67_primary.tif")[..., :3]
    crop = np.ascontiguousarray(rgb[:192, :192])
    assert tissue_mask(crop, mpp=0.5).mean() > 0.5
    result = analyze_region(crop, mpp=0.5)
    assert result.metrics["tissue_area_mm2"] > 0.005
    assert result.metrics["ki67_denominator"] > 20
    # a speck of the same absolute size on a large image is still dust
    img = np.full((400, 400, 3), 242, np.uint8)
    img[_disc((400, 400), (200, 200), 6)] = (200, 120, 180)  # ~113 px = ~28 µm² at 0.5 µm/px
    assert tissue_mask(img, mpp=0.5).sum() == 0


def test_blank_glass_and_bad_input():
    glass = np.full((64, 64, 3), 240, np.uint8)
    assert not tissue_mask(glass, mpp=8.0).any()
    with pytest.raises(ValueError, match="uint8"):
        tissue_mask(glass.astype(np.float32), mpp=8.0)
    with pytest.raises(ConfigError, match="od_threshold"):
        TissueParams(od_threshold=-1)


def test_detect_tissue_on_array_reader_area_and_scale():
    """A 3 x 4 mm slide at 1 µm/px with a 1 x 2 mm tissue rectangle: 2 mm² of tissue."""
    rgb = np.full((3000, 4000, 3), 243, np.uint8)
    rgb[1000:2000, 1000:3000] = (210, 140, 190)
    res = detect_tissue(ArrayReader(rgb, mpp=1.0))
    assert res.mask.shape == (375, 500)
    assert res.scale == (8.0, 8.0)
    assert res.mask_mpp == pytest.approx(8.0)
    assert res.area_mm2 == pytest.approx(2.0, rel=0.03)
    assert res.tissue_fraction == pytest.approx(2 / 12, rel=0.03)
    assert res.any_in(Box(1500, 1500, 10, 10))
    assert not res.any_in(Box(100, 100, 500, 500))
    assert res.fraction_in(Box(1000, 1000, 1000, 2000)) > 0.97
    unknown = detect_tissue(ArrayReader(rgb))
    assert unknown.area_mm2 is None
    assert unknown.mask_mpp is None
    assert unknown.tissue_fraction == pytest.approx(2 / 12, rel=0.05)


def _open(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown-mpp warnings of the tiles
        return open_slide(path)


def test_real_slides(shared_data):
    cmu = detect_tissue(_open(shared_data / "wsi" / "CMU-1-Small-Region.svs"))
    # the skin section covers about 40 % of this region (checked visually on the overlay)
    assert 0.3 < cmu.tissue_fraction < 0.55
    assert cmu.area_mm2 == pytest.approx(cmu.tissue_fraction * 2967 * 2220 * 0.499**2 / 1e6)
    # top-left corner is glass, the lower centre is epidermis
    assert not cmu.mask[:40, :40].any()
    assert cmu.mask[-60:-20, 70:110].mean() > 0.9
    tcga = detect_tissue(_open(shared_data / "wsi" / "tcga-cr-7395-01a-01-ts1.svs"))
    assert tcga.area_mm2 is None  # no mpp in its metadata
    assert 0.55 < tcga.tissue_fraction < 0.8
    # the glass between the stitched scan fields (faint seams) stays background
    assert not tcga.mask[:15, :150].any()
    tiny = detect_tissue(_open(shared_data / "wsi" / "openslide-python_small.svs"))
    assert tiny.mask.shape == (16, 16)


def test_ki67_tiles_are_all_tissue(shared_data):
    paths = sorted((shared_data / "ki67").glob("*/*.png")) + sorted((shared_data / "ki67").glob("*/*.jpg"))
    assert len(paths) >= 20
    for path in paths:
        res = detect_tissue(_open(path))
        assert res.tissue_fraction > 0.95, path.name


def test_necrosis_tiles_fractions(shared_data):
    fractions = {p.name: detect_tissue(_open(p)).tissue_fraction for p in sorted((shared_data / "necrosis").glob("*.jpg"))}
    assert len(fractions) == 15
    # every tile holds tissue; tiles of solid tumour or necrosis are (nearly) all tissue
    assert min(fractions.values()) > 0.25
    for name in (
        "Viable___Case-4-C27-32431-19828_114.jpg",
        "Viable___Case-4-C28-27016-13463_105.jpg",
        "Viable___Case-4-C28-30914-19280_102.jpg",
        "Non-Viable-Tumor___Case-3-A12-19907-12559_113.jpg",
        "Non-Viable-Tumor___Case-3-A15-34291-15707_101.jpg",
    ):
        assert fractions[name] > 0.97, name
    # tiles that are mostly glass (a bone fragment, loose tissue at one side) stay well below
    assert fractions["Non-Tumor___Case-3-A18-9485-39729_118.jpg"] < 0.5
    assert fractions["Non-Tumor___Case-3-A15-2939-11262_112.jpg"] < 0.55
    # large white spaces inside tumour are not tissue
    assert 0.6 < fractions["Viable___Case-4-C21-25306-21689_120.jpg"] < 0.93


def test_detect_tissue_min_region_shortcut():
    rgb = np.full((1000, 1000, 3), 243, np.uint8)
    rgb[100:900, 100:900] = (210, 140, 190)
    rgb[20:60, 950:990] = (210, 140, 190)  # a 40 x 40 µm fragment = 1,600 µm²
    reader = ArrayReader(rgb, mpp=1.0)
    with_fragment = detect_tissue(reader, min_region_um2=500)
    without = detect_tissue(reader, min_region_um2=5_000)
    assert with_fragment.area_mm2 == pytest.approx(0.64 + 0.0016, rel=0.05)
    assert without.area_mm2 == pytest.approx(0.64, rel=0.05)
    assert without.params.min_region_um2 == 5_000


@pytest.mark.parametrize("shape", [(1, 1), (3, 40), (40, 3), (37, 29), (256, 200)])
def test_compiled_nearest_gaussian_equals_scipy(shape):
    """The tissue mask's compiled Gaussian (scipy's "nearest" border) gives scipy's float32 values
    to the bit, kernels wider than the image included."""
    from scipy import ndimage as ndi

    from mmnst_path.tiling import tissue

    rng = np.random.default_rng(sum(shape))
    x = (rng.random(shape) * 255).astype(np.float32)
    for sigma in (0.5, 1.0, 3.3, 9.6, 20.0):
        np.testing.assert_array_equal(tissue._gaussian_nearest(x, sigma), ndi.gaussian_filter(x, sigma, mode="nearest"))


def test_tissue_mask_same_with_compiled_and_scipy_gaussians(monkeypatch):
    """The bundled sample tiles' tissue masks (thumbnail-sized and full) are the same with both back ends."""
    import tifffile

    from mmnst_path.tiling import tissue

    root = Path(__file__).resolve().parents[2] / "sample_tiles"
    for name in ("ki67_primary.tif", "he_necrosis.tif"):
        rgb = np.ascontiguousarray(tifffile.imread(root / name)[..., :3])
        for img, mpp in ((rgb, 0.5), (rgb[::4, ::4], 2.0)):
            fast = tissue.tissue_mask(img, mpp=mpp)
            monkeypatch.setattr(tissue, "GAUSSIAN_BACKEND", "scipy")
            ref = tissue.tissue_mask(img, mpp=mpp)
            monkeypatch.setattr(tissue, "GAUSSIAN_BACKEND", "auto")
            np.testing.assert_array_equal(fast, ref)
            assert 0 < ref.mean() <= 1


def test_square_morphology_by_window_counts_equals_scipy():
    """The tissue mask's opening and iterated erosion (window counts) give scipy's masks: random
    masks of 1x1 .. 40x40, every border value, windows wider than the image."""
    from scipy import ndimage as ndi

    from mmnst_path.tiling.tissue import _square_dilation, _square_erosion

    rng = np.random.default_rng(16)
    for _ in range(300):
        shape = (int(rng.integers(1, 41)), int(rng.integers(1, 41)))
        x = rng.random(shape) < rng.choice([0.3, 0.7, 0.95])
        opened = ndi.binary_opening(x, structure=np.ones((5, 5), bool))
        np.testing.assert_array_equal(_square_dilation(_square_erosion(x, 2, border=False), 2), opened)
        half = int(rng.integers(1, 7))
        for border in (True, False):
            eroded = ndi.binary_erosion(x, structure=np.ones((3, 3), bool), iterations=half, border_value=border)
            np.testing.assert_array_equal(_square_erosion(x, half, border=border), eroded)
