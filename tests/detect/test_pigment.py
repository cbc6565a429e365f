"""pigment_mask: catches dark granules, leaves DAB-filled nuclei and plain tissue alone."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.detect.pigment import PigmentParams, estimate_melanin_vector, pigment_mask
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset, melanin_vector, rgb_from_stains


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H-DAB-melanin scene at 0.5 µm/px: a strong DAB nucleus and granules on pale cytoplasm."""
    m = get_preset("H-DAB-melanin")
    conc = np.zeros((96, 96, 3), np.float32)
    conc[..., 0] = 0.05
    yy, xx = np.mgrid[:96, :96]
    nucleus = (yy - 30) ** 2 + (xx - 30) ** 2 <= 9**2  # 9 µm DAB-positive nucleus
    conc[nucleus, 1] = 1.2
    granules = np.zeros((96, 96), bool)
    for r, c in [(70, 60), (72, 66), (66, 70), (78, 62), (75, 74)]:
        granules[r - 1 : r + 2, c - 1 : c + 2] = True  # 1.5 µm granules
    conc[granules, 2] = 1.3
    return rgb_from_stains(conc, m), nucleus, granules


def test_granules_found_dab_nucleus_not() -> None:
    rgb, nucleus, granules = _scene()
    mask = pigment_mask(rgb, mpp=0.5, stains="H-DAB")
    assert mask[granules].mean() > 0.8
    assert mask[nucleus].mean() == 0.0
    assert mask[~granules].mean() < 0.01


def test_plain_tissue_has_no_pigment() -> None:
    m = get_preset("H&E")
    conc = np.zeros((64, 64, 2), np.float32)
    conc[..., 0], conc[..., 1] = 0.4, 0.3
    rgb = rgb_from_stains(conc, m, stains=("hematoxylin", "eosin"))
    assert not pigment_mask(rgb, mpp=0.5, stains="H&E").any()


def test_colour_mode_on_he() -> None:
    m = get_preset("H&E-melanin")
    conc = np.zeros((64, 64, 3), np.float32)
    conc[..., 1] = 0.2
    conc[20:24, 20:24, 2] = 1.0
    mask = pigment_mask(rgb_from_stains(conc, m), mpp=0.5, stains="H&E")
    assert mask[20:24, 20:24].all()
    assert mask.sum() <= 16 + 16


def test_estimate_melanin_vector_recovers_direction() -> None:
    v = melanin_vector()
    od = np.clip(np.random.default_rng(0).normal(1.0, 0.1, (32, 32, 1)), 0.5, None) * v
    rgb = np.clip(np.rint(255 * 10.0 ** (-od)), 0, 255).astype(np.uint8)
    est = np.asarray(estimate_melanin_vector(rgb))
    assert float(est @ v) > 0.999


def test_bad_params_raise() -> None:
    with pytest.raises(ConfigError, match="granule_radius_um"):
        PigmentParams(granule_radius_um=0)
    with pytest.raises(ConfigError, match="mode"):
        PigmentParams(mode="magic")
    assert PigmentParams.from_mapping(PigmentParams().to_mapping()) == PigmentParams()
