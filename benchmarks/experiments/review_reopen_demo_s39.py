"""Session 39 H5's walk: a real batch reviewed on the command line (QuPath-style edits), its report rebuilt, and the
reviewed folders reopened in napari.

Usage::

    python benchmarks/experiments/review_reopen_demo_s39.py cli OUT            # after quantify into OUT
    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/experiments/review_reopen_demo_s39.py napari OUT SHOTS

``cli``: for the first Ki67 input, its cells.geojson with the 4 negatives of highest DAB made positive (and
nothing else) as edits; for the H&E input, a QuPath GeoJSON with a ``Necrosis`` polygon over the image's upper
left quarter, a ``Stroma`` polygon inside it (drawn later: it wins) and an unclassified ROI; for the second Ki67
input, a review whose source SHA-256 is changed afterwards (refused). ``mmnst-path review`` for each, then
``mmnst-path report OUT``; prints every figure unrounded. ``napari``: opens the H&E and the first Ki67 result
folders through the plugin's reader (the reviewed state), the Review panel from the Plugins menu, and saves a
screenshot of each window into SHOTS.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from mmnst_path.cli import main


def _folders(out: Path) -> tuple[Path, Path, Path]:
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    he = next(r["input"] for r in rows if r["input"].endswith("he_necrosis.tif"))
    ki = sorted(r["input"] for r in rows if r["input"] != he)
    names = {}
    for res in out.glob("*/result.json"):
        names[json.loads(res.read_text(encoding="utf-8"))["input"]] = res.parent
    return names[ki[0]], names[ki[1]], names[he]


def cli(out: Path) -> None:
    ki1, ki2, he = _folders(out)
    work = out.parent / "edits"
    work.mkdir(exist_ok=True)
    # Ki67: the 4 negatives of highest DAB made positive
    doc = json.loads((ki1 / "cells.geojson").read_text(encoding="utf-8"))
    neg = [f for f in doc["features"] if (f["properties"].get("classification") or {}).get("name") == "Negative"]
    neg.sort(key=lambda f: -float(f["properties"]["measurements"].get("DAB OD mean", 0.0)))
    for f in neg[:4]:  # reclassified as in QuPath: the measurements (Intensity bin 0 of a negative) stay
        f["properties"]["classification"]["name"] = "Positive"
        print("made positive: DAB OD mean", f["properties"]["measurements"].get("DAB OD mean"))
    (work / "ki67_edits.geojson").write_text(json.dumps(doc), encoding="utf-8")
    assert main(["review", str(ki1), str(work / "ki67_edits.geojson"), "--reviewer", "Dr A"]) == 0
    # H&E: QuPath annotations
    h, w = json.loads((he / "result.json").read_text(encoding="utf-8"))["shape"][:2]

    def square(x0: float, y0: float, x1: float, y1: float, cls: str | None) -> dict:
        props: dict = {"objectType": "annotation"}
        if cls:
            props["classification"] = {"name": cls, "color": [0, 0, 0]}
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props}

    feats = [square(0, 0, w / 2, h / 2, "Necrosis"), square(64, 64, 192, 192, "Stroma"),
             square(0, 0, w, h, None)]
    (work / "he_annotations.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                                                 encoding="utf-8")
    assert main(["review", str(he), str(work / "he_annotations.geojson"), "--reviewer", "Dr N"]) == 0
    # a review of the second Ki67 tile, then its source hash changed: refused by report
    assert main(["review", str(ki2), str(ki2 / "cells.geojson"), "--reviewer", "Dr A"]) == 0
    rv = json.loads((ki2 / "review.json").read_text(encoding="utf-8"))
    rv["source_sha256"] = "f" * 64
    (ki2 / "review.json").write_text(json.dumps(rv), encoding="utf-8")
    print("report exit", main(["report", str(out)]))
    for folder in (ki1, he):
        print(folder.name, json.dumps(json.loads((folder / "review.json").read_text(encoding="utf-8")), indent=None)[:2000])
    cols = ["input", "ki67_index_pct", "ki67_index_reviewed_pct", "ki67_positive_reviewed", "ki67_denominator_reviewed",
            "h_score", "necrosis_fraction_pct", "necrosis_fraction_reviewed_pct", "necrosis_area_mm2",
            "necrosis_area_reviewed_mm2", "necrosis_tissue_mm2", "necrosis_tissue_reviewed_mm2",
            "tumour_fraction_pct", "tumour_fraction_reviewed_pct", "stroma_fraction_pct", "stroma_fraction_reviewed_pct",
            "tissue_blocks_reviewed", "reviewed", "reviewer", "review_note"]
    for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8")):
        print({k: r.get(k) for k in cols})


def shots(out: Path, where: Path) -> None:
    import napari
    from napari._app_model import get_app_model

    ki1, _ki2, he = _folders(out)
    where.mkdir(parents=True, exist_ok=True)
    for folder, name in ((he, "h5_reopen_he_necrosis.png"), (ki1, "h5_reopen_ki67.png")):
        viewer = napari.Viewer(show=True)
        viewer.window.resize(1600, 1000)
        viewer.open(str(folder / "result.json"), plugin="mmnst-path-napari")  # the reader opens result.json, not the folder
        get_app_model().commands.execute_command("mmnst-path-napari.review_widget").result()
        get_app_model().commands.execute_command("mmnst-path-napari.export_widget").result()
        for _ in range(20):
            napari.qt.get_qapp().processEvents()
        print(name, [lay.name for lay in viewer.layers])
        for widget in viewer.window.dock_widgets.values():
            box = getattr(widget, "results", None)
            if box is not None:
                print(box.value)
        viewer.screenshot(str(where / name), canvas_only=False)
        viewer.close()


if __name__ == "__main__":
    if sys.argv[1] == "cli":
        cli(Path(sys.argv[2]))
    else:
        shots(Path(sys.argv[2]), Path(sys.argv[3]))
