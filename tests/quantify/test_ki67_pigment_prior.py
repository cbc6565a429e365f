"""Near-black nuclei in tissue that carries melanin are unassessable (issue #14, pigment prior)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67

MPP = 0.5


def _scene() -> tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]:
    """A pale tile with one near-black round body, one brown DAB nucleus and a melanin patch.

    Returns the RGB, the pigment mask (the patch: 1 % of the tile, away from both bodies) and
    the centres of the black and the brown body.
    """
    size = 160
    rgb = np.full((size, size, 3), (232, 226, 236), np.uint8)
    yy, xx = np.mgrid[:size, :size]
    black, brown = (50, 50), (50, 110)
    for (r, c), colour in ((black, (6, 5, 4)), (brown, (150, 95, 55))):
        rgb[(yy - r) ** 2 + (xx - c) ** 2 <= 9 ** 2] = colour  # 9 px = 4.5 µm radius
    mask = np.zeros((size, size), bool)
    mask[130:146, 20:36] = True  # 256 px: 1 % of the tile
    rgb[mask] = (60, 40, 25)
    return rgb, mask, black, brown


def _class_at(res, point: tuple[int, int]) -> str:
    d = (res.cells.row - point[0]) ** 2 + (res.cells.col - point[1]) ** 2
    assert d.size, "no nucleus detected"
    assert d.min() <= 16, f"no nucleus detected at {point}"
    return str(res.cells.cls[int(np.argmin(d))])


def test_near_black_nucleus_beside_melanin_reads_pigment_not_positive() -> None:
    rgb, mask, black, brown = _scene()
    res = measure_ki67(rgb, mpp=MPP, stains="H-DAB", pigment_mask=mask, params=Ki67Params())
    assert _class_at(res, black) == "pigment"
    assert _class_at(res, brown) == "positive"  # brown DAB, not near-black: read as before


@pytest.mark.parametrize("how", ["prior off", "no melanin", "too little melanin"])
def test_near_black_nucleus_stays_positive_without_melanin_in_the_tissue(how: str) -> None:
    rgb, mask, black, _ = _scene()
    params = Ki67Params()
    if how == "prior off":
        params = replace(params, pigment_prior_fraction=0.0)
    elif how == "no melanin":
        mask = np.zeros_like(mask)
    else:  # 0.1 % of the tile, as much false pigment as a real Ki67 set's worst tile
        mask = np.zeros_like(mask)
        mask[130:135, 20:25] = True
    res = measure_ki67(rgb, mpp=MPP, stains="H-DAB", pigment_mask=mask, params=params)
    assert _class_at(res, black) == "positive"
