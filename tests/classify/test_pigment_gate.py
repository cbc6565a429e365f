"""The learned per-tile pigment gate (issues #14 / #16): block statistics, the shipped model, and
what the gate does to ``classify_pigment``."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify import _pigment_gate as gate
from mmnst_path.errors import ConfigError


def _numpy_stats(monkeypatch: pytest.MonkeyPatch, rgb: np.ndarray, b: int):
    import mmnst_path.detect._morphology as morph

    monkeypatch.setattr(morph, "BACKEND", "scipy")
    return gate.block_stats(rgb, b)


@pytest.mark.parametrize("shape", [(40, 36), (41, 37), (3, 5)])
def test_block_stats_numba_equals_numpy_with_edge_blocks_and_ties(monkeypatch, shape):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    rgb[:4, :4] = (10, 20, 30)  # a block of ties: the first pixel is its darkest
    rgb[4:8, :4] = (30, 20, 10)  # the same intensity, other colours: still the first
    if shape[0] >= 8:
        rgb[5, 2] = (29, 20, 10)
    fast = gate.block_stats(rgb, 4)
    slow = _numpy_stats(monkeypatch, rgb, 4)
    for a, b_ in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b_)
    sums, _sq, dark = fast
    assert sums.shape == (-(-shape[0] // 4), -(-shape[1] // 4), 3)
    assert dark[0, 0].tolist() == [10, 20, 30]
    if shape[0] >= 8:
        assert dark[1, 0].tolist() == [29, 20, 10]
    # a partial last block reads the edge pixels again (np.pad mode="edge")
    padded = np.pad(rgb, ((0, sums.shape[0] * 4 - shape[0]), (0, sums.shape[1] * 4 - shape[1]), (0, 0)), mode="edge")
    assert sums[-1, -1].tolist() == padded[-4:, -4:].reshape(-1, 3).sum(axis=0).tolist()


def test_white_tile_has_no_gate_rows_and_stays_closed():
    rgb = np.full((64, 64, 3), 250, np.uint8)
    x, where = gate.gate_features(rgb, mpp=0.5)
    assert x.shape == (0, len(gate.GATE_FEATURES))
    assert where.shape == (16, 16)
    model = gate.resolve_gate_model("default")
    assert model is not None
    assert not gate.tile_may_hold_pigment(rgb, mpp=0.5, model=model)


def test_resolve_gate_model_off_default_and_wrong_file(tmp_path):
    from mmnst_path.classify import shipped_model_path

    assert gate.resolve_gate_model("off") is None
    assert gate.resolve_gate_model(" OFF ") is None
    model = gate.resolve_gate_model("default")
    assert model is not None
    assert model.settings["target"] == "pigment_gate"
    assert model.feature_names == tuple(name for name, _, _ in gate.GATE_FEATURES)
    other = shipped_model_path("pigment_dab.mmnst")
    assert other is not None
    with pytest.raises(ConfigError, match="not a pigment gate model"):
        gate.resolve_gate_model(str(other))


def test_pigment_params_gate_must_be_a_name():
    from mmnst_path.detect.pigment import PigmentParams

    assert PigmentParams().gate in ("off", "default")
    with pytest.raises(ConfigError, match="gate"):
        PigmentParams(gate="  ")
    assert PigmentParams.from_mapping({"gate": "default"}).to_mapping()["gate"] == "default"


def test_gate_opens_on_pigment_and_then_changes_nothing():
    """A generated pigmented DAB tile opens the gate (its true melanin lies in open blocks), and
    the melanin mask is then the one without the gate; a closed tile has none."""
    from dataclasses import replace

    from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.synthetic import pigment_family_tile

    model = gate.resolve_gate_model("default")
    assert model is not None
    tile = pigment_family_tile(11, "coarse", size=160)
    prob = gate.gate_probability(tile.rgb, mpp=0.5, model=model)
    open_ = prob >= model.settings["threshold"]
    truth = np.asarray(tile.masks["melanin"], bool)
    assert truth.sum() > 50
    b = gate.block_px(0.5, gate.GateSettings.from_mapping(model.settings))
    in_open = np.kron(open_, np.ones((b, b), bool))[: truth.shape[0], : truth.shape[1]]
    assert (truth & in_open).sum() >= 0.95 * truth.sum()
    assert gate.tile_may_hold_pigment(tile.rgb, mpp=0.5, model=model)
    pix = resolve_pigment_model("default")
    off = PigmentParams(gate="off")
    on = replace(off, gate="default")
    mask_off, prob_off = classify_pigment(tile.rgb, mpp=0.5, model=pix, stains="H-DAB", params=off)
    mask_on, prob_on = classify_pigment(tile.rgb, mpp=0.5, model=pix, stains="H-DAB", params=on)
    np.testing.assert_array_equal(mask_on, mask_off)
    np.testing.assert_array_equal(prob_on, prob_off)
    # pale tissue (hematoxylin only, no dark pixel): closed, no melanin, nothing computed
    pale = np.full((96, 96, 3), 235, np.uint8)
    pale[20:40, 20:40] = (200, 190, 225)
    assert not gate.tile_may_hold_pigment(pale, mpp=0.5, model=model)
    mask_pale, prob_pale = classify_pigment(pale, mpp=0.5, model=pix, stains="H-DAB", params=on)
    assert not mask_pale.any()
    assert not prob_pale.any()


def test_a_misspelt_gate_setting_is_a_config_error_naming_it(tmp_path):
    # "defualt" is neither a keyword nor a file: refused when the configuration is read, not in the first tile
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[pigment\] gate: expected 'off', 'default' or a pigment gate model file"):
        PigmentParams(gate="defualt")
    assert PigmentParams(gate="Default").gate == "Default"
    gate_file = tmp_path / "my_gate.mmnst"
    gate_file.write_bytes(b"x")  # existence is checked here; the file's content when the gate is loaded
    assert PigmentParams(gate=str(gate_file)).gate == str(gate_file)
