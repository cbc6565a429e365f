"""Granule features of the pigment pixel classifier (issue #14: dusty, sparse and chained melanin):
the granule's own hue and the granule density, computed in windows and bands exactly as over the
whole tile, within the halo of the other features."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify._pigment_granules import GRANULE_FEATURES, granule_reach_px
from mmnst_path.classify.pigment import (
    CLASSES,
    PigmentFeatureSettings,
    feature_reach_px,
    pigment_feature_specs,
    pigment_features,
    pigment_probability,
)
from mmnst_path.classify.train import train_model
from mmnst_path.stain import rgb_from_od
from mmnst_path.synthetic import pigment_family_tile

_DAB = np.array([0.268, 0.570, 0.776]) / np.linalg.norm([0.268, 0.570, 0.776])
_H = np.array([0.650, 0.704, 0.286]) / np.linalg.norm([0.650, 0.704, 0.286])


@pytest.mark.parametrize("mpp", [0.25, 0.5, 1.0])
def test_granule_features_read_within_the_reach_of_the_other_features(mpp):
    s = PigmentFeatureSettings()
    assert granule_reach_px(s, mpp) <= feature_reach_px(s, mpp, wide=False)


def _nucleus_with_granules(dusty: bool) -> np.ndarray:
    """A hematoxylin nucleus (radius 10 px) on pale cytoplasm with brown granules over it (a dusty
    cloud: one-pixel granules 3 px apart) or a DAB-filled nucleus of the same size (no granules)."""
    yy, xx = np.mgrid[:64, :64]
    disk = (yy - 32) ** 2 + (xx - 32) ** 2 <= 100
    od = np.zeros((64, 64, 3), np.float32) + 0.04 * _H.astype(np.float32)
    if dusty:
        od[disk] += 0.5 * _H.astype(np.float32)
        grains = disk & (yy % 3 == 0) & (xx % 3 == 0)
        od[grains] += 0.6 * _DAB.astype(np.float32)
    else:
        od[disk] += 0.8 * _DAB.astype(np.float32)
    return rgb_from_od(od)


def test_a_granule_keeps_its_brown_hue_over_a_blue_nucleus_and_a_cloud_is_dense():
    s = PigmentFeatureSettings()
    names = ["u_b", *GRANULE_FEATURES]
    x, cand = pigment_features(_nucleus_with_granules(True), mpp=0.5, settings=s, names=names)
    rows = np.zeros(cand.shape, np.intp)
    rows[cand] = np.arange(int(cand.sum()))
    grain = x[rows[30, 30]]  # a granule over the nucleus
    # the pixel's own hue is a mix of brown and blue; the excess over its surroundings is brown
    assert grain[names.index("gran_ex_u_b")] > grain[names.index("u_b")] + 0.1
    assert grain[names.index("gran_ex_u_b")] == pytest.approx(_DAB[2], abs=0.12)
    filled, cand_f = pigment_features(_nucleus_with_granules(False), mpp=0.5, settings=s, names=names)
    rows_f = np.zeros(cand_f.shape, np.intp)
    rows_f[cand_f] = np.arange(int(cand_f.sum()))
    solid = filled[rows_f[32, 32]]
    assert grain[names.index("gran_density")] > 4 * max(solid[names.index("gran_density")], 0.01)
    assert grain[names.index("gran_ex_log")] > solid[names.index("gran_ex_log")]


def _tiny_model(settings: PigmentFeatureSettings):
    """A small forest on every pixel feature (the granule columns included) of one generated tile."""
    tile = pigment_family_tile(1, "dusty", chromogen="dab", size=128)
    x, cand = pigment_features(tile.rgb, mpp=tile.mpp, settings=settings)
    y = tile.masks["melanin"][cand].astype(np.int64)
    return train_model(x, y, kind="tissue", classes=CLASSES, features=pigment_feature_specs(settings),
                       settings=settings.to_mapping(), card={"name": "test"}, n_estimators=3, max_depth=6,
                       min_samples_leaf=5)


def test_granule_columns_are_the_same_in_windows_and_bands_as_over_the_whole_tile():
    s = PigmentFeatureSettings()
    model = _tiny_model(s)
    assert set(GRANULE_FEATURES) <= set(model.feature_names)
    tile = pigment_family_tile(3, "spindle", chromogen="dab", size=160)
    where = np.zeros(tile.rgb.shape[:2], bool)
    where[10:60, 20:70] = True
    where[110:150, 90:150] = True  # two separate windows
    for w in (None, where):
        x_win, cand = pigment_features(tile.rgb, mpp=tile.mpp, settings=s, where=w)
        x_all, cand_all = pigment_features(tile.rgb, mpp=tile.mpp, settings=s, where=w, windowed=False)
        np.testing.assert_array_equal(cand, cand_all)
        np.testing.assert_array_equal(x_win, x_all)
        ref = np.zeros(cand.shape, np.float32)
        ref[cand] = model.predict_proba(x_all)[:, model.class_names.index("melanin")]
        for block_rows in (1 << 17, max(int(cand.sum()) // 4, 64)):
            prob, _ = pigment_probability(tile.rgb, mpp=tile.mpp, model=model, where=w, block_rows=block_rows)
            np.testing.assert_array_equal(prob, ref)
