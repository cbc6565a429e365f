"""The tissue class map in the outputs (#13): result legend and areas, result.json + tissue_classes.png,
the overlay panel, report.html, melanin % of tumour."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mmnst_path._picture_style import class_display_colour
from mmnst_path.pipeline import AnalysisConfig, analyze_region

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


@pytest.fixture(scope="module")
def he_result():  # type: ignore[no-untyped-def]
    import tifffile

    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[:384, :384]
    return analyze_region(rgb, AnalysisConfig(stains="H&E"), mpp=0.5)


def test_class_areas_cover_the_analysed_area_and_do_not_depend_on_the_tiling(he_result) -> None:  # type: ignore[no-untyped-def]
    import tifffile

    legend = he_result.tissue_classes["classes"]
    names = [c["name"] for c in legend]
    assert {"tumour", "stroma", "necrosis", "background"} <= set(names)
    total = sum(c["area_mm2"] for c in legend)
    owned = float(he_result.tiles.columns["owned_um2"].sum()) / 1e6
    assert total == pytest.approx(owned, rel=1e-6)  # every analysed pixel has exactly one class
    tissue = [c for c in legend if c["name"] != "background"]
    assert sum(c["pct_of_tissue"] for c in tissue) == pytest.approx(100.0)
    assert math.isnan(next(c["pct_of_tissue"] for c in legend if c["name"] == "background"))
    assert he_result.metrics["class_necrosis_area_mm2"] == next(c["area_mm2"] for c in legend if c["name"] == "necrosis")
    cmap = he_result.maps["tissue_classes"].image
    assert cmap.dtype == np.int8
    assert cmap.min() >= 0
    assert cmap.max() < len(names)
    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[:384, :384]
    tiled = analyze_region(rgb, AnalysisConfig(stains="H&E", tile_um=64.0), mpp=0.5)
    assert len(tiled.tiles) == 9
    for a, b in zip(legend, tiled.tissue_classes["classes"], strict=True):
        assert a["area_mm2"] == pytest.approx(b["area_mm2"], abs=1e-9)
    np.testing.assert_array_equal(tiled.maps["tissue_classes"].image, cmap)


def test_result_json_references_an_indexed_png_in_the_model_colours(he_result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from mmnst_path.report import write_result

    paths = write_result(he_result, tmp_path, outputs=("overlay",))
    doc = json.loads(paths["result"].read_text())
    tc = doc["tissue_classes"]
    assert tc["map"]["file"] == "tissue_classes.png"
    assert tc["model"].startswith("sha256:")
    with Image.open(tmp_path / tc["map"]["file"]) as im:
        assert im.mode == "P"
        index = np.asarray(im)
        palette = np.asarray(im.getpalette()[: 3 * 256]).reshape(-1, 3)
    assert list(index.shape) == tc["map"]["shape"]
    np.testing.assert_array_equal(index, he_result.maps["tissue_classes"].image)
    for c in tc["classes"]:
        assert tuple(palette[c["index"]].tolist()) == class_display_colour(c["name"], c["colour"])
        # a user colouring the PNG from result.json reads the colour it is drawn in (necrosis magenta, not the card's
        # brown; session 39 H11's walk)
        assert c["display_colour"] == palette[c["index"]].tolist()
    assert {c["name"]: c["display_colour"] for c in tc["classes"]}.get("necrosis", [230, 0, 200]) == [230, 0, 200]
    # the overlay gains a panel: the class map (H&E: tissue, melanin, necrosis, classes; no Ki67 panel, not
    # measured: session 42 H9)
    with Image.open(paths["overlay"]) as ov:
        width = ov.size[0]
    from mmnst_path.overlay import PANEL_PX

    assert width == 4 * PANEL_PX + 3 * 4


def test_report_html_lists_the_classes_and_melanin_of_tumour() -> None:
    import tifffile

    from mmnst_path.html_report import render_report
    from mmnst_path.report import summary_row

    rgb = tifffile.imread(SAMPLES / "he_melanin.tif")[:384, :384]
    result = analyze_region(rgb, AnalysisConfig(stains="H&E"), mpp=0.5)
    m = result.metrics
    assert 0 < m["melanin_fraction_pct"] < m["melanin_tumour_fraction_pct"] <= 100  # the pigment sits in the tumour
    row = summary_row(result)
    assert row["melanin_tumour_fraction_pct"] == m["melanin_tumour_fraction_pct"]
    page = render_report([row])
    assert 'data-col="melanin_tumour_fraction_pct"' in page
    tumour = next(c for c in row["tissue_classes"] if c["name"] == "tumour")
    assert f'data-class="tumour" data-area-mm2="{tumour["area_mm2"]!r}"' in page
    assert "<th>tissue classes (% of classed area)</th>" in page


def test_no_class_map_without_a_tissue_model() -> None:
    import tifffile

    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[:256, :256]
    cfg = AnalysisConfig(stains="H&E").replace(necrosis={"tissue_model": "none"})
    result = analyze_region(rgb, cfg, mpp=0.5)
    assert result.tissue_classes == {}
    assert "tissue_classes" not in result.maps
    assert not any(k.startswith("class_") for k in result.metrics)


def test_necrosis_from_a_shared_class_map_equals_its_own() -> None:
    import tifffile

    from mmnst_path.classify.tissue import classify_tissue
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis

    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[500:900, 600:1000]  # holds necrosis
    params = NecrosisParams()
    origin = (37, 101)  # not on the block grid: both paths pad the same way
    own = measure_necrosis(rgb, mpp=0.5, params=params, stains="H&E", origin=origin)
    tmap = classify_tissue(rgb, mpp=0.5, model=params.model(), stains="H&E", origin=origin)
    shared = measure_necrosis(rgb, mpp=0.5, params=params, stains="H&E", origin=origin, tissue_map=tmap)
    assert own[0] == shared[0]
    np.testing.assert_array_equal(own[1], shared[1])
    assert own[0].necrosis_um2 > 0


def test_the_pipeline_draws_the_necrosis_class_map_once_per_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The class map and the necrosis area of a tile come from one call of ``necrosis_labels`` (it was run
    twice: once for the map, once inside measure_necrosis), with the same results as computed apart."""
    import tifffile

    import mmnst_path.quantify._necrosis_model as nm
    from mmnst_path.classify.tissue import classify_tissue
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis

    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[500:900, 600:1000]
    calls = []
    real = nm.necrosis_labels
    monkeypatch.setattr(nm, "necrosis_labels", lambda *a, **k: calls.append(1) or real(*a, **k))
    res = analyze_region(rgb, AnalysisConfig(stains="H&E"), mpp=0.5)
    assert len(calls) == len(res.tiles.columns["owned_um2"])  # one per tile
    assert res.metrics["necrosis_area_mm2"] > 0
    # given the labels of the same map, measure_necrosis answers exactly as when it computes them
    params, origin = NecrosisParams(), (37, 101)
    tmap = classify_tissue(rgb, mpp=0.5, model=params.model(), stains="H&E", origin=origin)
    found = real(rgb, 0.5, params, tmap, "H&E", origin=origin)
    own = measure_necrosis(rgb, mpp=0.5, params=params, stains="H&E", origin=origin, tissue_map=tmap)
    given = measure_necrosis(rgb, mpp=0.5, params=params, stains="H&E", origin=origin, tissue_map=tmap,
                             necrosis_labels=found)
    assert own[0] == given[0]
    np.testing.assert_array_equal(own[1], given[1])


def test_class_map_necrosis_is_the_measured_necrosis_with_the_veto(shared_data: Path) -> None:
    """With the intact-nucleus veto (the default since 2026-12-04) the class map (areas, map, tumour region)
    follows the vetoed necrosis, not the model's raw necrosis: BRCA-M2C train patch A8-A07U (viable breast
    carcinoma, 0.5 µm/px, BSD-3; the tissue model alone reads ~73 % of it necrotic, the veto removes ~14 % of
    its tissue from the necrosis)."""
    from PIL import Image

    from mmnst_path.pipeline._worker import tumour_region

    patch = shared_data.parent / "train" / "brca_m2c" / "mixed" / "TCGA-A8-A07U-01Z-00-DX1_26500_78501_1001_1000_0.93.png"
    if not patch.is_file():
        pytest.fail(f"training data not found at {patch}")
    rgb = np.asarray(Image.open(patch).convert("RGB"))[:512, :512]
    results = {}
    for veto in (0.0, 1.0):
        cfg = AnalysisConfig.from_mapping({"stains": "H&E", "measures": ["necrosis"],
                                           "necrosis": {"intact_veto_density": veto}})
        res = analyze_region(rgb, cfg, mpp=0.5)
        legend = {c["name"]: c["area_mm2"] for c in res.tissue_classes["classes"]}
        # the necrosis of the class map is the reported necrosis (veto, tissue, minimum area applied)
        assert legend["necrosis"] == pytest.approx(res.metrics["necrosis_area_mm2"], rel=1e-9, abs=1e-12)
        assert sum(legend.values()) == pytest.approx(float(res.tiles.columns["owned_um2"].sum()) / 1e6, rel=1e-6)
        results[veto] = (legend, cfg)
    off, on = results[0.0][0], results[1.0][0]
    assert off["necrosis"] > 0.5 * sum(off.values())  # the model alone: mostly necrotic
    assert on["necrosis"] < off["necrosis"] - 0.1 * sum(off.values())
    assert on["tumour"] + on["stroma"] > off["tumour"] + off["stroma"]  # vetoed blocks took their next class
    # the tumour region of [ki67] count_in = "tumour" follows the same class map
    cfg = results[1.0][1]
    model = cfg.necrosis.model()
    plain, _, _ = tumour_region(rgb, mpp=0.5, model=model, stains=cfg.stain_matrix(), smooth_um=cfg.necrosis.smooth_um)
    vetoed, _, _ = tumour_region(rgb, mpp=0.5, model=model, stains=cfg.stain_matrix(), necrosis=cfg.necrosis)
    assert vetoed.sum() > plain.sum()
    assert not (plain & ~vetoed).any()  # the veto only adds to the tumour region here
