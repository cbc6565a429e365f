"""``measure_ki67(owned=...)``: a tile's Ki67 stage answers only for the nuclei its core owns, exactly
as the whole call answers for them (issue #16: no cell model or outlines for the halo's nuclei)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67

SAMPLE = Path(__file__).resolve().parents[2] / "sample_tiles" / "ki67_recurrence.tif"


@pytest.fixture(scope="module")
def tile() -> np.ndarray:
    import tifffile

    rgb = np.asarray(tifffile.imread(SAMPLE))[..., :3]
    return np.ascontiguousarray(rgb[:320, :320])


def _core(row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """The nuclei of a 'core' box in the middle of the image (as a tile's core owns them)."""
    r, c = np.asarray(row), np.asarray(col)
    return (r >= 90.0) & (r < 230.0) & (c >= 100.5) & (c < 240.0)


@pytest.mark.parametrize("origin", [(0, 0), (37, 11)])
def test_owned_nuclei_get_the_same_cells_as_the_whole_call(tile: np.ndarray, origin: tuple[int, int]) -> None:
    kw = {"mpp": 0.5, "stains": "H-DAB", "params": Ki67Params(), "origin": origin,
          "extent": (tile.shape[0] + 80, tile.shape[1] + 60)}
    whole = measure_ki67(tile, **kw).cells
    assert whole.outline_radii.shape[1] > 0  # outlines ran
    assert np.isfinite(whole.tumour_probability).any()  # the cell model ran

    def owned(row: np.ndarray, col: np.ndarray) -> np.ndarray:
        return _core(np.asarray(row) - origin[0], np.asarray(col) - origin[1])

    keep = owned(whole.row, whole.col)
    assert 10 < keep.sum() < len(whole) - 10  # nuclei on both sides of the core's edge
    part = measure_ki67(tile, owned=owned, **kw).cells
    assert len(part) == int(keep.sum())
    for f in fields(whole):
        want, got = np.asarray(getattr(whole, f.name))[keep], np.asarray(getattr(part, f.name))
        assert want.shape == got.shape, f.name
        assert np.array_equal(want, got, equal_nan=want.dtype.kind == "f"), f"{f.name} differs for owned nuclei"
