"""Session 35's walk through the Plugins menu (a pathologist's steps on sample_tiles/, screenshots looked at after
each), the stumbles fixed, each with the mutation its test catches:

- the status line of an H&E run said "done: 0 nuclei" (mutation: the old f-string for every run);
- the green necrosis fraction lay over the tissue class map, hiding its necrosis colour and reading as its green
  stroma (mutation: the fraction map left visible with a class map; the legend not saying it is hidden);
- the class table said "% tissue" and "tissue 0.2372" under "tissue analysed: 0.256 mm²" (two tissue areas): it
  now says "% classed" / "classed area", the HTML report's "% of classed area" (mutation: the old words);
- the Ki67 index sat below the fold of the docked results box, under five lines of stains, pixel size and models:
  the figures come first (mutation: the header lines first again)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from mmnst_path_napari._analysis import done_words, hidden_maps, layers_from_result, panel_text
from mmnst_path_napari._classmap import class_table_text
from mmnst_path_napari._layers import legend_html
from test_napari_notice_once import PLUGIN, _run_result

pytestmark = pytest.mark.napari


def _map() -> SimpleNamespace:
    return SimpleNamespace(image=np.array([[0.0, 0.5]], np.float32), downsample=50.0)


def test_an_he_run_says_what_it_measured():
    result = SimpleNamespace(measures=("melanin", "necrosis"), cells=[])
    assert done_words(result) == "done: melanin, necrosis"  # type: ignore[arg-type]
    _, ki67 = _run_result()
    assert done_words(ki67) == "done: 30 nuclei"  # type: ignore[arg-type]


def test_the_necrosis_fraction_is_hidden_under_a_class_map():
    _, result = _run_result()
    result.maps = {"necrosis": _map(), "melanin": _map()}
    layers = layers_from_result(result, mpp=0.5)
    assert hidden_maps(layers) == ()  # no class map: the fraction shows necrosis
    result.maps["tissue_classes"] = object()
    layers = layers_from_result(result, mpp=0.5)
    assert hidden_maps(layers) == ("necrosis fraction",)  # (the melanin map stays: the class map has no melanin)
    legend = legend_html(("melanin", "necrosis"), hidden=hidden_maps(layers))
    assert "necrosis fraction (hidden: tick its eye;" in legend
    assert "melanin fraction (transparent" in legend


def test_the_class_table_says_classed_area_as_the_report_does():
    areas = {"area_mm2": {"tumour": 0.0856, "necrosis": 0.0624, "background": 0.0225},
             "pct_of_tissue": {"tumour": 57.8, "necrosis": 42.2, "background": float("nan")}, "tissue_mm2": 0.148}
    text = class_table_text(areas)
    assert text.splitlines()[0].split()[-2:] == ["%", "classed"]
    assert text.splitlines()[-1].split() == ["classed", "area", "0.1480"]
    assert "tissue" not in text


def test_the_figures_come_first_in_the_box():
    _, result = _run_result()
    text = panel_text(result, header=["stains: AzureB-DAB (chosen)", "pixel size: 0.5 µm/px (entered by the user)"])
    lines = text.splitlines()
    assert lines[0].startswith("Ki67 index: 27.3 % (6 of 22 tumour nuclei")
    assert lines[-2:] == ["stains: AzureB-DAB (chosen)", "pixel size: 0.5 µm/px (entered by the user)"]
    assert lines.index("tissue analysed: 0.100 mm²") > lines.index("95% CI 13.2 – 48.2 %")


def test_the_cell_preview_says_its_colours_and_hides_the_ki67_rings(make_napari_viewer):
    """Train cells' preview draws tumour red and lymphocytes blue, the Ki67 rings' positive / negative colours,
    over the nuclei layer; its status was cut at the dock's edge. Mutations caught: the nuclei layer left shown;
    the status without the colour words; the status not wrapped."""
    from mmnst_path_napari._widgets._cells import TrainCellsWidget

    from mmnst_path.synthetic import ki67_pigment_tile

    tile = ki67_pigment_tile(32, size=256, pigmented_cells=0.0)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(tile.mpp, tile.mpp), units=("µm", "µm"), name="ki67")
    nuclei = viewer.add_points(np.zeros((1, 2)), name="nuclei")  # (an Analyze run's layer)
    widget = TrainCellsWidget(viewer)
    assert widget.status.native.wordWrap()
    widget.preview()
    assert "tumour red" in widget.status.value
    assert not nuclei.visible
    assert "the Ki67 nuclei layer is hidden under the preview: tick its eye" in widget.status.value


def test_the_frame_caption_follows_review(make_napari_viewer):
    """After a positive nucleus is called negative the box said 15.4 %, the frame still 15.5 %. Mutation caught:
    Review not re-captioning the frame (``_follow_caption`` not called)."""
    from mmnst_path_napari._widgets._review import set_classes

    viewer = make_napari_viewer()
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze.stains.value = "AzureB-DAB"
    analyze._mpp, analyze._display_mpp = (0.5, "entered by the user"), None  # (what run() sets)
    plan, result = _run_result()
    result.hotspot.meets_min_nuclei, result.hotspot.index_pct, result.hotspot.nuclei = True, 100 * 6 / 22, 22
    analyze._on_result((plan, result))
    frame = viewer.layers["Ki67 hot spot"]
    assert list(frame.features["label"]) == ["whole image 27.3 % (n=22)"]
    _, review = viewer.window.add_plugin_dock_widget(PLUGIN, "Review")
    assert list(frame.features["label"]) == ["whole image 27.3 % (n=22)"]  # (counted as the library counts)
    set_classes(viewer.layers["nuclei"], {0}, "negative")
    assert list(frame.features["label"]) == ["whole image 22.7 % (n=22)"]
    assert "Ki67 index: 22.7 %" in review.results.value
