"""The second contour limited to hematoxylin-dominant regions (``pale_contour_max_dab_share``)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains
from mmnst_path.errors import ConfigError

MPP = 0.5


def _pale(shape, centres, dab_share):
    """Hematoxylin and DAB planes (log10 OD) of pale nuclei: a flat 0.08 OD disc of radius 4 µm with a
    bright 1 µm core (the first contour keeps the core only), the signal split between the stains as
    ``dab_share`` (chromogen) and ``1 - dab_share`` (hematoxylin), on a 0.02 OD hematoxylin background."""
    rows, cols = np.indices(shape, dtype=np.float32)
    sig = np.zeros(shape, np.float32)
    for r, c in centres:
        d2 = ((rows - r) ** 2 + (cols - c) ** 2) * MPP * MPP
        sig += np.where(d2 <= 16.0, 0.08, 0.0) + 0.5 * np.exp(-d2 / 2.0)
    hem = (0.02 + (1.0 - dab_share) * sig).astype(np.float32)
    return hem, (dab_share * sig).astype(np.float32)


def _found(dab_share, max_share):
    hem, dab = _pale((80, 80), [(40, 40)], dab_share)
    params = NucleusParams(dab_weight=1.0, pale_contour_max_dab_share=max_share)
    return len(nuclei_from_stains(hem, dab, mpp=MPP, params=params))


def test_a_pale_negative_is_kept_under_the_limit():
    assert _found(0.0, 0.3) == 1
    assert _found(0.0, None) == 1


def test_a_pale_positive_gets_no_second_contour():
    assert _found(0.8, None) == 1  # the unrestricted second contour keeps it
    assert _found(0.8, 0.3) == 0  # chromogen-dominant: left as the first contour left it (dropped)


def test_the_first_contour_is_never_restricted():
    hem, dab = _pale((80, 80), [(40, 40)], 0.8)
    dark = np.zeros_like(hem)
    rows, cols = np.indices(hem.shape)
    dark[((rows - 40) ** 2 + (cols - 40) ** 2) * MPP * MPP <= 16.0] = 0.4  # a dark positive: no second contour needed
    off = nuclei_from_stains(hem, dab + dark, mpp=MPP, params=NucleusParams(pale_contour_fraction=None))
    on = nuclei_from_stains(hem, dab + dark, mpp=MPP, params=NucleusParams(pale_contour_max_dab_share=0.3))
    assert len(off) == len(on) == 1
    for name in off.FEATURES:
        assert getattr(off, name)[0] == getattr(on, name)[0]


@pytest.mark.parametrize("bad", [True, 0.0, -0.1, 1.5, float("nan"), "0.3"])
def test_bad_shares_are_refused(bad):
    with pytest.raises(ConfigError, match="pale_contour_max_dab_share"):
        NucleusParams(pale_contour_max_dab_share=bad)


def test_mapping_round_trip():
    params = NucleusParams(pale_contour_max_dab_share=0.3)
    assert NucleusParams.from_mapping(params.to_mapping()) == params
    assert "pale_contour_max_dab_share" not in NucleusParams(pale_contour_max_dab_share=None).to_mapping()
    assert NucleusParams().pale_contour_max_dab_share == 0.5  # the candidate (hematoxylin-dominant: DAB < H)
