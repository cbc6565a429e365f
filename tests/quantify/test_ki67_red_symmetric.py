"""Red chromogens (AEC, Fast Red; issue #14): the colour test reads a covered nucleus both ways
(``Ki67Params.red_covered_max_negative_od``) and vetoes a touched nucleus's visible-part read
(``Ki67Params.red_touched_min_chromogen_od``), session 32 H2."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mmnst_path.detect.nuclei import Nuclei
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.quantify.ki67 import Ki67Params, classify_nuclei
from mmnst_path.synthetic import pigment_family_tile

ONE_SIDED = {"red_covered_max_negative_od": 0.0, "red_touched_min_chromogen_od": 0.0}


def _nuclei(n: int) -> Nuclei:
    return Nuclei(row=np.arange(n, dtype=float), col=np.arange(n, dtype=float),
                  area_um2=np.full(n, 50.0, np.float32), dab_od_mean=np.full(n, 0.1, np.float32),
                  dab_od_max=np.full(n, 0.1, np.float32), hematoxylin_od_mean=np.full(n, 0.4, np.float32),
                  circularity=np.full(n, 0.8, np.float32), eccentricity=np.full(n, 0.3, np.float32), mpp=0.5)


# five covered nuclei (nothing visible) whose chromogen does NOT fill them (the fill rule reads none), the
# fifth near-black; their chromogen over all their pixels 0.9 (melanin and chromogen alike)
_COVERED = {"visible_fraction": [0.0] * 5, "visible_dab_od_mean": [np.nan] * 5, "dab_fill": [0.5] * 5,
            "ring_pigment_fraction": [0.6] * 5, "full_dab_od_mean": [0.9] * 5,
            "saturated_fraction": [0.0, 0.0, 0.0, 0.0, 0.9]}
_COVERED_COLOUR = [0.6, 0.2, 0.12, 0.02, 0.02]


def _classes(params: Ki67Params, colour: list | None, **evidence) -> list[str]:
    return classify_nuclei(_nuclei(len(evidence["visible_fraction"])), params, covered_chromogen_od=colour,
                           **evidence).cls.tolist()


def test_covered_nuclei_are_read_by_colour_both_ways():
    params = Ki67Params(red_covered_max_negative_od=0.1)
    assert _classes(params, _COVERED_COLOUR, **_COVERED) == ["positive", "positive", "pigment", "negative",
                                                             "pigment"]


def test_one_sided_the_unfilled_covered_nuclei_stay_pigment():
    params = Ki67Params(**ONE_SIDED)
    assert _classes(params, _COVERED_COLOUR, **_COVERED) == ["pigment"] * 5


def test_without_colour_the_covered_nuclei_stay_pigment():
    assert _classes(Ki67Params(red_covered_max_negative_od=0.1), None, **_COVERED) == ["pigment"] * 5


def test_covered_negatives_read_by_colour_carry_no_chromogen_od():
    """NaN: the slide's weak-stain threshold can neither count the melanin as stain nor turn it positive."""
    cells = classify_nuclei(_nuclei(5), Ki67Params(red_covered_max_negative_od=0.1),
                            covered_chromogen_od=_COVERED_COLOUR, **_COVERED)
    assert np.isnan(cells.dab_od_mean[3])
    assert cells.dab_od_mean[0] == pytest.approx(0.9)


# three touched nuclei read on their visible part (half visible, visible chromogen 0.8)
_TOUCHED = {"visible_fraction": [0.5] * 3, "visible_dab_od_mean": [0.8] * 3, "dab_fill": [0.5] * 3,
            "ring_pigment_fraction": [0.0] * 3, "full_dab_od_mean": [0.8] * 3}


def test_a_touched_nucleus_without_chromogen_by_colour_is_negative():
    params = Ki67Params(red_touched_min_chromogen_od=0.1)
    cells = classify_nuclei(_nuclei(3), params, covered_chromogen_od=[0.5, 0.11, 0.05], **_TOUCHED)
    assert cells.cls.tolist() == ["positive", "positive", "negative"]
    assert np.isnan(cells.dab_od_mean[2])


def test_the_visible_part_is_read_alone_when_off():
    cells = classify_nuclei(_nuclei(3), Ki67Params(**ONE_SIDED), covered_chromogen_od=[0.5, 0.11, 0.05], **_TOUCHED)
    assert cells.cls.tolist() == ["positive"] * 3


def test_the_defaults_read_both_ways():
    assert Ki67Params().red_covered_max_negative_od == 0.05
    assert Ki67Params().red_touched_min_chromogen_od == 0.05


def test_the_parameters_are_checked():
    for name in ONE_SIDED:
        for bad in (-0.1, float("nan"), float("inf")):
            with pytest.raises(ConfigError, match=name):
                Ki67Params(**{name: bad})
    with pytest.raises(ConfigError, match="must not exceed"):
        Ki67Params(red_covered_min_chromogen_od=0.15, red_covered_max_negative_od=0.2)
    Ki67Params(red_covered_min_chromogen_od=0.0, red_covered_max_negative_od=0.2)  # colour test off: no check


def _read(chromogen: str, family: str, seed: int, settings: dict) -> dict:
    tile = pigment_family_tile(seed, family, chromogen=chromogen, size=384, appearance="plain")
    preset = {"aec": "H-AEC", "fast_red": "H-FastRed", "dab": "H-DAB"}[chromogen]
    cfg = AnalysisConfig.from_mapping({"stains": preset, "measures": ["ki67", "melanin"], "ki67": settings})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = analyze_region(tile.rgb, cfg, mpp=tile.mpp).metrics
    return {**metrics, "truth": tile.truth["ki67_index_pct"]}


def test_fast_red_hidden_negatives_are_counted_too():
    """Generated Fast Red over-nucleus tile (dev seed 45): the one-sided fill rule counts hidden positives
    only (+6.1 pp); read both ways, hidden negatives join the index and it comes nearer the truth."""
    before, after = _read("fast_red", "over_nucleus", 45, ONE_SIDED), _read("fast_red", "over_nucleus", 45, {})
    assert after["ki67_negative"] > before["ki67_negative"]
    assert after["ki67_pigment"] < before["ki67_pigment"]
    assert abs(after["ki67_index_pct"] - after["truth"]) < abs(before["ki67_index_pct"] - before["truth"])


def test_aec_melanin_over_part_of_a_negative_is_not_read_as_chromogen():
    """Generated AEC coarse tile (dev seed 43): negatives with coarse melanin over part of the nucleus read
    positive on their visible part; the colour veto makes them negative."""
    before = _read("aec", "coarse", 43, {"red_touched_min_chromogen_od": 0.0})
    after = _read("aec", "coarse", 43, {})
    assert after["ki67_positive"] < before["ki67_positive"]
    assert abs(after["ki67_index_pct"] - after["truth"]) < abs(before["ki67_index_pct"] - before["truth"])


def test_dab_is_untouched():
    settings = {"red_covered_max_negative_od": 0.12, "red_touched_min_chromogen_od": 0.12}
    before, after = _read("dab", "over_nucleus", 45, ONE_SIDED), _read("dab", "over_nucleus", 45, settings)
    keys = ("ki67_positive", "ki67_negative", "ki67_pigment", "ki67_index_pct")
    assert [before[k] for k in keys] == [after[k] for k in keys]
