"""Boxes in level-0 (row, col) pixels and physical unit helpers.

All coordinates in mmnst_path are (row, col) in level-0 pixels. OpenSlide's (x, y) lives only
inside its adapter. Physical sizes are converted with the slide's microns-per-pixel (``mpp``)
through the helpers here, in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConfigError, MissingMetadataError

__all__ = ["Box", "px2_from_um2", "px_from_um", "require_mpp", "um2_from_px2", "um_from_px"]


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned rectangle in level-0 pixels: top row, left col, height, width."""

    row: int
    col: int
    height: int
    width: int

    def __post_init__(self) -> None:
        if self.height < 0 or self.width < 0:
            msg = f"Box height and width must be >= 0, got height={self.height}, width={self.width}"
            raise ValueError(msg)

    @property
    def row_end(self) -> int:
        return self.row + self.height

    @property
    def col_end(self) -> int:
        return self.col + self.width

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def area(self) -> int:
        return self.height * self.width

    def intersect(self, other: Box) -> Box:
        """Overlap with ``other`` (zero-sized when they do not overlap)."""
        r0, c0 = max(self.row, other.row), max(self.col, other.col)
        r1, c1 = min(self.row_end, other.row_end), min(self.col_end, other.col_end)
        return Box(r0, c0, max(0, r1 - r0), max(0, c1 - c0))

    def expand(self, margin: int) -> Box:
        """Grow by ``margin`` pixels on every side (may extend past the slide)."""
        return Box(self.row - margin, self.col - margin, self.height + 2 * margin, self.width + 2 * margin)

    def contains(self, row: float, col: float) -> bool:
        """Half-open containment: top/left edges inside, bottom/right edges outside."""
        return self.row <= row < self.row_end and self.col <= col < self.col_end


def require_mpp(mpp: float | None, *, what: str = "slide") -> float:
    """Return ``mpp`` as a positive float, or raise a clear error when it is unknown."""
    if mpp is None:
        msg = (
            f"microns per pixel (mpp) of the {what} is unknown: it is not in the file's metadata. "
            "Pass it explicitly (mpp=... in Python, --mpp X on the command line)."
        )
        raise MissingMetadataError(msg)
    value = float(mpp)
    if not math.isfinite(value) or value <= 0:
        msg = f"mpp must be a positive finite number of microns per pixel, got {mpp!r}"
        raise ConfigError(msg)
    return value


def px_from_um(um: float, mpp: float) -> float:
    """Length in pixels of ``um`` microns at ``mpp`` microns per pixel."""
    return float(um) / require_mpp(mpp)


def um_from_px(px: float, mpp: float) -> float:
    """Length in microns of ``px`` pixels at ``mpp`` microns per pixel."""
    return float(px) * require_mpp(mpp)


def px2_from_um2(um2: float, mpp: float) -> float:
    """Area in pixels of ``um2`` square microns at ``mpp`` microns per pixel."""
    return float(um2) / require_mpp(mpp) ** 2


def um2_from_px2(px2: float, mpp: float) -> float:
    """Area in square microns of ``px2`` pixels at ``mpp`` microns per pixel."""
    return float(px2) * require_mpp(mpp) ** 2
