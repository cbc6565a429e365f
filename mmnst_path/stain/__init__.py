"""Stain separation: optical density, stain vectors, colour deconvolution, stain estimation.

The OD convention is QuPath's: ``OD = -log10(max(I, 1) / I0)`` (see :mod:`.od` for the
converters to scikit-image, HistomicsTK and TIAToolbox scales). Importing this package is
cheap: numba (optional accelerator) and scikit-image are imported only when used.
"""

from __future__ import annotations

from .deconvolve import (
    get_backend,
    numba_available,
    rgb_from_stains,
    separate_stains,
    set_backend,
)
from .estimate import estimate_background, estimate_slide_stains, estimate_stains
from .od import (
    ln_od_from_od,
    od_from_ln_od,
    od_from_rgb,
    od_from_sda,
    od_from_skimage,
    rgb_from_od,
    sda_from_od,
    skimage_from_od,
)
from .vectors import (
    PRESETS,
    STAIN_NAMES,
    StainConditioningWarning,
    StainMatrix,
    angle_deg,
    get_preset,
    load_stains,
    melanin_vector,
)

__all__ = [
    "PRESETS",
    "STAIN_NAMES",
    "StainConditioningWarning",
    "StainMatrix",
    "angle_deg",
    "estimate_background",
    "estimate_slide_stains",
    "estimate_stains",
    "get_backend",
    "get_preset",
    "ln_od_from_od",
    "load_stains",
    "melanin_vector",
    "numba_available",
    "od_from_ln_od",
    "od_from_rgb",
    "od_from_sda",
    "od_from_skimage",
    "rgb_from_od",
    "rgb_from_stains",
    "sda_from_od",
    "separate_stains",
    "set_backend",
    "skimage_from_od",
]
