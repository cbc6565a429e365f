"""Planes a tile computes once and shares between stages (#16) are the ones each stage computed
itself: the OD of the pigment stage, its hue angle at the gate's dark pixels only, and the
background rings around the nuclei of the Ki67 stage."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmnst_path.classify.nucleus_features import _ring_labels as cell_ring_labels
from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect._pigment_core import _angle_to, angle_at, brown_hue_vectors
from mmnst_path.detect.pigment import PigmentParams, pigment_channels, pigment_gate
from mmnst_path.quantify._ki67_contrast import RingLabels, _ring_labels, _ring_mean, neutral_dab_od
from mmnst_path.stain import get_preset, od_from_rgb
from mmnst_path.synthetic import pigment_family_tile

TILES = (("bcdata", "0.png"), ("bcdata", "3.png"), ("shidc", "p1_0299_5.jpg"), ("deepliif", None))


def _real(shared_data, folder: str, name: str | None) -> np.ndarray:
    d = shared_data / "ki67" / folder
    path = d / name if name else sorted(p for p in d.iterdir() if p.suffix == ".png")[0]
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return np.ascontiguousarray(rgb[:400, :400])


@pytest.mark.parametrize(("folder", "name"), TILES)
def test_angle_at_equals_whole_tile_angle(shared_data, folder, name):
    rgb = _real(shared_data, folder, name)
    stains = get_preset("H-DAB")
    od = od_from_rgb(rgb)
    vectors = brown_hue_vectors(stains, PigmentParams())
    whole = _angle_to(od, vectors).ravel()
    rng = np.random.default_rng(0)
    for share in (0.02, 0.3, 1.0):
        at = np.flatnonzero(rng.random(whole.size) < share)
        got = angle_at(od, vectors, at)
        assert got.dtype == whole.dtype
        np.testing.assert_array_equal(got, whole[at])


@pytest.mark.parametrize(("folder", "name"), TILES)
def test_gate_without_whole_tile_angle_is_the_same(shared_data, folder, name):
    rgb = _real(shared_data, folder, name)
    stains, params = get_preset("H-DAB"), PigmentParams()
    od = od_from_rgb(rgb, background=stains.background)
    full = pigment_channels(rgb, stains=stains, params=params, _with_hematoxylin=True)
    lean = pigment_channels(rgb, stains=stains, params=params, _with_hematoxylin=True, _od=od, _hue=False)
    assert lean[1] is None
    assert lean[2] is None
    np.testing.assert_array_equal(lean[0], full[0])
    np.testing.assert_array_equal(lean[4], full[4])
    for bodies in (False, True):
        g0, _ = pigment_gate(rgb, mpp=0.5, stains=stains, params=params, bodies=bodies,
                             min_od=params.model_min_od, _channels=full)
        g1, _ = pigment_gate(rgb, mpp=0.5, stains=stains, params=params, bodies=bodies,
                             min_od=params.model_min_od, _channels=lean, _od=od)
        np.testing.assert_array_equal(g1, g0)
    with pytest.raises(ValueError, match="_od"):
        pigment_gate(rgb, mpp=0.5, stains=stains, params=params, _channels=lean)


@pytest.mark.parametrize(("family", "near_black"), [("coarse", False), ("perinuclear", True), ("none", False)])
def test_classify_pigment_with_shared_od_is_unchanged(family, near_black):
    """The pipeline's mask and probability against the stages computing their own planes."""
    import mmnst_path.detect._pigment_core as core

    tile = pigment_family_tile(1, family, chromogen="dab", size=256, near_black=near_black)
    model = resolve_pigment_model("default")
    assert model is not None
    stains = get_preset("H-DAB")
    got = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains)
    original = core.pigment_channels

    def own_planes(rgb, **kw):  # every stage its own OD and the whole-tile hue angle (the old path)
        kw.pop("_od", None)
        kw.pop("_hue", None)
        return original(rgb, **kw)

    try:
        import mmnst_path.detect.pigment as pig

        pig.pigment_channels, saved = own_planes, pig.pigment_channels
        ref = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains)
    finally:
        pig.pigment_channels = saved
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])


def _labels_of(rgb: np.ndarray) -> np.ndarray:
    from mmnst_path.quantify.ki67 import measure_ki67

    region = measure_ki67(rgb, mpp=0.5, stains="H-DAB", return_labels=True)
    assert region.labels is not None
    return region.labels


@pytest.mark.parametrize(("folder", "name"), TILES[:3])
def test_shared_rings_equal_each_measure_own(shared_data, folder, name):
    rgb = _real(shared_data, folder, name)
    labels = _labels_of(rgb)
    n = int(labels.max())
    assert n > 10
    rings = RingLabels(labels)
    plane = od_from_rgb(rgb)[..., 2]
    for px in (1, 4, 6):
        ring = rings(px)
        assert rings(px) is ring  # computed once
        np.testing.assert_array_equal(ring, _ring_labels(labels, px))
        cell = cell_ring_labels(labels, px)  # the cell model's float32 route: same labels, same dtype
        assert cell.dtype == ring.dtype
        np.testing.assert_array_equal(cell, ring)
        np.testing.assert_array_equal(_ring_mean(labels, plane, n, ring_px=px, rings=rings),
                                      _ring_mean(labels, plane, n, ring_px=px))
        np.testing.assert_array_equal(neutral_dab_od(labels, plane, n, ring_px=px, ratio=3.7, rings=rings),
                                      neutral_dab_od(labels, plane, n, ring_px=px, ratio=3.7))


@pytest.mark.parametrize(("folder", "name"), TILES)
def test_melanin_tissue_on_the_region_box_equals_whole_tile(shared_data, folder, name):
    """measure_melanin smooths the tissue OD on the owned region's box grown by the Gaussian's
    reach only: the same areas as the whole-tile tissue mask (core boxes inside, at the border,
    thinner than the reach, and a ragged ROI), with and without the tile's OD handed in."""
    from mmnst_path.quantify.melanin import MelaninParams, measure_melanin, tissue_from_rgb
    from mmnst_path.stain.od import od_lut

    rgb = _real(shared_data, folder, name)
    stains, params = get_preset("H-DAB"), MelaninParams()
    m, n = rgb.shape[:2]
    rng = np.random.default_rng(1)
    pigment = rng.random((m, n)) < 0.01
    ragged = np.zeros((m, n), bool)
    ragged[60:300, 80:200] = True
    ragged[100:350, 150:390] = True
    regions = []
    for core in (np.s_[90:310, 90:310], np.s_[0:150, 250:400], np.s_[5:7, 0:400], np.s_[200:400, 398:400]):
        region = np.zeros((m, n), bool)
        region[core] = True
        regions.append(region)
    regions += [ragged, np.ones((m, n), bool), np.zeros((m, n), bool)]
    od = (od_lut(stains.background).astype(np.float32), od_from_rgb(rgb, background=stains.background))
    for mpp in (0.5, 0.25):
        whole = tissue_from_rgb(rgb, mpp=mpp, min_od=params.tissue_min_od, smooth_um=params.tissue_smooth_um,
                                background=stains.background) | pigment
        for region in regions:
            want = (np.count_nonzero(pigment & whole & region) * mpp * mpp,
                    np.count_nonzero(whole & region) * mpp * mpp, np.count_nonzero(region) * mpp * mpp)
            for shared in (None, od):
                counts, mask = measure_melanin(rgb, mpp=mpp, stains=stains, params=params, tissue=region,
                                               pigment=pigment, _od=shared)
                assert (counts.melanin_um2, counts.tissue_um2, counts.region_um2) == want
                np.testing.assert_array_equal(mask, pigment)


@pytest.mark.parametrize(("folder", "name"), TILES[:3])
def test_ring_and_nucleus_sums_compiled_equal_bincount(shared_data, folder, name, monkeypatch):
    """The nuclear-contrast ring mean and its neutral part: the compiled label sums give
    np.bincount's values to the bit (float32 planes, contiguous and strided)."""
    import mmnst_path.detect._morphology as morph

    rgb = _real(shared_data, folder, name)
    labels = _labels_of(rgb)
    n = int(labels.max())
    conc = np.ascontiguousarray(od_from_rgb(rgb)[..., :2])
    planes = (conc[..., 1], np.ascontiguousarray(conc[..., 0]))
    fast = [(_ring_mean(labels, p, n, ring_px=4), neutral_dab_od(labels, p, n, ring_px=4, ratio=-3.7))
            for p in planes]
    monkeypatch.setattr(morph, "_numba_kernels", lambda: None)
    for p, (ring, neutral) in zip(planes, fast, strict=True):
        np.testing.assert_array_equal(ring, _ring_mean(labels, p, n, ring_px=4))
        np.testing.assert_array_equal(neutral, neutral_dab_od(labels, p, n, ring_px=4, ratio=-3.7))
