"""Within-image hematoxylin cues of the nucleus features (``NucleusFeatureSettings.local_cues_um``)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from mmnst_path.detect.nuclei import nuclei_from_stains
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset, separate_stains

ON = NucleusFeatureSettings(local_cues_um=40.0)
NAMES = [f.name for f in nucleus_feature_specs(ON)]
CUES = ["dark_rel", "rank_h_mean", "rank_h_cv", "rank_edge_grad"]


def _grid(values, spots=None, size=200, step=20):
    """Disks of radius 3 px every ``step`` px; nucleus k has hematoxylin ``values[k]`` (+ a bright spot)."""
    labels = np.zeros((size, size), np.int32)
    hem = np.full((size, size), 0.05, np.float32)
    yy, xx = np.mgrid[-3:4, -3:4]
    disk = yy**2 + xx**2 <= 9
    k = 0
    for r in range(10, size, step):
        for c in range(10, size, step):
            labels[r - 3:r + 4, c - 3:c + 4][disk] = k + 1
            hem[r - 3:r + 4, c - 3:c + 4][disk] = values[k]
            if spots is not None and spots[k]:
                hem[r, c] = 3.0 * values[k]
            k += 1
    return labels, hem, k


def test_columns_are_appended_last_and_the_others_unchanged():
    assert NAMES[-4:] == CUES
    assert len(NAMES) == len(nucleus_feature_specs()) + 4
    assert "local_cues_um" not in NucleusFeatureSettings().to_mapping()  # models <= 1.2.0 read as before
    assert NucleusFeatureSettings.from_mapping(ON.to_mapping()) == ON
    assert ON.context_um() == pytest.approx(40.0 + 2.0 + 3.0)
    t = synthetic.ki67_pigment_tile(4, size=256, pigmented_cells=0.0)
    conc = separate_stains(t.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
    nuc = nuclei_from_stains(conc[..., 0], conc[..., 1], mpp=t.mpp, return_labels=True)
    on = nucleus_features(nuc.labels, conc[..., 0], conc[..., 1], mpp=t.mpp, settings=ON)
    off = nucleus_features(nuc.labels, conc[..., 0], conc[..., 1], mpp=t.mpp)
    np.testing.assert_array_equal(on[:, :-4], off)
    assert np.all((on[:, -4:] >= 0) & (on[:, -4:] <= 1))


def test_ranks_and_dark_share_are_relative_to_the_neighbours():
    rng = np.random.default_rng(3)
    values = rng.uniform(0.3, 0.9, 100)
    labels, hem, n = _grid(values)
    x = nucleus_features(labels, hem, None, mpp=0.5, settings=ON)
    rank = x[:, NAMES.index("rank_h_mean")]
    # darker than its neighbours -> high rank; a uniform shift of the whole image changes nothing
    assert np.corrcoef(rank, values[:n])[0, 1] > 0.8
    shifted = nucleus_features(labels, hem * 1.7, None, mpp=0.5, settings=ON)
    np.testing.assert_allclose(shifted[:, -4:], x[:, -4:], atol=1e-6)
    # dark_rel: a uniform nucleus among equal ones has no dark pixel; one 1.5x as dark as all the others is all dark
    same, hem_same, _ = _grid(np.full(100, 0.5))
    one = hem_same.copy()
    one[same == 45] *= 1.5
    d = nucleus_features(same, one, None, mpp=0.5, settings=ON)[:, NAMES.index("dark_rel")]
    assert d[44] == pytest.approx(1.0)
    assert np.all(d[np.arange(100) != 44] == 0.0)


def test_texture_ranks_see_a_spotted_nucleus():
    spots = np.zeros(100, bool)
    spots[::7] = True
    labels, hem, _ = _grid(np.full(100, 0.5), spots=spots)
    x = nucleus_features(labels, hem, None, mpp=0.5, settings=ON)
    cv = x[:, NAMES.index("rank_h_cv")]
    assert cv[spots].min() > cv[~spots].max()
    alone = nucleus_features(labels * (labels == 1), hem, None, mpp=0.5, settings=ON)
    assert alone[0, NAMES.index("rank_h_mean")] == 0.5  # no neighbour: the middle


def test_local_cues_are_tile_invariant_inside_the_halo():
    t = synthetic.ki67_pigment_tile(3, size=384, pigmented_cells=0.0)
    conc = separate_stains(t.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
    nuc = nuclei_from_stains(conc[..., 0], conc[..., 1], mpp=t.mpp, return_labels=True)
    whole = nucleus_features(nuc.labels, conc[..., 0], conc[..., 1], mpp=t.mpp, settings=ON)
    m = int(np.ceil(ON.context_um() / t.mpp)) + 12
    cut = nuc.labels[:, 30:]
    ids = np.unique(cut[cut > 0])
    remap = np.zeros(nuc.labels.max() + 1, np.int32)
    remap[ids] = np.arange(1, ids.size + 1)
    part = nucleus_features(remap[cut], conc[:, 30:, 0], conc[:, 30:, 1], mpp=t.mpp, settings=ON,
                            origin=(0, 30), extent=nuc.labels.shape)
    far = np.flatnonzero((nuc.col > 30 + m) & (nuc.col < 384 - m) & (nuc.row > m) & (nuc.row < 384 - m))
    assert far.size >= 3
    np.testing.assert_allclose(part[remap[far + 1] - 1], whole[far], rtol=1e-5, atol=1e-5)


BLIND = NucleusFeatureSettings(local_cues_um=40.0, local_cues_positive_od=0.35)


def _blind_grid():
    rng = np.random.default_rng(5)
    values = rng.uniform(0.3, 0.9, 100)
    labels, hem, n = _grid(values)
    positive = np.zeros(n, bool)
    positive[::5] = True
    chrom = np.where(positive[np.maximum(labels, 1) - 1] & (labels > 0), 0.8, 0.02).astype(np.float32)
    return labels, hem, chrom, positive


def test_blind_cues_never_read_a_positive_nucleus_hematoxylin():
    labels, hem, chrom, positive = _blind_grid()
    x = nucleus_features(labels, hem, chrom, mpp=0.5, settings=BLIND)
    leaked = hem + np.where(chrom > 0.35, 1.5 * chrom, 0).astype(np.float32)  # DAB read as hematoxylin
    y = nucleus_features(labels, leaked, chrom, mpp=0.5, settings=BLIND)
    np.testing.assert_allclose(y[:, -4:], x[:, -4:], atol=1e-6)  # no column of any nucleus moves
    unblind = nucleus_features(labels, leaked, chrom, mpp=0.5, settings=ON)
    assert np.abs(unblind[~positive, -4:] - x[~positive, -4:]).max() > 0.05  # H1's columns did move
    assert BLIND.context_um() == pytest.approx(2 * 40.0 + 2.0 + 3.0)
    assert NucleusFeatureSettings.from_mapping(BLIND.to_mapping()) == BLIND
    assert "local_cues_positive_od" not in ON.to_mapping()


def test_blind_positive_takes_its_nearest_negative_neighbours_columns():
    labels, hem, chrom, positive = _blind_grid()
    x = nucleus_features(labels, hem, chrom, mpp=0.5, settings=BLIND)
    r, c = np.nonzero(labels)
    lab = labels[r, c]
    cnt = np.bincount(lab)[1:]
    xy = np.c_[np.bincount(lab, r)[1:] / cnt, np.bincount(lab, c)[1:] / cnt] * 0.5
    for k in np.flatnonzero(positive)[5:9]:
        d = np.hypot(*(xy - xy[k]).T)
        d[positive] = np.inf
        near = np.flatnonzero(d == d.min())
        j = near[np.lexsort((xy[near, 1], xy[near, 0]))[0]]  # ties: the neighbour first by position
        np.testing.assert_array_equal(x[k, -4:], x[j, -4:])
    # the positives' ranks spread as the negatives' do (a neighbourhood mean would sit at ~0.5)
    rk = x[:, NAMES.index("rank_h_mean")]
    assert rk[positive].std() > 0.5 * rk[~positive].std()
    # a negative nucleus is ranked among its negative neighbours only (ties do not occur here)
    j = int(np.flatnonzero(~positive)[20])
    nb = np.flatnonzero((np.hypot(*(xy - xy[j]).T) <= 40.0) & ~positive)
    nb = nb[nb != j]
    means = np.bincount(lab, hem[r, c])[1:] / cnt
    assert x[j, NAMES.index("rank_h_mean")] == pytest.approx(np.mean(means[nb] < means[j]), abs=1e-6)


def test_blind_cues_without_a_chromogen_equal_the_plain_ones():
    labels, hem, _, _ = _blind_grid()
    np.testing.assert_array_equal(nucleus_features(labels, hem, None, mpp=0.5, settings=BLIND),
                                  nucleus_features(labels, hem, None, mpp=0.5, settings=ON))


def test_blind_positive_od_is_checked():
    with pytest.raises(ConfigError, match="local_cues_positive_od"):
        NucleusFeatureSettings(local_cues_um=40.0, local_cues_positive_od=-1.0)
