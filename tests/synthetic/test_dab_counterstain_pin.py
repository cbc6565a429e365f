"""The counterstain under the generated DAB positives of ``pigment_family_tile(dab_strength="endonuke")``:
the hematoxylin a tile's positives read back is the level drawn for that tile, whatever the tile's stain scale.

The level is a measured concentration (EndoNuke, :mod:`mmnst_path._synthetic_dab`), so the generator divides it
by the tile's stain scale before painting and the scale multiplies it back. A counterstain painted without that
division reads back ``scale`` (0.75-1.25) times the drawn level: the per-tile readback then follows the scale, which
``tests/synthetic/test_dab_strength.py`` (only "darker than the standard positives") does not see.
"""

from __future__ import annotations

import numpy as np

from mmnst_path._synthetic_dab import EndoNukeDab
from mmnst_path.stain import get_preset, separate_stains
from mmnst_path.synthetic import FAMILY_CHROMOGENS, PIGMENT_FAMILIES, pigment_family_tile

#: plain tiles (no pigment), 40 % positives; levels below this are not read (the tile's 0.05 OD background
#: hematoxylin and the unmixing's crosstalk dominate there)
FAMILY, MIN_LEVEL = "none", 0.2


def _drawn_level(seed: int) -> float:
    """The tile's hematoxylin level under its positives: the first draws of its own stream (tag 12)."""
    rng = np.random.default_rng([seed, PIGMENT_FAMILIES.index(FAMILY), FAMILY_CHROMOGENS.index("dab"), 12])
    return EndoNukeDab(rng).hem


def test_positives_counterstain_reads_back_at_the_drawn_level_whatever_the_stain_scale() -> None:
    scales, ratios = [], []
    for seed in range(32):
        level = _drawn_level(seed)
        if level < MIN_LEVEL:
            continue
        tile = pigment_family_tile(seed, FAMILY, size=192, positive_fraction=0.4, dab_strength="endonuke")
        hem = separate_stains(tile.rgb, get_preset("H-DAB"), stains=("hematoxylin",))[..., 0]
        ratios.append(float(np.median(hem[tile.masks["positive_nuclei"]])) / level)
        scales.append(tile.truth["stain_scale"])
    assert len(ratios) >= 20
    assert min(scales) < 0.85  # the tiles span the scales drawn (0.75-1.25)
    assert max(scales) > 1.15
    # the level: read back at ~0.9x what was drawn (blur and the pixels at the nuclei's rims; 0.91 on these 28 tiles)
    assert 0.8 < float(np.median(ratios)) < 1.1
    # ... independent of the stain scale: log(readback / drawn) against log(scale) has a slope near 0
    # (0.14 on these seeds; 1.04 when the counterstain is not divided by the scale)
    slope = float(np.polyfit(np.log(scales), np.log(ratios), 1)[0])
    assert abs(slope) < 0.5, slope
