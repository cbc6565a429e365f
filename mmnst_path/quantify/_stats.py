"""Binomial proportion statistics: Wilson score interval and a two-proportion comparison.

Pure Python (``math`` only) so that metrics can be computed anywhere without heavy imports.
Undefined quantities (a proportion with a zero denominator) are ``nan``, never 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["ProportionComparison", "compare_proportions", "wilson_interval"]

Z_95 = 1.959963984540054  # two-sided 95 % standard normal quantile


def _check_counts(k: int, n: int, what: str) -> tuple[int, int]:
    if int(k) != k or int(n) != n or k < 0 or n < 0 or k > n:
        msg = f"{what}: expected integer counts with 0 <= positive <= total, got positive={k!r}, total={n!r}"
        raise ConfigError(msg)
    return int(k), int(n)


def wilson_interval(k: int, n: int, *, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``.

    Parameters
    ----------
    k, n : int
        Successes and trials, ``0 <= k <= n``.
    z : float
        Standard normal quantile (1.96 for a two-sided 95 % interval).

    Returns
    -------
    (low, high) : tuple of float
        Bounds as proportions in [0, 1]; ``(nan, nan)`` when ``n == 0``.

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
    J. Am. Stat. Assoc. 22:209-212, 1927.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(6, 100)]
    [0.0278, 0.1247]
    """
    k, n = _check_counts(k, n, "wilson_interval")
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class ProportionComparison:
    """Result of :func:`compare_proportions` (all proportions in [0, 1], ``nan`` when undefined).

    Attributes
    ----------
    p_a, p_b : float
        The two proportions.
    difference : float
        ``p_b - p_a``.
    ci_low, ci_high : float
        95 % confidence interval of the difference (Newcombe's hybrid score interval).
    p_value : float
        Two-sided p-value of the pooled two-proportion z test (equivalent to Pearson's
        chi-square test without continuity correction).
    """

    p_a: float
    p_b: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float


def compare_proportions(
    pos_a: int, n_a: int, pos_b: int, n_b: int, *, z: float = Z_95
) -> ProportionComparison:
    """Compare two proportions, e.g. the Ki67 index of a primary tumour and of its recurrence.

    Parameters
    ----------
    pos_a, n_a : int
        Positive count and denominator of the first result (``0 <= pos_a <= n_a``).
    pos_b, n_b : int
        Same for the second result.
    z : float
        Normal quantile of the interval (1.96 = 95 %).

    Returns
    -------
    ProportionComparison
        Difference ``p_b - p_a`` with Newcombe's hybrid score 95 % interval (method 10 of
        Newcombe 1998, built from the two Wilson intervals; it keeps good coverage at small
        counts and proportions near 0 or 1, unlike the Wald interval) and the two-sided p-value
        of the pooled z test. Everything is ``nan`` when a denominator is 0; the p-value is 1
        when both proportions are 0 or both are 1 (no evidence of a difference).

    References
    ----------
    R. G. Newcombe, "Interval estimation for the difference between independent proportions:
    comparison of eleven methods", Stat. Med. 17:873-890, 1998.

    Examples
    --------
    >>> c = compare_proportions(6, 100, 40, 100)
    >>> round(c.difference, 2), c.p_value < 1e-6
    (0.34, True)
    """
    pos_a, n_a = _check_counts(pos_a, n_a, "compare_proportions (a)")
    pos_b, n_b = _check_counts(pos_b, n_b, "compare_proportions (b)")
    if n_a == 0 or n_b == 0:
        nan = math.nan
        p_a = pos_a / n_a if n_a else nan
        p_b = pos_b / n_b if n_b else nan
        return ProportionComparison(p_a, p_b, nan, nan, nan, nan)
    p_a, p_b = pos_a / n_a, pos_b / n_b
    l_a, u_a = wilson_interval(pos_a, n_a, z=z)
    l_b, u_b = wilson_interval(pos_b, n_b, z=z)
    diff = p_b - p_a
    low = diff - math.sqrt((p_b - l_b) ** 2 + (u_a - p_a) ** 2)
    high = diff + math.sqrt((u_b - p_b) ** 2 + (p_a - l_a) ** 2)
    pooled = (pos_a + pos_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0.0:
        p_value = 1.0
    else:
        stat = abs(diff) / se
        p_value = math.erfc(stat / math.sqrt(2.0))
    return ProportionComparison(p_a, p_b, diff, max(-1.0, low), min(1.0, high), p_value)
