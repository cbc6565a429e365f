"""Wilson interval and two-proportion comparison against published / hand-computed values."""

from __future__ import annotations

import math

import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.quantify._stats import compare_proportions, wilson_interval


def test_wilson_hand_computed():
    # k=6, n=100, z=1.96: centre (0.06 + 1.9208/100)/(1.038416), half-width as in Wilson (1927)
    low, high = wilson_interval(6, 100)
    assert low == pytest.approx(0.027786, abs=1e-6)
    assert high == pytest.approx(0.124768, abs=1e-6)


def test_wilson_edges():
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.277533, abs=1e-6)  # z²/(n+z²) for k = 0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ConfigError, match="positive=11"):
        wilson_interval(11, 10)


def test_newcombe_published_examples():
    # Newcombe (1998) Table II, method 10: 56/70 vs 48/80 -> 0.0524, 0.3339; 9/10 vs 3/10 -> 0.1705, 0.8090
    c = compare_proportions(48, 80, 56, 70)
    assert c.difference == pytest.approx(0.2)
    assert (c.ci_low, c.ci_high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    c = compare_proportions(3, 10, 9, 10)
    assert (c.ci_low, c.ci_high) == (pytest.approx(0.1705, abs=1e-4), pytest.approx(0.8090, abs=1e-4))


def test_p_value_equals_chi_square_without_correction():
    # seed case: 6 % vs 40 % on 100 nuclei each; chi2 = 200*(6*60-94*40)^2/(100*100*46*154) = 32.64
    c = compare_proportions(6, 100, 40, 100)
    chi2 = 200 * (6 * 60 - 94 * 40) ** 2 / (100 * 100 * 46 * 154)
    assert c.p_value == pytest.approx(math.erfc(math.sqrt(chi2 / 2)), rel=1e-9)
    assert c.p_value < 1e-6
    assert c.ci_low > 0


def test_undefined_and_identical():
    c = compare_proportions(0, 0, 3, 10)
    assert math.isnan(c.difference)
    assert math.isnan(c.p_value)
    assert math.isnan(c.p_a)
    assert c.p_b == pytest.approx(0.3)
    same = compare_proportions(0, 20, 0, 30)
    assert same.difference == 0.0
    assert same.p_value == 1.0
    assert same.ci_low < 0 < same.ci_high
