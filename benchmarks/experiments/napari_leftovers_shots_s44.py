"""Screenshots of session 44 H5's napari leftovers (1920x1200 window, under xvfb).

    PYTHONPATH=$PWD:$PWD/plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" python \
        benchmarks/experiments/napari_leftovers_shots_s44.py OUTDIR

Writes ``analyze_roi_hole.png`` (Analyze on a selected QuPath ROI with a hole: the nuclei found, none in the hole),
``train_pigment.png`` (Train pigment: the µm/px box, QuPath polygons loaded with their hole, the trained status) and
``export_status.png`` (Export after an import made while the search read the image: both lines). Prints the status
lines shown.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import napari
import numpy as np
import tifffile
from napari._app_model import get_app_model
from qtpy.QtWidgets import QApplication


def _square(r0: float, c0: float, side: float) -> list[list[float]]:
    return [[c0, r0], [c0 + side, r0], [c0 + side, r0 + side], [c0, r0 + side], [c0, r0]]


def _geojson(path: Path, *features: tuple[list, dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
         "properties": {"objectType": "annotation", **props}} for rings, props in features]}), encoding="utf-8")
    return path


def _open(viewer: napari.Viewer, name: str):  # type: ignore[no-untyped-def]
    before = set(viewer.window.dock_widgets)
    get_app_model().commands.execute_command(f"mmnst-path-napari.{name}").result()
    (new,) = set(viewer.window.dock_widgets) - before
    return viewer.window.dock_widgets[new]


def _wait(until, seconds: float = 300) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    t0 = time.time()
    while not until() and time.time() - t0 < seconds:
        app.processEvents()
        time.sleep(0.05)


def _grab(viewer: napari.Viewer, out: Path) -> None:
    app = QApplication.instance()
    window = viewer.window._qt_window
    window.resize(1920, 1200)
    for _ in range(60):
        app.processEvents()
    window.grab().save(str(out))


def _ki67_tile(path: Path, size: int) -> Path:
    rgb = np.ascontiguousarray(tifffile.imread(Path("sample_tiles/ki67_primary.tif"))[:size, :size])
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return path


def analyze_shot(work: Path, out: Path) -> None:
    tile = _ki67_tile(work / "a" / "ki67.tif", 384)
    roi = _geojson(work / "a" / "qupath.geojson", ([_square(16, 16, 352), _square(112, 112, 160)], {"name": "tumour"}))
    viewer = napari.Viewer(show=True)
    (image,) = viewer.open(str(tile), plugin="mmnst-path-napari")
    export = _open(viewer, "export_widget")
    _wait(lambda: export.find_worker is None, 30)
    export.import_(roi)
    analyze = _open(viewer, "analyze_widget")
    analyze.image.value = image
    analyze.region.value = "selected shapes"
    analyze.stains.value = "H-DAB"
    analyze.do_melanin.value = analyze.do_necrosis.value = False
    viewer.layers["qupath annotations"].selected_data = {0}
    analyze.run()
    _wait(lambda: analyze.result is not None or analyze.controls.status.value.startswith("error"))
    print("analyze:", analyze.controls.status.value, "|", analyze.result.metrics["ki67_positive"],
          analyze.result.metrics["ki67_negative"])
    nuclei = viewer.layers["nuclei"].data
    inside = ((nuclei[:, 0] > 111.5) & (nuclei[:, 0] < 271.5) & (nuclei[:, 1] > 111.5) & (nuclei[:, 1] < 271.5))
    print(f"nuclei {len(nuclei)}, in the hole {int(inside.sum())}")
    for name in ("Ki67 heatmap", "Ki67 hot spot"):
        if name in viewer.layers:
            viewer.layers[name].visible = False
    viewer.reset_view()
    _grab(viewer, out)
    viewer.close()


def train_pigment_shot(work: Path, out: Path) -> None:
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(801, "dusty", chromogen="aec", size=192, drawn_melanin=True)
    (work / "p").mkdir(parents=True, exist_ok=True)
    path = work / "p" / "aec_tile.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb")  # no pixel size
    ann = _geojson(work / "p" / "qupath_pigment.geojson", ([_square(0, 0, 192)], {"classification": {"name": "Tumor"}}),
                   ([_square(40, 40, 112), _square(76, 76, 40)], {"classification": {"name": "Melanin"}}))
    viewer = napari.Viewer(show=True)
    (image,) = viewer.open(str(path), plugin="mmnst-path-napari")
    train = _open(viewer, "train_pigment_widget")
    train.image.value = image
    train.annotations.value = ann
    train.load_button.changed.emit(True)
    print("load:", train.status.value)
    train.train()
    print("train without µm/px:", train.status.value)
    train.mpp.value = 0.5
    train.stains.value = "H-AEC"
    train.train()
    _wait(lambda: train.model is not None or train.status.value.startswith("error"))
    print("train:", train.status.value)
    viewer.layers.selection.active = image
    viewer.reset_view()
    _grab(viewer, out)
    viewer.close()


def export_shot(work: Path, out: Path) -> None:
    from mmnst_path_napari import _result_find

    from mmnst_path.cli import main as cli

    tile = _ki67_tile(work / "e" / "slides" / "tile.tif", 192)
    cli(["quantify", str(tile), "--out", str(tile.parent / "results")])
    rgb = tifffile.imread(tile)
    rgb[:8, :8] = 255  # changed since measured: the search reads it and offers nothing
    tifffile.imwrite(tile, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    release = threading.Event()
    read = _result_find.sha256_pieces

    def slow_read(p, *, stop):  # type: ignore[no-untyped-def]
        release.wait(60)  # as a whole slide's read: the import is made during it
        return (yield from read(p, stop=stop))

    _result_find.sha256_pieces = slow_read
    roi = _geojson(work / "e" / "qupath.geojson", ([_square(8, 8, 160), _square(40, 40, 40)], {"name": "tumour"}))
    viewer = napari.Viewer(show=True)
    viewer.open(str(tile), plugin="mmnst-path-napari")
    export = _open(viewer, "export_widget")
    export.import_(roi)
    print("import:", export.status.value)
    release.set()
    _wait(lambda: export.find_worker is None, 60)
    print("after the search:", export.status.value)
    _result_find.sha256_pieces = read
    _grab(viewer, out)
    viewer.close()


def main(outdir: str) -> int:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path("/tmp/s44_h5_shots")
    analyze_shot(work, out / "analyze_roi_hole.png")
    train_pigment_shot(work, out / "train_pigment.png")
    export_shot(work, out / "export_status.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
