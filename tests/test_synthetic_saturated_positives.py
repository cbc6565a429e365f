"""``pigment_family_tile(saturated_positives=True)`` (issue #14, session 21): strong DAB positives at the
camera's floor; the rest of the tile and its truth are those of the default rendering."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.synthetic import pigment_family_tile


def _near_black_share(tile) -> np.ndarray:
    """Share of each Ki67-positive true nucleus's pixels at OD >= 1 in every channel (RGB <= 25)."""
    labels = tile.masks["nuclei"]
    n = int(labels.max())
    area = np.maximum(np.bincount(labels.ravel(), minlength=n + 1), 1)
    pos = np.bincount(labels.ravel(), tile.masks["positive_nuclei"].ravel(), minlength=n + 1) / area > 0.5
    dark = (tile.rgb.max(axis=-1) <= 25).ravel()
    return (np.bincount(labels.ravel(), dark, minlength=n + 1) / area)[pos]


def test_default_is_unchanged_and_the_truth_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default never draws the saturated layer (so its stream cannot move existing tiles); with
    it on, the masks and truth are the default's and only the pixels change."""
    from mmnst_path import _synthetic_pigment

    kw = {"size": 160, "positive_fraction": 0.5}

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("saturated_positives_layer called for a default tile")

    with monkeypatch.context() as m:
        m.setattr(_synthetic_pigment, "saturated_positives_layer", refuse)
        default = pigment_family_tile(4, "over_nucleus", near_black=True, **kw)
        off = pigment_family_tile(4, "over_nucleus", near_black=True, saturated_positives=False, **kw)
    on = pigment_family_tile(4, "over_nucleus", near_black=True, saturated_positives=True, **kw)
    assert np.array_equal(default.rgb, off.rgb)
    for name in ("nuclei", "positive_nuclei", "melanin", "tissue"):
        assert np.array_equal(on.masks[name], default.masks[name]), name
    for key in ("ki67_index_pct", "ki67_assessable_index_pct", "hidden_nuclei", "melanin_fraction_pct"):
        assert on.truth[key] == default.truth[key], key
    assert not np.array_equal(on.rgb, default.rgb)


def test_saturated_positives_reach_the_cameras_floor() -> None:
    kw = {"size": 192, "positive_fraction": 0.5, "appearance": "plain"}
    std = np.concatenate([_near_black_share(pigment_family_tile(s, "none", **kw)) for s in (0, 1)])
    sat = np.concatenate([_near_black_share(pigment_family_tile(s, "none", saturated_positives=True, **kw))
                          for s in (0, 1)])
    # the plain standard positives never reach near-black; a share of the saturated ones is mostly near-black
    assert (std >= 0.3).sum() == 0
    assert (sat >= 0.3).sum() >= 5


def test_saturated_positives_are_dab_only() -> None:
    with pytest.raises(ValueError, match="saturated_positives=True is for DAB"):
        pigment_family_tile(0, "none", size=64, chromogen="aec", saturated_positives=True)
