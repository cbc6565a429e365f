"""Screenshot: a Shapes layer the user adds beside a µm slide (session 37 H13, napari N3).

Opens a sample tile with the plugin's reader (0.5 µm/px), docks Plugins > Analyze, adds a Shapes layer
with ``viewer.add_shapes()`` and a rectangle typed in image pixel numbers (yellow). A cyan reference
rectangle, placed explicitly with the image's scale, shows where those pixels are. The user layer's
scale / units and the napari notifications dispatched are printed (JSON); napari's toast is a separate
popup, not in the window's screenshot.

Run from a tree's root: ``PYTHONPATH=.:plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" python
benchmarks/experiments/napari_user_layer_units_s37.py OUT.png``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(out: str) -> None:
    import napari
    from napari.utils.notifications import notification_manager

    seen: list[str] = []
    notification_manager.notification_ready.connect(lambda n: seen.append(str(n.message)))
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.window.add_plugin_dock_widget("mmnst-path-napari", "Analyze")
    (image,) = viewer.open(str(Path("sample_tiles") / "ki67_primary.tif"), plugin="mmnst-path-napari")
    rect = np.array([[200.0, 200.0], [500.0, 600.0]])  # image pixels (row, col)
    viewer.add_shapes(rect, shape_type="rectangle", scale=image.scale, units=image.units, edge_color="cyan",
                      edge_width=6, face_color="transparent", name="where pixels 200-500 x 200-600 are")
    user = viewer.add_shapes(name="Shapes (user)")
    user.add_rectangles(rect, edge_color="yellow", edge_width=3, face_color="transparent")
    viewer.reset_view()
    napari.qt.get_qapp().processEvents()
    viewer.screenshot(out, canvas_only=False)
    print(json.dumps({"user_scale": [float(s) for s in user.scale], "user_units": [str(u) for u in user.units],
                      "image_scale": [float(s) for s in image.scale], "notices": seen}))
    viewer.close()


if __name__ == "__main__":
    main(sys.argv[1])
