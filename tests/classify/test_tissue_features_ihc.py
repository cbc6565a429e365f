"""Positivity-blind tissue features for IHC (``chromogen_as_hematoxylin``, ``nuclear_cap_od``)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_features
from mmnst_path.errors import ConfigError
from mmnst_path.stain import load_stains


def _disks(od: float, stain: str) -> np.ndarray:
    """128² px at 0.5 µm/px: faint hematoxylin background with a grid of 8 µm nuclei of ``od`` in ``stain``."""
    vec = {n: np.asarray(v, np.float64) for n, v in zip(load_stains("H-DAB").names, load_stains("H-DAB").vectors,
                                                         strict=True)}
    yy, xx = np.mgrid[:128, :128]
    nuclei = ((yy % 24 - 12) ** 2 + (xx % 24 - 12) ** 2) <= 64
    conc = np.zeros((128, 128, 3))
    conc += 0.06 * vec["hematoxylin"]
    conc[nuclei] = od * vec[stain]
    return np.clip(np.rint(250.0 * 10.0 ** -conc), 0, 255).astype(np.uint8)


def test_chromogen_as_hematoxylin_makes_positive_and_negative_nuclei_alike() -> None:
    blind = TissueFeatureSettings(chromogen_as_hematoxylin=True)
    plain = TissueFeatureSettings()
    neg, pos = _disks(0.6, "hematoxylin"), _disks(0.6, "dab")
    f_neg, _ = tissue_features(neg, mpp=0.5, stains="H-DAB", settings=blind)
    f_pos, _ = tissue_features(pos, mpp=0.5, stains="H-DAB", settings=blind)
    p_neg, _ = tissue_features(neg, mpp=0.5, stains="H-DAB", settings=plain)
    p_pos, _ = tissue_features(pos, mpp=0.5, stains="H-DAB", settings=plain)
    blind_diff = np.abs(f_neg - f_pos).max(axis=(0, 1))
    plain_diff = np.abs(p_neg - p_pos).max(axis=(0, 1))
    assert blind_diff.max() < 0.05  # uint8 rounding only
    assert plain_diff.max() > 0.3  # without the option the DAB share of the nuclei shows


def test_nuclear_cap_makes_dark_and_pale_nuclei_alike() -> None:
    capped = TissueFeatureSettings(chromogen_as_hematoxylin=True, nuclear_cap_od=0.3)
    blind = TissueFeatureSettings(chromogen_as_hematoxylin=True)
    dark, pale = _disks(1.0, "dab"), _disks(0.45, "hematoxylin")
    c = [tissue_features(x, mpp=0.5, stains="H-DAB", settings=capped)[0] for x in (dark, pale)]
    b = [tissue_features(x, mpp=0.5, stains="H-DAB", settings=blind)[0] for x in (dark, pale)]
    assert np.abs(c[0] - c[1]).max() < 0.05
    assert np.abs(b[0] - b[1]).max() > 0.1


def test_settings_round_trip_and_checks() -> None:
    s = TissueFeatureSettings(chromogen_as_hematoxylin=True, nuclear_cap_od=0.35)
    assert TissueFeatureSettings.from_mapping(s.to_mapping()) == s
    assert TissueFeatureSettings.from_mapping({}) == TissueFeatureSettings()  # older model files: no option
    with pytest.raises(ConfigError, match="nuclear_cap_od"):
        TissueFeatureSettings(nuclear_cap_od=-1.0)
    with pytest.raises(ConfigError, match="chromogen_as_hematoxylin"):
        TissueFeatureSettings(chromogen_as_hematoxylin="yes")  # type: ignore[arg-type]
