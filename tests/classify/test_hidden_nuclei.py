"""Per-nucleus features and the shipped model of :mod:`mmnst_path.classify.hidden_nuclei` (issue #14)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mmnst_path.classify.hidden_nuclei import (
    FEATURES,
    hidden_probability,
    nucleus_features,
    resolve_hidden_model,
)
from mmnst_path.errors import ConfigError

MPP = 0.5


def _two_nuclei() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels of two 8 px discs, a DAB plane (nucleus 1 smooth, nucleus 2 granular), an OD image."""
    yy, xx = np.mgrid[:64, :64]
    labels = np.zeros((64, 64), np.int32)
    labels[(yy - 20) ** 2 + (xx - 20) ** 2 <= 64] = 1
    labels[(yy - 44) ** 2 + (xx - 44) ** 2 <= 64] = 2
    dab = np.where(labels == 1, 0.6, 0.0)
    granules = ((yy // 2 + xx // 2) % 2 == 0)
    dab = np.where(labels == 2, np.where(granules, 1.1, 0.1), dab)
    od = np.stack([0.3 + dab, 0.5 + dab, 0.6 + 0.5 * dab], axis=-1)
    return labels, dab, od


def test_features_read_cover_ring_and_granularity() -> None:
    labels, dab, od = _two_nuclei()
    mask = np.zeros(labels.shape, bool)
    mask[labels == 2] = True
    mask[40:48, 54:58] = True  # pigment in nucleus 2's ring
    x = nucleus_features(labels, od, np.full(labels.shape, 0.2), dab, mask, mask, np.zeros(2), mpp=MPP,
                         positive_od=0.35)
    col = {f.name: i for i, f in enumerate(FEATURES)}
    assert x.shape == (2, len(FEATURES))
    assert x.dtype == np.float32
    assert x[0, col["visible_fraction"]] == 1.0
    assert x[1, col["visible_fraction"]] == 0.0
    assert x[0, col["ring_pigment"]] == 0.0
    assert x[1, col["ring_pigment"]] > 0.0
    assert x[1, col["grain"]] > 3 * x[0, col["grain"]]
    assert x[1, col["dab_cv"]] > 0.5 > x[0, col["dab_cv"]]
    assert x[0, col["area"]] == pytest.approx(np.count_nonzero(labels == 1) * MPP * MPP)


def test_no_nuclei_gives_no_rows() -> None:
    labels = np.zeros((16, 16), np.int32)
    x = nucleus_features(labels, np.zeros((16, 16, 3)), np.zeros((16, 16)), np.zeros((16, 16)),
                         np.zeros((16, 16), bool), np.zeros((16, 16), bool), np.zeros(0), mpp=MPP, positive_od=0.35)
    assert x.shape == (0, len(FEATURES))


def test_shipped_model_loads_with_its_card_and_answers_in_range() -> None:
    model = resolve_hidden_model("default")
    assert model is not None
    assert model.class_names == ("assessable", "hidden")
    assert model.feature_names == tuple(f.name for f in FEATURES)
    endonuke = next(d for d in model.card["training_data"] if d["dataset"] == "EndoNuke")
    assert "CC BY 4.0" in endonuke["licence"]
    assert "Naumov" in endonuke["citation"]
    # the pixel model named on the card is the one that draws the H-DAB masks the features read
    from mmnst_path.classify.pigment import model_for_stains, resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams

    drawn_by = model_for_stains(resolve_pigment_model("default"), "H-DAB", PigmentParams())
    assert model.settings["pixel_model_id"] == drawn_by.model_id
    assert model.card["validation"]["held_out"]["per_class"]["hidden"]["recall"] > 0.5
    p = hidden_probability(model, model.test_x)
    assert np.all((p >= 0) & (p <= 1))
    assert resolve_hidden_model("none") is None


def test_unknown_model_and_foreign_model_are_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="hidden_model"):
        resolve_hidden_model(str(tmp_path / "missing.mmnst"))
    model = resolve_hidden_model("default")
    assert model is not None
    other = replace(model, settings=dict(model.settings, task="something else"))
    path = other.save(tmp_path / "other.mmnst")
    with pytest.raises(ConfigError, match="not a hidden-nucleus model"):
        resolve_hidden_model(str(path))


@pytest.mark.parametrize("value", ["2 um", None, [2.0], True])
def test_a_model_with_an_unreadable_feature_setting_is_refused_naming_the_file(tmp_path, value) -> None:
    """A feature setting that is not a number (a hand-edited card) is a ConfigError naming the file and the
    setting, for the hidden-nucleus and the pigment-cell model alike (not float()'s ValueError / TypeError)."""
    from mmnst_path.classify.hidden_nuclei import resolve_cell_model

    for resolve in (resolve_hidden_model, resolve_cell_model):
        model = resolve("default")
        assert model is not None
        path = replace(model, settings=dict(model.settings, ring_um=value)).save(tmp_path / f"{resolve.__name__}.mmnst")
        with pytest.raises(ConfigError, match=rf"{resolve.__name__}\.mmnst: feature setting ring_um="):
            resolve(str(path))


def test_a_rewritten_model_file_is_read_again(tmp_path):
    import os
    from dataclasses import replace

    from mmnst_path.classify.hidden_nuclei import resolve_hidden_model
    from mmnst_path.classify.model import load_model

    shipped = resolve_hidden_model("default")
    path = shipped.save(tmp_path / "h.mmnst")
    first = resolve_hidden_model(str(path)).model_id
    replace(shipped, card=dict(shipped.card, version="rewritten")).save(path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a coarse file-system clock still sees a change
    now = load_model(path).model_id
    assert now != first
    assert resolve_hidden_model(str(path)).model_id == now


def test_features_are_computed_as_trained_whatever_the_rule_thresholds() -> None:
    # review finding: a user's positive threshold or near-black OD for the rules moved the model's inputs
    from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
    from mmnst_path.stain import load_stains
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(1, "over_nucleus", chromogen="dab", size=192, near_black=True)
    mask = np.asarray(tile.masks["melanin"], bool)
    stains = load_stains("H-DAB")
    rows = []
    for params in (Ki67Params(cell_model="none"),
                   Ki67Params(cell_model="none", positive_threshold_od=0.2, pigment_saturated_od=0.0)):
        res = measure_ki67(tile.rgb, mpp=tile.mpp, stains=stains, params=params, pigment_mask=mask,
                           return_pigment_features=True)
        rows.append(res.pigment_features)
    assert rows[0] is not None
    assert len(rows[0]) > 10
    np.testing.assert_array_equal(rows[0], rows[1])
    near_black = [f.name for f in FEATURES].index("near_black")
    assert rows[1][:, near_black].max() > 0  # the near-black input is kept with the rules' test off
