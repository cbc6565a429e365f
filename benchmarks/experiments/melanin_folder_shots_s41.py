"""Screenshots of session 41 H11: melanin corrections of a quantify result folder, in napari and through
``mmnst-path review``.

Run from the repository root under Xvfb::

    PYTHONPATH=$PWD:$PWD/plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" \
        python benchmarks/experiments/melanin_folder_shots_s41.py WORK_DIR OUT_DIR

WORK_DIR (a scratch folder) gets the sample ``he_melanin.tif`` quantified with ``mmnst-path quantify`` into
``results/``. 1. Its result.json opened in napari, Review from the Plugins menu, *paint melanin corrections*: blocks of
clean tissue painted melanin, the darkest blocks no melanin; Export from the Plugins menu, reviewer named, *save review
to result folder* (shot ``h11_folder_melanin.png``). 2. ``mmnst-path report`` then the folder reopened in a new viewer:
the corrections where they were left, the panel's line (shot ``h11_folder_reopened.png``). 3. A second copy reviewed
with ``mmnst-path review`` and a QuPath-style GeoJSON (a ``Melanin`` and a ``No melanin`` annotation). Prints each
status line, the review.json melanin part and the summary.csv columns.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "napari" / "tests"))

SAMPLES = Path(__file__).resolve().parents[2] / "sample_tiles"
PLUGIN = "mmnst-path-napari"


def _box(name: str, row0: int, col0: int, row1: int, col1: int) -> dict:
    ring = [[col0, row0], [col1, row0], [col1, row1], [col0, row1], [col0, row0]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"objectType": "annotation", "classification": {"name": name}}}


def main(work: Path, out: Path) -> None:
    import napari
    from napari_helpers import button, open_plugin_widget
    from qtpy.QtWidgets import QApplication

    from mmnst_path.cli import main as cli

    os.environ["XDG_CONFIG_HOME"] = str(work / "config")

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
    slides = work / "slides"
    slides.mkdir(parents=True, exist_ok=True)
    mel = slides / "he_melanin.tif"
    shutil.copy2(SAMPLES / "he_melanin.tif", mel)
    results = slides / "results"
    if not (results / "he_melanin" / "result.json").is_file():
        assert cli(["quantify", str(mel), "--out", str(results), "--quiet"]) == 0
    folder = results / "he_melanin"
    print("melanin_map.npz bytes:", (folder / "melanin_map.npz").stat().st_size)
    cli_copy = work / "cli_out"
    shutil.rmtree(cli_copy, ignore_errors=True)
    shutil.copytree(results, cli_copy)
    # 1. the folder opened, melanin painted, review saved
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1900, 1150)
    viewer.open(str(folder / "result.json"), plugin=PLUGIN)
    review = open_plugin_widget(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    layer = viewer.layers["melanin corrections"]
    share = np.asarray(viewer.layers["melanin fraction"].metadata["mmnst_path"]["melanin_map"]["melanin"])
    layer.brush_size = 1
    with layer.block_history():
        for r, c in np.argwhere(np.nan_to_num(share, nan=1.0) == 0)[:12]:
            layer.paint((int(r), int(c)), 1)
        for r, c in np.argwhere(np.nan_to_num(share, nan=0.0) > 0.3)[:6]:
            layer.paint((int(r), int(c)), 2)
    print("1. line:", review.melanin_line.value)
    export = open_plugin_widget(viewer, "export_widget")
    export.reviewer.value = "Dr M"
    saved = export.save_review()
    print("1. export status:", export.status.value)
    print("1. review.json melanin:", json.dumps(saved["melanin"] if saved else None))
    shot(viewer, "h11_folder_melanin.png")
    viewer.close()
    assert cli(["report", str(results)]) == 0
    with (results / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    print("2. summary.csv last columns:", list(rows[0])[-3:])
    for r in rows:
        print("2.", r["input"], "melanin_fraction_pct", r.get("melanin_fraction_pct"), "reviewed",
              r.get("melanin_fraction_reviewed_pct"))
    # 2. reopened
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1900, 1150)
    viewer.open(str(folder / "result.json"), plugin=PLUGIN)
    review = open_plugin_widget(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    print("2. reopened line:", review.melanin_line.value)
    shot(viewer, "h11_folder_reopened.png")
    viewer.close()
    # 3. mmnst-path review with QuPath annotations (row, col in level-0 px)
    edits = work / "qupath_melanin.geojson"
    edits.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _box("Melanin", 100, 100, 300, 300), _box("No melanin", 600, 600, 800, 800)]}))
    print("3. cli:")
    assert cli(["review", str(cli_copy / "he_melanin"), str(edits), "--reviewer", "Dr Q"]) == 0
    assert cli(["report", str(cli_copy)]) == 0


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
