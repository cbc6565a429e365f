"""Auto-context limits (session 27, opt-in): where and what the second stage may change.

Session 26's two-stage candidate read a squamous tumour as stroma and pale stroma as necrosis, far from any
necrosis; these settings keep the first stage's reads there.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify import load_model
from mmnst_path.classify.tissue import classify_tissue, tissue_halo_um
from mmnst_path.classify.tissue_context import ContextSettings, combine_stages
from mmnst_path.errors import ConfigError

TUMOUR, STROMA, NECROSIS = 0, 1, 2


def test_settings_round_trip_and_earlier_models_unchanged() -> None:
    """Off, the mapping is exactly the one earlier models wrote; each limit round-trips; nonsense is refused."""
    assert ContextSettings((16.0,), 0.6).to_mapping() == {"sigmas_um": [16.0], "keep_necrosis_p": 0.6}
    on = ContextSettings((16.0,), 0.6, 0.8, 24.0, True)
    assert on.to_mapping() == {"sigmas_um": [16.0], "keep_necrosis_p": 0.6, "keep_confident_p": 0.8,
                               "band_um": 24.0, "necrosis_only": True}
    assert ContextSettings.from_mapping(on.to_mapping()) == on
    assert not ContextSettings((16.0,)).limits_second_stage
    assert on.limits_second_stage
    for kw, bad in (("keep_confident_p", 0.5), ("keep_confident_p", 1.0), ("band_um", -1.0),
                    ("band_um", float("inf")), ("necrosis_only", 1)):
        with pytest.raises(ConfigError, match=kw):
            replace(ContextSettings((16.0,)), **{kw: bad})
    with pytest.raises(ConfigError, match="necrosis_only"):
        ContextSettings.from_mapping({"sigmas_um": [16.0], "necrosis_only": "yes"})
    # the band reaches farther than the pooled probabilities only when it is wider
    assert ContextSettings((16.0,), band_um=16.0).halo_um() == ContextSettings((16.0,)).halo_um()
    assert ContextSettings((16.0,), band_um=100.0).halo_um() == 100.0


def _p(*rows: tuple[float, float, float]) -> np.ndarray:
    return np.array([rows], np.float32)  # (1, n, 3): tumour, stroma, necrosis


def test_necrosis_only_never_trades_tumour_for_stroma() -> None:
    """The second stage's necrosis probability, the first stage's other classes in their own proportions: a
    block the first stage reads tumour and the second stroma stays tumour; necrosis is added or removed."""
    first = _p((0.6, 0.3, 0.1), (0.2, 0.2, 0.6), (0.5, 0.5, 0.0))
    second = _p((0.1, 0.8, 0.1), (0.5, 0.4, 0.1), (0.1, 0.1, 0.8))
    out = combine_stages(first, second, necrosis=NECROSIS, settings=ContextSettings((16.0,), necrosis_only=True),
                         grid_mpp=8.0)
    np.testing.assert_allclose(out[0, 0], [0.6, 0.3, 0.1], atol=1e-6)  # tumour kept (full second stage: stroma)
    np.testing.assert_allclose(out[0, 1], [0.45, 0.45, 0.1], atol=1e-6)  # necrosis removed, tumour = stroma as before
    np.testing.assert_allclose(out[0, 2], [0.1, 0.1, 0.8], atol=1e-6)  # necrosis added
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-6)
    assert combine_stages(first, second, necrosis=NECROSIS, settings=ContextSettings((16.0,)), grid_mpp=8.0) is second


def test_band_and_confidence_keep_the_first_stage_away_from_necrosis() -> None:
    """``band_um``: the second stage acts only within the band (block centres, µm) of first-stage necrosis, and
    nowhere on a tile without it; ``keep_confident_p``: confident first-stage blocks of any class stand."""
    n = 8
    first = np.tile(_p((0.7, 0.2, 0.1)), (1, n, 1))
    first[0, 0] = (0.1, 0.1, 0.8)
    second = np.tile(_p((0.1, 0.8, 0.1)), (1, n, 1))
    band = ContextSettings((16.0,), band_um=16.0)
    out = combine_stages(first, second, necrosis=NECROSIS, settings=band, grid_mpp=8.0)
    np.testing.assert_array_equal(out[0, :3], second[0, :3])  # 0, 8, 16 µm from the necrotic block
    np.testing.assert_array_equal(out[0, 3:], first[0, 3:])
    none = np.tile(_p((0.7, 0.2, 0.1)), (1, n, 1))
    np.testing.assert_array_equal(combine_stages(none, second, necrosis=NECROSIS, settings=band, grid_mpp=8.0), none)
    first[0, 1] = (0.5, 0.3, 0.2)
    out = combine_stages(first, second, necrosis=NECROSIS, settings=ContextSettings((16.0,), keep_confident_p=0.6),
                         grid_mpp=8.0)
    np.testing.assert_array_equal(out[0, 1], second[0, 1])
    np.testing.assert_array_equal(out[0, [0, *range(2, n)]], first[0, [0, *range(2, n)]])


@pytest.fixture(scope="module")
def necrotising_model(two_stage_model):
    """A tissue model (tumour vs necrosis, real features of a generated tile) whose second stage calls every
    block necrosis: a stand-in for a second stage that spreads necrosis far from the first stage's."""
    return two_stage_model(0.25, "necrosis")


def test_classify_tissue_reads_the_band_from_the_saved_model(necrotising_model, tmp_path) -> None:
    """Saved and loaded with ``band_um`` 16, the necrotising second stage adds necrosis only within 16 µm of
    the first stage's; tumour farther away stays tumour (without the band it all turns necrotic)."""
    two, first = necrotising_model
    assert two.context is not None
    t = synthetic.he_necrosis_tile(32, size=256, necrosis_fraction=0.25)
    p1 = classify_tissue(t.rgb, mpp=t.mpp, model=first)
    from scipy import ndimage as ndi

    dist = ndi.distance_transform_edt(p1.labels != 1) * p1.mpp
    near, far = (dist > 0) & (dist <= 16.0), dist > 16.0
    assert near.sum() > 5
    assert far.sum() > 20
    for band in (0.0, 16.0):
        stage = replace(two.context, settings=ContextSettings((16.0,), band_um=band).to_mapping())
        model = load_model(replace(two, context=stage).save(tmp_path / f"m{band:g}.mmnst"), kind="tissue")
        tmap = classify_tissue(t.rgb, mpp=t.mpp, model=model)
        assert (tmap.labels[near] == 1).all()
        if band:
            np.testing.assert_array_equal(tmap.proba[far], p1.proba[far])
            assert tissue_halo_um(model) == tissue_halo_um(two)
        else:
            assert (tmap.labels[far] == 1).mean() > 0.95


def test_set_context_limits_rewrites_only_the_limits(project_module, tmp_path, capsys, toy_context_images) -> None:
    """``scripts/set_context_limits.py``: a fitted two-stage model gets exactly the limits asked for and a new
    version, with both forests and the scales unchanged; a one-stage model is refused with its file named."""
    from mmnst_path.classify.train_tissue import train_context_stage

    tool = project_module("scripts/set_context_limits.py")
    images, first = toy_context_images(7)
    x = np.concatenate([im.feats.reshape(-1, 2) for im in images])
    two = train_context_stage(images, first, settings=ContextSettings((16.0,), 0.7), n_estimators=2, max_depth=4,
                              fold_scheme="alternate")
    src = two.save(tmp_path / "two.mmnst")
    assert tool.main([str(src), str(tmp_path / "out.mmnst"), "--version", "9.9.9-test", "--band-um", "24",
                      "--necrosis-only"]) == 0
    out = load_model(tmp_path / "out.mmnst", kind="tissue")
    assert out.context is not None
    assert two.context is not None
    want = {"sigmas_um": [16.0], "band_um": 24.0, "necrosis_only": True}  # keep_necrosis_p 0.7 not asked: off
    assert out.context.settings == want
    assert out.card["auto_context"]["settings"] == want
    assert out.card["version"] == "9.9.9-test"
    assert out.model_id != two.model_id
    ctx = np.random.default_rng(1).normal(size=(50, len(two.context.features))).astype(np.float32)
    np.testing.assert_array_equal(out.context.predict_proba(ctx), two.context.predict_proba(ctx))
    np.testing.assert_array_equal(out.predict_proba(x), two.predict_proba(x))
    one = first.save(tmp_path / "one.mmnst")
    assert tool.main([str(one), str(tmp_path / "bad.mmnst"), "--version", "x"]) == 2
    assert "one.mmnst" in capsys.readouterr().err
    assert not (tmp_path / "bad.mmnst").exists()
