"""Auto-context ``keep_necrosis_p`` (session 26, opt-in): confident first-stage necrosis survives the second stage."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify import load_model
from mmnst_path.classify.tissue import classify_tissue
from mmnst_path.classify.tissue_context import ContextSettings, keep_first_necrosis
from mmnst_path.errors import ConfigError

CLASSES = ("tumour", "necrosis")
SIGMAS = (16.0,)


def test_settings_round_trip_and_earlier_models_unchanged() -> None:
    """Off, the mapping is exactly the one earlier models wrote; on, it round-trips; nonsense is refused."""
    assert ContextSettings((8.0, 16.0)).to_mapping() == {"sigmas_um": [8.0, 16.0]}
    on = ContextSettings((8.0, 16.0), 0.7)
    assert on.to_mapping() == {"sigmas_um": [8.0, 16.0], "keep_necrosis_p": 0.7}
    assert ContextSettings.from_mapping(on.to_mapping()) == on
    for bad in (0.3, 0.5, 1.0, float("nan")):
        with pytest.raises(ConfigError, match="keep_necrosis_p"):
            ContextSettings((8.0,), bad)
    with pytest.raises(ConfigError, match="keep_necrosis_p"):
        ContextSettings.from_mapping({"sigmas_um": [8.0], "keep_necrosis_p": "high"})


def test_keep_first_necrosis_takes_the_first_stage_only_where_it_is_confident() -> None:
    first = np.array([[0.2, 0.8], [0.35, 0.65], [0.9, 0.1]], np.float32)
    second = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6]], np.float32)
    out = keep_first_necrosis(first, second, 1, 0.7)
    np.testing.assert_array_equal(out, np.array([first[0], second[1], second[2]]))
    assert keep_first_necrosis(first, second, 1, 0.0) is second


@pytest.fixture(scope="module")
def overruling_model(two_stage_model):
    """A tissue model (necrosis vs tumour, real features of generated tiles) whose second stage calls every
    block tumour: a stand-in for a context stage that overrules a narrow necrotic strip."""
    return two_stage_model(0.4, "tumour")


@pytest.mark.parametrize("keep", [0.0, 0.6])
def test_classify_tissue_keeps_confident_first_stage_necrosis(overruling_model, tmp_path, keep) -> None:
    """With keep_necrosis_p the blocks the first stage calls necrosis with p >= keep stay necrosis (saved and
    loaded); without it the overruling second stage wins and the necrosis is gone."""
    two, first = overruling_model
    assert two.context is not None
    stage = replace(two.context, settings=ContextSettings(SIGMAS, keep).to_mapping())
    model = load_model(replace(two, context=stage).save(tmp_path / "m.mmnst"), kind="tissue")
    t = synthetic.he_necrosis_tile(32, size=256, necrosis_fraction=0.4)
    p1 = classify_tissue(t.rgb, mpp=t.mpp, model=first).proba
    tmap = classify_tissue(t.rgb, mpp=t.mpp, model=model)
    confident = p1[..., 1] >= 0.6
    assert confident.sum() > 20  # the first stage does see the necrosis
    if keep:
        assert (tmap.labels[confident] == 1).all()
        np.testing.assert_array_equal(tmap.proba[confident], p1[confident])
        assert (tmap.labels[~confident] == 0).mean() > 0.95
    else:
        assert (tmap.labels[confident] == 1).mean() < 0.05


def test_training_option_builds_the_settings_and_refuses_nonsense(project_module) -> None:
    """``train_tissue_model.py --context-keep-necrosis P``: the second stage's settings carry P (with or without
    --context-sigmas); a P the model could not load is refused before any fit."""
    tr = project_module("scripts/train_tissue_model.py")
    assert tr.context_settings_arg(None, None) is None
    assert tr.context_settings_arg((8.0, 16.0), None) == ContextSettings((8.0, 16.0))
    assert tr.context_settings_arg((8.0, 16.0), 0.8).to_mapping() == {"sigmas_um": [8.0, 16.0], "keep_necrosis_p": 0.8}
    assert tr.context_settings_arg(None, 0.7).sigmas_um == ContextSettings().sigmas_um
    with pytest.raises(SystemExit, match="keep-necrosis"):
        tr.context_settings_arg((8.0,), 0.4)


def test_the_card_names_the_fold_scheme(toy_context_images) -> None:
    """A two-stage model's card says how the out-of-fold folds were drawn (``--context-folds``), not only how many:
    session 26's candidate read ``folds: 2`` whether they alternated or hashed."""
    from mmnst_path.classify.train_tissue import train_context_stage

    images, first = toy_context_images(5)
    for scheme in ("hash", "alternate"):
        model = train_context_stage(images, first, settings=ContextSettings(SIGMAS), n_estimators=2, max_depth=4,
                                    fold_scheme=scheme)
        assert model.card["auto_context"]["fold_scheme"] == scheme
        assert model.card["auto_context"]["folds"] == 2
