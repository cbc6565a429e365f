"""Ki67 / MART-1 (Melan-A) and Ki67 / SOX10 double stains: the melanocyte-restricted Ki67 index (#14)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.quantify._stats import wilson_interval
from mmnst_path.quantify.ki67 import (
    Ki67Counts,
    Ki67Params,
    chromogen_of,
    ki67_metrics,
    marker_of,
    measure_ki67,
    without_marker,
)
from mmnst_path.stain import get_preset
from mmnst_path.synthetic_double import double_stain_tile, match_cells

# worst |melanocytic index error| of benchmarks/eval_double_stain.py with Fast Red over 12 seeds
# was 8.0 (MART-1) and 8.3 pp (SOX10), mostly too low: with stain vectors 1-4° off, a SOX10
# nucleus that is also Ki67 positive loses red to DAB in the unmixing and drops out of the
# melanocytes. The tests allow 8.5 pp for MART-1 and 10 pp for SOX10.
TOL_PP = 8.5
TOL_PP_NUCLEAR = 10.0


@pytest.mark.parametrize(("name", "red"), [("H-DAB-FastRed", "fast_red"), ("H-DAB-AEC", "aec")])
def test_double_stain_presets_keep_dab_as_the_ki67_chromogen(name: str, red: str) -> None:
    import warnings

    from mmnst_path.stain import StainConditioningWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = get_preset(name)
    # AEC lies 8.4° from DAB: that preset says it is poorly conditioned, Fast Red (24°) does not
    assert any(issubclass(w.category, StainConditioningWarning) for w in caught) == (red == "aec")
    assert m.names == ("hematoxylin", "dab", red)
    assert chromogen_of(m) == "dab"
    assert "Ruifrok" in m.reference
    assert "Landini" in m.reference
    assert marker_of(m, Ki67Params()) == (red, "cytoplasmic")
    assert marker_of(m, Ki67Params(melanocyte_marker="nuclear")) == (red, "nuclear")
    assert marker_of(m, Ki67Params(melanocyte_marker="none")) is None


def test_marker_is_off_without_a_red_channel_and_an_explicit_marker_needs_one() -> None:
    assert marker_of(get_preset("H-DAB"), Ki67Params()) is None
    assert marker_of(get_preset("H-FastRed"), Ki67Params()) is None  # Ki67 itself is the red one
    with pytest.raises(ConfigError, match=r"melanocyte_marker=.nuclear.*H-DAB-FastRed"):
        marker_of(get_preset("H-DAB"), Ki67Params(melanocyte_marker="nuclear"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"melanocyte_marker": "membranous"}, "melanocyte_marker"), ({"melanocyte_min_od": -0.1}, "melanocyte_min_od"),
     ({"melanocyte_ring_um": 0.0}, "melanocyte_ring_um"), ({"tissue_model": " "}, "tissue_model")],
)
def test_params_are_validated(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Ki67Params(**kwargs)


def test_tissue_model_defaults_to_auto_and_round_trips() -> None:
    p = Ki67Params(tissue_model="default", melanocyte_marker="nuclear")
    assert Ki67Params().tissue_model == "auto"
    assert Ki67Params.from_mapping(p.to_mapping()) == p


def test_melanocytic_counts_add_and_give_a_wilson_index() -> None:
    a = Ki67Counts(positive=3, negative=7, positive_1plus=3, melanocytic_positive=2, melanocytic_negative=3)
    b = Ki67Counts(positive=1, negative=9, positive_1plus=1, melanocytic_positive=1, melanocytic_negative=4)
    m = ki67_metrics(a + b)
    assert m["index_pct"] == pytest.approx(20.0)  # the ordinary index ignores the marker
    assert m["melanocytic_denominator"] == 10
    assert m["melanocytic_index_pct"] == pytest.approx(30.0)
    lo, hi = wilson_interval(3, 10)
    assert (m["melanocytic_ci_low_pct"], m["melanocytic_ci_high_pct"]) == pytest.approx((100 * lo, 100 * hi))


def test_melanocytic_index_is_nan_not_zero_without_melanocytes() -> None:
    m = ki67_metrics(Ki67Counts(positive=2, negative=8, positive_1plus=2))
    assert m["melanocytic_denominator"] == 0
    assert math.isnan(m["melanocytic_index_pct"])
    assert math.isnan(m["melanocytic_ci_low_pct"])


def test_melanocytic_counts_cannot_exceed_the_index_counts() -> None:
    with pytest.raises(ConfigError, match="melanocytic_positive"):
        Ki67Counts(positive=1, negative=0, positive_1plus=1, melanocytic_positive=2)


def test_without_marker_leaves_plain_stains_alone_and_drops_the_red() -> None:
    rgb = np.full((4, 4, 3), 200, np.uint8)
    hdab = get_preset("H-DAB")
    same, m = without_marker(rgb, hdab)
    assert same is rgb
    assert m is hdab
    tile = double_stain_tile(3, marker="nuclear", size=128)
    clean, sub = without_marker(tile.rgb, get_preset("H-DAB-FastRed"))
    assert sub.names[:2] == ("hematoxylin", "dab")
    assert "fast_red" not in sub.names
    # red SOX10 nuclei lose their red: green (absorbed by Fast Red) comes back up on them
    red_px = tile.rgb[..., 1].astype(int) - tile.rgb[..., 2].astype(int) < -20
    assert red_px.any()
    assert clean[red_px, 1].mean() > tile.rgb[red_px, 1].mean() + 10


def _measure(tile, marker: str) -> tuple[dict, np.ndarray, np.ndarray, object]:
    from mmnst_path.detect.pigment import pigment_mask

    matrix = get_preset("H-DAB-FastRed")
    clean, sub = without_marker(tile.rgb, matrix)
    pig = pigment_mask(clean, mpp=tile.mpp, stains=sub)
    region = measure_ki67(tile.rgb, mpp=tile.mpp, stains=matrix, pigment_mask=pig,
                          params=Ki67Params(cell_model="none", melanocyte_marker=marker))
    cells = region.cells
    idx = match_cells(tile, cells.row, cells.col)
    ok = (idx >= 0) & np.isin(cells.cls, ("positive", "negative"))
    truth = tile.cells[idx[ok], 3] > 0
    return ki67_metrics(region.counts), truth, cells.melanocytic[ok], region


@pytest.mark.parametrize(("marker", "seed"), [("cytoplasmic", 0), ("cytoplasmic", 4), ("nuclear", 0), ("nuclear", 4)])
def test_melanocytic_index_matches_the_generator_truth(marker: str, seed: int) -> None:
    tile = double_stain_tile(seed, marker=marker)
    m, truth, called, region = _measure(tile, marker)
    tol = TOL_PP if marker == "cytoplasmic" else TOL_PP_NUCLEAR
    assert abs(m["melanocytic_index_pct"] - tile.truth["melanocytic_index_pct"]) <= tol
    # marker sensitivity / specificity on the counted cells (benchmark worst over 12 held-out seeds:
    # 0.79 / 0.82 MART-1, 0.89 / 0.95 SOX10 Fast Red since Ki67-positive nuclei are called from a
    # lower red, quantify._ki67_double; seed 4 without a cell model: 0.93); a neighbour's red
    # cytoplasm can reach a stromal ring
    assert called[truth].mean() >= 0.75
    assert (~called[~truth]).mean() >= (0.8 if marker == "cytoplasmic" else 0.9)
    assert m["melanocytic_denominator"] == int((region.cells.melanocytic
                                                & np.isin(region.cells.cls, ("positive", "negative"))).sum())


def test_the_marker_does_not_change_the_ordinary_index() -> None:
    tile = double_stain_tile(2, marker="cytoplasmic", size=256)
    on = measure_ki67(tile.rgb, mpp=tile.mpp, stains="H-DAB-FastRed", params=Ki67Params(cell_model="none"))
    off = measure_ki67(tile.rgb, mpp=tile.mpp, stains="H-DAB-FastRed",
                       params=Ki67Params(cell_model="none", melanocyte_marker="none"))
    assert (on.counts.positive, on.counts.negative, on.counts.pigment) == (
        off.counts.positive, off.counts.negative, off.counts.pigment)
    assert on.counts.melanocytic_positive + on.counts.melanocytic_negative > 0
    assert off.counts.melanocytic_positive == off.counts.melanocytic_negative == 0
    assert not off.cells.melanocytic.any()
    assert np.isnan(off.cells.marker_od_mean).all()


def test_melanin_is_not_read_as_the_red_marker() -> None:
    # melanocyte-free tile with heavy melanin: nothing may become melanocytic
    tile = double_stain_tile(5, melanocyte_fraction=(0.0, 0.0), size=256)
    from mmnst_path.synthetic import ki67_pigment_tile

    pig_tile = ki67_pigment_tile(5, size=256, pigmented_cells=0.8)
    for rgb in (tile.rgb, pig_tile.rgb):
        region = measure_ki67(rgb, mpp=0.5, stains="H-DAB-FastRed", params=Ki67Params(cell_model="none"))
        assert region.cells.melanocytic.mean() <= 0.03


@functools.cache
def _double_result() -> tuple:
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    tile = double_stain_tile(1, marker="cytoplasmic")
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB-FastRed", "measures": ["ki67"]})
    return tile, analyze_region(tile.rgb, cfg, mpp=tile.mpp)


def test_double_stain_through_analyze_region() -> None:
    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.report import summary_row

    tile, res = _double_result()
    m = res.metrics
    assert abs(m["ki67_melanocytic_index_pct"] - tile.truth["melanocytic_index_pct"]) <= TOL_PP
    assert m["ki67_melanocytic_ci_low_pct"] <= m["ki67_melanocytic_index_pct"] <= m["ki67_melanocytic_ci_high_pct"]
    mel = np.asarray(res.cells.columns["melanocytic"], bool)
    pos, neg = CELL_CLASSES.index("positive"), CELL_CLASSES.index("negative")
    # after the slide-level threshold the counts still agree with the cells
    assert res.counts["ki67"].melanocytic_positive == int((mel & (res.cells.cls == pos)).sum())
    assert res.counts["ki67"].melanocytic_negative == int((mel & (res.cells.cls == neg)).sum())
    assert m["ki67_melanocytic_denominator"] == int(mel[(res.cells.cls == pos) | (res.cells.cls == neg)].sum())
    from mmnst_path.classify.pigment import resolve_pigment_model

    # DAB is the brown chromogen of the double stain, so the shipped H-DAB pigment model ran
    assert res.versions["pigment_model"].startswith(resolve_pigment_model("dab").model_id + " ")
    row = summary_row(res)
    assert row["ki67_melanocytic_index_pct"] == m["ki67_melanocytic_index_pct"]
    assert row["ki67_melanocyte_marker"] == "cytoplasmic"
    assert row["pigment_model"] == res.versions["pigment_model"]


def test_double_stain_reaches_summary_csv_cells_csv_and_report_html(tmp_path) -> None:
    import csv

    from mmnst_path.html_report import render_report
    from mmnst_path.report import cells_csv_text, summary_row, write_summary_csv

    _, res = _double_result()
    row = summary_row(res)
    row["input"] = "double.tif"
    path = write_summary_csv([row], tmp_path / "summary.csv")
    with open(path, encoding="utf-8") as fh:
        got = next(csv.DictReader(fh))
    assert float(got["ki67_melanocytic_index_pct"]) == pytest.approx(row["ki67_melanocytic_index_pct"], abs=1e-4)
    assert int(got["ki67_melanocytic_denominator"]) == row["ki67_melanocytic_denominator"]
    assert got["pigment_model"].startswith("sha256:")
    header = cells_csv_text(res.cells).splitlines()[0].split(",")
    assert "melanocytic" in header
    page = render_report([row])
    idx = row["ki67_melanocytic_index_pct"]
    # named H-DAB-FastRed with the marker left auto: read cytoplasmic and said as assumed (session 43, H7's walk #4)
    assert row["ki67_melanocyte_marker_source"] == "assumed"
    assert f"Ki67 in melanocytes (cytoplasmic marker, assumed): {idx:.1f} %" in page
    assert f"n={row['ki67_melanocytic_denominator']}" in page
    plain = dict(row, ki67_melanocyte_marker="")
    assert "Ki67 in melanocytes" not in render_report([plain])


def test_plain_h_dab_run_has_no_melanocytic_column_and_a_nan_index() -> None:
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    tile = double_stain_tile(1, size=192)
    res = analyze_region(tile.rgb, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=0.5)
    assert "melanocytic" not in res.cells.columns
    assert math.isnan(res.metrics["ki67_melanocytic_index_pct"])
    assert res.metrics["ki67_melanocytic_denominator"] == 0


def test_contrast_rule_stays_off_where_the_grey_correction_cannot_run() -> None:
    # a three-stain matrix has no residual (hue) axis; red SOX10 crosstalk into the DAB channel
    # would otherwise read as nuclear contrast (measured: melanocytic index 36.4 -> 48.3 % on seed 4)
    tile = double_stain_tile(4, marker="nuclear")
    matrix = get_preset("H-DAB-FastRed")
    out = [measure_ki67(tile.rgb, mpp=tile.mpp, stains=matrix,
                        params=Ki67Params(cell_model="none", melanocyte_marker="nuclear", nuclear_contrast_rule=rule))
           .counts for rule in (False, True)]
    assert out[0] == out[1]
    from mmnst_path.quantify.ki67 import nuclear_contrast_applies

    assert not nuclear_contrast_applies(Ki67Params(), matrix)
    assert nuclear_contrast_applies(Ki67Params(), get_preset("H-DAB"))
    assert nuclear_contrast_applies(Ki67Params(), get_preset("H-AEC"))
    assert not nuclear_contrast_applies(Ki67Params(nuclear_contrast_rule=False), get_preset("H-DAB"))
