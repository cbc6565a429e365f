"""Strong DAB positives at the camera's floor for the generator (issue #14, session 21):
:func:`mmnst_path._synthetic_pigment.saturated_positives_layer`."""

from __future__ import annotations

import math

import numpy as np

from mmnst_path._synthetic_pigment import (
    SATURATED_DEG,
    SATURATED_HEM,
    SATURATED_OD,
    saturated_positives_layer,
)
from mmnst_path.synthetic import _DAB


def _cells(n: int) -> list[tuple[float, float, float, float, float]]:
    """n nuclei of 4 x 3 px semi-axes on a 20 px grid."""
    return [(10.0 + 20 * (i // 8), 10.0 + 20 * (i % 8), 4.0, 3.0, 0.3 * i) for i in range(n)]


def test_only_positive_nuclei_get_a_black_core_a_brown_rim_and_counterstain() -> None:
    cells = _cells(64)
    positive = np.arange(64) % 2 == 0
    dab, hem, vector = saturated_positives_layer((160, 160), cells, positive, np.random.default_rng(3), 0.5)
    assert dab.dtype == hem.dtype == np.float32
    drawn = 0
    for i, (r, c, _, _, _) in enumerate(cells):
        box = (slice(int(r) - 8, int(r) + 9), slice(int(c) - 8, int(c) + 9))
        if not positive[i]:  # a negative nucleus is never painted
            assert dab[box].max() == 0
            assert hem[box].max() == 0
            continue
        if dab[box].max() == 0:  # a positive outside the tile's drawn share
            assert hem[box].max() == 0
            continue
        drawn += 1
        core, rim = dab[int(r), int(c)], dab[int(r), int(c) + 3]  # centre / 3 px out of a 3 px semi-axis
        assert core >= 0.5 * SATURATED_OD[0]  # (texture: +-20 % noise and clumps)
        assert 0 < rim < core  # the rim is browner (thinner) than the core
        assert 0.5 * SATURATED_HEM[0] <= hem[int(r), int(c)] <= 1.6 * SATURATED_HEM[1]
    assert drawn >= 3
    angle = math.degrees(math.acos(float(np.dot(vector, np.asarray(_DAB) / np.linalg.norm(_DAB)))))
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-6
    assert SATURATED_DEG[0] - 1 <= angle <= SATURATED_DEG[1] + 1


def test_the_layer_depends_on_its_own_stream_only() -> None:
    cells = _cells(16)
    positive = np.ones(16, bool)
    a = saturated_positives_layer((100, 160), cells, positive, np.random.default_rng(7), 0.5)
    b = saturated_positives_layer((100, 160), cells, positive, np.random.default_rng(7), 0.5)
    c = saturated_positives_layer((100, 160), cells, positive, np.random.default_rng(8), 0.5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    none = saturated_positives_layer((100, 160), cells, np.zeros(16, bool), np.random.default_rng(7), 0.5)
    assert not none[0].any()
    assert not none[1].any()
