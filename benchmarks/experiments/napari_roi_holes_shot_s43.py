"""A QuPath ROI with a hole, imported with Export, drawn one more hole, exported (session 43 H6): a screenshot.

    PYTHONPATH=$PWD:$PWD/plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" python \
        benchmarks/experiments/napari_roi_holes_shot_s43.py OUT.png
Prints the import and export status lines and the holes `read_rois` finds in the exported file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import napari
import numpy as np
import tifffile
from napari._app_model import get_app_model
from qtpy.QtWidgets import QApplication

from mmnst_path.geojson import read_rois


def main(out: str) -> int:
    work = Path("/tmp/s43_h6/roi_shot")
    work.mkdir(parents=True, exist_ok=True)
    tif = work / "ki67.tif"
    rgb = np.ascontiguousarray(tifffile.imread(Path("sample_tiles/ki67_primary.tif"))[:384, :384])
    tifffile.imwrite(tif, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    ring = [[20, 20], [360, 20], [360, 360], [20, 360], [20, 20]]  # x, y (QuPath)
    fold = [[120, 140], [240, 110], [260, 220], [140, 250], [120, 140]]
    roi = work / "qupath_roi.geojson"
    roi.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring, fold]},
        "properties": {"objectType": "annotation", "name": "tumour less the fold"}}]}), encoding="utf-8")
    viewer = napari.Viewer(show=True)
    viewer.open(str(tif), plugin="mmnst-path-napari")
    before = set(viewer.window.dock_widgets)
    get_app_model().commands.execute_command("mmnst-path-napari.export_widget").result()
    (name,) = set(viewer.window.dock_widgets) - before
    export = viewer.window.dock_widgets[name]
    app = QApplication.instance()
    export.import_(roi)
    print("import:", export.status.value)
    holes = viewer.layers["qupath_roi ROI holes"]
    um = 0.5  # the layer is in µm: a bleed drawn near the ROI's corner
    holes.add_polygons([np.array([[40.0, 280.0], [40.0, 330.0], [90.0, 330.0], [90.0, 280.0]]) * um])
    export.kind.value = "GeoJSON (QuPath)"
    export.export(work / "from_napari.geojson")
    print("export:", export.status.value)
    for r in read_rois(work / "from_napari.geojson"):
        print(f"read back: {r.name!r}, {len(r.holes)} hole(s)")
    window = viewer.window._qt_window
    window.resize(1920, 1200)
    for _ in range(60):
        app.processEvents()
    window.grab().save(out)
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
