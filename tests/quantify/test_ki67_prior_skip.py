"""The pigment prior's exact skip (issue #14 / #16): with too few pigment pixels on the whole tile
for any nucleus's square to reach ``pigment_prior_fraction``, :func:`_prior_holds` answers "none"
without the summed-area table; at the bound (one pixel more) the nucleus whose square holds them
all gets the prior, as the per-nucleus shares say."""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from mmnst_path.quantify._ki67_pigment import _local_pigment_share, _prior_holds
from mmnst_path.quantify.ki67 import Ki67Params

MPP = 0.5


def _case(count: int) -> tuple[Ki67Params, np.ndarray]:
    """A 200² mask with ``count`` pigment pixels in a block beside nucleus 0 (nucleus 1 far away).
    The prior's square has a half-side of 20 px, so the bound is at 0.05 x 41² = 84.05 px."""
    params = replace(Ki67Params(), pigment_prior_fraction=0.05, pigment_prior_radius_um=10.0)
    mask = np.zeros((200, 200), bool)
    idx = np.arange(count)
    mask[idx // 10 + 40, idx % 10 + 45] = True
    return params, mask


class _Nuclei(SimpleNamespace):
    def __len__(self) -> int:
        return len(self.row)


@pytest.mark.parametrize("count", [0, 1, 84, 85, 86, 120])
def test_prior_with_the_skip_is_the_per_nucleus_answer(count: int) -> None:
    params, mask = _case(count)
    nuclei = _Nuclei(row=np.array([50.0, 160.0]), col=np.array([50.0, 160.0]))
    got = _prior_holds(params, mask, nuclei, mpp=MPP, always=False, origin=(0, 0))
    radius_px = round(params.pigment_prior_radius_um / MPP)
    share = _local_pigment_share(mask, nuclei.row, nuclei.col, radius_px=radius_px)
    held = share >= params.pigment_prior_fraction
    if held.any():
        np.testing.assert_array_equal(got, held)
    else:
        assert got is None
    bound = params.pigment_prior_fraction * (2 * radius_px + 1) ** 2
    assert held.any() == (count >= math.ceil(bound))  # the cases straddle the bound: 84 no, 85 yes
    if count >= math.ceil(bound):
        assert held.tolist() == [True, False]
