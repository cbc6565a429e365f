"""Per-nucleus features: equal to a per-nucleus reference, edge-corrected, tile-invariant."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.measure import regionprops

from mmnst_path import synthetic
from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from mmnst_path.detect.nuclei import nuclei_from_stains
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset, separate_stains

NAMES = [f.name for f in nucleus_feature_specs()]


@pytest.fixture(scope="module")
def tile():
    t = synthetic.ki67_pigment_tile(3, size=384, pigmented_cells=0.0)
    conc = separate_stains(t.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
    nuc = nuclei_from_stains(conc[..., 0], conc[..., 1], mpp=t.mpp, return_labels=True)
    return t, conc, nuc


def test_features_match_a_per_nucleus_reference(tile):
    t, conc, nuc = tile
    x = nucleus_features(nuc.labels, conc[..., 0], conc[..., 1], mpp=t.mpp)
    assert x.shape == (len(nuc), len(NAMES))
    assert x.dtype == np.float32
    assert np.all(np.isfinite(x))
    nstain = np.maximum(conc[..., 0], 0) + np.maximum(conc[..., 1], 0)
    props = regionprops(nuc.labels, intensity_image=nstain)
    for p in props[:: max(1, len(props) // 15)]:
        row = x[p.label - 1]
        assert row[NAMES.index("area_um2")] == pytest.approx(p.area * t.mpp**2, rel=1e-5)
        assert row[NAMES.index("od_mean")] == pytest.approx(p.intensity_mean, rel=1e-4)
        assert row[NAMES.index("od_max")] == pytest.approx(p.intensity_max, rel=1e-5)
        assert row[NAMES.index("eccentricity")] == pytest.approx(p.eccentricity, abs=0.05)
    # the detector's own measurements agree where they overlap
    np.testing.assert_allclose(x[:, NAMES.index("area_um2")], nuc.area_um2, rtol=1e-5)


def test_context_counts_and_edge_correction():
    # a regular lattice of identical round nuclei every 8 µm: interior and edge nuclei see the
    # same (edge-corrected) density
    mpp, step = 0.5, 16
    labels = np.zeros((320, 320), np.int32)
    k = 0
    yy, xx = np.mgrid[-4:5, -4:5]
    disk = yy**2 + xx**2 <= 16
    for r in range(8, 320, step):
        for c in range(8, 320, step):
            k += 1
            labels[r - 4:r + 5, c - 4:c + 5][disk] = k
    hem = (labels > 0).astype(np.float32) * 0.6
    x = nucleus_features(labels, hem, None, mpp=mpp, settings=NucleusFeatureSettings(radii_um=(10.0, 20.0, 40.0)))
    n20 = x[:, NAMES.index("n_within_20um")]
    centre = n20[len(n20) // 2 + 10]
    corner = n20[0]
    assert corner == pytest.approx(centre, rel=0.3)  # uncorrected, a corner sees ~1/4 of the disk
    assert x[:, NAMES.index("nn1_um")] == pytest.approx(np.full(k, 8.0))
    assert np.allclose(x[:, NAMES.index("rel_area")], 1.0)


def test_features_are_tile_invariant_for_nuclei_inside_the_halo(tile):
    t, conc, nuc = tile
    s = NucleusFeatureSettings()
    whole = nucleus_features(nuc.labels, conc[..., 0], conc[..., 1], mpp=t.mpp, settings=s)
    # cut 20 px off the left: nuclei farther than the context reach from the new edge keep
    # every feature (what the tiling halo guarantees for the nuclei a tile owns)
    m = int(np.ceil(s.context_um() / t.mpp)) + 12
    cut = nuc.labels[:, 20:]
    ids = np.unique(cut[cut > 0])
    remap = np.zeros(nuc.labels.max() + 1, np.int32)
    remap[ids] = np.arange(1, ids.size + 1)
    part = nucleus_features(remap[cut], conc[:, 20:, 0], conc[:, 20:, 1], mpp=t.mpp, settings=s)
    far = np.flatnonzero((nuc.col > 20 + m) & (nuc.col < 384 - m) & (nuc.row > m) & (nuc.row < 384 - m))
    assert far.size >= 5
    np.testing.assert_allclose(part[remap[far + 1] - 1], whole[far], rtol=1e-5, atol=1e-5)


def test_empty_and_bad_inputs():
    x = nucleus_features(np.zeros((20, 20), np.int32), np.zeros((20, 20)), mpp=0.5)
    assert x.shape == (0, len(NAMES))
    with pytest.raises(ConfigError, match="integer"):
        nucleus_features(np.zeros((20, 20)), np.zeros((20, 20)), mpp=0.5)
    with pytest.raises(ConfigError, match="shape"):
        nucleus_features(np.zeros((20, 20), np.int32), np.zeros((20, 21)), mpp=0.5)
    with pytest.raises(ConfigError, match="radii"):
        NucleusFeatureSettings(radii_um=(10.0,))


def test_compiled_sums_are_bit_identical_to_bincount(monkeypatch):
    """The numba passes give exactly the numpy (bincount) features, in any frame."""
    pytest.importorskip("numba")
    import mmnst_path.detect._morphology as morphology
    from mmnst_path.detect.nuclei import nuclei_from_stains, stain_planes
    from mmnst_path.synthetic import ki67_pigment_tile

    hem, dab = stain_planes(ki67_pigment_tile(8, size=256, pigmented_cells=0.2).rgb)
    labels = nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True).labels
    assert labels is not None
    assert labels.max() > 30
    for origin, extent in (((0, 0), None), ((300, 41), (900, 700))):
        out = {}
        for backend in ("scipy", "auto"):
            monkeypatch.setattr(morphology, "BACKEND", backend)
            out[backend] = nucleus_features(labels, hem, dab, mpp=0.5, origin=origin, extent=extent)
        np.testing.assert_array_equal(out["auto"], out["scipy"])


def test_nuclear_cap_makes_intensity_features_blind_to_chromogen_above_the_cap():
    # two identical discs, one with hematoxylin 0.4 only, one with hematoxylin 0.2 + DAB 1.5:
    # capped at 0.35 OD their intrinsic features are equal; without the cap the positive is darker
    yy, xx = np.mgrid[:60, :120]
    labels = np.zeros((60, 120), np.int32)
    labels[(yy - 30) ** 2 + (xx - 30) ** 2 <= 64] = 1
    labels[(yy - 30) ** 2 + (xx - 90) ** 2 <= 64] = 2
    hem = np.where(labels == 1, 0.4, np.where(labels == 2, 0.2, 0.05)).astype(np.float32)
    dab = np.where(labels == 2, 1.5, 0.0).astype(np.float32)
    plain = nucleus_features(labels, hem, dab, mpp=0.5)
    capped = nucleus_features(labels, hem, dab, mpp=0.5, settings=NucleusFeatureSettings(nuclear_cap_od=0.35))
    od = NAMES.index("od_mean")
    assert plain[1, od] > 3 * plain[0, od]
    assert capped[0, od] == pytest.approx(0.35)
    assert capped[1, od] == pytest.approx(0.35)
    np.testing.assert_allclose(capped[0, :12], capped[1, :12], rtol=1e-5, atol=1e-6)
    # the cap travels with a model's settings; models without it read as uncapped
    s = NucleusFeatureSettings(nuclear_cap_od=0.35)
    assert NucleusFeatureSettings.from_mapping(s.to_mapping()) == s
    assert "nuclear_cap_od" not in NucleusFeatureSettings().to_mapping()
    assert NucleusFeatureSettings.from_mapping(NucleusFeatureSettings().to_mapping()).nuclear_cap_od == 0.0
    with pytest.raises(ConfigError, match="nuclear_cap_od"):
        NucleusFeatureSettings(nuclear_cap_od=-1.0)
