"""Screenshots of session 42 H10 (H5's walk #5 and #10): a new user opens a slide alone, Export finds its result in
``results/`` beside ``slides/``; the far corner of the slide with the tissue class blocks outlined over the melanin
fraction blocks.

Run under Xvfb from a tree (``xvfb-run -a -s "-screen 0 1920x1200x24" python THIS SLIDES_DIR OUT_PREFIX``, with
``PYTHONPATH=TREE:TREE/plugins/napari/src``); ``SLIDES_DIR`` holds the slide and ``SLIDES_DIR/../results`` its
result (H5's /tmp/s42_h5 layout). When Export finds nothing (the tree before the fix) the result.json is opened
directly for the corner shot. Prints the layers' scale / translate.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    slides, prefix = Path(sys.argv[1]).resolve(), sys.argv[2]
    name = "tcga-cr-7395-01a-01-ts1"
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="h10_config_")  # a new user: nothing remembered
    os.chdir(tempfile.mkdtemp(prefix="h10_cwd_"))  # napari started elsewhere
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "napari" / "tests"))
    import napari
    from napari_helpers import open_plugin_widget
    from PIL import Image
    from qtpy.QtWidgets import QApplication

    def pump(s: float = 1.0) -> None:
        t = time.time()
        while time.time() - t < s:
            QApplication.instance().processEvents()
            time.sleep(0.05)

    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.open(str(slides / f"{name}.svs"), plugin="mmnst-path-napari")
    export = open_plugin_widget(viewer, "export_widget")
    pump(2)
    print("export status:", export.status.value)
    if "tissue classes" not in viewer.layers:
        viewer.open(str(slides.parent / "results" / name / "result.json"), plugin="mmnst-path-napari")
    viewer.reset_view()
    pump(2)
    Image.fromarray(viewer.screenshot(canvas_only=False, flash=False)).save(f"{prefix}_found.png")
    for lay in viewer.layers:
        print(f"{lay.name!r}: scale {tuple(map(float, lay.scale))} translate {tuple(map(float, lay.translate))}")
    cls, mel = viewer.layers["tissue classes"], viewer.layers["melanin fraction"]
    cls.opacity, mel.opacity = 0.5, 1.0
    for lay in viewer.layers:
        if lay.name.startswith("nuclei") or ".svs" in lay.name:  # ([1]: the before tree opened it twice)
            lay.visible = False
    for dock in list(viewer.window._dock_widgets.values()):  # the whole window for the canvas
        dock.hide()
    block = 16.0  # world µm of one block (16 px at the result's 1 µm/px)
    # the true block edges (level-0 px i * 16 - 0.5, napari's pixel-centre convention) as thin yellow lines
    rows, cols = range(203, 216), range(252, 266)
    lines = [np.array([[i * block - 0.5, cols[0] * block], [i * block - 0.5, cols[-1] * block]]) for i in rows]
    lines += [np.array([[rows[0] * block, j * block - 0.5], [rows[-1] * block, j * block - 0.5]]) for j in cols]
    viewer.add_shapes(lines, shape_type="line", edge_color="yellow", edge_width=0.4, name="true block edges")
    centre = ((209 + 0.5) * block, (259 + 0.5) * block)  # blocks with melanin near the far corner
    viewer.camera.center = centre
    viewer.camera.zoom = 6.0
    pump(2)
    Image.fromarray(viewer.screenshot(canvas_only=True, flash=False)).save(f"{prefix}_corner.png")
    print("corner centre (µm):", centre, "melanin raster", np.shape(mel.data), "class raster", np.shape(cls.data))
    viewer.close()


if __name__ == "__main__":
    main()
