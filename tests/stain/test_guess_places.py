"""Where the chromogen sits (``mmnst_path.stain.places``, issue #14): nuclear bodies, rings around
cells and granules tell a red chromogen beside melanin and a Ki67 / MART-1 double stain from the
single stains that colour alone confuses them with."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mmnst_path.stain import guess as guess_module
from mmnst_path.stain import melanin_vector
from mmnst_path.stain.guess import guess_stains_detail
from mmnst_path.stain.places import chromogen_places
from mmnst_path.stain.vectors import get_preset
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile
from mmnst_path.synthetic_double import double_stain_tile

MPP = 0.5
_M = get_preset("H-DAB-FastRed")
H, DAB, RED = (np.asarray(_M.vector(n)) for n in ("hematoxylin", "dab", "fast_red"))


def _render(layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Beer-Lambert RGB of (concentration map, OD vector) layers over white glass."""
    od = sum(c[..., None] * v for c, v in layers)
    return np.clip(np.rint(255.0 * 10.0 ** -od), 0, 255).astype(np.uint8)


def _disc(shape: tuple[int, int], centres: list[tuple[int, int]], r_px: float, r_in: float = 0.0) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    out = np.zeros(shape)
    for cy, cx in centres:
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        out[(d2 <= r_px * r_px) & (d2 >= r_in * r_in)] = 1.0
    return out


def _grid(n: int, step: int, off: int = 0) -> list[tuple[int, int]]:
    return [(off + step // 2 + i * step, off + step // 2 + j * step) for i in range(n) for j in range(n)]


def test_bodies_rings_and_granules_are_told_apart():
    """Drawn at 0.5 µm/px over 200 x 200 µm: 9 µm nuclei filled with DAB are brown bodies, 9 µm red
    annuli around blue nuclei are red rings, a field of 1 µm melanin granules is neither."""
    shape = (400, 400)
    nuclei = _disc(shape, _grid(8, 50), 9.0)
    tissue = 0.08 + 0.0 * nuclei
    dab_bodies = _disc(shape, _grid(4, 100), 9.0)
    rings = _disc(shape, _grid(3, 100, 50), 16.0, 10.0)
    rng = np.random.default_rng(0)
    gran = np.zeros(shape)
    ys, xs = rng.integers(0, 400, 2500), rng.integers(0, 400, 2500)
    gran[ys, xs] = 1.0
    rgb = _render([(tissue + 0.5 * nuclei, H), (0.9 * dab_bodies, DAB), (0.6 * rings, RED),
                   (1.2 * gran, melanin_vector())])
    pl = chromogen_places(rgb, None, MPP)
    assert pl is not None
    area_mm2 = 0.2 * 0.2
    assert pl.brown_bodies_mm2 * area_mm2 == pytest.approx(16, abs=2)  # the 16 DAB nuclei, no granule
    assert pl.red_ring_share > 0.8  # the annuli
    assert pl.red_bodies_mm2 == 0
    # a slide thumbnail does not resolve nuclei: nothing is measured
    assert chromogen_places(rgb, None, 8.0) is None


def test_red_nuclei_outweighed_by_melanin_are_a_red_chromogen():
    """20 Fast Red nuclei among melanin clusters over a quarter of the tissue: by colour the melanin
    peak wins (H-DAB, the red is under 12 % of the stained pixels), by where the red sits (20 round
    nuclear bodies, no brown one) the tile is Fast Red."""
    shape = (400, 400)
    rng = np.random.default_rng(1)
    centres = [(int(y), int(x)) for y, x in rng.integers(20, 380, (20, 2))]
    red = _disc(shape, centres, 8.0)
    mel = np.zeros(shape)
    for _ in range(800):  # ragged clusters of 0.5 µm granules
        cy, cx = rng.integers(10, 390, 2)
        for _ in range(60):
            y, x = np.clip(rng.normal((cy, cx), 6.0).astype(int), 0, 399)
            mel[y, x] = 1.0
    mel[red > 0] = 0.0
    rgb = _render([(0.12 + 0.0 * red, H), (0.8 * red, RED), (1.3 * mel, melanin_vector())])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        colour = guess_stains_detail(rgb)
        placed = guess_stains_detail(rgb, mpp=MPP)
    assert colour.name == "H-DAB", colour.reason
    assert placed.name == "H-FastRed", placed.reason
    assert "nuclear bodies" in placed.reason
    assert placed.places is not None
    assert placed.places.brown_bodies_mm2 == 0


def test_nuclei_holding_dab_and_a_red_marker_are_told_from_red_nuclei():
    """Drawn at 0.5 µm/px over 200 x 200 µm: 16 nuclei holding DAB and Fast Red (a Ki67-positive
    melanocyte of a Ki67 / SOX10 double stain) are DAB-holding nuclear bodies, browner than the 16
    nuclei of the red marker alone; the same 32 nuclei all in Fast Red (a single red Ki67 stain) hold
    no DAB."""
    shape = (400, 400)
    both = _disc(shape, _grid(4, 100), 9.0)
    marker = _disc(shape, _grid(4, 100, 50), 9.0)
    hem = 0.05 + 0.15 * (both + marker)
    double = chromogen_places(_render([(hem, H), (0.8 * both, DAB), (0.4 * both + 0.8 * marker, RED)]), None, MPP)
    single = chromogen_places(_render([(hem, H), (0.8 * (both + marker), RED)]), None, MPP)
    assert double is not None
    assert single is not None
    area_mm2 = 0.2 * 0.2
    assert double.dab_bodies_mm2 * area_mm2 == pytest.approx(16, abs=1)
    assert double.dab_body_deg > double.other_body_deg + 10  # DAB + red: browner than red alone
    assert single.dab_bodies_mm2 == 0
    assert single.red_bodies_mm2 * area_mm2 >= 20  # the red nuclei are nuclear bodies, without DAB


@pytest.mark.parametrize("chromogen", ["fast_red", "aec"])
def test_mart1_double_stains_are_detected(chromogen, guess_on_thumbnail):
    """Generated Ki67 / MART-1 tiles (seeds 0-5, 384 px): by colour alone none is a double stain (named
    H&E, H-FastRed, H-AEC or H-DAB); measured 2026-12-03 with where the chromogen sits: Fast Red 5 of 6
    H-DAB-FastRed, AEC 4 of 6 H-DAB-AEC."""
    name = "H-DAB-FastRed" if chromogen == "fast_red" else "H-DAB-AEC"
    got = [guess_on_thumbnail(t.rgb, t.mpp) for seed in range(6)
           for t in [double_stain_tile(seed, marker="cytoplasmic", chromogen=chromogen, size=384)]]
    assert sum(g.name == name for g in got) >= 3, [(g.name, g.places) for g in got]
    for g in got:
        if g.name == name:
            assert "MART-1" in g.reason
            assert g.marker == "cytoplasmic"
            assert g.alternative
            assert g.places is not None


def test_sox10_double_stains_are_detected_with_their_marker(guess_on_thumbnail, monkeypatch):
    """Generated Ki67 / SOX10 Fast Red tiles (seeds 0-5, 384 px): by colour alone none is a double
    stain (H-AEC, H-FastRed or H&E); with the SOX10 rule (nuclear bodies that hold DAB; opt-in before
    session 33, the default since), 4 of 6 are named H-DAB-FastRed with the nuclear marker (flagged,
    the colour's name to pass); without it none."""
    tiles = [double_stain_tile(seed, marker="nuclear", chromogen="fast_red", size=384) for seed in range(6)]
    monkeypatch.setattr(guess_module, "SOX10_DETECTION", False)
    assert not [g.name for g in (guess_on_thumbnail(t.rgb, t.mpp) for t in tiles) if g.name.startswith("H-DAB-")]
    monkeypatch.setattr(guess_module, "SOX10_DETECTION", True)
    got = [guess_on_thumbnail(t.rgb, t.mpp) for t in tiles]
    right = [g for g in got if g.name == "H-DAB-FastRed" and g.marker == "nuclear"]
    assert len(right) >= 3, [(g.name, g.marker, g.places) for g in got]
    for g in right:
        assert "SOX10" in g.reason
        assert g.ambiguous
        assert g.alternative in ("H-AEC", "H-FastRed", "H&E")


@pytest.mark.parametrize("chromogen", ["fast_red", "aec", "eosin", "dab"])
def test_single_stains_are_not_taken_for_a_double_stain(chromogen, guess_on_thumbnail):
    """Every pigment family, seeds 0-1, plain and varied: no single stain is named a double stain."""
    got = [guess_on_thumbnail(t.rgb, t.mpp) for seed in range(2) for fam in PIGMENT_FAMILIES
           for t in [pigment_family_tile(seed, fam, chromogen=chromogen, size=256,
                                         appearance=("plain", "varied")[seed])]]
    assert not [g.reason for g in got if g.name.startswith("H-DAB-")]


def test_auto_stains_give_the_melanocytic_index_of_a_mart1_double_stain():
    """``stains="auto"`` on a generated Ki67 / MART-1 tile (Fast Red, seed 0; by colour alone H&E)
    analyses it with the double-stain preset, so the melanocyte-restricted index is reported
    (measured 2026-12-03: 29.4 %, truth 31.6 %)."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    tile = double_stain_tile(0, marker="cytoplasmic", chromogen="fast_red", size=384)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, AnalysisConfig(measures=("ki67",), stains="auto"), mpp=tile.mpp)
    assert res.stains["name"] == "H-DAB-FastRed", res.stains["detection"]
    assert res.metrics["ki67_melanocyte_marker"] == "cytoplasmic"
    assert res.stains["detection"]["marker"] == "cytoplasmic"  # the guess's marker, in the config used
    assert res.config["ki67"]["melanocyte_marker"] == "cytoplasmic"
    assert abs(res.metrics["ki67_melanocytic_index_pct"] - tile.truth["melanocytic_index_pct"]) < 8.0


def test_auto_stains_read_the_sox10_marker_in_the_nuclei(monkeypatch):
    """With the SOX10 rule on, ``stains="auto"`` on a generated Ki67 / SOX10 Fast Red tile (seed 0;
    by colour alone H-AEC) runs the double-stain preset with ``melanocyte_marker="nuclear"`` (the
    user says nothing): the melanocytic index is read from red nuclei (measured 2026-12-04: 28.9 %,
    truth 31.6 %)."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    monkeypatch.setattr(guess_module, "SOX10_DETECTION", True)

    tile = double_stain_tile(0, marker="nuclear", chromogen="fast_red", size=384)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, AnalysisConfig(measures=("ki67",), stains="auto"), mpp=tile.mpp)
    assert res.stains["name"] == "H-DAB-FastRed", res.stains["detection"]
    assert res.stains["detection"]["marker"] == "nuclear"
    assert res.metrics["ki67_melanocyte_marker"] == "nuclear"
    assert res.config["ki67"]["melanocyte_marker"] == "nuclear"
    err = abs(res.metrics["ki67_melanocytic_index_pct"] - tile.truth["melanocytic_index_pct"])
    assert err < 8.0


def test_a_slide_too_coarse_for_nuclei_is_read_in_patches():
    """A 3 x 3 mosaic of Ki67 / MART-1 Fast Red tiles (576 µm, thumbnail 2.25 µm/px: nuclei not
    resolved): the thumbnail alone is taken for H&E; ``stains="auto"`` reads tissue patches at
    0.75 µm/px (``tissue_patches``) and runs the double-stain preset."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    rgb = np.concatenate([np.concatenate([double_stain_tile(3 * i + j, marker="cytoplasmic", chromogen="fast_red",
                                                            size=384).rgb for j in range(3)], axis=1)
                          for i in range(3)], axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(rgb, AnalysisConfig(measures=("ki67",), stains="auto"), mpp=MPP)
    assert "double stain" in res.stains["detection"]["reason"]
    assert res.stains["name"] == "H-DAB-FastRed"
