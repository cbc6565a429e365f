"""Session 34's second look at the screenshots (H2's "what a pathologist would find wrong"), each fixed with
a test here (the mutation each catches in its docstring)."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._layers import CLASS_COLORS, HOTSPOT_COLOR, legend_html, results_text
from mmnst_path_napari._widgets._analyze import model_words
from test_napari_notice_once import PLUGIN, _analyzed, _run_result

pytestmark = pytest.mark.napari


def test_excluded_rings_have_their_own_colour_and_words():
    """Mutation: ``CLASS_COLORS["excluded"]`` back to yellow (the frame's); the legend's words dropped."""
    from napari.utils.colormaps.standardize_color import transform_color

    frame = transform_color(HOTSPOT_COLOR)[0][:3]
    excluded = np.asarray(CLASS_COLORS["excluded"][:3])
    assert np.abs(excluded - frame).max() > 0.5  # not the frame's yellow
    for name, rgba in CLASS_COLORS.items():
        if name != "excluded":
            assert np.abs(excluded - np.asarray(rgba[:3])).max() > 0.3, name
    html = legend_html(("ki67",))
    assert "excluded = not tumour (cell model: stromal / lymphocyte)" in html
    assert "#00a0a0" in html  # its ring, in its colour


def test_the_ki67_heatmap_is_present_but_hidden():
    """Mutation: the heatmap layer visible (it darkened the stain at 0 %)."""
    from mmnst_path_napari._analysis import layers_from_result

    _, result = _run_result()
    result.maps = {"ki67": type("M", (), {"image": np.array([[0.0, 50.0]], np.float32), "downsample": 50.0})()}
    (heat,) = [d for d in layers_from_result(result, mpp=None) if d[1]["name"] == "Ki67 heatmap"]
    assert heat[1]["visible"] is False
    assert "hidden: tick its eye" in legend_html(("ki67",))


def test_plain_words_for_models_threshold_and_h_score(make_napari_viewer):
    """Mutations: the model id first again; the config key back in the line under the threshold box;
    the H-score without its scale."""
    assert model_words("sha256:7506b8d9d803908c mmnst_path default nucleus classifier (IHC) 1.2.0") == (
        "mmnst_path default nucleus classifier (IHC) 1.2.0 (id sha256:7506b8d9d803908c)")
    assert "H-score: 82 (of 0–300)" in results_text({"h_score": 82.0, "index_pct": 10.0}, {"positive": 1})
    analyze = make_napari_viewer().window.add_plugin_dock_widget(PLUGIN, "Analyze")[1]
    analyze.stains.value = "H-DAB"
    assert analyze.od_info.value == "a nucleus counts as positive from this DAB OD up (stains H-DAB)"
    assert "[ki67]" not in analyze.od_info.value
    assert analyze.positive_od.tooltip == "config key: [ki67] positive_threshold_od"


def test_necrosis_follows_the_stains_until_the_user_clicks_it(make_napari_viewer):
    """IHC stains untick necrosis with a reason, H&E and auto tick it again; a user's tick is kept.
    Mutation: ``_follow_necrosis`` not called on a stain change (necrosis stays ticked on H-DAB)."""
    analyze = make_napari_viewer().window.add_plugin_dock_widget(PLUGIN, "Analyze")[1]
    assert analyze.do_necrosis.value  # auto: decided when the stains are detected
    analyze.stains.value = "H-DAB"
    assert not analyze.do_necrosis.value
    assert analyze.do_necrosis.text == "necrosis (needs eosin)"
    assert "the stains H-DAB have no eosin" in analyze.do_necrosis.tooltip
    analyze.stains.value = "H&E"
    assert analyze.do_necrosis.value
    analyze.stains.value = "H-DAB"
    analyze.do_necrosis.value = True  # the user forces it: kept, and the run says it refuses
    analyze.stains.value = "H-DAB2" if "H-DAB2" in analyze.stains.choices else "AzureB-DAB"
    assert analyze.do_necrosis.value
    assert analyze.do_necrosis.text == "necrosis"


def test_an_auto_run_detected_as_ihc_skips_necrosis_quietly(cmu_plan_reader):
    """Mutation: ``optional`` ignored by plan_analysis (the refusal comes back on every IHC run)."""
    from mmnst_path_napari._analysis import plan_analysis

    from mmnst_path.pipeline import AnalysisConfig

    m = AnalysisConfig().to_mapping()
    m["stains"] = "H-DAB"
    plan = plan_analysis(cmu_plan_reader, m, ticked=("ki67", "necrosis"), optional=("necrosis",))
    assert plan.refused == ()
    assert plan.skipped == ("necrosis",)
    assert plan.config.measures == ("ki67",)
    forced = plan_analysis(cmu_plan_reader, m, ticked=("ki67", "necrosis"))
    assert forced.refused[0].startswith("necrosis NOT measured")


@pytest.fixture(scope="module")
def cmu_plan_reader(wsi_dir):
    from mmnst_path import open_slide

    with open_slide(str(wsi_dir / "CMU-1-Small-Region.svs")) as reader:
        yield reader


def test_analyze_and_review_fit_a_1200_line_screen(make_napari_viewer):
    """Analyze + Review docked made the window 1540 px tall in session 34's shots (a 1200-line screen):
    the widgets napari docks (their ``.native``) now need <= 1150 px together, Analyze's settings in a
    scroll area. Mutation: the settings not scrolled (``scroll_area``'s minimum height the form's)."""
    viewer, analyze = _analyzed(make_napari_viewer)
    _, review = viewer.window.add_plugin_dock_widget(PLUGIN, "Review")
    docked = [w.native for w in (analyze, review)]
    need = sum(w.minimumSizeHint().height() for w in docked)
    print("docked minimum heights", need)
    assert need <= 1100  # (+ the window's menu, title and status bars: ~1150)
    assert analyze.form.native.minimumSizeHint().height() > 400  # (what the scroll area spares)
