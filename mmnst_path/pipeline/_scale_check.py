"""The analysis resolution checked against the one the shipped models were trained at (session 42 H9, H5's walk
#3): ``analysis_mpp`` (``--analysis-mpp``) away from it changes the answer (a generated Ki67 slide at 0.5 µm/px:
21.3 % at the default 0.5 µm/px, 27.7 % at 1.0, truth 20.5 %), so such a run gets one warning naming the range."""

from __future__ import annotations

import warnings

__all__ = ["TRAINED_MPP_UM", "TRAINED_SCALE", "check_analysis_mpp", "trained_mpp_range"]

#: The analysis resolution of the shipped models, µm per pixel: the nucleus models' card setting
#: ``analysis_mpp_um`` (nucleus_default.mmnst, nucleus_red.mmnst), the melanin models' intended use ("at ~0.5 µm/px")
#: and the default ``analysis_mpp``.
TRAINED_MPP_UM = 0.5
#: The spread of pixel sizes the shipped tissue models were trained with around it (their cards' augmentation:
#: "claimed pixel size x0.85-1.18").
TRAINED_SCALE = (0.85, 1.18)


def trained_mpp_range() -> tuple[float, float]:
    """(low, high) µm per pixel the shipped models were trained over: 0.425 to 0.59."""
    return TRAINED_MPP_UM * TRAINED_SCALE[0], TRAINED_MPP_UM * TRAINED_SCALE[1]


def check_analysis_mpp(analysis_mpp: float, *, source: str) -> bool:
    """Warn (``UserWarning``, naming ``source``) when ``analysis_mpp`` lies outside :func:`trained_mpp_range`;
    return whether it did. The run goes on at the resolution asked."""
    lo, hi = trained_mpp_range()
    if lo <= analysis_mpp <= hi:
        return False
    warnings.warn(f"{source}: analysed at {analysis_mpp:g} µm/px (analysis_mpp, --analysis-mpp); the shipped models "
                  f"were trained at {TRAINED_MPP_UM:g} µm/px ({lo:.3g}-{hi:.3g} µm/px, from their model cards), so "
                  "figures at this resolution are not validated (nuclei and pigment read differently): keep the "
                  f"default {TRAINED_MPP_UM:g} unless a model of your own was trained at {analysis_mpp:g}",
                  UserWarning, stacklevel=2)
    return True
