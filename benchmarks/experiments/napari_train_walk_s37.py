"""Session 37 H7: the napari walk through the Train widgets opened from the Plugins menu (screenshots).

    PYTHONPATH=.:plugins/napari/src xvfb-run -a -s "-screen 0 1920x1200x24" python \
        benchmarks/experiments/napari_train_walk_s37.py OUT

Opens the sample he_necrosis.tif, Train tissue from the Plugins menu (save before training, a damaged model,
QuPath GeoJSON import from /tmp/s37_h7/walk/tissue.geojson, a Shapes layer with a class feature, train, save),
then Train cells (save before training, damaged / missing model, 60 clicks on ki67_primary.tif nuclei taken
from a README-job cells.csv at /tmp/s37_h7/readme_head, train, preview, save); prints each status line and
every exception raised through a button's signal; writes h7_napari_train_tissue.png / h7_napari_train_cells.png.
The /tmp inputs are made by the walk (report: /work/notes/s37/h7_report.md).
"""

import json
import sys
import time
import traceback
from pathlib import Path

import mmnst_path_napari._widgets as W
import napari
import numpy as np
import pandas as pd
from napari._app_model import get_app_model
from qtpy.QtWidgets import QApplication

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
S = Path("/work/wt_h7/sample_tiles")
errors = []


def hook(t, v, tb):
    errors.append("".join(traceback.format_exception(t, v, tb)))
    print("EXC:", errors[-1][-2000:], flush=True)


sys.excepthook = hook


def pump(sec=0.5):
    t = time.time()
    while time.time() - t < sec:
        QApplication.processEvents()
        time.sleep(0.02)


def wait(pred, sec=300):
    t = time.time()
    while time.time() - t < sec:
        QApplication.processEvents()
        time.sleep(0.05)
        if pred():
            return True
    return False


v = napari.Viewer(show=True)
v.window._qt_window.resize(1800, 1150)
app = get_app_model()
layers = v.open(str(S / "he_necrosis.tif"), plugin="mmnst-path-napari")
pump(1)


def open_menu(cmd):
    before = set(v.window.dock_widgets)
    app.commands.execute_command(cmd).result()
    pump(0.5)
    new = [k for k in v.window.dock_widgets if k not in before]
    w = v.window.dock_widgets[new[0]]
    return getattr(w, "_magic_widget", None) or w, new[0]


tt, name = open_menu("mmnst-path-napari.train_tissue_widget")
print("opened", name, type(tt))
# widget found via its dock: get the python object

objs = [w for w in __import__("gc").get_objects() if isinstance(w, W.TrainTissueWidget)]
tt = objs[-1]
# 1) click save before training
tt.file.value = str(OUT / "nothing.mmnst")
tt.save_button.clicked.emit() if hasattr(tt.save_button, "clicked") else tt.save_button.changed.emit(True)
pump(0.5)
print("tissue save before train ->", repr(tt.status.value), "errors", len(errors))
# 2) load a damaged model
(OUT / "dmg.mmnst").write_bytes(b"PK\x03\x04garbage")
tt.file.value = str(OUT / "dmg.mmnst")
tt.load_button.changed.emit(True)
pump(0.5)
print("tissue load damaged ->", repr(tt.status.value), "errors", len(errors))
# 3) import QuPath geojson
tt.annotations.value = "/tmp/s37_h7/walk/tissue.geojson"
tt.import_button.changed.emit(True)
pump(1)
print("import ->", repr(tt.status.value))
# 4) napari shapes layer with class feature
sh = v.add_shapes(
    [np.array([[400, 100], [400, 300], [550, 300], [550, 100]])],
    shape_type="polygon",
    features={"class": ["Necrosis"]},
    name="my shapes",
)
v.layers.selection.active = sh
tt.shapes_button.changed.emit(True)
pump(1)
print("shapes ->", repr(tt.status.value))
tt.live.value = False
tt.train_button.changed.emit(True)
ok = wait(lambda: tt.model is not None and "train" not in tt.status.value.lower()[:3], 240)
pump(2)
print("train ->", ok, repr(tt.status.value), tt.results.value[:300])
v.window.screenshot(str(OUT / "h7_napari_train_tissue.png"), canvas_only=False, flash=False)
tt.file.value = str(OUT / "my_tissue")
tt.save_button.changed.emit(True)
pump(0.5)
print("save ->", repr(tt.status.value))
# Train cells
tc_name = open_menu("mmnst-path-napari.train_cells_widget")[1]
tc = [w for w in __import__("gc").get_objects() if isinstance(w, W.TrainCellsWidget)][-1]
tc.file.value = str(OUT / "cells_none.mmnst")
tc.save_button.changed.emit(True)
pump(0.5)
print("cells save before train ->", repr(tc.status.value), "errors", len(errors))
tc.file.value = str(OUT / "dmg.mmnst")
tc.load_button.changed.emit(True)
pump(0.5)
print("cells load damaged ->", repr(tc.status.value), "errors", len(errors))
tc.file.value = str(OUT / "nonexistent.mmnst")
tc.load_button.changed.emit(True)
pump(0.5)
print("cells load missing ->", repr(tc.status.value), "errors", len(errors))
v.layers.selection.active = layers[0]
kimg = v.open(str(S / "ki67_primary.tif"), plugin="mmnst-path-napari")[0]
pump(1)
tc.image.value = kimg
tc.new_points.changed.emit(True)
pump(0.5)
pts = v.layers.selection.active
print(
    "points layer",
    pts.name,
    pts.features.columns.tolist() if hasattr(pts.features, "columns") else None,
    repr(tc.status.value),
)

rng = np.random.default_rng(0)

cells = pd.read_csv("/tmp/s37_h7/readme_head/ki67_primary/cells.csv")
pick = cells.sample(60, random_state=0)
for i, (_, r) in enumerate(pick.iterrows()):
    tc.cls.value = "tumour" if i % 2 else "stromal"
    pts.add(np.array([[r["y"], r["x"]]]))
pump(0.5)
print("clicked", len(pts.data), pts.features["class"].value_counts().to_dict())
tc.train_button.changed.emit(True)
ok = wait(lambda: tc.status.value.startswith(("trained", "error")), 300)
pump(0.5)
print("cells train ->", ok, repr(tc.status.value))
tc.preview_button.changed.emit(True)
ok = wait(lambda: tc.status.value.startswith(("view classified", "error")), 300)
pump(0.5)
print("cells preview ->", ok, repr(tc.status.value))
tc.file.value = str(OUT / "my_cells")
tc.save_button.changed.emit(True)
pump(0.5)
print("cells save ->", repr(tc.status.value), sorted(p.name for p in OUT.glob("my_cells*")))
for L in v.layers:
    print("layer", L.name, type(L).__name__, getattr(L, "units", None), getattr(L, "scale", None))
for s in errors:
    print("EXC:", s[-1500:])
v.window.screenshot(str(OUT / "h7_napari_train_cells.png"), canvas_only=False, flash=False)
json.dump({"errors": errors}, open(OUT / "errors.json", "w"))
v.close()
