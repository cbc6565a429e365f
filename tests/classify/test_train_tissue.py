"""Training a tissue model from QuPath GeoJSON polygons on an image file, then using it for necrosis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from skimage.measure import find_contours

from mmnst_path import synthetic
from mmnst_path.classify import load_model
from mmnst_path.classify.train_tissue import canonical_tissue_class
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import read_tissue_annotations, train_tissue
from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics


def _polygons_of(mask: np.ndarray, name: str, step: int = 4) -> list[dict]:
    """QuPath annotations tracing the (eroded) regions of ``mask``."""
    from scipy import ndimage as ndi

    feats = []
    inner = ndi.binary_erosion(mask, iterations=12)
    for contour in find_contours(inner.astype(float), 0.5):
        if len(contour) < 20:
            continue
        ring = [[float(c), float(r)] for r, c in contour[::step]]
        ring.append(ring[0])
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"objectType": "annotation", "classification": {"name": name}}})
    return feats


def _tile_and_geojson(tmp_path: Path, seed: int) -> tuple[Path, Path, synthetic.SyntheticTile]:
    t = synthetic.he_necrosis_tile(seed, size=448, mpp=1.0, necrosis_fraction=0.45)
    img = tmp_path / f"he{seed}.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    nec, tissue = t.masks["necrosis"], t.masks["tissue"]
    feats = _polygons_of(nec, "Necrosis") + _polygons_of(tissue & ~nec, "Tumor")
    ann = tmp_path / f"he{seed}.geojson"
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return img, ann, t


def test_train_tissue_from_geojson_and_measure_necrosis(tmp_path):
    img0, ann0, _ = _tile_and_geojson(tmp_path, 3)
    img1, ann1, _ = _tile_and_geojson(tmp_path, 4)
    polys = read_tissue_annotations(ann0)
    assert {canonical_tissue_class(n) for _, n in polys} == {"necrosis", "tumour"}
    lines: list[str] = []
    model = train_tissue([img0, img1], [ann0, ann1], progress=lines.append)
    assert model.kind == "tissue"
    assert model.class_names == ("necrosis", "tumour")
    assert model.card["training_data"][0]["labelled_blocks"] > 100
    assert model.card["validation"]["held_out"]["accuracy"] > 0.85
    path = model.save(tmp_path / "tissue.mmnst")
    assert load_model(path, kind="tissue").model_id == model.model_id
    t = synthetic.he_necrosis_tile(5, size=448, mpp=1.0, necrosis_fraction=0.45)
    counts, _, _ = measure_necrosis(t.rgb, mpp=t.mpp, params=NecrosisParams(tissue_model=str(path)))
    got = necrosis_metrics(counts)["necrosis_fraction_pct"]
    assert abs(got - t.truth["necrosis_fraction_pct"]) < 12.0, got


def test_errors(tmp_path):
    img, ann, _ = _tile_and_geojson(tmp_path, 3)
    doc = json.loads(ann.read_text())
    for f in doc["features"]:
        f["properties"]["classification"]["name"] = "Necrosis"
    one = tmp_path / "one.geojson"
    one.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="at least two classes"):
        train_tissue([img], [one])
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(ConfigError, match=r"empty\.geojson"):
        read_tissue_annotations(empty)


def test_ihc_training_uses_the_ihc_default_recipe(tmp_path):
    """`mmnst-path train tissue --stains H-DAB` learns with the IHC default's positivity-blind features
    (chromogen read as hematoxylin), as the napari widget does, not the H&E recipe."""
    from mmnst_path.classify import resolve_model
    from mmnst_path.classify.tissue import tissue_feature_settings

    img, ann, _ = _tile_and_geojson(tmp_path, 3)
    model = train_tissue([img], [ann], stains="H-DAB")
    ihc = tissue_feature_settings(resolve_model("default", "tissue", stains="H-DAB"))
    he = tissue_feature_settings(resolve_model("default", "tissue", stains="H&E"))
    got = tissue_feature_settings(model)
    assert got == ihc
    assert got != he
    assert got.chromogen_as_hematoxylin
