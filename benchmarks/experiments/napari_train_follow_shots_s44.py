"""Train pigment follows its image (session 44 H11): two AEC tiles opened at the same place, polygons drawn on the first,
the image renamed, then chosen again in Train pigment: a screenshot of the window (the chosen image on top with its
polygons, the layer list's order).

    PYTHONPATH=$PWD:$PWD/plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" python \
        benchmarks/experiments/napari_train_follow_shots_s44.py OUT_FOLDER
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import napari
import numpy as np
import tifffile
from napari._app_model import get_app_model
from qtpy.QtWidgets import QApplication

from mmnst_path.synthetic import pigment_family_tile


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="s44_h11_"))
    viewer = napari.Viewer(show=True)
    window = viewer.window._qt_window
    layers = []
    for seed, family in ((801, "dusty"), (802, "coarse")):
        tile = pigment_family_tile(seed, family, chromogen="aec", size=256, drawn_melanin=True)
        path = tmp / f"slide_{family}.tif"
        tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                         resolutionunit="CENTIMETER")
        (layer,) = viewer.open(str(path), plugin="mmnst-path-napari")
        layers.append(layer)
    a, b = layers
    before = set(viewer.window.dock_widgets)
    get_app_model().commands.execute_command("mmnst-path-napari.train_pigment_widget").result()
    (new,) = set(viewer.window.dock_widgets) - before
    train = viewer.window.dock_widgets[new]
    train.image.value = a
    train.polygons_layer("Other").add_polygons([np.array([[2, 2], [2, 253], [253, 253], [253, 2]], dtype=float)])
    train.polygons_layer("Melanin").add_polygons([np.array([[60, 60], [60, 140], [140, 140], [140, 60]], float)])
    train.polygons_layer("Other", b).add_polygons([np.array([[100, 20], [100, 200], [230, 200]], dtype=float)])
    a.name = "slide_dusty (renamed).tif"
    train.image.value = b
    train.image.value = a  # chosen again after the rename: raised with its own polygons
    app = QApplication.instance()
    window.resize(1920, 1200)
    for _ in range(60):
        app.processEvents()
    window.grab().save(str(out / "train_pigment_follows_a.png"))
    train.image.value = b
    for _ in range(60):
        app.processEvents()
    window.grab().save(str(out / "train_pigment_follows_b.png"))
    print([(lay.name, lay.visible) for lay in viewer.layers])
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
