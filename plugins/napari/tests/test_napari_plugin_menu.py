"""Every widget of the npe2 manifest opened the way a user opens it (the Plugins menu: napari's
plugin machinery, which must hand the viewer to the widget), then Analyze -> Review -> Export on
a real H&E slide: stains detected as the CLI does, Ki67 refused visibly, layers of a new run
replacing the old ones, maps below the nuclei and exactly the image's extent.

Set ``MMNST_SCREENSHOT_DIR`` to keep the napari screenshots of the workflow there.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from napari_helpers import wait_idle

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SLIDE = "CMU-1-Small-Region.svs"


def _manifest_widgets() -> list[tuple[str, str]]:
    import npe2

    pm = npe2.PluginManager.instance()
    manifest = pm.get_manifest(PLUGIN)
    return [(w.display_name, w.command) for w in manifest.contributions.widgets or ()]


def _keep(path: Path) -> None:
    where = os.environ.get("MMNST_SCREENSHOT_DIR")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(where) / path.name)


def test_every_manifest_widget_opens_through_add_plugin_dock_widget(make_napari_viewer):
    from mmnst_path_napari import _widgets

    viewer = make_napari_viewer()
    contributions = _manifest_widgets()
    names = {name for name, _ in contributions}
    assert {"Analyze", "Review", "Train tissue", "Train cells", "Export"} <= names  # and any widget added later
    for display_name, command in contributions:
        dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, display_name)
        expected = getattr(_widgets, command.rsplit(".", 1)[-1].title().replace("_", ""), None)
        assert dock is not None
        assert type(widget).__name__.endswith("Widget"), (display_name, type(widget))
        if expected is not None:
            assert isinstance(widget, expected)
        # the widget got this viewer (napari hands a proxy of it)
        assert widget.viewer.layers is viewer.layers or list(widget.viewer.layers) == list(viewer.layers)
    assert len(viewer.window.dock_widgets) >= len(contributions)


def test_every_manifest_widget_opens_from_the_plugins_menu_action(make_napari_viewer):
    """The Plugins menu entry runs the widget command of the app model (what a click does)."""
    from app_model.types import MenuItem
    from napari._app_model import get_app_model

    viewer = make_napari_viewer()
    app = get_app_model()
    menu_commands = {
        item.command.id
        for menu_id, items in app.menus
        if menu_id.startswith("napari/plugins")
        for item in items
        if isinstance(item, MenuItem)
    }
    for display_name, command in _manifest_widgets():
        assert command in menu_commands, f"{display_name!r} ({command}) is not in the Plugins menu"
        before = len(viewer.window.dock_widgets)
        app.commands.execute_command(command).result()
        assert len(viewer.window.dock_widgets) == before + 1, display_name



def _extent(layer) -> np.ndarray:
    """World (µm) extent of a layer's pixels, outer edges (2, 2): [[r0, c0], [r1, c1]]."""
    return np.asarray(layer.extent.world)[:, -2:] + np.array([[-0.5], [0.5]]) * np.asarray(layer.scale)[-2:]


def _assert_covers(layer, image) -> None:  # type: ignore[no-untyped-def]
    """A map drawn from the image's corner over the whole image, its blocks at their true size (session 42, H5's
    walk #10): past the image's far edges by less than one of its raster pixels (the last block partial)."""
    got, want = _extent(layer), _extent(image)
    np.testing.assert_allclose(got[0], want[0], atol=1e-6)
    assert np.all(got[1] >= want[1] - 1e-6), (layer.name, got, want)
    assert np.all(got[1] < want[1] + np.asarray(layer.scale)[-2:]), (layer.name, got, want)


def test_analyze_review_export_on_a_real_slide_from_the_plugin_menu(
    make_napari_viewer, qtbot, wsi_dir, tmp_path
):
    from mmnst_path_napari._widgets._analyze import AUTO
    from mmnst_path_napari._widgets._review import toggle_classes

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1800, 1250)  # a desktop-sized window for the screenshots
    (image,) = viewer.open(str(wsi_dir / SLIDE), plugin=PLUGIN)
    mpp = float(image.scale[-1])
    assert mpp == pytest.approx(0.499)
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    # a 400 x 400 µm region the user draws (world coordinates are µm)
    r0, c0 = 1100 * mpp, 700 * mpp
    roi = viewer.add_shapes(
        [np.array([[r0, c0], [r0, c0 + 400], [r0 + 400, c0 + 400], [r0 + 400, c0]])],
        shape_type="rectangle", name="ROI", edge_color="cyan", face_color="transparent", units=("µm", "µm"),
    )  # fmt: skip
    roi.selected_data = {0}
    analyze.region.value = "selected shapes"
    assert analyze.stains.value == AUTO
    assert "from the file" in analyze.mpp_info.value
    assert not analyze.mpp.enabled  # the file's pixel size is used, no silent default

    # run 1: stains detected (H&E, as the CLI does), Ki67 refused visibly
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    assert analyze.result is not None, analyze.controls.status.value
    assert analyze.plan.stains == "H&E"
    assert "detected" in analyze.plan.stains_source
    assert "ki67" not in analyze.result.measures
    assert "Ki67 NOT measured" in analyze.notice.value
    assert "Ki67 NOT measured" not in analyze.results.value  # said once, in the warning line
    assert "stains: H&E (detected from the image)" in analyze.results.value
    assert "Ki67 index" not in analyze.results.value
    assert "nuclei" not in viewer.layers
    assert {"melanin fraction", "necrosis fraction"} <= {lay.name for lay in viewer.layers}
    assert "melanin fraction" in analyze.legend.value
    for name in ("melanin fraction", "necrosis fraction"):
        _assert_covers(viewer.layers[name], image)
        assert viewer.layers[name].opacity < 1
        assert viewer.layers[name].colormap.colors[0][3] == 0  # no tissue / zero: transparent
    viewer.scene.camera.center = (r0 + 200, c0 + 200)
    viewer.scene.camera.zoom = 1.6
    qtbot.wait(200)
    # the dock keeps to a width the window can give: magicgui's fixed-size labels sized it by their unwrapped
    # text, and the H&E legend's longest line widened it to 451 px, its right edge cut in this screenshot
    assert analyze.native.minimumSizeHint().width() <= 400, analyze.native.minimumSizeHint().width()
    shot1 = tmp_path / "napari_run1_he_auto.png"
    viewer.window.screenshot(str(shot1), canvas_only=False, flash=False)
    _keep(shot1)

    # run 2: the user insists on H-DAB (to review nuclei): the H&E-only necrosis map goes away
    analyze.stains.value = "H-DAB"
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    result = analyze.result
    assert "ki67" in result.measures, analyze.controls.status.value
    names = [lay.name for lay in viewer.layers]
    assert len(names) == len(set(names)), names  # no leftover of run 1
    assert "necrosis fraction" not in names  # run 1's map, not produced by run 2
    assert names[-1] == "nuclei"  # nuclei on top, maps below
    assert names.index("Ki67 heatmap") < names.index("nuclei")
    assert names.index("melanin fraction") < names.index("Ki67 heatmap")
    assert names.index(image.name) < names.index("melanin fraction")
    for name in ("melanin fraction", "Ki67 heatmap"):
        _assert_covers(viewer.layers[name], image)
    nuclei = viewer.layers["nuclei"]
    assert len(nuclei.data) == len(result.cells) > 20
    assert "stains: H-DAB (chosen)" in analyze.results.value
    assert "Ki67 NOT measured" not in analyze.notice.value
    assert "nuclei:" in analyze.legend.value

    # Review (opened from the menu): toggling a nucleus changes the index at once
    _, review = viewer.window.add_plugin_dock_widget(PLUGIN, "Review")
    assert review.points.value is nuclei
    # Review captions the frame from the nuclei as the library counts its window: unchanged before an edit
    from mmnst_path_napari._analysis import hotspot_caption

    assert list(viewer.layers["Ki67 hot spot"].features["label"]) == [hotspot_caption(result)]
    _, k0 = review.metrics()
    neg = int(np.flatnonzero(np.asarray(nuclei.features["class"]) == "negative")[0])
    toggle_classes(nuclei, {neg})
    _, k1 = review.metrics()
    assert k1["positive"] == k0["positive"] + 1
    assert f"{k1['index_pct']:.1f} %" in review.results.value
    assert "stains: H-DAB" in review.results.value

    # Export (opened from the menu): the three formats of the reviewed nuclei and the ROI
    _, export = viewer.window.add_plugin_dock_widget(PLUGIN, "Export")
    assert export.points.value is nuclei
    export.rois.value = roi
    outs = {}
    for kind, fname in (("GeoJSON (QuPath)", "cells.geojson"), ("CSV (cells)", "cells.csv"),
                        ("JSON (result)", "result.json")):  # fmt: skip
        export.kind.value = kind
        outs[fname] = export.export(tmp_path / fname)
        assert outs[fname].is_file()
    gj = json.loads(outs["cells.geojson"].read_text())
    kinds = [f["properties"].get("objectType") for f in gj["features"]]
    assert kinds.count("annotation") == 1
    assert kinds.count("detection") == len(nuclei.data)
    with outs["cells.csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(nuclei.data)
    assert sum(r["class"] == "positive" for r in rows) == k1["positive"]
    doc = json.loads(outs["result.json"].read_text())
    assert doc["review"]["ki67_counts"]["positive"] == k1["positive"]
    assert doc["mpp_source"] == "from the file"
    assert len(doc["rois"]) == 1

    viewer.scene.camera.center = (r0 + 200, c0 + 200)
    viewer.scene.camera.zoom = 1.6
    qtbot.wait(200)
    shot2 = tmp_path / "napari_run2_review.png"
    viewer.window.screenshot(str(shot2), canvas_only=False, flash=False)
    _keep(shot2)
    viewer.reset_view()
    qtbot.wait(200)
    shot3 = tmp_path / "napari_run2_overview.png"
    viewer.window.screenshot(str(shot3), canvas_only=False, flash=False)
    _keep(shot3)

    # deleting the nuclei layer empties the Review panel (no stale index)
    viewer.layers.remove(nuclei)
    assert review.points.value is None
    assert review.results.value == ""


def test_analyze_refuses_an_image_without_pixel_size_until_one_is_entered(make_napari_viewer, qtbot):
    from mmnst_path_napari._widgets._analyze import AUTO

    viewer = make_napari_viewer()
    rng = np.random.default_rng(3)
    rgb = np.full((300, 300, 3), 240, np.uint8)
    rgb[50:250, 50:250] = rng.integers(90, 200, (200, 200, 3), dtype=np.uint8)
    viewer.add_image(rgb, rgb=True, name="no mpp")
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze.region.value = "whole image"
    assert analyze.stains.value == AUTO
    assert analyze.mpp.enabled
    assert "no pixel size" in analyze.mpp_info.value
    assert analyze.run() is None
    assert "no pixel size" in analyze.controls.status.value
    analyze.mpp.value = 0.5
    # the line under the box follows what was typed: no warning left beside an entered size (session 34)
    assert "no pixel size" not in analyze.mpp_info.value
    assert analyze.mpp_info.value.startswith("pixel size 0.5 µm/px (entered")
    analyze.mpp.value = 0.0
    assert "no pixel size" in analyze.mpp_info.value
    analyze.mpp.value = 0.5
    assert analyze.run() is not None
    wait_idle(qtbot, analyze)
    assert analyze.result is not None, analyze.controls.status.value
    assert analyze.result.mpp == pytest.approx(0.5)
    assert "pixel size: 0.5 µm/px (entered by the user)" in analyze.results.value


def test_a_stuck_tile_and_a_failed_tile_are_reported(make_napari_viewer):
    import threading
    import time

    from mmnst_path_napari._widgets._analyze import run_in_thread

    def stuck(progress):
        progress(1, 4)
        time.sleep(0.3)
        return "late"

    seen = []
    gen = run_in_thread(stuck, threading.Event(), heartbeat_s=0.05)
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as stop:
            returned = stop.value
            break
    assert returned == "late"
    assert seen[0] == (1, 4)
    idle = [v for v in seen if len(v) == 3]
    assert idle
    assert all(v[:2] == (1, 4) for v in idle)
    assert idle[-1][2] > idle[0][2]

    viewer = make_napari_viewer()
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze._on_progress((1, 4, 45.0))
    assert "no tile finished for 45 s" in analyze.controls.status.value
    from mmnst_path.tiling import TileError

    analyze._on_error(
        TileError("analyze_tile failed on tile 3 of x.svs: boom\n--- worker traceback ---\nTraceback")
    )
    assert analyze.controls.status.value == "error: TileError: analyze_tile failed on tile 3 of x.svs: boom"
    assert "worker traceback" in analyze.results.value


def test_cancel_stops_a_threaded_run_and_keeps_the_viewer_clean(make_napari_viewer, qtbot, wsi_dir):
    import threading

    viewer = make_napari_viewer()
    (image,) = viewer.open(str(wsi_dir / SLIDE), plugin=PLUGIN)
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    analyze.region.value = "whole image"
    analyze.stains.value = "H-DAB"
    before = {t.ident for t in threading.enumerate()}
    assert analyze.run() is not None
    qtbot.waitUntil(lambda: analyze.controls.status.value.startswith("tiles"), timeout=60_000)
    analyze.cancel()
    wait_idle(qtbot, analyze)
    assert analyze.controls.status.value.startswith("cancelled"), analyze.controls.status.value
    assert analyze.result is None
    assert [lay.name for lay in viewer.layers] == [image.name]
    # the tile threads (Dask client without processes) are gone once the run stopped; only
    # distributed's process-wide offload thread (created once, reused) may stay

    def leftover() -> list[str]:
        return [
            t.name
            for t in threading.enumerate()
            if t.ident not in before and not t.name.startswith("Dask-Offload")
        ]

    qtbot.waitUntil(lambda: not leftover(), timeout=30_000)
