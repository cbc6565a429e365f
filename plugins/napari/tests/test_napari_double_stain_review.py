"""A Ki67 / MART-1 double stain under review keeps its double stain (session 41 H5's D3), and Analyze's figures
follow the image they are of (H5's D11).

D3: a double-stain result reopened from its folder said "stains: DAB + Hematoxylin" and showed no melanocyte-
restricted index, and a reviewed double stain (napari's Review, ``mmnst-path review``) lost that index: the
reviewed counts ignored the nuclei's ``melanocytic`` flag. D11: after the analysed image was removed and another
opened, Analyze still showed the first image's figures under the new image's name.

Fails before: no "Ki67 in melanocytes" line in Review (either route); "stains: DAB + Hematoxylin (from the file's
measurement names)"; Analyze's box kept "Ki67 index: ..." of the removed image.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget, wait_idle

from mmnst_path.cli import main
from mmnst_path.review import reviewed_ki67
from mmnst_path.synthetic_double import double_stain_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _melanocytic_line(text: str) -> str:
    # the run named H-DAB-FastRed and left the marker auto: said assumed (session 43 H14; "MART-1+" before)
    lines = [ln for ln in text.splitlines() if ln.startswith("Ki67 in melanocytes (cytoplasmic marker, assumed)")]
    assert len(lines) == 1, text
    return lines[0]


def test_reopened_double_stain_result_names_its_stains_and_melanocyte_index(make_napari_viewer, tmp_path):
    """The result folder of a named double stain, opened from its result.json: Review names the preset the run read
    and the melanocyte-restricted index, the run's before any edit and the edited one after."""
    tile = double_stain_tile(3, marker="cytoplasmic", chromogen="fast_red", size=384)
    path = tmp_path / "double.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                     resolutionunit="CENTIMETER")
    out = tmp_path / "res"
    assert main(["quantify", str(path), "--out", str(out), "--stains", "H-DAB-FastRed", "--measures", "ki67"]) == 0
    doc = json.loads((out / "double" / "result.json").read_text(encoding="utf-8"))
    measured = doc["metrics"]["ki67_melanocytic_index_pct"]
    assert doc["metrics"]["ki67_melanocytic_denominator"] > 0
    viewer = make_napari_viewer()
    viewer.open(str(out / "double" / "result.json"), plugin=PLUGIN)
    review = open_plugin_widget(viewer, "review_widget")
    nuclei = review.points.value
    assert nuclei is not None
    assert "melanocytic" in nuclei.features
    # melanocytic nuclei drawn as squares, the others as rings (session 41 H5's D8: nothing marked them)
    mel = np.asarray(nuclei.features["melanocytic"], dtype=bool)
    symbols = np.asarray([str(getattr(x, "value", x)) for x in np.atleast_1d(nuclei.symbol)])
    assert set(symbols[mel]) == {"square"}
    assert set(symbols[~mel]) == {"disc"}
    review.update()
    text = review.results.value
    assert ("stains: H-DAB-FastRed (from result.json; Ki67 read as DAB + Hematoxylin; marker Fast Red (cytoplasmic "
            "marker, assumed))") in text, text
    assert f": {measured:.1f} %" in _melanocytic_line(text)
    # one melanocytic negative made positive: the melanocyte index follows the edit
    feats = nuclei.features
    cls = np.asarray(feats["class"], dtype=object)
    (idx,) = np.flatnonzero((cls == "negative") & np.asarray(feats["melanocytic"], dtype=bool))[:1]
    nuclei.selected_data = {int(idx)}
    review._apply("positive")
    k_pos = int(np.count_nonzero((np.asarray(nuclei.features["class"]) == "positive")
                                 & np.asarray(nuclei.features["melanocytic"], dtype=bool)))
    k_den = int(np.count_nonzero(np.isin(np.asarray(nuclei.features["class"]), ("positive", "negative"))
                                 & np.asarray(nuclei.features["melanocytic"], dtype=bool)))
    want = 100.0 * k_pos / k_den
    assert not math.isclose(want, measured)
    assert f": {want:.1f} %" in _melanocytic_line(review.results.value)
    assert f"n={k_den}" in _melanocytic_line(review.results.value)
    # Export's result.json carries the same reviewed melanocyte index (session 41 H10's finding 3)
    export = open_plugin_widget(viewer, "export_widget")
    export.kind.value = "JSON (result)"
    doc = json.loads(export.export(tmp_path / "reviewed.json").read_text(encoding="utf-8"))
    assert doc["review"]["ki67_metrics"]["melanocytic_index_pct"] == pytest.approx(want)
    assert doc["review"]["ki67_metrics"]["melanocytic_denominator"] == k_den


def test_reviewed_counts_carry_the_melanocytic_index():
    """The library's one reviewed computation (napari's Review, its Export and ``mmnst-path review``)."""
    classes = np.array(["positive", "negative", "negative", "positive", "excluded"], dtype=object)
    bins = np.array([2, 0, 0, 1, 0])
    _, m = reviewed_ki67(classes, bins, melanocytic=np.array([True, True, False, False, True]))
    assert m["melanocytic_index_pct"] == 50.0
    assert m["melanocytic_denominator"] == 2
    _, m = reviewed_ki67(classes, bins)
    assert math.isnan(m["melanocytic_index_pct"])


def test_analyze_figures_follow_their_image(make_napari_viewer, qtbot):
    """Analyze's box shows an image's figures only while that image is chosen; removed, it says so."""
    tile = double_stain_tile(1, marker="cytoplasmic", chromogen="fast_red", size=256)
    viewer = make_napari_viewer()
    first = viewer.add_image(tile.rgb, rgb=True, name="first")
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.region.value = "whole image"
    analyze.mpp.value = tile.mpp
    analyze.image.value = first
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    shown = analyze.results.value
    assert "Ki67 index" in shown
    second = viewer.add_image(np.ascontiguousarray(tile.rgb[::-1]), rgb=True, name="second")
    analyze.image.value = second
    assert analyze.results.value.startswith("no analysis of this image yet: press Analyze (the last was of 'first')")
    analyze.image.value = first
    assert analyze.results.value == shown
    notice = analyze.notice.value
    analyze.image.value = second
    analyze.image.value = first
    assert analyze.notice.value == notice  # the run's warning line comes back with its figures (H10's finding 5)
    # another image chosen while the run goes on: its figures are not shown under that image's name (finding 4)
    assert analyze.run() is not None, analyze.controls.status.value
    analyze.image.value = second
    wait_idle(qtbot, analyze)
    assert analyze.results.value.startswith("no analysis of this image yet"), analyze.results.value
    analyze.image.value = first
    assert "Ki67 index" in analyze.results.value
    viewer.layers.remove(first)
    assert analyze.image.value is second
    assert "since removed" in analyze.results.value
    assert "Ki67 index" not in analyze.results.value
