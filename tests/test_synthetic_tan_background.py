"""The faint tan background staining of ``pigment_family_tile(tan_background=True)`` (issue #14)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.stain import od_from_rgb
from mmnst_path.synthetic import pigment_family_tile


@pytest.mark.parametrize(("seed", "family"), [(0, "sparse"), (3, "dusty")])
def test_tan_background_adds_faint_stain_and_leaves_the_truth(seed: int, family: str) -> None:
    plain = pigment_family_tile(seed, family, chromogen="dab", size=128)
    tan = pigment_family_tile(seed, family, chromogen="dab", size=128, tan_background=True)
    # the truth is the plain tile's: the tan staining is neither melanin nor Ki67
    assert tan.truth == plain.truth
    for name in ("melanin", "tissue", "nuclei", "positive_nuclei"):
        np.testing.assert_array_equal(tan.masks[name], plain.masks[name])
    assert "tan_background" not in plain.masks
    where = tan.masks["tan_background"]
    assert where.any()
    assert not (where & tan.masks["melanin"]).any()
    assert not (where & ~tan.masks["tissue"]).any()
    # faint: where the tan lies away from nuclei and melanin, it adds 0.05-0.5 OD (summed over channels, blurred)
    gain = od_from_rgb(tan.rgb).sum(-1) - od_from_rgb(plain.rgb).sum(-1)
    away = where & ~ndi.binary_dilation(tan.masks["nuclei"] > 0, iterations=3)
    assert away.sum() > 50
    assert 0.03 <= float(np.median(gain[away])) <= 0.9
    # brown: the blue channel gains the most (DAB's OD vector), red the least
    diff = od_from_rgb(tan.rgb)[away].mean(0) - od_from_rgb(plain.rgb)[away].mean(0)
    assert diff[2] > diff[0]


def test_tan_background_is_smooth_not_granular() -> None:
    tan = pigment_family_tile(5, "none", chromogen="dab", size=192, tan_background=True)
    plain = pigment_family_tile(5, "none", chromogen="dab", size=192)
    gain = od_from_rgb(tan.rgb).sum(-1) - od_from_rgb(plain.rgb).sum(-1)
    gain = ndi.gaussian_filter(gain, 1.0)  # the camera's noise and JPEG differ between the two renderings
    # granules (0.3-3 µm) would make sharp local maxima; the tan field varies over >= 5 µm
    fine = gain - ndi.gaussian_filter(gain, 4.0)
    inside = tan.masks["tan_background"] & ~ndi.binary_dilation(tan.masks["nuclei"] > 0, iterations=4)
    assert inside.sum() > 200
    assert float(np.abs(fine[inside]).mean()) < 0.05


def test_tan_background_is_refused_for_other_chromogens() -> None:
    with pytest.raises(ValueError, match="tan_background"):
        pigment_family_tile(0, "sparse", chromogen="aec", size=64, tan_background=True)
