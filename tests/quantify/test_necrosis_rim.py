"""The rim growth of the necrosis stage (``NecrosisParams.rim_grow_um`` / ``rim_min_proba``, session 38 H7)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify.tissue import TissueMap
from mmnst_path.errors import ConfigError
from mmnst_path.quantify._necrosis_model import grow_rim
from mmnst_path.quantify.necrosis import NecrosisParams

CLASSES = ("tumour", "stroma", "necrosis", "background")


def _map(p_nec: np.ndarray, mpp: float = 8.0) -> TissueMap:
    """A class map whose necrosis probability is ``p_nec`` and stroma takes the rest."""
    proba = np.zeros((*p_nec.shape, len(CLASSES)), np.float32)
    proba[..., 2] = p_nec
    proba[..., 1] = 1.0 - p_nec
    return TissueMap(np.argmax(proba, -1).astype(np.int8), proba, mpp, 16, CLASSES, "test")


def test_rim_grows_over_probable_blocks_within_reach_only() -> None:
    p = np.full((20, 30), 0.05, np.float32)
    p[5:15, 5:15] = 0.9  # the kept necrosis
    p[5:15, 15:25] = 0.3  # its rim, necrosis second: 10 blocks wide, farther than the reach
    mask = p >= 0.5
    allowed = np.ones(p.shape, bool)
    params = NecrosisParams(rim_grow_um=16.0, rim_min_proba=0.2, smooth_um=0.0)
    grown = grow_rim(mask, _map(p), params, allowed)
    assert grown[mask].all()
    assert grown[5:15, 15:17].all()  # two 8 µm blocks = 16 µm
    assert not grown[5:15, 17:].any()
    assert not grown[:5].any()  # improbable blocks stay
    assert not grown[15:].any()
    # a threshold above the rim's probability, or a disabled block, leaves it
    assert np.array_equal(grow_rim(mask, _map(p), NecrosisParams(rim_grow_um=16.0, rim_min_proba=0.35,
                                                                   smooth_um=0.0), allowed), mask)
    blocked = allowed.copy()
    blocked[:, 15] = False
    assert np.array_equal(grow_rim(mask, _map(p), params, blocked), mask)  # reached through allowed blocks only


def test_rim_growth_off_by_default_and_checked() -> None:
    assert (NecrosisParams().rim_grow_um, NecrosisParams().rim_min_proba) == (0.0, 0.2)
    assert NecrosisParams.from_mapping({"rim_grow_um": 16.0}).rim_grow_um == 16.0
    with pytest.raises(ConfigError, match="rim_min_proba"):
        NecrosisParams(rim_min_proba=-0.1)
    with pytest.raises(ConfigError, match="rim_grow_um"):
        NecrosisParams(rim_grow_um=float("nan"))


def test_rim_growth_widens_the_halo() -> None:
    base = NecrosisParams(rim_grow_um=0.0)
    assert NecrosisParams(rim_grow_um=16.0).halo_um() == pytest.approx(base.halo_um() + 16.0)
