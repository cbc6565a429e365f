"""The melanocyte call of a Ki67 double stain (``quantify._ki67_double``): a SOX10 nucleus that is
also Ki67-positive is judged against the red that DAB crosstalk leaves, with Fast Red only."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.quantify._ki67_double import MIN_SEPARATION_DEG, POSITIVE_MIN_OD, melanocytic_call
from mmnst_path.stain import angle_deg
from mmnst_path.stain.vectors import get_preset

RED = np.array([0.20, 0.06, 0.06, -0.05, np.nan])
POSITIVE = np.array([False, True, False, True, True])


def _separation(preset: str, red: str) -> float:
    m = get_preset(preset)
    return angle_deg(m.vector(red), m.vector("dab"))


def test_ki67_positive_sox10_nuclei_keep_their_call_with_fast_red():
    """Fast Red (42° from DAB): a Ki67-positive nucleus with 0.06 OD of red is a melanocyte, a
    negative one with the same red is not; a positive one with none is not; an unread one never."""
    sep = _separation("H-DAB-FastRed", "fast_red")
    assert sep >= MIN_SEPARATION_DEG
    assert POSITIVE_MIN_OD < 0.06 < 0.12
    got = melanocytic_call(RED, POSITIVE, where="nuclear", min_od=0.12, separation_deg=sep)
    np.testing.assert_array_equal(got, [True, True, False, False, False])


@pytest.mark.parametrize(("where", "preset", "red"), [("nuclear", "H-DAB-AEC", "aec"),
                                                      ("cytoplasmic", "H-DAB-FastRed", "fast_red")])
def test_one_threshold_for_aec_and_for_a_cytoplasmic_marker(where, preset, red):
    """AEC (8.4° from DAB: red and DAB trade off both ways) and MART-1 (read around the nucleus):
    every nucleus from ``min_od``."""
    got = melanocytic_call(RED, POSITIVE, where=where, min_od=0.12, separation_deg=_separation(preset, red))
    np.testing.assert_array_equal(got, [True, False, False, False, False])


def test_the_lower_threshold_never_exceeds_min_od():
    """A user threshold below the positive one applies to every nucleus."""
    got = melanocytic_call(RED, POSITIVE, where="nuclear", min_od=0.01, separation_deg=42.0)
    np.testing.assert_array_equal(got, [True, True, True, False, False])
