"""The second contour of pale nuclei the first contour leaves too small (detect/_pale_contour.py)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains
from mmnst_path.errors import ConfigError

MPP = 0.5
OFF = NucleusParams(pale_contour_fraction=None)


def _planes(shape, pale, dark):
    """Hematoxylin and DAB planes (log10 OD): ``pale`` nuclei as a flat 0.08 OD disc of radius 4 µm
    with a bright 1 µm core (the contour at 0.3 of the peak keeps the core only), ``dark`` ones as
    uniform 0.35 OD hematoxylin discs of radius 4 µm."""
    rows, cols = np.indices(shape, dtype=np.float32)
    hem = np.full(shape, 0.02, np.float32)
    for r, c in pale:
        d2 = ((rows - r) ** 2 + (cols - c) ** 2) * MPP * MPP
        hem += np.where(d2 <= 16.0, 0.08, 0.0) + 0.5 * np.exp(-d2 / 2.0)
    for r, c in dark:
        d2 = ((rows - r) ** 2 + (cols - c) ** 2) * MPP * MPP
        hem += np.where(d2 <= 16.0, 0.35, 0.0)
    return hem.astype(np.float32), np.zeros(shape, np.float32)


def test_a_pale_nucleus_with_a_small_core_is_kept():
    hem, dab = _planes((80, 80), [(40, 40)], [])
    assert len(nuclei_from_stains(hem, dab, mpp=MPP, params=OFF)) == 0  # the core alone: under 25 µm²
    nuc = nuclei_from_stains(hem, dab, mpp=MPP)
    assert len(nuc) == 1
    assert abs(nuc.row[0] - 40) < 1
    assert abs(nuc.col[0] - 40) < 1
    assert NucleusParams().min_area_um2 <= nuc.area_um2[0] <= np.pi * 4.5**2


def test_other_nuclei_are_untouched():
    pale = [(40, 40), (40, 160)]
    dark = [(40, 100), (110, 40), (110, 100), (110, 160)]
    hem, dab = _planes((150, 200), pale, dark)
    off = nuclei_from_stains(hem, dab, mpp=MPP, params=OFF, return_labels=True)
    on = nuclei_from_stains(hem, dab, mpp=MPP, return_labels=True)
    assert len(off) == len(dark)
    assert len(on) == len(dark) + len(pale)
    # the dark nuclei: the same pixels and features, bit for bit
    for k in range(len(off)):
        j = int(on.labels[round(off.row[k]), round(off.col[k])]) - 1
        assert j >= 0
        np.testing.assert_array_equal(off.labels == k + 1, on.labels == j + 1)
        for name in off.FEATURES:
            assert getattr(off, name)[k] == getattr(on, name)[j]


def test_no_second_contour_at_or_above_the_first():
    hem, dab = _planes((80, 80), [(40, 40)], [])
    same = NucleusParams(pale_contour_fraction=NucleusParams().contour_fraction)
    assert len(nuclei_from_stains(hem, dab, mpp=MPP, params=same)) == 0


def test_the_coarse_seed_grid_keeps_it_too():
    hem, dab = _planes((80, 80), [(40, 40)], [])
    assert len(nuclei_from_stains(hem, dab, mpp=MPP, params=NucleusParams(seed_scale_um=1.0))) == 1


@pytest.mark.parametrize("bad", [True, -0.1, float("nan"), "0.1"])
def test_bad_fractions_are_refused(bad):
    with pytest.raises(ConfigError, match="pale_contour_fraction"):
        NucleusParams(pale_contour_fraction=bad)


def test_mapping_round_trip():
    assert NucleusParams().to_mapping()["pale_contour_fraction"] == NucleusParams().pale_contour_fraction
    assert "pale_contour_fraction" not in OFF.to_mapping()
    assert NucleusParams.from_mapping(OFF.to_mapping()).pale_contour_fraction == NucleusParams().pale_contour_fraction
    assert NucleusParams.from_mapping({"pale_contour_fraction": None}) == OFF
