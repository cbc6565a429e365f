from __future__ import annotations

import math

import pytest

from mmnst_path.errors import ConfigError, MissingMetadataError
from mmnst_path.geometry import Box, px2_from_um2, px_from_um, require_mpp, um2_from_px2, um_from_px


def test_box_intersect_and_contains():
    a = Box(0, 0, 10, 10)
    b = Box(5, 8, 10, 10)
    assert a.intersect(b) == Box(5, 8, 5, 2)
    assert a.intersect(Box(20, 20, 5, 5)).area == 0
    assert a.contains(0, 0)
    assert not a.contains(10, 0)
    assert not a.contains(0, 10)
    assert a.expand(2) == Box(-2, -2, 14, 14)


def test_box_rejects_negative_size():
    with pytest.raises(ValueError, match="height"):
        Box(0, 0, -1, 3)


def test_unit_round_trips():
    assert px_from_um(10, 0.5) == 20
    assert um_from_px(20, 0.5) == 10
    assert px2_from_um2(1.0, 0.5) == 4
    assert math.isclose(um2_from_px2(px2_from_um2(37.0, 0.25), 0.25), 37.0)


def test_require_mpp_messages():
    with pytest.raises(MissingMetadataError, match="--mpp"):
        require_mpp(None)
    with pytest.raises(ConfigError, match="positive"):
        require_mpp(-1)
    with pytest.raises(ConfigError):
        require_mpp(float("nan"))
