"""How long 100,000 nuclei take to display and recolour in napari (Points layer).

Run under an X server, e.g. ``xvfb-run -a .venv/bin/python plugins/napari/benchmarks/bench_points.py``.
Prints wall times (s) of: building the layer data, adding the layer and drawing it, recolouring
every point (class change of all), toggling one point (the Review widget's path, including the
index update), and a redraw after each. Nothing is asserted: this is a measurement.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def main(n: int = 100_000) -> None:
    import napari
    from mmnst_path_napari._layers import points_layer
    from mmnst_path_napari._widgets import ReviewWidget
    from mmnst_path_napari._widgets._review import set_classes, toggle_classes
    from napari.layers import Layer

    from mmnst_path.aggregate import CellTable

    rng = np.random.default_rng(0)
    side = 40_000  # a 20 x 20 mm slide at 0.5 µm/px
    cells = CellTable(
        rng.uniform(0, side, n), rng.uniform(0, side, n), rng.integers(0, 3, n).astype(np.int8),
        {"dab_od_mean": rng.uniform(0, 1, n), "area_um2": rng.uniform(20, 80, n),
         "intensity_bin": rng.integers(0, 4, n).astype(np.int8)},
    )  # fmt: skip
    viewer = napari.Viewer(show=True)
    app = napari.qt.get_qapp()

    def draw() -> float:
        t = time.perf_counter()
        viewer.window._qt_viewer.canvas.native.update()
        app.processEvents()
        viewer.screenshot(canvas_only=True)
        return time.perf_counter() - t

    t = time.perf_counter()
    data = points_layer(cells, mpp=0.5)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    layer = viewer.add_layer(Layer.create(*data))
    t_add = time.perf_counter() - t
    t_draw = draw()
    widget = ReviewWidget(viewer)
    viewer.window.add_dock_widget(widget)
    app.processEvents()

    t = time.perf_counter()
    set_classes(layer, range(n), "negative")
    t_all = time.perf_counter() - t
    t_draw_all = draw()
    t = time.perf_counter()
    toggle_classes(layer, {n // 2})
    t_one = time.perf_counter() - t
    t_draw_one = draw()
    print(f"n={n} points")
    print(f"build layer data       {t_build:.3f} s")
    print(f"add layer              {t_add:.3f} s   first draw {t_draw:.3f} s")
    print(f"recolour all points    {t_all:.3f} s   (incl. index update)  redraw {t_draw_all:.3f} s")
    print(f"toggle one point       {t_one:.3f} s   (incl. index update)  redraw {t_draw_one:.3f} s")
    print(f"panel: {widget.results.value.splitlines()[0]}")
    viewer.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
