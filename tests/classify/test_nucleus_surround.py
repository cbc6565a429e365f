"""The surround descriptor: reads the hematoxylin around a nucleus, never the chromogen or a nucleus."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from mmnst_path.errors import ConfigError

SUR = NucleusFeatureSettings(surround_um=(3.0, 8.0))
NAMES = [f.name for f in nucleus_feature_specs(SUR)]
BASE = len(nucleus_feature_specs())


def _lattice(shape: tuple[int, int], step: int, rng: np.random.Generator) -> np.ndarray:
    labels = np.zeros(shape, np.int32)
    k = 0
    for r in range(10, shape[0] - 6, step):
        for c in range(10, shape[1] - 6, step):
            k += 1
            dr, dc = rng.integers(-2, 3, 2)
            labels[r + dr - 4:r + dr + 4, c + dc - 3:c + dc + 3] = k
    return labels


def test_columns_are_appended_after_the_base_ones_and_settings_round_trip():
    assert NAMES[:BASE] == [f.name for f in nucleus_feature_specs()]
    assert NAMES[BASE:] == ["sur_free_3um", "sur_od_3um", "sur_sd_3um", "sur_coh_3um",
                            "sur_free_8um", "sur_od_8um", "sur_sd_8um", "sur_coh_8um"]
    assert NucleusFeatureSettings.from_mapping(SUR.to_mapping()) == SUR
    old = NucleusFeatureSettings().to_mapping()
    assert "surround_um" not in old  # models <= 1.2.0 keep their settings
    assert NucleusFeatureSettings.from_mapping(old).surround_um == ()
    # 4 sigma of 8 µm + 2 µm margin + 4 x 1 µm fine sigma = 38 µm: no more halo than the 40 µm radius
    assert SUR.context_um() == NucleusFeatureSettings().context_um() == 40.0
    assert NucleusFeatureSettings(surround_um=(10.0,)).context_um() == pytest.approx(46.0)
    with pytest.raises(ConfigError, match="surround_um"):
        NucleusFeatureSettings(surround_um=(0.0,))


def test_base_columns_unchanged_and_surround_blind_to_chromogen_and_nuclei():
    rng = np.random.default_rng(1)
    labels = _lattice((200, 240), 20, rng)
    hem = rng.uniform(0.0, 0.4, labels.shape).astype(np.float32)
    x0 = nucleus_features(labels, hem, None, mpp=0.5)
    x = nucleus_features(labels, hem, None, mpp=0.5, settings=SUR)
    np.testing.assert_array_equal(x[:, :BASE], x0)
    # any chromogen (here: strong DAB in half the nuclei and spilled 1 µm around them) and any
    # hematoxylin inside the nuclei and their 2 µm margin leave the surround columns as they were
    from mmnst_path.detect._morphology import _square_extreme

    near = _square_extreme((labels > 0).astype(np.float32), 9, op="max") > 0
    dab = np.where(_square_extreme((labels % 2 == 1).astype(np.float32) * (labels > 0), 5, op="max") > 0, 1.5, 0.0)
    hem2 = hem.copy()
    hem2[near] += rng.uniform(0.0, 1.0, int(near.sum())).astype(np.float32)
    x2 = nucleus_features(labels, hem2, dab.astype(np.float32), mpp=0.5, settings=SUR)
    np.testing.assert_array_equal(x2[:, BASE:], x[:, BASE:])
    assert not np.array_equal(x2[:, :BASE], x[:, :BASE])  # the base columns do see them
    # the plane outside the nuclei does move them
    x3 = nucleus_features(labels, np.where(near, hem, hem + 0.2), None, mpp=0.5, settings=SUR)
    od = NAMES.index("sur_od_3um")
    assert np.all(x3[:, od] > x[:, od] + 0.15)


def test_free_share_and_fibre_coherence():
    rng = np.random.default_rng(2)
    shape = (240, 240)
    lone = np.zeros(shape, np.int32)
    lone[116:124, 117:123] = 1
    packed = _lattice(shape, 12, rng)
    stripes = (0.25 + 0.2 * np.sin(np.arange(shape[1]) * 2 * np.pi / 8.0))[None, :] * np.ones((shape[0], 1))
    noise = rng.uniform(0.05, 0.45, shape)
    free, coh = NAMES.index("sur_free_8um"), NAMES.index("sur_coh_8um")
    x_lone_fibre = nucleus_features(lone, stripes.astype(np.float32), None, mpp=0.5, settings=SUR)
    x_lone_noise = nucleus_features(lone, noise.astype(np.float32), None, mpp=0.5, settings=SUR)
    x_packed = nucleus_features(packed, noise.astype(np.float32), None, mpp=0.5, settings=SUR)
    # the nucleus (8 x 6 px) and its 4 px margin block 16 x 14 px of a Gaussian of sigma 16 px
    blocked = math.erf(8 / (16 * math.sqrt(2))) * math.erf(7 / (16 * math.sqrt(2)))
    assert x_lone_fibre[0, free] == pytest.approx(1.0 - blocked, abs=0.01)
    assert x_lone_fibre[0, coh] > 0.95  # parallel fibres
    assert x_lone_noise[0, coh] < 0.3  # isotropic texture
    middle = x_packed[len(x_packed) // 2]
    assert middle[free] < 0.35  # a packed sheet leaves little free space
    sd = NAMES.index("sur_sd_8um")
    assert x_lone_fibre[0, sd] == pytest.approx(np.std(stripes), rel=0.1)


def test_surround_columns_are_tile_invariant_inside_the_halo():
    rng = np.random.default_rng(3)
    labels = _lattice((300, 360), 18, rng)
    hem = rng.uniform(0.0, 0.5, labels.shape).astype(np.float32)
    full = nucleus_features(labels, hem, None, mpp=0.5, settings=SUR)
    o = (30, 50)
    sub = labels[o[0]:o[0] + 240, o[1]:o[1] + 260]
    ids = np.unique(sub[sub > 0])
    relabel = np.zeros(labels.max() + 1, np.int32)
    relabel[ids] = np.arange(1, len(ids) + 1)
    part = nucleus_features(relabel[sub], hem[o[0]:o[0] + 240, o[1]:o[1] + 260], None, mpp=0.5, settings=SUR,
                            origin=o, extent=labels.shape)
    rr, cc = np.nonzero(sub)
    cnt = np.bincount(relabel[sub][rr, cc], minlength=len(ids) + 1)[1:]
    r = np.bincount(relabel[sub][rr, cc], rr, minlength=len(ids) + 1)[1:] / cnt
    c = np.bincount(relabel[sub][rr, cc], cc, minlength=len(ids) + 1)[1:] / cnt
    halo = SUR.context_um() / 0.5
    core = (r > halo) & (r < 240 - halo) & (c > halo) & (c < 260 - halo)
    assert core.sum() >= 4
    np.testing.assert_array_equal(part[core, BASE:], full[ids[core] - 1, BASE:])


def test_a_model_trained_with_surround_columns_saves_loads_and_reads_them(tmp_path):
    from mmnst_path.classify.cells import cell_classes, feature_settings
    from mmnst_path.classify.model import load_model
    from mmnst_path.classify.train import train_model

    rng = np.random.default_rng(4)
    labels = _lattice((200, 240), 20, rng)
    hem = rng.uniform(0.0, 0.4, labels.shape).astype(np.float32)
    hem[:, 120:] += 0.3  # the right half has darker surroundings
    x = nucleus_features(labels, hem, None, mpp=0.5, settings=SUR)
    od = NAMES.index("sur_od_8um")
    y = (x[:, od] > np.median(x[:, od])).astype(np.intp)
    specs = nucleus_feature_specs(SUR)
    model = train_model(x, y, kind="nucleus", classes=("tumour", "stromal"), features=specs,
                        settings={"features": SUR.to_mapping()}, n_estimators=8, max_depth=4,
                        min_samples_leaf=2, class_weight=None)
    path = model.save(tmp_path / "sur.mmnst")
    loaded = load_model(path, kind="nucleus")
    assert feature_settings(loaded) == SUR
    found = cell_classes(loaded, labels, hem, None, mpp=0.5)
    np.testing.assert_array_equal(found.types == "stromal", y == 1)
