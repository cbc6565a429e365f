"""A double stain's marker in napari's Review as its run recorded it, in view under a docked Analyze (session 43 H7's
walk, defects 4 and 13; H8's leftover).

Fails before: a reopened H-DAB-FastRed result whose marker was left auto (``ki67_melanocyte_marker_source``
"assumed") said "Ki67 in melanocytes (MART-1+)" (the run never checked which marker the slide holds); the stains line
said "Ki67 read as DAB + Hematoxylin" without the marker's chromogen; with Analyze docked above Review on a 1920 x 1200
screen the melanocytic line sat below the counts and the H-score, out of the box's view.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget

from mmnst_path.cli import main
from mmnst_path.synthetic_double import double_stain_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _double_stain_folder(tmp_path, *marker):  # type: ignore[no-untyped-def]
    """The result folder of ``quantify --stains H-DAB-FastRed`` on a generated Ki67 / MART-1 Fast Red tile."""
    tile = double_stain_tile(3, marker="cytoplasmic", chromogen="fast_red", size=384)
    path = tmp_path / "double.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                     resolutionunit="CENTIMETER")
    out = tmp_path / "res"
    assert main(["quantify", str(path), "--out", str(out), "--stains", "H-DAB-FastRed", "--measures", "ki67",
                 *marker]) == 0
    return out / "double" / "result.json"


def _lines(text: str, start: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith(start)]


@pytest.mark.parametrize(("marker", "label", "words"), [
    ((), "cytoplasmic marker, assumed", "marker Fast Red (cytoplasmic marker, assumed)"),
    (("--melanocyte-marker", "MART-1"), "MART-1+", "marker Fast Red (MART-1, cytoplasmic)"),
])
def test_review_names_the_marker_as_the_run_recorded_it(make_napari_viewer, tmp_path, marker, label, words):
    """Reopened from its folder, before and after an edit: the marker's label as the run set it, and the stains line
    names the marker's chromogen."""
    result = _double_stain_folder(tmp_path, *marker)
    viewer = make_napari_viewer()
    viewer.open(str(result), plugin=PLUGIN)
    review = open_plugin_widget(viewer, "review_widget")
    nuclei = review.points.value
    review.update()
    text = review.results.value
    assert len(_lines(text, f"Ki67 in melanocytes ({label}): ")) == 1, text
    assert ("stains: H-DAB-FastRed (from result.json; Ki67 read as DAB + Hematoxylin; "
            f"{words})") in text, text
    feats = nuclei.features
    cls = np.asarray(feats["class"], dtype=object)
    (idx,) = np.flatnonzero((cls == "negative") & np.asarray(feats["melanocytic"], dtype=bool))[:1]
    nuclei.selected_data = {int(idx)}
    review._apply("positive")
    edited = review.results.value
    assert edited != text
    assert len(_lines(edited, f"Ki67 in melanocytes ({label}): ")) == 1, edited
    assert len(_lines(edited, "Ki67 in melanocytes (")) == 1, edited


def test_melanocytic_line_in_view_under_a_docked_analyze(make_napari_viewer, qtbot, tmp_path):
    """The usual layout on a 1920 x 1200 screen: Analyze docked, Review below it, a double-stain result reopened; the
    melanocytic line shows in Review's box without scrolling (defect 13)."""
    result = _double_stain_folder(tmp_path)
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1920, 1200)
    open_plugin_widget(viewer, "analyze_widget")
    qtbot.wait(200)
    review = open_plugin_widget(viewer, "review_widget")
    viewer.open(str(result), plugin=PLUGIN)
    review.update()
    qtbot.wait(500)
    box = review.results.native
    assert box.isVisible()
    shown = box.toPlainText().splitlines()
    (at,) = [i for i, ln in enumerate(shown) if ln.startswith("Ki67 in melanocytes (")]
    assert box.verticalScrollBar().value() == 0
    block = box.document().findBlockByNumber(at)
    whole = box.document().documentLayout().blockBoundingRect(block).toAlignedRect()  # all its wrapped lines
    if os.environ.get("H14_SHOTS"):  # the screenshots of the report (h14_review_before / after.png)
        window.grab().save(os.environ["H14_SHOTS"])
    seen = box.viewport().visibleRegion().boundingRect()  # the part of the box on the screen, not clipped by the dock
    assert seen.top() <= whole.top(), (whole, seen)
    assert whole.bottom() <= seen.bottom(), (whole, seen)  # HEAD: the line at 116-147 px, the box showing 0-47
