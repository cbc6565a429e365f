"""Shared helpers of the generated-tissue tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest


def _digest(tile) -> str:
    """sha256 (first 16 hex) of a generated tile's rgb and masks (sorted by name)."""
    h = hashlib.sha256(tile.rgb.tobytes())
    for k in sorted(tile.masks):
        h.update(tile.masks[k].tobytes())
    return h.hexdigest()[:16]


@pytest.fixture
def tile_digest() -> Callable[[object], str]:
    """:func:`_digest`: pin generated tiles byte for byte."""
    return _digest
