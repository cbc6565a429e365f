"""The necrosis parameters and counts (:mod:`mmnst_path.quantify._necrosis_params`, split out of
:mod:`mmnst_path.quantify.necrosis`; the re-exports from ``necrosis``:
tests/test_module_splits.py)."""

from __future__ import annotations

import math

import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.quantify import _necrosis_params as necrosis


def test_counts_add_and_metrics_are_in_mm2_and_percent():
    c = sum([necrosis.NecrosisCounts(necrosis_um2=2e5, tissue_um2=1e6), necrosis.NecrosisCounts(tissue_um2=1e6)])
    m = necrosis.necrosis_metrics(c)
    assert m["necrosis_area_mm2"] == pytest.approx(0.2)
    assert m["necrosis_fraction_pct"] == pytest.approx(10.0)
    assert math.isnan(m["tumour_fraction_pct"])


def test_params_round_trip_and_reject_unknown_keys():
    p = necrosis.NecrosisParams()
    assert necrosis.NecrosisParams.from_mapping(p.to_mapping()) == p
    with pytest.raises(ConfigError):
        necrosis.NecrosisParams.from_mapping({"no_such_key": 1.0})
