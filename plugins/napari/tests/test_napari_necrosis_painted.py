"""A necrosis region drawn or erased on Analyze's ``tissue classes`` layer (session 38 H5's walk): the
panel kept the run's class areas whatever the reviewer painted, and Export's result.json had none. The
areas now follow the strokes (the run's library areas plus what the strokes changed) in the panel and in
result.json's ``review.tissue_classes``; the run's own metrics are left as they were.

Mutation caught: no paint handling (the panel keeps "tissue classes (% of the classed area)").
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from napari_helpers import open_plugin_widget as _open

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def test_painted_necrosis_reaches_the_panel_and_the_exported_json(make_napari_viewer, qtbot, sample_tiles,
                                                                   tmp_path):
    viewer = make_napari_viewer()
    (image,) = viewer.open(str(sample_tiles / "he_necrosis.tif"), plugin=PLUGIN)
    analyze = _open(viewer, "analyze_widget")  # Plugins > mmnst_path > Analyze
    analyze.region.value = "whole image"
    assert analyze.run() is not None, analyze.controls.status.value
    qtbot.waitUntil(lambda: analyze.result is not None or analyze.controls.status.value.startswith("error"),
                    timeout=240_000)
    result = analyze.result
    assert result is not None, analyze.controls.status.value
    layer = viewer.layers["tissue classes"]
    meta = layer.metadata["mmnst_path"]
    classes = meta["classes"]
    run_areas = dict(meta["areas"]["area_mm2"])
    assert "tissue classes (% of the classed area):" in analyze.results.value
    necrosis = classes.index("necrosis") + 1  # the label value of necrosis
    data = np.asarray(layer.data)
    d = float(meta["downsample"])
    # draw: a 4 x 4 block square of another tissue class (inside the image: whole blocks) painted necrosis
    other = [k + 1 for k, name in enumerate(classes) if name not in ("necrosis", "background")]
    rows, cols = np.nonzero(np.isin(data[:-1, :-1], other))
    r0, c0 = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    square = data[r0 : r0 + 4, c0 : c0 + 4].copy()
    was = {classes[v - 1]: int(np.count_nonzero(square == v)) for v in np.unique(square) if v > 0}
    flipped = int(np.count_nonzero(square != necrosis))
    # a changed block moves the run's area of its class in that block: the class's area over its (edge-weighted)
    # blocks (session 39 H10: the classed tissue is conserved)
    from mmnst_path._review_tissue import edge_weight

    weight = edge_weight(data.shape, d, tuple(result.shape))
    per_block = {name: run_areas[name] / weight[data == k + 1].sum() for k, name in enumerate(classes)
                 if weight[data == k + 1].sum() > 0}
    layer.brush_size = 1

    def stroke(value: int) -> None:  # one mouse drag of the brush over the square (one undo step, one paint event)
        with layer.block_history():
            for r in range(r0, r0 + 4):
                for c in range(c0, c0 + 4):
                    layer.paint((r, c), value)

    stroke(necrosis)
    text = analyze.results.value
    assert f"tissue classes as painted ({flipped} blocks changed" in text
    painted = meta["areas"]["area_mm2"]
    moved = sum(n * per_block[name] for name, n in was.items() if name != "necrosis")
    assert painted["necrosis"] == pytest.approx(run_areas["necrosis"] + moved, rel=1e-12)
    for name, n in was.items():
        if name != "necrosis":
            assert painted[name] == pytest.approx(run_areas[name] - n * per_block[name], rel=1e-12, abs=1e-15)
    assert meta["areas"]["tissue_mm2"] == pytest.approx(
        sum(a for c, a in run_areas.items() if c != "background"), rel=1e-12)
    assert result.metrics == analyze.result.metrics  # the run's own figures are not rewritten
    # Export's result.json carries the areas as painted
    export = _open(viewer, "export_widget")
    export.kind.value = "JSON (result)"
    doc = json.loads(export.export(tmp_path / "result.json").read_text(encoding="utf-8"))
    assert doc["review"]["tissue_classes"]["area_mm2"]["necrosis"] == pytest.approx(painted["necrosis"])
    assert export.points.value is None  # an H&E run: no nuclei layer, the JSON still carries the run
    assert doc["metrics"]["necrosis_fraction_pct"] == pytest.approx(result.metrics["necrosis_fraction_pct"])
    # erase: the square back to unclassed (label 0): necrosis loses what it had there
    stroke(0)
    erased = meta["areas"]["area_mm2"]
    assert erased["necrosis"] == pytest.approx(
        run_areas["necrosis"] - was.get("necrosis", 0) * per_block.get("necrosis", 0.0), rel=1e-12, abs=1e-15)
    assert image.name in [lay.name for lay in viewer.layers]
