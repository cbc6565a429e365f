"""cells.geojson coordinates: the vectorised rounding writes the same numbers as Python's ``round(x, 3)``
(the file's bytes do not change with the faster writer, issue #16)."""

from __future__ import annotations

import numpy as np

from mmnst_path.geojson import _ring_xy, _round3


def test_round3_equals_pythons_round_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    k = rng.integers(-2_000_000, 2_000_000, 50_000)
    values = np.concatenate([
        (k + 0.5) / 1000.0,  # decimal halves: numpy's rint(1000 x) / 1000 gets about half of these wrong
        rng.uniform(-5e5, 5e5, 50_000),
        [0.0, -0.0, -0.0004, 0.0005, 1.0005, 2.675, 1e12 + 0.0625, 7.0, np.inf, -np.inf],
    ])
    got = _round3(values.reshape(-1, 2, 1))
    want = np.array([round(v, 3) for v in values.tolist()])
    assert got.shape == (values.size // 2, 2, 1)
    assert np.array_equal(got.reshape(-1).view(np.int64), want.view(np.int64))  # (-0.0 and 0.0 apart)


def test_nan_is_kept() -> None:
    assert np.isnan(_round3(np.array([np.nan]))[0])


def test_outline_ring_is_the_rounded_closed_ring() -> None:
    poly = np.array([[10.12349, 3.0], [12.5, 4.0004999], [11.0, 6.9995]])
    assert _ring_xy(poly) == [[3.5, 10.623], [4.5, 13.0], [7.5, 11.5], [3.5, 10.623]]
    xy = _round3(poly[:, ::-1] + 0.5)
    assert np.concatenate([xy, xy[:1]]).tolist() == _ring_xy(poly)
