"""Red chromogens (AEC, Fast Red; issue #14, session 31): the slide's weak-stain threshold follows its own
unstained nuclei (``Ki67Params.red_baseline_margin_od``, ``weak_stain_basis = "baseline"``), so faint red
positives are counted on a slide whose strong positives keep the DAB-unit adaptation at its top; DAB is untouched."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.quantify.ki67 import Ki67Params, slide_positive_threshold
from mmnst_path.synthetic import pigment_family_tile

#: unstained nuclei at 0.03 OD, faint positives at 0.15, strong ones at 1.2 (the stained median stays high)
FAINT = np.r_[np.full(70, 0.03), np.full(10, 0.15), np.full(20, 1.2)]
BASELINE = Ki67Params(weak_stain_basis="baseline", weak_stain_baseline_margin_od=0.1, weak_stain_min_threshold_od=0.05)


def test_the_stained_form_keeps_faint_positives_out_and_the_baseline_form_counts_them():
    assert slide_positive_threshold(FAINT) == pytest.approx(0.35)  # 0.7 x median(stained) > 0.35
    thr = slide_positive_threshold(FAINT, BASELINE)
    assert thr == pytest.approx(0.13)  # median of the unstained (0.03) + 0.1
    assert int((FAINT >= thr).sum()) == 30


def test_the_baseline_form_follows_a_lifted_baseline_and_stays_within_its_bounds():
    lifted = FAINT + 0.05
    assert slide_positive_threshold(lifted, BASELINE) == pytest.approx(0.18)
    assert slide_positive_threshold(FAINT - 0.1, BASELINE) == pytest.approx(0.05)  # the floor
    high = Ki67Params(weak_stain_basis="baseline", weak_stain_baseline_margin_od=0.5)
    assert slide_positive_threshold(FAINT, high) == pytest.approx(0.35)  # never above positive_threshold_od


def test_the_baseline_form_needs_a_margin_and_enough_unstained_nuclei():
    off = Ki67Params(weak_stain_basis="baseline", weak_stain_baseline_margin_od=0.0)
    assert slide_positive_threshold(FAINT, off) == pytest.approx(0.35)
    few = np.r_[np.full(9, 0.03), np.full(50, 0.6)]
    assert slide_positive_threshold(few, BASELINE) == pytest.approx(0.35)
    assert slide_positive_threshold(np.r_[few, 0.04], BASELINE) < 0.35
    no_adapt = Ki67Params(weak_stain_adaptation=False, weak_stain_basis="baseline", weak_stain_baseline_margin_od=0.1)
    assert slide_positive_threshold(FAINT, no_adapt) == pytest.approx(0.35)


def test_for_chromogen_switches_only_the_red_chromogens():
    p = Ki67Params(red_baseline_margin_od=0.12, red_min_threshold_od=0.08)
    assert p.for_chromogen("dab") is p
    for chromogen, top in (("aec", 0.35), ("fast_red", 0.25)):
        q = p.for_chromogen(chromogen)
        assert (q.weak_stain_basis, q.weak_stain_baseline_margin_od, q.weak_stain_min_threshold_od) == (
            "baseline", 0.12, 0.08)
        assert q.positive_threshold_od == pytest.approx(top)
        assert q.for_chromogen(chromogen) == q  # a recorded config read back changes nothing
    off = Ki67Params(red_baseline_margin_od=0.0)
    assert off.for_chromogen("aec") is off
    assert off.for_chromogen("fast_red").weak_stain_basis == "stained"


@pytest.mark.parametrize("kwargs", [{"weak_stain_basis": "median"}, {"red_baseline_margin_od": -0.1},
                                    {"red_min_threshold_od": float("nan")}, {"red_baseline_margin_od": True}])
def test_bad_values_are_refused(kwargs):
    with pytest.raises(ConfigError, match="Ki67Params"):
        Ki67Params(**kwargs)


def _run(tile, preset: str, margin: float):
    cfg = AnalysisConfig.from_mapping({"stains": preset, "measures": ["ki67"],
                                       "ki67": {"red_baseline_margin_od": margin}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze_region(tile.rgb, cfg, mpp=tile.mpp)


def test_faint_fast_red_positives_are_counted_by_the_pipeline():
    """Generated Fast Red tile with faint 1+ positives (dev seed 40, no pigment; truth 11.28 %): the DAB-unit
    adaptation cannot lower Fast Red's 0.25 and reads 8.33 %; the baseline form counts the faint ones."""
    tile = pigment_family_tile(40, "none", chromogen="fast_red", positives="wide")
    old, new = _run(tile, "H-FastRed", 0.0), _run(tile, "H-FastRed", 0.12)
    truth = tile.truth["ki67_index_pct"]
    assert old.metrics["ki67_positive_threshold_od"] == pytest.approx(0.25)
    assert new.metrics["ki67_positive_threshold_od"] < 0.2
    assert abs(new.metrics["ki67_index_pct"] - truth) < abs(old.metrics["ki67_index_pct"] - truth)
    assert new.config["ki67"]["weak_stain_basis"] == "baseline"


def test_dab_is_untouched():
    tile = pigment_family_tile(40, "none", chromogen="dab", positives="wide")
    a, b = _run(tile, "H-DAB", 0.0), _run(tile, "H-DAB", 0.12)
    assert a.metrics["ki67_index_pct"] == b.metrics["ki67_index_pct"]
    assert a.metrics["ki67_positive_threshold_od"] == b.metrics["ki67_positive_threshold_od"]
    np.testing.assert_array_equal(a.cells.cls, b.cells.cls)
    assert b.config["ki67"]["weak_stain_basis"] == "stained"


def test_the_red_baseline_threshold_is_off_by_default():
    """Opt-in: it failed the held-out gate of its rule (session 31 H1), so an AEC or Fast Red slide keeps
    the stained-median adaptation unless the user sets ``red_baseline_margin_od``."""
    default = Ki67Params()
    assert default.red_baseline_margin_od == 0
    for chromogen in ("aec", "fast_red"):
        assert default.for_chromogen(chromogen).weak_stain_basis == "stained"
