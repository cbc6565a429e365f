"""The ``positives="wide"`` rendering of :func:`mmnst_path.synthetic.pigment_family_tile` (issue #14, session 20)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.stain import get_preset, separate_stains
from mmnst_path.synthetic import pigment_family_tile


def _positive_dab(tile) -> np.ndarray:
    """Mean DAB OD (H-DAB unmixing) of each Ki67-positive true nucleus of a tile."""
    dab = separate_stains(tile.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))[..., 1]
    labels = tile.masks["nuclei"]
    n = int(labels.max())
    area = np.maximum(np.bincount(labels.ravel(), minlength=n + 1), 1)
    pos = np.bincount(labels.ravel(), tile.masks["positive_nuclei"].ravel(), minlength=n + 1) / area > 0.5
    mean = np.bincount(labels.ravel(), dab.ravel(), minlength=n + 1) / area
    return mean[pos]


def test_standard_is_the_default_and_wide_keeps_the_layout() -> None:
    default = pigment_family_tile(2, "coarse", size=160, positive_fraction=0.5)
    standard = pigment_family_tile(2, "coarse", size=160, positive_fraction=0.5, positives="standard")
    wide = pigment_family_tile(2, "coarse", size=160, positive_fraction=0.5, positives="wide")
    assert np.array_equal(default.rgb, standard.rgb)
    assert "ki67_grades" not in standard.truth
    for name in ("nuclei", "positive_nuclei", "melanin", "tissue"):
        assert np.array_equal(wide.masks[name], standard.masks[name]), name
    assert wide.truth["ki67_index_pct"] == standard.truth["ki67_index_pct"]
    assert sum(wide.truth["ki67_grades"]) >= wide.truth["ki67_positive"]
    assert not np.array_equal(wide.rgb, standard.rgb)


def test_wide_positives_reach_faint_1plus_and_saturated_3plus() -> None:
    kw = {"size": 192, "positive_fraction": 0.5, "appearance": "plain"}
    std = np.concatenate([_positive_dab(pigment_family_tile(s, "none", **kw)) for s in (0, 1)])
    wide = np.concatenate([_positive_dab(pigment_family_tile(s, "none", positives="wide", **kw)) for s in (0, 1)])
    # standard positives read clearly above QuPath's 0.2; wide ones go below it (1+) and beyond the standard's top
    assert np.percentile(std, 5) > 0.25
    assert (wide < 0.2).sum() >= 5
    assert wide.max() > std.max()


def test_positives_must_be_known() -> None:
    with pytest.raises(ValueError, match="positives must be"):
        pigment_family_tile(0, "none", size=64, positives="faint")
    with pytest.raises(ValueError, match="for Ki67 tiles"):
        pigment_family_tile(0, "none", size=64, chromogen="eosin", positives="wide")
