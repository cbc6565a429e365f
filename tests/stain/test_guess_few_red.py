"""Rule (1b) of the stain guess (issue #14, session 32): a few red nuclear bodies beside melanin name a
red chromogen whatever the melanin-covered brown bodies, while a reddish DAB's bodies stay H-DAB."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mmnst_path.stain import guess as guess_module
from mmnst_path.stain import melanin_vector
from mmnst_path.stain.guess import StainGuess, guess_stains_detail
from mmnst_path.stain.places import ChromogenPlaces

MPP = 0.5


def _vector_at(deg: float) -> np.ndarray:
    """A unit OD vector whose hematoxylin-free residual lies ``deg`` degrees from DAB (towards grey
    when positive), with enough hematoxylin to keep every channel positive."""
    rad = math.radians(deg)
    resid = math.cos(rad) * guess_module._E1 + math.sin(rad) * guess_module._E2
    v = resid + 1.2 * guess_module._H
    assert np.all(v > 0)
    return v / np.linalg.norm(v)


def _tile(chromogen_deg: float, n_positive: int) -> np.ndarray:
    """400 x 400 px at 0.5 µm/px (0.04 mm²): blue nuclei on a grid, ``n_positive`` of them filled with a
    chromogen at ``chromogen_deg``, every fourth other one covered by melanin (brown nuclear bodies) and ragged clusters of
    melanin granules over a fifth of the tissue, so that by colour the melanin outweighs the chromogen."""
    shape = (400, 400)
    yy, xx = np.mgrid[:400, :400]
    nuc = np.zeros(shape)
    chrom = np.zeros(shape)
    mel = np.zeros(shape)
    centres = [(25 + 50 * i, 25 + 50 * j) for i in range(8) for j in range(8)]
    for k, (cy, cx) in enumerate(centres):
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= 8.0 ** 2
        nuc[disc] = 1.0
        if k < n_positive:
            chrom[disc] = 0.8
        elif k % 4 == 1:
            mel[disc] = 0.9  # a nucleus under melanin: a brown nuclear body
    rng = np.random.default_rng(3)
    for _ in range(500):  # ragged clusters of 0.5 µm granules
        cy, cx = rng.integers(10, 390, 2)
        ys, xs = np.clip(rng.normal((cy, cx), 6.0, (60, 2)).astype(int), 0, 399).T
        mel[ys, xs] = np.maximum(mel[ys, xs], 1.3)
    mel[chrom > 0] = 0.0
    h = np.asarray(guess_module._H)
    od = ((0.1 + 0.25 * nuc)[..., None] * h + chrom[..., None] * _vector_at(chromogen_deg)
          + mel[..., None] * np.asarray(melanin_vector()))
    return np.clip(np.rint(255.0 * 10.0 ** -od), 0, 255).astype(np.uint8)


def _guess(rgb: np.ndarray, mpp: float | None) -> StainGuess:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return guess_stains_detail(rgb, mpp=mpp)


@pytest.mark.parametrize(("deg", "name"), [(-40.0, "H-FastRed"), (-21.0, "H-AEC")])
def test_a_few_red_positives_beside_melanin_name_a_red_chromogen(deg, name):
    """3 red positives (75 per mm²) beside melanin-covered nuclei (150 brown bodies per mm²) and granule clusters: the colour
    says H-DAB (the melanin peak), the rule before (>= 150 red bodies per mm², twice the brown) left it
    there; the few red bodies name the red chromogen by their angle, flagged with H-DAB to pass."""
    rgb = _tile(deg, 3)
    assert _guess(rgb, None).name == "H-DAB"
    g = _guess(rgb, MPP)
    assert g.places is not None
    assert g.places.red_bodies_mm2 < guess_module.RED_OVER_BROWN * g.places.brown_bodies_mm2  # the old ratio fails
    assert g.places.red_bodies_mm2 < guess_module.RED_BODIES_MM2
    assert g.name == name, g.reason
    assert g.ambiguous
    assert g.alternative == "H-DAB"
    assert "a few round nuclear bodies" in g.reason


@pytest.mark.parametrize("deg", [-15.5, 0.0])
def test_reddish_dab_bodies_stay_dab(deg):
    """The same tile with its positives in a DAB turned towards AEC (its bodies at -15.5°, the reddest
    DAB bodies seen on dev tiles) or in DAB itself: H-DAB."""
    assert _guess(_tile(deg, 3), MPP).name == "H-DAB"


def test_the_rule_reads_counts_angle_and_the_colour_guess():
    """On measured places: below the count or above the angle nothing changes, nor does a colour guess
    other than H-DAB."""
    dab = StainGuess("H-DAB", False, "chromogen at +8°", 8.0, 0.02, (255.0, 255.0, 255.0))
    few = guess_module.RED_FEW_BODIES_MM2

    def places(red: float, deg: float) -> ChromogenPlaces:
        return ChromogenPlaces(brown_bodies_mm2=300.0, red_bodies_mm2=red, red_ring_share=0.0,
                               brown_body_deg=12.0, red_body_deg=deg)

    assert guess_module._by_places(dab, places(few, -30.0), False).name == "H-FastRed"
    assert guess_module._by_places(dab, places(few, -20.0), False).name == "H-AEC"
    assert guess_module._by_places(dab, places(0.8 * few, -30.0), False).name == "H-DAB"
    assert guess_module._by_places(dab, places(few, guess_module.RED_FEW_DEG + 0.1), False).name == "H-DAB"
    assert guess_module._by_places(dab, places(few, math.nan), False).name == "H-DAB"
    he = StainGuess("H&E", False, "eosin", math.nan, 0.6, (255.0, 255.0, 255.0))
    assert guess_module._by_places(he, places(few, -30.0), False).name == "H&E"
