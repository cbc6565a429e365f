"""Screenshots of session 41 H4's review fixes: an image opened alone finds its result, a clipped annotation said,
melanin corrections painted.

Run from the repository root under Xvfb::

    PYTHONPATH=$PWD:$PWD/plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" \
        python benchmarks/experiments/review_leftovers_shots_s41.py WORK_DIR OUT_DIR

WORK_DIR (a scratch folder) gets 512 px crops of the project's sample tiles, quantified with ``mmnst-path
quantify`` into ``results*/`` beside them. 1. The Ki67 tile quantified twice (``results``, ``results_2``), then
dragged in alone; Export from the Plugins menu opens the newest result and offers both. 2. The H&E necrosis tile
quantified, a QuPath ``Necrosis`` annotation running 100 px off its left edge given to ``mmnst-path review``,
then the tile opened alone: Export opens the reviewed result and says how much of the annotation was clipped.
3. The H&E melanin tile analysed in Analyze, Review's *paint melanin corrections*, blocks painted melanin /
no melanin. Prints each status line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "napari" / "tests"))

SAMPLES = Path(__file__).resolve().parents[2] / "sample_tiles"
PLUGIN = "mmnst-path-napari"


def _crop(name: str, dest: Path, size: int = 512) -> Path:
    import tifffile

    dest.parent.mkdir(parents=True, exist_ok=True)
    rgb = tifffile.imread(SAMPLES / name)[:size, :size]
    tifffile.imwrite(dest, np.ascontiguousarray(rgb), photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")
    return dest


def main(work: Path, out: Path) -> None:
    import napari
    from napari_helpers import button, open_plugin_widget
    from qtpy.QtWidgets import QApplication

    from mmnst_path.cli import main as cli

    os.environ["XDG_CONFIG_HOME"] = str(work / "config")  # the remembered places of this walk only

    def wait(cond, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        t0 = time.time()
        while time.time() - t0 < timeout:
            QApplication.processEvents()
            if cond():
                return True
            time.sleep(0.05)
        return False

    def shot(viewer, name: str) -> None:  # type: ignore[no-untyped-def]
        wait(lambda: False, 1.0)
        viewer.screenshot(str(out / name), canvas_only=False)
        print("wrote", out / name)

    out.mkdir(parents=True, exist_ok=True)
    # 1. Ki67 tile, two results: the newest opened, both offered
    ki = _crop("ki67_primary.tif", work / "slides" / "ki67.tif")
    assert cli(["quantify", str(ki), "--out", str(ki.parent / "results"), "--quiet"]) == 0
    time.sleep(1.1)
    assert cli(["quantify", str(ki), "--out", str(ki.parent / "results_2"), "--quiet"]) == 0
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1900, 1150)
    viewer.open(str(ki), plugin=PLUGIN)
    export = open_plugin_widget(viewer, "export_widget")
    print("1. status:", export.status.value)
    print("1. offered:", list(export.found.choices), "| layers", [lay.name for lay in viewer.layers])
    shot(viewer, "h4_found_result.png")
    viewer.close()
    # 2. H&E necrosis, a reviewed annotation 100 px off the left edge
    he = _crop("he_necrosis.tif", work / "he_slides" / "he.tif")
    assert cli(["quantify", str(he), "--out", str(he.parent / "results"), "--quiet"]) == 0
    ring = [[-100, 100], [200, 100], [200, 300], [-100, 300], [-100, 100]]
    edits = work / "qupath_necrosis.geojson"
    edits.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}}}]}), encoding="utf-8")
    assert cli(["review", str(he.parent / "results" / "he"), str(edits), "--reviewer", "Dr N"]) == 0
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1900, 1150)
    viewer.open(str(he), plugin=PLUGIN)
    export = open_plugin_widget(viewer, "export_widget")
    print("2. status:", export.status.value)
    shot(viewer, "h4_clipped_annotation.png")
    viewer.close()
    # 3. melanin corrections on an Analyze run
    mel = _crop("he_melanin.tif", work / "mel_slides" / "mel.tif")
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1900, 1150)
    viewer.open(str(mel), plugin=PLUGIN)
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.region.value = "whole image"
    analyze.run()
    wait(lambda: analyze.result is not None, 240)
    review = open_plugin_widget(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    layer = viewer.layers["melanin corrections"]
    share = np.asarray(analyze.result.maps["melanin"].image)
    layer.brush_size = 1
    with layer.block_history():
        for r, c in np.argwhere(np.nan_to_num(share, nan=1.0) == 0)[:12]:
            layer.paint((int(r), int(c)), 1)
        for r, c in np.argwhere(np.nan_to_num(share, nan=0.0) > 0.3)[:6]:
            layer.paint((int(r), int(c)), 2)
    print("3. line:", review.melanin_line.value)
    print("3. review:", layer.metadata["mmnst_path"]["melanin_review"])
    shot(viewer, "h4_melanin_corrections.png")
    viewer.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
