"""Session 38 H5: a pathologist's review-and-correct walk in napari, driven as a user would, under Xvfb.

Usage (from the project root)::

    PYTHONPATH=.:plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" \
        python benchmarks/experiments/review_walk_s38.py QUANT_DIR IMAGE OUT_DIR [--mpp X]

``QUANT_DIR`` is one input's folder of ``mmnst-path quantify`` output (result.json, cells.geojson),
``IMAGE`` the image it came from. The walk opens the image through the plugin's reader, opens Export and
Review from the Plugins menu (their commands), imports ``cells.geojson``, reads the Review panel, corrects
nuclei (a negative made positive, a counted nucleus taken out as not tumour, a missed positive added),
draws an ROI, saves the edits, exports GeoJSON / CSV / JSON, reopens what was saved and prints every
number a colleague would read (pandas, the GeoJSON, the JSON), with screenshots in ``OUT_DIR``.

``--necrosis`` walks an H&E result instead: the slide, Export's import of its cells.geojson (the whole-image
annotation and its measurements), Analyze on the whole image from the Plugins menu, a necrosis square painted
on its ``tissue classes`` layer and then erased, the panel and Export's result.json read after each.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

PLUGIN = "mmnst-path-napari"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("quant")
    ap.add_argument("image")
    ap.add_argument("out")
    ap.add_argument("--necrosis", action="store_true")
    args = ap.parse_args()
    if args.necrosis:
        necrosis_walk(args)
        return
    import napari
    import pandas as pd
    from napari._app_model import get_app_model
    from qtpy.QtWidgets import QApplication

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    quant = Path(args.quant)
    metrics = json.loads((quant / "result.json").read_text(encoding="utf-8"))["metrics"]
    print(f"quantify: index {metrics['ki67_index_pct']:.4f} % positive {metrics['ki67_positive']} "
          f"negative {metrics['ki67_negative']} excluded {metrics['ki67_excluded']}")

    viewer = napari.Viewer(show=True)
    qw = viewer.window._qt_window
    qw.resize(1600, 1000)
    app = QApplication.instance()

    def settle(n: int = 20) -> None:
        for _ in range(n):
            app.processEvents()

    (image,) = viewer.open(args.image, plugin=PLUGIN)
    print(f"image {image.name}: scale {tuple(image.scale)} units {[str(u) for u in image.units]}")
    docks = {}
    for name in ("export_widget", "review_widget"):  # Plugins > mmnst_path > Export, Review
        before = set(viewer.window.dock_widgets)
        get_app_model().commands.execute_command(f"{PLUGIN}.{name}").result()
        (new,) = set(viewer.window.dock_widgets) - before
        docks[name] = viewer.window.dock_widgets[new]
    export, review = docks["export_widget"], docks["review_widget"]
    imported = export.import_(quant / "cells.geojson")
    settle()
    print("imported layers:", [lay.name for lay in imported], "| export status:", export.status.value)
    points = review.points.value
    print(f"review follows: {points.name}; {len(points.data)} points; scale {tuple(points.scale)}")
    print("REVIEW PANEL (as opened):\n" + review.results.value)
    print("notice:", review.notice.value)
    qw.grab().save(str(out / "1_opened.png"))

    feats = points.features
    cls = np.asarray(feats["class"], dtype=object)
    print("classes in layer:", dict(zip(*np.unique(cls, return_counts=True), strict=True)))
    # 1. a positive called negative: the negative with the highest DAB
    neg = np.flatnonzero(cls == "negative")
    order = neg[np.argsort(-np.asarray(feats["dab_od"], dtype=float)[neg])]
    fix_pos = int(order[0])
    points.selected_data = {fix_pos}
    review.toggle_button.changed.emit(True)  # the "toggle +/-" button
    settle()
    print(f"toggled nucleus {fix_pos} (DAB OD {feats['dab_od'][fix_pos]:.3f}) -> "
          f"{points.features['class'][fix_pos]}")
    # 2. a stromal nucleus counted: a counted nucleus the cell model typed stromal, or the least tumour-like
    counted = np.flatnonzero(np.isin(np.asarray(points.features["class"], dtype=object), ("positive", "negative")))
    if "tumour_probability" in points.features.columns:
        tp = np.asarray(points.features["tumour_probability"], dtype=float)[counted]
        stromal = int(counted[np.nanargmin(tp)])
    else:
        stromal = int(counted[-1])
    print(f"nucleus {stromal} to take out of the count: class {points.features['class'][stromal]}, "
          f"cell_type {points.features['cell_type'][stromal] if 'cell_type' in points.features.columns else '-'}")
    points.selected_data = {stromal}
    review._apply("excluded")  # the "→ not tumour" button (session 38; before it, only a delete)
    settle()
    # 3. a missed positive: add a point in add mode with add-as positive
    review.add_class.value = "positive"
    points.mode = "add"
    y, x = (np.asarray(points.data).max(axis=0) + np.asarray(points.data).min(axis=0)) / 2
    points.add(np.array([[y, x]]))
    points.mode = "pan_zoom"
    settle()
    print("REVIEW PANEL (after 3 edits: a negative made positive, a counted one not tumour, a positive added):\n"
          + review.results.value)
    print("notice:", review.notice.value)
    qw.grab().save(str(out / "2_corrected.png"))

    # ROI: a rectangle typed in the image's pixels on a Shapes layer the user adds
    shapes = viewer.add_shapes(name="ROI")
    h, w = np.asarray(points.data).max(axis=0)
    shapes.add_rectangles(np.array([[0.0, 0.0], [h / 2, w / 2]]))
    shapes.features = {"name": ["upper left"]}
    export.rois.reset_choices()
    export.rois.value = shapes
    export.points.reset_choices()
    export.points.value = points

    saved = review.save(out / "edits.geojson")
    files = {}
    for kind, name in (("GeoJSON (QuPath)", "export.geojson"), ("CSV (cells)", "cells.csv"),
                       ("JSON (result)", "result.json")):
        export.kind.value = kind
        files[kind] = export.export(out / name)
        print(f"export {kind}: {export.status.value}")
    print("saved edits:", saved)

    # what a colleague opens
    df = pd.read_csv(files["CSV (cells)"])
    vc = df["class"].value_counts().to_dict()
    print("pandas cells.csv classes:", vc, "index %.4f" % (100 * vc.get("positive", 0) /
                                                           (vc.get("positive", 0) + vc.get("negative", 0))))
    doc = json.loads(files["JSON (result)"].read_text(encoding="utf-8"))
    rv = doc["review"]
    print("result.json review:", rv["ki67_counts"], {k: rv["ki67_metrics"][k] for k in ("index_pct",) if k in rv["ki67_metrics"]})
    print("result.json metrics (the run's):", {k: doc.get("metrics", {}).get(k) for k in ("ki67_index_pct", "ki67_positive", "ki67_negative")})
    gj = json.loads(files["GeoJSON (QuPath)"].read_text(encoding="utf-8"))
    ann = [f for f in gj["features"] if f["properties"].get("objectType") == "annotation"]
    det = [f for f in gj["features"] if f["properties"].get("objectType") == "detection"]
    names = {}
    for f in det:
        n = f["properties"].get("classification", {}).get("name")
        names[n] = names.get(n, 0) + 1
    print("GeoJSON detections by class:", names)
    for a in ann:
        print("GeoJSON annotation:", a["properties"].get("name"), a["properties"].get("measurements"))

    # reopen: a fresh viewer, the image, Review's "load edits"
    viewer2 = napari.Viewer(show=True)
    viewer2.window._qt_window.resize(1600, 1000)
    viewer2.open(args.image, plugin=PLUGIN)
    get_app_model().commands.execute_command(f"{PLUGIN}.review_widget").result()
    review2 = next(iter(viewer2.window.dock_widgets.values()))
    review2.load(saved)
    settle()
    print("REOPENED edits.geojson, REVIEW PANEL:\n" + review2.results.value)
    viewer2.window._qt_window.grab().save(str(out / "3_reopened.png"))
    get_app_model().commands.execute_command(f"{PLUGIN}.export_widget").result()
    export2 = list(viewer2.window.dock_widgets.values())[1]
    export2.import_(files["GeoJSON (QuPath)"])
    settle()
    print("REOPENED export.geojson via Export import:", [lay.name for lay in viewer2.layers],
          "\nREVIEW PANEL:\n" + review2.results.value)
    viewer2.window._qt_window.grab().save(str(out / "4_reimported.png"))
    viewer2.close()
    viewer.close()


def necrosis_walk(args: argparse.Namespace) -> None:
    """The H&E walk of ``--necrosis`` (see the module's docstring)."""
    import napari
    from napari._app_model import get_app_model
    from qtpy.QtWidgets import QApplication

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = json.loads((Path(args.quant) / "result.json").read_text(encoding="utf-8"))["metrics"]
    print(f"quantify: necrosis {metrics['necrosis_fraction_pct']} %, classes necrosis "
          f"{metrics.get('class_necrosis_area_mm2')} mm2")
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    app = QApplication.instance()
    viewer.open(args.image, plugin=PLUGIN)
    docks = {}
    for name in ("export_widget", "analyze_widget"):
        before = set(viewer.window.dock_widgets)
        get_app_model().commands.execute_command(f"{PLUGIN}.{name}").result()
        (new,) = set(viewer.window.dock_widgets) - before
        docks[name] = viewer.window.dock_widgets[new]
    export, analyze = docks["export_widget"], docks["analyze_widget"]
    shapes = export.import_(Path(args.quant) / "cells.geojson")
    print("imported:", [lay.name for lay in shapes], dict(shapes[0].features.iloc[0]) if shapes else None)
    analyze.region.value = "whole image"
    analyze.run()
    while analyze.result is None and not analyze.controls.status.value.startswith("error"):
        app.processEvents()
    print("analyze:", analyze.controls.status.value)
    print("PANEL (run):\n" + analyze.results.value)
    layer = viewer.layers["tissue classes"]
    meta = layer.metadata["mmnst_path"]
    necrosis = meta["classes"].index("necrosis") + 1
    data = np.asarray(layer.data)
    r0, c0 = data.shape[0] // 2, data.shape[1] // 2
    layer.brush_size = 1
    for value, what in ((necrosis, "painted"), (0, "erased")):
        with layer.block_history():  # one brush stroke over a 6 x 6 block square at the centre
            for r in range(r0, r0 + 6):
                for c in range(c0, c0 + 6):
                    layer.paint((r, c), value)
        for _ in range(10):
            app.processEvents()
        print(f"PANEL (necrosis square {what}):\n" + analyze.results.value.split("tissue classes", 1)[1])
        export.kind.value = "JSON (result)"
        doc = json.loads(export.export(out / f"result_{what}.json").read_text(encoding="utf-8"))
        tc = doc["review"].get("tissue_classes", {})
        print(f"result.json ({what}): review.tissue_classes necrosis {tc.get('area_mm2', {}).get('necrosis')} mm2, "
              f"{tc.get('pct_of_tissue', {}).get('necrosis')} %; run metrics necrosis "
              f"{doc['metrics'].get('necrosis_fraction_pct')} %")
        viewer.window._qt_window.grab().save(str(out / f"necrosis_{what}.png"))
    viewer.close()


if __name__ == "__main__":
    main()
