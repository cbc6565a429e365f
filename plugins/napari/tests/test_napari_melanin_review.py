"""Melanin corrections painted in napari (session 41 H4, review leftover 3).

The reviewer runs Analyze on an H&E tile with melanin, opens Review from the Plugins menu, presses *paint melanin
corrections* and paints blocks of the run's melanin map "melanin" (1) and "no melanin" (2): the line under the
panel gives the reviewed melanin fraction of tissue as the library computes it from the blocks
(:func:`mmnst_path._review_melanin.reviewed_melanin`), and Export's result.json records it (``review.melanin``);
the run's own figures stay; the tissue class map painted, Analyze's panel says the strokes change whole 16 µm
blocks. Fails before: Review had no *paint melanin corrections* (no way to correct melanin).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from napari_helpers import button
from napari_helpers import open_plugin_widget as _open

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def test_painted_melanin_blocks_give_the_reviewed_fraction(make_napari_viewer, qtbot, sample_tiles, tmp_path):
    from mmnst_path._review_melanin import block_tissue_mm2

    viewer = make_napari_viewer()
    viewer.open(str(sample_tiles / "he_melanin.tif"), plugin=PLUGIN)
    analyze = _open(viewer, "analyze_widget")
    analyze.region.value = "whole image"
    assert analyze.run() is not None, analyze.controls.status.value
    qtbot.waitUntil(lambda: analyze.result is not None or analyze.controls.status.value.startswith("error"),
                    timeout=240_000)
    result = analyze.result
    assert result is not None, analyze.controls.status.value
    review = _open(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    layer = viewer.layers["melanin corrections"]
    share = np.asarray(result.maps["melanin"].image, np.float64)
    t = result.maps["tissue"]
    tissue = block_tissue_mm2(t.image, tissue_downsample=t.downsample, downsample=result.maps["melanin"].downsample,
                              grid=share.shape, mpp=float(result.mpp))
    assert layer.data.shape == share.shape
    assert review.melanin_line.value.startswith(
        f"melanin reviewed {result.metrics['melanin_fraction_pct']:.2f} % of tissue (measured "
        f"{result.metrics['melanin_fraction_pct']:.2f} %): +0.0000 mm² in 0 blocks"), review.melanin_line.value
    # two tissue blocks without melanin painted melanin, the block of most melanin painted no melanin
    inner = np.nan_to_num(share[:-1, :-1], nan=1.0)
    clean = np.argwhere((inner == 0) & (tissue[:-1, :-1] > 0))[:2]
    dark = np.unravel_index(np.nanargmax(share[:-1, :-1]), inner.shape)
    layer.brush_size = 1
    with layer.block_history():
        for r, c in clean:
            layer.paint((int(r), int(c)), 1)
        layer.paint((int(dark[0]), int(dark[1])), 2)
    added = sum(tissue[r, c] for r, c in clean)
    removed = share[dark] * tissue[dark]
    want = result.metrics["melanin_area_mm2"] + added - removed
    got = layer.metadata["mmnst_path"]["melanin_review"]
    assert got["melanin_area_mm2"] == pytest.approx(want, rel=1e-9)
    assert got["melanin_fraction_pct"] == pytest.approx(100 * want / result.metrics["melanin_tissue_mm2"], rel=1e-9)
    assert (got["blocks_added"], got["blocks_removed"]) == (2, 1)
    assert review.melanin_line.value.startswith(f"melanin reviewed {got['melanin_fraction_pct']:.2f} % of tissue")
    assert "; whole 16 µm blocks" in review.melanin_line.value
    # session 42: the Analyze run measured melanin of tumour, its class layer is shown: the line gives it reviewed
    tumour = got["tumour"]
    assert review.melanin_line.value.endswith(f"; melanin of tumour reviewed {tumour['melanin_tumour_fraction_pct']:.2f} "
                                              f"% (measured {result.metrics['melanin_tumour_fraction_pct']:.2f} %)")
    # Export's result.json: the reviewed melanin beside the run's figures, which are unchanged
    export = _open(viewer, "export_widget")
    export.kind.value = "JSON (result)"
    doc = json.loads(export.export(tmp_path / "result.json").read_text(encoding="utf-8"))
    assert doc["review"]["melanin"]["melanin_fraction_pct"] == pytest.approx(got["melanin_fraction_pct"])
    assert doc["metrics"]["melanin_fraction_pct"] == pytest.approx(result.metrics["melanin_fraction_pct"])
    # the tissue class map painted too: the panel says a stroke changes whole 16 µm blocks (leftover 4)
    classes = viewer.layers["tissue classes"]
    classes.paint((2, 2), 1)
    assert "blocks changed, whole 16 µm blocks; % of the classed area" in analyze.results.value, analyze.results.value
    # a later Analyze run: the corrections (of the earlier run's map) go with the earlier run's layers and are not
    # exported beside the new run's figures (session 41 H10's finding 1: they stayed and were exported)
    assert analyze.run() is not None, analyze.controls.status.value
    qtbot.waitUntil(lambda: analyze.result is not result or analyze.controls.status.value.startswith("error"),
                    timeout=240_000)
    assert analyze.result is not result, analyze.controls.status.value
    assert "melanin corrections" not in viewer.layers
    out = export.export(tmp_path / "result2.json")
    assert not out.exists() or "melanin" not in json.loads(out.read_text(encoding="utf-8"))["review"]
