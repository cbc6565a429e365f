"""Config values the issue #15 campaign found accepted or crashing: each is a one-line ConfigError naming the key."""

from __future__ import annotations

import math

import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.quantify.ki67 import Ki67Params


@pytest.mark.parametrize("value", [math.inf, math.nan, 2.5, 0, -3])
def test_weak_stain_min_nuclei_must_be_a_positive_integer(value):
    with pytest.raises(ConfigError, match="weak_stain_min_nuclei"):
        Ki67Params(weak_stain_min_nuclei=value)


@pytest.mark.parametrize("value", [math.nan, -1.0, math.inf])
def test_lymphocyte_hematoxylin_floor_must_be_finite_and_non_negative(value):
    with pytest.raises(ConfigError, match="lymphocyte_min_hematoxylin_od"):
        Ki67Params(lymphocyte_min_hematoxylin_od=value)


def test_a_string_threshold_names_its_key():
    with pytest.raises(ConfigError, match=r"'ki67\.positive_threshold_od' must be a number, got 'abc'"):
        AnalysisConfig.from_mapping({"ki67": {"positive_threshold_od": "abc"}})
    with pytest.raises(ConfigError, match=r"'nuclei\.min_area_um2' must be a number"):
        AnalysisConfig.from_mapping({"nuclei": {"min_area_um2": True}})
    assert AnalysisConfig.from_mapping({"ki67": {"weak_stain_min_nuclei": 12.0}}).ki67.weak_stain_min_nuclei == 12
