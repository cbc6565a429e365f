"""Trainable necrosis pixel classifier: training, own traversal == scikit-learn, safe files, GeoJSON."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path import synthetic
from mmnst_path.errors import ConfigError, CorruptFileError
from mmnst_path.quantify._pixel_classifier import (
    _trees_from_sklearn,
    labels_from_geojson,
    load_pixel_classifier,
    pixel_features,
    train_pixel_classifier,
)
from mmnst_path.quantify.necrosis import NecrosisCounts, measure_necrosis, necrosis_metrics


def _painted_labels(tile: synthetic.SyntheticTile, margin_px: int = 10) -> np.ndarray:
    """Scribble-like training labels: cores of the necrotic and of the other area, borders unlabelled."""
    lab = np.zeros(tile.rgb.shape[:2], np.uint8)
    lab[ndi.binary_erosion(tile.masks["necrosis"], iterations=margin_px)] = 1
    lab[ndi.binary_erosion(~tile.masks["necrosis"], iterations=margin_px)] = 2
    lab[::3] = 0  # leave stripes unlabelled, as strokes would
    return lab


@pytest.fixture(scope="module")
def trained():
    tiles = [synthetic.he_necrosis_tile(s, size=320, angle_deg=4.0, necrosis_fraction=0.4) for s in (0, 1)]
    return train_pixel_classifier([t.rgb for t in tiles], [_painted_labels(t) for t in tiles],
                                  mpp=[t.mpp for t in tiles], n_estimators=20)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * (a & b).sum() / max(1, a.sum() + b.sum()))


def test_trained_classifier_finds_necrosis_on_another_seed(trained) -> None:
    tile = synthetic.he_necrosis_tile(5, size=384, angle_deg=5.0, necrosis_fraction=0.3, jpeg_quality=75)
    counts, mask, mask_mpp = measure_necrosis(tile.rgb, mpp=tile.mpp, classifier=trained)
    assert isinstance(counts, NecrosisCounts)
    assert mask.dtype == bool
    assert mask_mpp == pytest.approx(2.0)
    f = round(mask_mpp / tile.mpp)
    truth = tile.masks["necrosis"][::f, ::f][: mask.shape[0], : mask.shape[1]]
    assert _dice(mask, truth) >= 0.8
    assert abs(necrosis_metrics(counts)["necrosis_fraction_pct"] - tile.truth["necrosis_fraction_pct"]) < 8.0


def test_own_traversal_equals_sklearn() -> None:
    from sklearn.ensemble import RandomForestClassifier

    from mmnst_path.quantify._pixel_classifier import _forest_predict

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 7)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 3] ** 2 + 0.3 * rng.normal(size=600) > 0.5).astype(int)
    y[:40] = 2  # a third class
    rf = RandomForestClassifier(n_estimators=12, max_depth=9, random_state=1).fit(x, y)
    probe = rng.normal(size=(2000, 7)).astype(np.float32)
    probe[:50, 2] = x[:50, 2]  # values exactly at training thresholds' neighbours
    ours = _forest_predict(_trees_from_sklearn(rf, 3), probe)
    np.testing.assert_allclose(ours, rf.predict_proba(probe), rtol=0, atol=1e-12)


def test_save_load_round_trip_identical(trained, tmp_path) -> None:
    path = trained.save(tmp_path / "necrosis.npz")
    loaded = load_pixel_classifier(path)
    assert (loaded.classes, loaded.mpp_um, loaded.sigmas_um, loaded.features, loaded.n_features) == (
        trained.classes, trained.mpp_um, trained.sigmas_um, trained.features, trained.n_features)
    assert loaded.info["training_pixels"]["necrosis"] > 0
    tile = synthetic.he_necrosis_tile(2, size=192)
    a, _ = trained.necrosis_probability(tile.rgb, mpp=tile.mpp)
    b, _ = loaded.necrosis_probability(tile.rgb, mpp=tile.mpp)
    np.testing.assert_array_equal(a, b)


def test_loading_refuses_pickles_and_tampered_files(trained, tmp_path) -> None:
    pickled = tmp_path / "model.npz"
    pickled.write_bytes(pickle.dumps({"trees": [1, 2, 3]}))
    with pytest.raises(CorruptFileError, match=r"model\.npz.*pickle"):
        load_pixel_classifier(pickled)

    good = dict(np.load(trained.save(tmp_path / "good.npz"), allow_pickle=False))
    obj = dict(good, t0_threshold=np.array([object()] * 3, dtype=object))
    np.savez(tmp_path / "object.npz", **obj)
    with pytest.raises(CorruptFileError, match=r"object\.npz"):
        load_pixel_classifier(tmp_path / "object.npz")

    loop = dict(good)
    left = loop["t0_children_left"].copy()
    inner = np.flatnonzero(left > 0)
    left[inner[-1]] = 0  # a child pointing back to the root would loop forever
    loop["t0_children_left"] = left
    np.savez(tmp_path / "loop.npz", **loop)
    with pytest.raises(CorruptFileError, match="tree 0 has invalid node links"):
        load_pixel_classifier(tmp_path / "loop.npz")

    meta = json.loads(str(good["metadata"]))
    meta["format"] = "something else"
    np.savez(tmp_path / "meta.npz", **dict(good, metadata=np.array(json.dumps(meta))))
    with pytest.raises(CorruptFileError, match="format"):
        load_pixel_classifier(tmp_path / "meta.npz")


def test_geojson_polygons_rasterised_and_trainable() -> None:
    tile = synthetic.he_necrosis_tile(0, size=256)
    nec = tile.masks["necrosis"]
    rr, cc = np.nonzero(ndi.binary_erosion(nec, iterations=12))
    r0, r1, c0, c1 = rr.min(), rr.max(), cc.min(), cc.max()

    def box(r0, r1, c0, c1):  # level-0 (x, y) ring
        r0, r1, c0, c1 = int(r0), int(r1), int(c0), int(c1)
        return [[c0, r0], [c1, r0], [c1, r1], [c0, r1], [c0, r0]]

    rows, cols = np.nonzero(ndi.binary_erosion(~nec & tile.masks["tissue"], iterations=12))
    k = len(rows) // 2
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"classification": {"name": "Necrosis"}},
         "geometry": {"type": "Polygon", "coordinates": [box(r0, r1, c0, c1),
                                                         box(r0 + 2, r0 + 6, c0 + 2, c0 + 6)]}},
        {"type": "Feature", "properties": {"classification": "Tumor"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[box(rows[k] - 3, rows[k] + 3, cols[k] - 3,
                                                                   cols[k] + 3)]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [5, 5]}},
    ]}
    lab = labels_from_geojson(json.dumps(doc), nec.shape)
    assert lab[r0 + 1, c0 + 1] == 1
    assert lab[r0 + 4, c0 + 4] == 0  # the hole
    assert lab[rows[k], cols[k]] == 2
    assert set(np.unique(lab)) == {0, 1, 2}
    # level-0 coordinates with an origin and a downsample
    half = labels_from_geojson(doc, (128, 128), downsample=2.0)
    assert half[(r0 + r1) // 4, (c0 + c1) // 4] == 1
    train_pixel_classifier(tile.rgb, lab, mpp=tile.mpp, n_estimators=3)


def test_bad_inputs_raise() -> None:
    tile = synthetic.he_necrosis_tile(0, size=128)
    with pytest.raises(ConfigError, match="two classes"):
        train_pixel_classifier(tile.rgb, np.ones((128, 128), np.uint8), mpp=tile.mpp, n_estimators=2)
    with pytest.raises(ConfigError, match="shape"):
        train_pixel_classifier(tile.rgb, np.ones((64, 64), np.uint8), mpp=tile.mpp)
    with pytest.raises(ConfigError, match="features"):
        pixel_features(tile.rgb, mpp=tile.mpp, features=("magic",))
    with pytest.raises(ConfigError, match="coarser"):
        pixel_features(tile.rgb, mpp=8.0, mpp_um=2.0)
