"""Shared checks of the pipeline tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest


def _assert_same_results(ref: Any, got: Any, centroid_atol: float = 0.0) -> None:
    """Same cells (every column bit for bit; centroids within ``centroid_atol`` px), counts,
    metrics (NaN equal to NaN) and maps of two results of one analysis run two ways."""
    assert len(ref.cells) == len(got.cells)
    for name in ("row", "col"):
        np.testing.assert_allclose(getattr(got.cells, name), getattr(ref.cells, name), rtol=0, atol=centroid_atol,
                                   err_msg=name)
    np.testing.assert_array_equal(got.cells.cls, ref.cells.cls)
    assert ref.cells.columns.keys() == got.cells.columns.keys()
    differ = [name for name, col in ref.cells.columns.items()
              if not np.array_equal(got.cells.columns[name], col, equal_nan=col.dtype.kind == "f")]
    assert not differ, differ
    assert got.counts == ref.counts
    for key, value in ref.metrics.items():
        other = got.metrics[key]
        assert value == other or (isinstance(value, float) and math.isnan(value) and math.isnan(other)), key
    assert ref.maps.keys() == got.maps.keys()
    for key, m in ref.maps.items():
        np.testing.assert_array_equal(got.maps[key].image, m.image, err_msg=key)


@pytest.fixture
def assert_same_results() -> Callable[..., None]:
    """:func:`_assert_same_results`: ``assert_same_results(ref, got, centroid_atol=0.0)``."""
    return _assert_same_results
