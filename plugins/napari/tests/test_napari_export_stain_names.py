"""napari's GeoJSON exports (Export widget, Review's saved edits) name the nuclei's OD by the stain the
layer was read with: "AEC OD mean" on an AEC result, as ``mmnst-path quantify`` writes it, and read
back alike (export -> read back -> export)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from mmnst_path_napari._geojson import layer_stains
from mmnst_path_napari._layers import points_layer
from mmnst_path_napari._widgets import ExportWidget, ReviewWidget

from mmnst_path.aggregate import CellTable
from mmnst_path.geojson import Roi, feature_collection_chunks, read_cells, read_features, stains_of_features

pytestmark = pytest.mark.napari

CASES = [  # (chromogen, counterstain, the OD names a layer exports: the chromogen's mean and max (kept since
    # session 33 H8) and the counterstain's mean)
    ("aec", "hematoxylin", {"AEC OD mean", "AEC OD max", "Hematoxylin OD mean"}),
    ("fast_red", "hematoxylin", {"Fast Red OD mean", "Fast Red OD max", "Hematoxylin OD mean"}),
    ("dab", "azure_b", {"DAB OD mean", "DAB OD max", "Azure B OD mean"}),
    ("dab", "hematoxylin", {"DAB OD mean", "DAB OD max", "Hematoxylin OD mean"}),
]


def _cells() -> CellTable:
    return CellTable(np.array([10.0, 30.0, 50.0]), np.array([12.0, 40.0, 60.0]), np.array([0, 1, 1], np.int8),
                     {"dab_od_mean": np.array([0.61, 0.04, 0.1]), "dab_od_max": np.array([0.9, 0.1, 0.2]),
                      "hematoxylin_od_mean": np.array([0.3, 0.5, 0.4]), "area_um2": np.array([30.0, 40.0, 35.0])})


def _cli_file(tmp_path, chromogen: str, counterstain: str):  # type: ignore[no-untyped-def]
    """A cells.geojson as ``mmnst-path quantify`` writes it for that stain."""
    whole = Roi(np.array([[-0.5, -0.5], [-0.5, 99.5], [99.5, 99.5], [99.5, -0.5]]), "Image")
    path = tmp_path / "cells.geojson"
    path.write_text("".join(feature_collection_chunks(_cells(), [whole], mpp=0.5, shape="polygon",
                                                      chromogen=chromogen, counterstain=counterstain)),
                    encoding="utf-8")
    return path


def _points(layers):  # type: ignore[no-untyped-def]
    (points,) = [lay for lay in layers if type(lay).__name__ == "Points"]
    return points


def _od_names(path) -> set[str]:  # type: ignore[no-untyped-def]
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {name for f in doc["features"] if f["properties"]["objectType"] == "detection"
            for name in f["properties"].get("measurements", {}) if " OD " in name}


@pytest.mark.parametrize(("chromogen", "counterstain", "name"), CASES)
def test_export_of_an_imported_result_keeps_the_stain_names(make_napari_viewer, tmp_path, chromogen, counterstain,
                                                            name) -> None:  # type: ignore[no-untyped-def]
    """Mutations caught: export_geojson without the layer's stains (DAB names on an AEC export);
    import_geojson_layers not keeping the file's stains; the counterstain OD dropped by the layer (an
    azure B export re-imported as hematoxylin)."""
    viewer = make_napari_viewer()
    widget = ExportWidget(viewer)
    points = _points(widget.import_(_cli_file(tmp_path, chromogen, counterstain)))
    assert layer_stains(points) == {"chromogen": chromogen, "counterstain": counterstain}
    widget.points.value = points
    widget.kind.value = "GeoJSON (QuPath)"
    out = widget.export(tmp_path / "export.geojson")
    assert _od_names(out) == name
    assert stains_of_features(read_features(out)) == {"chromogen": chromogen, "counterstain": counterstain}
    back = read_cells(out)
    np.testing.assert_allclose(back.columns["dab_od_mean"], [0.61, 0.04, 0.1], rtol=1e-6)
    np.testing.assert_allclose(back.columns["hematoxylin_od_mean"], [0.3, 0.5, 0.4], rtol=1e-6)
    # and again: the re-imported export exports the same names
    again = _points(widget.import_(out))
    widget.points.value = again
    assert layer_stains(again) == {"chromogen": chromogen, "counterstain": counterstain}
    assert _od_names(widget.export(tmp_path / "again.geojson")) == name


@pytest.mark.parametrize(("chromogen", "counterstain", "name"), CASES[:2])
def test_review_saves_edits_under_the_stain_names_of_the_file_it_loaded(make_napari_viewer, tmp_path, chromogen,
                                                                        counterstain, name) -> None:  # type: ignore[no-untyped-def]
    """Mutations caught: ReviewWidget.save without the layer's stains; load not keeping them."""
    import napari

    viewer = make_napari_viewer()
    viewer.add_layer(napari.layers.Layer.create(*points_layer(CellTable(
        np.zeros(1), np.zeros(1), np.zeros(1, np.int8), {}), mpp=0.5)))
    review = ReviewWidget(viewer)
    layer = review.load(_cli_file(tmp_path, chromogen, counterstain))
    assert list(layer.features["class"]) == ["positive", "negative", "negative"]
    out = review.save(tmp_path / "edits.geojson")
    assert _od_names(out) == name
    np.testing.assert_allclose(read_cells(out).columns["dab_od_mean"], [0.61, 0.04, 0.1], rtol=1e-6)


def test_layer_stains_prefer_the_result_then_the_file_then_the_preset() -> None:
    result = SimpleNamespace(metrics={"ki67_chromogen": "fast_red", "ki67_counterstain": "hematoxylin"})

    def layer(**meta):  # type: ignore[no-untyped-def]
        return SimpleNamespace(metadata={"mmnst_path": meta})

    assert layer_stains(layer(result=result, ki67_stains={"chromogen": "aec"}, stains="H-AEC")) == {
        "chromogen": "fast_red", "counterstain": "hematoxylin"}
    assert layer_stains(layer(ki67_stains={"chromogen": "aec"}, stains="AzureB-DAB")) == {
        "chromogen": "aec", "counterstain": "azure_b"}
    assert layer_stains(layer(stains="H-AEC")) == {"chromogen": "aec", "counterstain": "hematoxylin"}
    assert layer_stains(layer(stains="H&E")) == {"chromogen": "dab", "counterstain": "hematoxylin"}
    assert layer_stains(None) == {"chromogen": "dab", "counterstain": "hematoxylin"}


@pytest.mark.parametrize(("chromogen", "counterstain", "advice"), [
    ("dab", "azure_b", "the stain already tells melanin by colour"),
    ("aec", "hematoxylin", "the stain already tells melanin by colour"),
    ("dab", "hematoxylin", "a red chromogen (AEC, Fast Red) or an Azure B counterstain would resolve it"),
])
def test_review_advice_follows_the_stain_of_the_loaded_file(make_napari_viewer, tmp_path, chromogen, counterstain,
                                                            advice) -> None:  # type: ignore[no-untyped-def]
    """The pigment QC sentence of an azure B (or AEC) cells.geojson loaded into Review advised "a red chromogen
    (AEC, Fast Red) or an Azure B counterstain" (session 33's napari pass). Mutation caught: the layer's
    stains not passed to review_warnings."""
    n = 30  # 6 positive, 16 negative, 8 pigment: pigment hides 27 % of the tumour nuclei
    cells = CellTable(np.arange(n, dtype=float) * 3, np.arange(n, dtype=float) * 2,
                      np.array([0] * 6 + [1] * 16 + [2] * 8, np.int8),
                      {"dab_od_mean": np.full(n, 0.3), "hematoxylin_od_mean": np.full(n, 0.4)})
    path = tmp_path / "cells.geojson"
    path.write_text("".join(feature_collection_chunks(cells, [], mpp=0.5, shape="point", chromogen=chromogen,
                                                      counterstain=counterstain)), encoding="utf-8")
    viewer = make_napari_viewer()
    review = ReviewWidget(viewer)
    review.load(path)
    text = review.notice.value
    assert "pigment hides 27 % of the tumour nuclei" in text
    assert advice in text
