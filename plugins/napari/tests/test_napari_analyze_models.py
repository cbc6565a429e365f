"""Analyze with the learned models: cell / tissue model and ``count_in`` chosen in the widget reach
the run's config; the tissue class map of a result becomes a layer with per-class areas; the
pigment QC bound is said in plain words after a run."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from mmnst_path_napari._classmap import (
    class_areas,
    class_map_layer,
    near_black_warning,
    pigment_warning,
    stroma_warning,
    tissue_class_layer,
)
from napari_helpers import wait_idle

PLUGIN = "mmnst-path-napari"


def test_pigment_warning_wording_and_threshold():
    m = {"ki67_pigment_obscured_pct": 28.4, "ki67_index_if_obscured_negative_pct": 12.04,
         "ki67_index_if_obscured_positive_pct": 40.0}  # fmt: skip
    assert pigment_warning(m) == (
        "pigment hides 28 % of the tumour nuclei: the index would be 12.0 % if they were all negative, 40.0 % if all positive; "
        "a red chromogen (AEC, Fast Red) or an Azure B counterstain would resolve it"
    )
    assert pigment_warning({**m, "ki67_pigment_obscured_pct": 4.9}) == ""  # below the report's 5 %
    assert pigment_warning({**m, "ki67_index_if_obscured_positive_pct": math.nan}) == ""
    assert pigment_warning({}) == ""


def test_class_areas_count_edge_blocks_by_their_share_inside_the_image():
    labels = np.array([[0, 1], [2, -1]])
    weight = np.array([[1.0, 0.5], [0.25, 1.0]])
    a = class_areas(labels, ["tumour", "necrosis", "background"], block_um2=1e4, weight=weight)
    assert a["area_mm2"] == pytest.approx({"tumour": 0.01, "necrosis": 0.005, "background": 0.0025})
    assert a["tissue_mm2"] == pytest.approx(0.015)  # background is not tissue
    assert a["pct_of_tissue"]["necrosis"] == pytest.approx(100 / 3)
    assert math.isnan(a["pct_of_tissue"]["background"])
    data, kw, kind = class_map_layer(labels, classes=["tumour", "necrosis", "background"],
                                     colours=[(200, 40, 40), (120, 60, 20), (240, 240, 240)], downsample=16,
                                     mpp=0.5, name="classes")  # fmt: skip
    assert kind == "labels"
    np.testing.assert_array_equal(data, [[1, 2], [3, 0]])  # class k -> value k + 1, none -> 0
    np.testing.assert_allclose(kw["scale"], (8.0, 8.0))
    # shown in the library pictures' display colour (necrosis magenta, not melanin's brown; session 35)
    np.testing.assert_allclose(kw["colormap"].map(2)[:3], np.array([230, 0, 200]) / 255, atol=1e-6)
    np.testing.assert_allclose(kw["colormap"].map(1)[:3], np.array([200, 40, 40]) / 255, atol=1e-6)
    assert kw["metadata"]["mmnst_path"]["colours"][1] == [120, 60, 20]  # the card's, kept



@pytest.mark.napari
def test_models_and_count_in_reach_the_run_and_the_panel_warns_of_pigment(
    make_napari_viewer, qtbot, sample_tiles
):
    from mmnst_path.aggregate import LowResMap
    from mmnst_path.classify import default_model_path, load_model

    viewer = make_napari_viewer()
    (image,) = viewer.open(str(sample_tiles / "ki67_pigmented.tif"), plugin=PLUGIN)
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    m = analyze.mapping()
    assert (m["ki67"]["cell_model"], m["necrosis"]["tissue_model"], m["ki67"]["count_in"]) == (
        "default",
        "default",
        "all",
    )
    assert not analyze.cell_model_file.enabled
    assert not analyze.tissue_model_file.enabled

    analyze.count_in.value = "tumour"
    assert analyze.config("H-DAB").ki67.count_in == "tumour"
    analyze.cell_model.value = "file"
    assert analyze.cell_model_file.enabled
    analyze.region.value = "whole image"
    analyze.stains.value = "H-DAB"
    analyze.do_melanin.value = False
    analyze.do_necrosis.value = False
    assert analyze.run() is None  # no file chosen: refused, said in one line
    assert (
        analyze.controls.status.value == "error: cell model 'file': choose an existing .mmnst file (got '')"
    )

    cell_path = default_model_path("nucleus")
    analyze.cell_model_file.value = cell_path
    analyze.tissue_model.value = "none"
    assert analyze.mapping()["necrosis"]["tissue_model"] == "none"
    assert analyze.run() is None  # count_in 'tumour' needs a tissue model: said before any thread starts
    assert analyze.controls.status.value.startswith("error: config key 'ki67.count_in' is 'tumour'")
    analyze.tissue_model.value = "default"
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    result = analyze.result
    assert result is not None, analyze.controls.status.value
    assert result.config["ki67"]["count_in"] == "tumour"
    assert result.config["ki67"]["cell_model"] == str(cell_path)
    assert "Ki67 counted in: tumour" in analyze.results.value
    assert "cell model: " in analyze.results.value
    assert f"(id {load_model(cell_path).model_id})" in analyze.results.value  # the name first, the id last

    # the pigment bound, said in plain words when pigment hides >= 5 % of the tumour nuclei
    hidden = {"ki67_pigment_obscured_pct": 28.0, "ki67_index_if_obscured_negative_pct": 12.0,
              "ki67_index_if_obscured_positive_pct": 40.0}  # fmt: skip
    analyze._on_result((analyze.plan, replace(result, metrics={**result.metrics, **hidden})))
    sentence = "pigment hides 28 % of the tumour nuclei: the index would be 12.0 % if they were all negative, 40.0 % if all positive"
    assert sentence in analyze.notice.value
    assert sentence not in analyze.results.value  # said once, in the warning line
    assert "Azure B" in analyze.notice.value
    # the near-black QC (#14), said beside it when >= 30 % of the positives are near-black
    dark = {"ki67_near_black_positive": 31, "ki67_near_black_positive_pct": 31.0,
            "ki67_index_if_near_black_pigment_pct": 24.0}  # fmt: skip
    analyze._on_result((analyze.plan, replace(result, metrics={**result.metrics, **dark})))
    sentence = ("31 % of the Ki67-positive nuclei are near-black (strong DAB or melanin look alike): if this lesion "
                'is pigmented, melanin may be counted as Ki67; set [ki67] near_black = "pigment" (index then 24.0 %)')
    assert sentence in analyze.notice.value
    assert sentence not in analyze.results.value  # said once, in the warning line
    # the spindle-cell QC (#14), said when the cell model left >= 50 % of the detected nuclei out as stromal
    spindle = {"ki67_positive": 30, "ki67_negative": 40, "ki67_pigment": 0, "ki67_excluded": 130,
               "ki67_stromal": 120}  # fmt: skip
    analyze._on_result((analyze.plan, replace(result, metrics={**result.metrics, **spindle})))
    sentence = "the cell model left 60 % of the detected nuclei out of the index as stromal"
    assert sentence in analyze.notice.value
    assert sentence not in analyze.results.value  # said once, in the warning line
    # ... and how many nuclei in spindle sheets the slide then counted as tumour ([ki67] spindle_sheet = "auto")
    taken = {**spindle, "ki67_negative": 80, "ki67_excluded": 90, "ki67_stromal": 80, "ki67_spindle_sheet_nuclei": 40}
    analyze._on_result((analyze.plan, replace(result, metrics={**result.metrics, **taken})))
    assert sentence in analyze.notice.value  # the cell model's own share, before the rule
    assert "40 nuclei in spindle sheets counted as tumour" in analyze.notice.value
    analyze._on_result((analyze.plan, result))
    assert ("near-black" in analyze.notice.value) == bool(near_black_warning(result.metrics))
    assert ("as stromal" in analyze.notice.value) == bool(stroma_warning(result.metrics))
    want = pigment_warning(result.metrics)  # the sample tile's own figures (a few % hidden)
    assert (want in analyze.notice.value) if want else ("pigment hides" not in analyze.notice.value)

    # the run's own tissue class map, when the library gives one, is a layer of that map
    layers = [lay.name for lay in viewer.layers]
    assert ("tissue classes" in layers) == ("tissue_classes" in result.maps)

    # a result with a tissue class map: one Labels layer below the maps and nuclei, areas in the panel
    probe = replace(result, maps={**result.maps, "tissue_classes": LowResMap(np.zeros((2, 2), np.int8), 512)})
    data = tissue_class_layer(probe, mpp=0.5)
    classes = data[1]["metadata"]["mmnst_path"]["classes"]
    assert "tumour" in classes  # the legend of the run's model (the IHC default for H-DAB), or the config's
    labels = (np.arange(16 * 16).reshape(16, 16) % len(classes)).astype(np.int8)
    labels[0, 0] = -1  # nothing analysed there
    with_map = replace(result, maps={**result.maps, "tissue_classes": LowResMap(labels, 64.0)})
    analyze._on_result((analyze.plan, with_map))
    names = [lay.name for lay in viewer.layers]
    assert names.count("tissue classes") == 1
    assert names.index(image.name) < names.index("tissue classes") < names.index("nuclei")
    layer = viewer.layers["tissue classes"]
    np.testing.assert_allclose(layer.scale, (64 * 0.5,) * 2)
    np.testing.assert_array_equal(np.asarray(layer.data), labels + 1)  # -1 -> 0: transparent
    assert "tissue classes (% of the classed area):" in analyze.results.value
    assert all(name in analyze.legend.value for name in classes)
    areas = layer.metadata["mmnst_path"]["areas"]
    assert set(areas["area_mm2"]) == set(classes)
    without = replace(result, maps={k: v for k, v in result.maps.items() if k != "tissue_classes"})
    analyze._on_result((analyze.plan, without))  # a run without a map removes it
    assert "tissue classes" not in [lay.name for lay in viewer.layers]


def test_class_layer_of_a_result_without_a_legend_uses_the_configs_model():
    from types import SimpleNamespace

    from mmnst_path.aggregate import LowResMap
    from mmnst_path.classify import default_model_path, load_model

    model = load_model(default_model_path("tissue"))
    nec = model.class_names.index("necrosis")
    labels = np.full((3, 4), nec, np.int8)
    labels[:, 0] = model.class_names.index("tumour")
    # a 90 x 120 px image at 2 µm/px on a 32-px grid: the last row / column of blocks is partial
    result = SimpleNamespace(
        maps={"tissue_classes": LowResMap(labels, 32.0)},
        config={"necrosis": {"tissue_model": "default"}},
        shape=(90, 120),
        mpp=2.0,
    )
    _, kw, kind = tissue_class_layer(result, mpp=2.0)
    assert kind == "labels"
    assert kw["metadata"]["mmnst_path"]["classes"] == list(model.class_names)
    areas = kw["metadata"]["mmnst_path"]["areas"]
    assert areas["area_mm2"]["tumour"] == pytest.approx(90 * 32 * 4 / 1e6)
    assert areas["area_mm2"]["necrosis"] == pytest.approx(90 * (120 - 32) * 4 / 1e6)
    legend = {"classes": [{"index": i, "name": n, "colour": [0, 0, i], "area_mm2": 0.5, "pct_of_tissue": 10.0}
                          for i, n in enumerate(model.class_names)]}  # fmt: skip
    _, kw, _ = tissue_class_layer(SimpleNamespace(**{**vars(result), "tissue_classes": legend}), mpp=2.0)
    assert kw["metadata"]["mmnst_path"]["areas"]["area_mm2"]["tumour"] == 0.5  # the library's numbers
    assert tissue_class_layer(SimpleNamespace(maps={}), mpp=2.0) is None


def test_melanocytic_text_wording():
    from mmnst_path_napari._classmap import melanocytic_text

    m = {"ki67_melanocyte_marker": "cytoplasmic", "ki67_melanocytic_index_pct": 21.25,
         "ki67_melanocytic_ci_low_pct": 15.0, "ki67_melanocytic_ci_high_pct": 28.5,
         "ki67_melanocytic_denominator": 160}  # fmt: skip
    assert melanocytic_text(m) == "Ki67 in melanocytes (MART-1+): 21.2 % [95% CI 15.0–28.5], n=160"
    none_seen = {**m, "ki67_melanocyte_marker": "nuclear", "ki67_melanocytic_index_pct": math.nan,
                 "ki67_melanocytic_ci_low_pct": math.nan, "ki67_melanocytic_denominator": 0}  # fmt: skip
    assert melanocytic_text(none_seen) == "Ki67 in melanocytes (SOX10+): –, n=0"  # undefined, never 0 %
    assert melanocytic_text({**m, "ki67_melanocyte_marker": ""}) == ""  # no double stain: no line
    assert melanocytic_text({}) == ""


@pytest.mark.napari
def test_double_stain_run_shows_the_melanocytic_index(make_napari_viewer, qtbot, tmp_path):
    """Ki67 / MART-1 double stain (H-DAB-FastRed) analysed from the Plugins menu: the panel gives the
    melanocyte-restricted index of the library's result, near the generator's truth."""
    import tifffile

    from mmnst_path.synthetic_double import double_stain_tile

    tile = double_stain_tile(1003, marker="cytoplasmic", size=384, mpp=0.5)
    path = tmp_path / "double.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin=PLUGIN)
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze.stains.value = "H-DAB-FastRed"
    analyze.region.value = "whole image"
    analyze.do_melanin.value = False
    analyze.do_necrosis.value = False
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    result = analyze.result
    assert result is not None, analyze.controls.status.value
    m = result.metrics
    assert m["ki67_melanocyte_marker"] == "cytoplasmic"
    line = next(s for s in analyze.results.value.splitlines() if s.startswith("Ki67 in melanocytes"))
    # named H-DAB-FastRed, marker left auto: read cytoplasmic, said as assumed (session 43, H7's walk #4)
    assert line.startswith(f"Ki67 in melanocytes (cytoplasmic marker, assumed): {m['ki67_melanocytic_index_pct']:.1f} %")
    assert line.endswith(f"n={int(m['ki67_melanocytic_denominator'])}")
    truth = tile.truth["melanocytic_index_pct"]
    assert abs(m["ki67_melanocytic_index_pct"] - truth) < 10.0, (m["ki67_melanocytic_index_pct"], truth)
