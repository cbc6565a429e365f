"""Near-black QC (#14): positives at least half near-black are counted, summed over tiles and said
in plain words, because strong DAB and melanin without granules cannot be told apart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmnst_path.aggregate import CELL_CLASSES, CellTable, TileTable, apply_slide_threshold
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.quantify.ki67 import Ki67Counts, Ki67Params, ki67_metrics, measure_ki67
from mmnst_path.report import near_black_warning, summary_row

COLOUR = {"neg": (110, 120, 185), "pos": (160, 105, 60), "black": (12, 10, 9)}


def _draw(kinds: list[str], *, cols: int = 6, spacing: int = 40, r: int = 8) -> np.ndarray:
    """Discs on a light background: hematoxylin-blue, brown and near-black (a 1 px brown rim)."""
    rows = -(-len(kinds) // cols)
    img = np.full((rows * spacing + spacing, cols * spacing + spacing, 3), 235, np.uint8)
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    for i, kind in enumerate(kinds):
        d = (yy - spacing - (i // cols) * spacing) ** 2 + (xx - spacing - (i % cols) * spacing) ** 2
        img[d <= r * r] = COLOUR[kind]
        if kind == "black":
            img[(d <= r * r) & (d > (r - 1) ** 2)] = (120, 70, 40)
    noise = np.random.default_rng(0).normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


KINDS = ["neg"] * 10 + ["pos"] * 7 + ["black"] * 5
#: a field large enough for the pipeline's tissue detection: 18 black discs, 12 brown, 18 blue
FIELD = ["neg", "pos", "black", "neg", "black", "pos", "black", "neg"] * 6


def test_near_black_positives_match_a_hand_count():
    img = _draw(KINDS)
    region = measure_ki67(img, mpp=0.5, pigment_mask=np.zeros(img.shape[:2], bool), return_labels=True)
    cells, labels = region.cells, region.labels
    assert labels is not None
    # by hand: a pixel is near-black when every channel is <= 25 (OD = log10(255 / I) >= 1)
    dark = (img <= 25).all(axis=-1)
    n = len(cells)
    share = np.bincount(labels.ravel(), dark.ravel(), minlength=n + 1)[1 : n + 1] / np.maximum(
        np.bincount(labels.ravel(), minlength=n + 1)[1 : n + 1], 1)
    np.testing.assert_array_equal(cells.near_black, share >= 0.5)
    assert int(cells.near_black.sum()) == 5  # the five drawn black discs, no other
    assert region.counts.near_black_positive == 5
    assert region.counts.near_black_negative == 0
    assert region.counts.positive == 12
    m = ki67_metrics(region.counts)
    assert m["near_black_positive_pct"] == pytest.approx(100 * 5 / 12)
    assert m["index_if_near_black_pigment_pct"] == pytest.approx(100 * 7 / 17)
    # what near_black = "pigment" reads is the bound's other side
    declared = measure_ki67(img, mpp=0.5, pigment_mask=np.zeros(img.shape[:2], bool),
                            params=Ki67Params(near_black="pigment"))
    assert declared.counts.pigment == 5
    assert declared.counts.near_black_positive == 0
    assert ki67_metrics(declared.counts)["index_pct"] == pytest.approx(m["index_if_near_black_pigment_pct"])
    # a tile without near-black: nothing counted, no sentence
    plain = measure_ki67(_draw(["neg"] * 6 + ["pos"] * 6), mpp=0.5, pigment_mask=np.zeros((120, 280), bool))
    assert plain.counts.near_black_positive == 0
    assert plain.counts.positive == 6
    assert near_black_warning({f"ki67_{k}": v for k, v in ki67_metrics(plain.counts).items()}) == ""


def test_near_black_counts_are_additive_over_tiles():
    img = _draw(FIELD, cols=8)
    got = {}
    for tile_um in (40.0, 80.0, 512.0):
        cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "tile_um": tile_um})
        res = analyze_region(img, cfg, mpp=0.5)
        total = int(res.metrics["ki67_near_black_positive"])
        assert int(np.nansum(res.tiles.columns["ki67_near_black_positive"])) == total
        assert res.counts["ki67"].near_black_positive == total
        names = np.asarray(CELL_CLASSES)[res.cells.cls.astype(np.intp)]
        assert int((res.cells.columns["near_black"] & (names == "positive")).sum()) == total
        got[tile_um] = (total, res.metrics["ki67_near_black_positive_pct"], res.metrics["ki67_index_pct"])
    assert len(set(got.values())) == 1, got
    assert got[512.0][0] == 18  # 3 drawn black discs per row of 8, 6 rows


def test_slide_threshold_flips_carry_the_near_black_counts():
    cells = CellTable(np.arange(4.0), np.arange(4.0), np.array([1, 1, 0, 1], np.int8),
                      {"dab_od_mean": np.array([0.30, 0.10, 1.2, 0.30]), "intensity_bin": np.array([0, 0, 3, 0]),
                       "near_black": np.array([True, False, True, False])})
    tiles = TileTable(np.zeros((2, 4), np.int64), {"ki67_positive": np.array([1.0, 0.0]),
                                                    "ki67_negative": np.array([2.0, 1.0]),
                                                    "ki67_near_black_positive": np.array([1.0, 0.0]),
                                                    "ki67_near_black_negative": np.array([1.0, 0.0])})
    counts = Ki67Counts(positive=1, negative=3, positive_3plus=1, near_black_positive=1, near_black_negative=1)
    params = Ki67Params(weak_stain_adaptation=False, positive_threshold_od=0.25)
    new_cells, new_tiles, new_counts, _ = apply_slide_threshold(cells, np.array([0, 0, 0, 1]), tiles, counts, params)
    assert new_counts.positive == 3
    assert new_counts.near_black_positive == 2
    assert new_counts.near_black_negative == 0
    np.testing.assert_array_equal(new_tiles.columns["ki67_near_black_positive"], [2, 0])
    np.testing.assert_array_equal(new_tiles.columns["ki67_near_black_negative"], [0, 0])
    assert new_counts == Ki67Counts.from_classes(new_cells.class_names(), new_cells.columns["intensity_bin"],
                                                 near_black=new_cells.columns["near_black"])


def test_counts_refuse_more_near_black_than_positive():
    with pytest.raises(ValueError, match="near_black_positive"):
        Ki67Counts(positive=1, positive_1plus=1, near_black_positive=2)
    assert math.isnan(ki67_metrics(Ki67Counts())["near_black_positive_pct"])


def test_warning_says_the_share_and_the_other_index_in_summary_report_and_cli():
    from mmnst_path.cli._quantify import _result_notes
    from mmnst_path.html_report import render_report

    img = _draw(FIELD, cols=8)
    res = analyze_region(img, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=0.5)
    row = summary_row(res)
    assert (row["ki67_near_black_positive"], row["ki67_positive"], row["ki67_negative"]) == (18, 30, 18)
    text = near_black_warning(row)
    assert text.startswith("60 % of the Ki67-positive nuclei are near-black")
    assert 'near_black = "pigment" (index then 40.0 %)' in text  # 12 of 30
    assert text in render_report([row]).replace("&quot;", '"')
    assert any(note.endswith(text) for note in _result_notes([row]))
    none = summary_row(analyze_region(_draw(["neg", "pos"] * 24, cols=8),
                                      AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=0.5))
    assert none["ki67_near_black_positive"] == 0
    assert none["ki67_near_black_positive_pct"] == 0
    assert near_black_warning(none) == ""
    assert "near-black" not in render_report([none])
    assert not any("near-black" in n for n in _result_notes([none]))
    # undefined share (no positive) or a missing figure: no sentence, never 'nan'
    assert near_black_warning({**row, "ki67_near_black_positive_pct": math.nan}) == ""
    assert near_black_warning({}) == ""
    # the threshold: 30 % of the positives and at least 10 of them
    assert near_black_warning({**row, "ki67_near_black_positive_pct": 29.9}) == ""
    assert near_black_warning({**row, "ki67_near_black_positive": 9}) == ""
    assert near_black_warning({**row, "ki67_near_black_positive_pct": 30.0}).startswith("30 % of the")
    # everything near-black: no nucleus left, said so
    assert "no nucleus left to count" in near_black_warning(
        {"ki67_near_black_positive": 40, "ki67_near_black_positive_pct": 100.0,
         "ki67_index_if_near_black_pigment_pct": math.nan})
    # the declared run has nothing left to warn about
    declared = analyze_region(img, AnalysisConfig.from_mapping(
        {"stains": "H-DAB", "measures": ["ki67"], "ki67": {"near_black": "pigment"}}), mpp=0.5)
    assert near_black_warning(summary_row(declared)) == ""
    assert declared.metrics["ki67_index_pct"] == pytest.approx(row["ki67_index_if_near_black_pigment_pct"])


@pytest.mark.parametrize("background", [None, (240.0, 235.0, 250.0)])
def test_near_black_share_is_the_od_of_every_channel(background):
    from mmnst_path.quantify.ki67 import _near_black_fraction
    from mmnst_path.stain import od_from_rgb

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 60, (64, 64, 3), dtype=np.uint8)
    labels = rng.integers(0, 21, (64, 64)).astype(np.int32)
    for od in (0.8, 1.0, 1.3):
        dark = od_from_rgb(rgb, background=background).min(axis=-1) >= od
        want = np.bincount(labels.ravel(), dark.ravel(), minlength=21)[1:] / np.bincount(labels.ravel(), minlength=21)[1:]
        got = _near_black_fraction(labels, rgb, 20, od=od, background=background)
        np.testing.assert_array_equal(got, want)
        assert 0 < got.mean() < 1
