"""Each message once: after Analyze the orange warning line holds what the user must act on (the measures
refused, the QC sentences) and the results box the figures; Review's own warning line holds the QC
sentences of the reviewed nuclei, its box the figures; the box no longer repeats
the warning line's sentences (session 33's shots showed the necrosis and pigment sentences twice).

Also: Analyze moves its hot-spot caption inside the frame (``keep_caption_on_canvas``; mutation:
the call removed).

Mutations caught: Analyze's results box given the QC sentences again, or the refused measures again
in its header (test_analyze_says_each_message_once); Review's box given its QC sentences again
(test_review_says_each_message_once)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from mmnst_path_napari._analysis import ki67_from_classes

from mmnst_path.aggregate import CELL_CLASSES, CellTable
from mmnst_path.geometry import Box
from mmnst_path.pipeline import AnalysisConfig

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
REFUSED = ("necrosis NOT measured: it needs an H&E slide (eosin); the stains AzureB-DAB have no eosin (untick "
           "necrosis for IHC slides)")


def _run_result(names: list[str] | None = None) -> tuple[SimpleNamespace, SimpleNamespace]:
    """(plan, result) of an azure B run: 6 positive, 16 negative, 8 pigment nuclei (pigment hides 27 %), or the
    nuclei ``names`` (positives at 2+)."""
    names = names or ["positive"] * 6 + ["negative"] * 16 + ["pigment"] * 8
    n = len(names)
    cells = CellTable(np.arange(n, dtype=float) * 3, np.arange(n, dtype=float) * 2,
                      np.array([CELL_CLASSES.index(c) for c in names], np.int8),
                      {"dab_od_mean": np.full(n, 0.3),
                       "intensity_bin": np.where(np.array(names) == "positive", 2, 0).astype(np.int8)})
    _, k = ki67_from_classes(np.array(names, dtype=object), np.asarray(cells.columns["intensity_bin"]))
    metrics = {f"ki67_{key}": v for key, v in k.items()}
    metrics.update(ki67_chromogen="dab", ki67_counterstain="azure_b", tissue_area_mm2=0.1)
    hot = SimpleNamespace(box=Box(0, 0, 100, 100), meets_min_nuclei=False,
                          nuclei=n, index_pct=float("nan"), whole_image=True)
    result = SimpleNamespace(measures=("ki67",), metrics=metrics, maps={}, hotspot=hot, cells=cells,
                             shape=(100, 100), mpp=0.5, config={"hotspot_min_nuclei": 500}, tissue_classes=None)
    plan = SimpleNamespace(stains="AzureB-DAB", stains_source="chosen", refused=(REFUSED,),
                           config=AnalysisConfig(stains="AzureB-DAB"))
    return plan, result


def _sentences(notice: str) -> list[str]:
    return [line.removeprefix("⚠ ").strip() for line in notice.splitlines() if line.strip()]


def _assert_once(said: list[str], box: str) -> None:
    """The results ``box`` repeats none of the warning line's sentences, and keeps the figures."""
    for sentence in said:
        assert sentence not in box
    assert "NOT measured" not in box
    assert "⚠" not in box
    assert "stains: AzureB-DAB (chosen)" in box
    assert "Ki67 index" in box


def _analyzed(make_napari_viewer):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze.stains.value = "AzureB-DAB"
    analyze._mpp, analyze._display_mpp = (0.5, "entered by the user"), None  # (what run() sets)
    analyze._on_result(_run_result())
    return viewer, analyze


def test_analyze_says_each_message_once(make_napari_viewer):
    _, analyze = _analyzed(make_napari_viewer)
    said = _sentences(analyze.notice.value)
    assert said[0] == REFUSED
    assert said[1].startswith("pigment hides 27 % of the tumour nuclei")
    assert len(said) == 2
    box = analyze.results.value
    _assert_once(said, box)
    # the box keeps the figures and where they came from; the warning line none of them
    assert "pixel size: 0.5 µm/px (entered by the user)" in box
    assert "Ki67 index" not in analyze.notice.value
    assert "no hot spot" in box  # (the frame's sentence: a figure, not a warning)


def test_analyze_keeps_the_hot_spot_caption_inside_its_frame(make_napari_viewer):
    viewer, _ = _analyzed(make_napari_viewer)
    layer = viewer.layers["Ki67 hot spot"]
    assert layer.text.anchor == "upper_left"
    viewer.reset_view()
    viewer.camera.zoom *= 1.5  # the frame (the whole image) fills the canvas: no room above it
    # hung from just inside the frame's top (keep_caption_on_canvas): drawn down from an anchor moved up from
    # the frame's bottom-left
    assert layer.text.anchor == "lower_left"
    assert layer.text.translation[0] < 0


def test_review_says_each_message_once(make_napari_viewer):
    viewer, _ = _analyzed(make_napari_viewer)
    _, review = viewer.window.add_plugin_dock_widget(PLUGIN, "Review")
    assert review.points.value is viewer.layers["nuclei"]
    said = _sentences(review.notice.value)
    assert len(said) == 1  # the run's refused measure is Analyze's warning, not the reviewer's
    assert said[0].startswith("pigment hides 27 % of the tumour nuclei")
    assert "bleaching the melanin" in said[0]  # the azure B advice
    _assert_once(said, review.results.value)
    # the pathologist calls the pigment nuclei negative: the pigment sentence goes
    from mmnst_path_napari._widgets._review import set_classes

    layer = viewer.layers["nuclei"]
    set_classes(layer, set(range(22, 30)), "negative")
    assert review.notice.value == ""
    assert "pigment hides" not in review.results.value
