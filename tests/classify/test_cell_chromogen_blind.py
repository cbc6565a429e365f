"""Chromogen-blind nucleus models: features of the hematoxylin plane only, or a subset of the columns."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from mmnst_path.classify.cells import chromogen_blind, classify_cells
from mmnst_path.classify.train import train_model
from mmnst_path.detect.nuclei import nuclei_from_stains
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset, separate_stains

SPECS = nucleus_feature_specs()
NAMES = [f.name for f in SPECS]
SHAPE = ("area_um2", "eccentricity", "n_within_20um", "nn1_um")


@pytest.fixture(scope="module")
def tile():
    t = synthetic.ki67_pigment_tile(7, size=320, pigmented_cells=0.0, positive_fraction=0.4)
    conc = separate_stains(t.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
    nuc = nuclei_from_stains(conc[..., 0], conc[..., 1], mpp=t.mpp, return_labels=True)
    assert len(nuc) > 20
    return nuc.labels, conc[..., 0], conc[..., 1], t.mpp


def _model(x: np.ndarray, specs, **extra):
    y = (x[:, 0] < np.median(x[:, 0])).astype(np.intp)  # learned from the first column read
    settings = {"features": NucleusFeatureSettings().to_mapping(), **extra}
    return train_model(x, y, kind="nucleus", classes=("tumour", "lymphocyte"), features=specs, settings=settings,
                       n_estimators=8, max_depth=4, min_samples_leaf=2, class_weight=None)


def test_subset_model_reads_its_named_columns(tile):
    labels, hem, dab, mpp = tile
    full = nucleus_features(labels, hem, dab, mpp=mpp)
    cols = [NAMES.index(n) for n in SHAPE]
    model = _model(full[:, cols], tuple(SPECS[i] for i in cols))
    types, p_t = classify_cells(model, labels, hem, dab, mpp=mpp)
    np.testing.assert_allclose(p_t, model.predict_proba(full[:, cols])[:, 0].astype(np.float32))
    assert set(np.unique(types)) == {"tumour", "lymphocyte"}
    assert chromogen_blind(model)  # no intensity column: the DAB plane changes nothing
    _, p_dark = classify_cells(model, labels, hem, dab * 3.0 + 0.5, mpp=mpp)
    np.testing.assert_array_equal(p_t, p_dark)


def test_hematoxylin_model_ignores_the_chromogen_plane(tile):
    labels, hem, dab, mpp = tile
    x = nucleus_features(labels, hem, None, mpp=mpp)
    order = [NAMES.index("od_mean"), *(i for i, n in enumerate(NAMES) if n != "od_mean")]
    model = _model(x[:, order], tuple(SPECS[i] for i in order), nuclear_stain="hematoxylin")
    assert chromogen_blind(model)
    _, p_t = classify_cells(model, labels, hem, dab, mpp=mpp)
    _, p_none = classify_cells(model, labels, hem, np.zeros_like(dab), mpp=mpp)
    np.testing.assert_array_equal(p_t, p_none)
    np.testing.assert_allclose(p_t, model.predict_proba(x[:, order])[:, 0].astype(np.float32))
    # the same columns with the chromogen added (the default) read the DAB: positives look different
    seeing = _model(nucleus_features(labels, hem, dab, mpp=mpp)[:, order], tuple(SPECS[i] for i in order))
    assert not chromogen_blind(seeing)
    _, p_see = classify_cells(seeing, labels, hem, dab, mpp=mpp)
    _, p_see_none = classify_cells(seeing, labels, hem, np.zeros_like(dab), mpp=mpp)
    assert np.any(p_see != p_see_none)


def test_unknown_column_and_setting_are_refused(tile):
    labels, hem, dab, mpp = tile
    x = nucleus_features(labels, hem, dab, mpp=mpp)[:, :2]
    from mmnst_path.classify.model import FeatureSpec

    model = _model(x, (SPECS[0], FeatureSpec("nbr_align", "", "needs arrangement=True")))
    with pytest.raises(ConfigError, match="nbr_align"):
        classify_cells(model, labels, hem, dab, mpp=mpp)
    bad = _model(x, SPECS[:2], nuclear_stain="dab")
    with pytest.raises(ConfigError, match="nuclear_stain"):
        classify_cells(bad, labels, hem, dab, mpp=mpp)
