"""The azure B counterstain preset (``AzureB-DAB``, issue #14): vectors, reference, round trips."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.detect._pigment_core import stained_melanin_sector
from mmnst_path.stain import (
    PRESETS,
    STAIN_NAMES,
    StainMatrix,
    angle_deg,
    get_preset,
    load_stains,
    melanin_vector,
)

LANDINI_METHYLENE_BLUE = (0.834750, 0.513556, 0.196330)


def test_preset_holds_azure_b_and_dab_with_its_reference():
    m = get_preset("AzureB-DAB")
    assert "AzureB-DAB" in PRESETS
    assert "azure_b" in STAIN_NAMES
    assert m.stain_names == ("azure_b", "dab")
    v = np.asarray(LANDINI_METHYLENE_BLUE)
    np.testing.assert_allclose(m.vector("azure_b"), v / np.linalg.norm(v), atol=1e-9)
    assert "Kamino" in m.reference
    assert "Landini" in m.reference
    assert "Ruifrok" in m.reference
    # a well separated pair (no conditioning warning): azure B is ~48° from DAB
    assert m.condition_number < 3.0
    assert 45.0 < angle_deg(m.vector("azure_b"), m.vector("dab")) < 50.0


def test_preset_round_trips_through_json_qupath_and_load_stains():
    m = get_preset("azureb-dab")  # case-insensitive
    assert StainMatrix.from_json(m.to_json()) == m
    q = StainMatrix.from_json(m.to_qupath())
    assert q.stain_names == ("azure_b", "dab")
    np.testing.assert_allclose(q.vectors[:2], m.vectors[:2], atol=1e-5)
    assert load_stains("AzureB-DAB") == m


@pytest.mark.parametrize("k", [0.8, 1.0, 2.0])
def test_stained_melanin_lies_in_the_sector_and_nuclei_do_not(k):
    az = np.array([0.6, 0.3, 0.0])  # counterstain concentration of: stained melanin, negative nucleus, cytoplasm
    dab = np.array([0.6 / k, 0.02, 0.0])
    pos = (np.array([0.15]), np.array([0.8]))  # a Ki67-positive nucleus: DAB with a little counterstain
    channel, angle = stained_melanin_sector(az, dab, (0.6, 3.0))
    assert angle[0] == 0.0
    assert channel[0] == pytest.approx(min(0.6, 0.6 / k))
    assert angle[1] > 10.0  # counterstain only
    ch_pos, ang_pos = stained_melanin_sector(*pos, (0.6, 3.0))
    assert ang_pos[0] > 10.0
    assert ch_pos[0] == pytest.approx(0.15)


def test_melanin_stays_near_dab_so_azure_b_is_what_separates_it():
    m = get_preset("AzureB-DAB")
    assert angle_deg(melanin_vector(), m.vector("dab")) < 8.0
    assert angle_deg(melanin_vector(), m.vector("azure_b")) > 40.0
