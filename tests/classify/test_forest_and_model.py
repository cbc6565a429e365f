"""Forest inference equals scikit-learn; model files are portable, validated and pickle-free."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.classify import ClassifierModel, FeatureSpec, Forest, load_model, resolve_model
from mmnst_path.classify.train import class_report, match_points, train_model
from mmnst_path.errors import ConfigError, CorruptFileError


def _data(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] ** 2 > 1).astype(int) + 2 * (x[:, 2] > 1.2)
    return x, np.minimum(y, 2)


@pytest.mark.parametrize("kind", ["random_forest", "extra_trees"])
def test_forest_equals_sklearn_predict_proba(kind):
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    x, y = _data()
    est = (RandomForestClassifier if kind == "random_forest" else ExtraTreesClassifier)(
        n_estimators=15, max_depth=10, random_state=0).fit(x, y)
    forest = Forest.from_sklearn(est, 3)
    assert forest.validate(6) is None
    rng = np.random.default_rng(1)
    xt = rng.normal(size=(4000, 6)).astype(np.float32)
    # values exactly at split thresholds (rounded to float32) exercise the float32/float64 rule
    inner = forest.left >= 0
    thr = forest.threshold[inner][:200].astype(np.float32)
    feats = forest.feature[inner][:200]
    xt[: len(thr), :] = 0
    xt[np.arange(len(thr)), feats] = thr
    np.testing.assert_allclose(forest.predict_proba(xt), est.predict_proba(xt), rtol=0, atol=1e-6)
    # chunking does not change the result
    np.testing.assert_array_equal(forest.predict_proba(xt, chunk=333), forest.predict_proba(xt))


def test_compiled_walk_gives_the_numpy_walks_leaves():
    """Forest.predict_proba walks the trees with numba when it imports (the default install):
    the same leaves as the level-by-level numpy walk, at split thresholds and for NaN too."""
    from sklearn.ensemble import RandomForestClassifier

    from mmnst_path.detect._morphology import _numba_kernels

    assert _numba_kernels() is not None  # numba is a default dependency: the compiled path is tested
    x, y = _data()
    forest = Forest.from_sklearn(RandomForestClassifier(n_estimators=12, max_depth=12, random_state=0).fit(x, y), 3)
    xt = np.random.default_rng(2).normal(size=(3000, 6)).astype(np.float32)
    inner = forest.left >= 0
    thr, feats = forest.threshold[inner][:300].astype(np.float32), forest.feature[inner][:300]
    xt[np.arange(len(thr)), feats] = thr
    xt[-5:, 1] = np.nan
    np.testing.assert_array_equal(forest._leaves(xt), forest._leaves_numpy(xt))
    assert (forest.left[forest._leaves(xt)] < 0).all()  # every walk ends at a leaf


def test_class_absent_from_training_gets_zero_probability():
    from sklearn.ensemble import RandomForestClassifier

    x, y = _data()
    y = np.where(y == 2, 0, y)  # class 2 never seen
    est = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    p = Forest.from_sklearn(est, 3).predict_proba(x[:50])
    assert p.shape == (50, 3)
    assert np.all(p[:, 2] == 0)


@pytest.fixture(scope="module")
def model() -> ClassifierModel:
    x, y = _data()
    return train_model(
        x, y, kind="nucleus", classes=("tumour", "lymphocyte", "stromal"),
        features=[FeatureSpec(f"f{i}", "µm", "test feature") for i in range(6)],
        settings={"features": {"mpp_um": 0.5}}, card={"name": "test model", "version": "0.0.1",
                                                      "licence": "CC0"},
        validation=_data(500, seed=3), n_estimators=8, max_depth=6)


def test_round_trip_keeps_predictions_card_and_id(model, tmp_path):
    path = model.save(tmp_path / "m.mmnst")
    back = load_model(path, kind="nucleus")
    x, _ = _data(200, seed=5)
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))
    assert back.model_id == model.model_id
    assert back.model_id.startswith("sha256:")
    assert back.class_names == ("tumour", "lymphocyte", "stromal")
    assert back.card["licence"] == "CC0"
    assert back.card["training_counts"]["tumour"] > 0
    assert "held_out" in back.card["validation"]
    assert next(c.colour for c in back.classes) == (200, 40, 40)
    assert back.describe()["id"] == model.model_id


def test_card_edited_after_the_id_was_asked_for_is_saved_with_its_new_id(model, tmp_path):
    """Training scripts add validation figures to a card after using the model: the file written then
    must carry the hash of what it holds, or it fails its own check on load."""
    back = load_model(model.save(tmp_path / "a.mmnst"), kind="nucleus")
    before = back.model_id  # cached on the object
    back.card["validation"] = {**back.card["validation"], "added_later": 0.5}
    again = load_model(back.save(tmp_path / "b.mmnst"), kind="nucleus")
    assert again.card["validation"]["added_later"] == 0.5
    assert again.model_id != before
    assert back.model_id == again.model_id


def test_saved_file_respects_umask(model, tmp_path):
    old = os.umask(0o022)
    try:
        path = model.save(tmp_path / "m.mmnst")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_wrong_kind_is_a_config_error(model, tmp_path):
    path = model.save(tmp_path / "m.mmnst")
    with pytest.raises(ConfigError, match="is a nucleus model, expected a tissue model"):
        load_model(path, kind="tissue")


def _rewrite(src: Path, dst: Path, change) -> Path:
    """Copy a model file, passing its arrays through ``change(dict)`` (header as parsed JSON)."""
    with np.load(src, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays.pop("header").tobytes())
    change(header, arrays)
    raw = json.dumps(header).encode()
    np.savez(dst, header=np.frombuffer(raw, np.uint8), **arrays)
    return dst


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda h, a: a.__setitem__("threshold", a["threshold"] + 0.5), "content hash"),
        (lambda h, a: h.__setitem__("format_version", 99), "newer mmnst_path"),
        (lambda h, a: h.__setitem__("format", "other.tool"), "expected 'mmnst_path.classifier'"),
        (lambda h, a: a.__setitem__("left", a["left"] * 0 + 5), "child index|leaves"),
        (lambda h, a: a.pop("value"), "missing"),
        (lambda h, a: a.__setitem__("extra", np.zeros(3)), "unexpected arrays"),
        (lambda h, a: h["classes"].pop(), "class columns|content hash"),
    ],
)
def test_damaged_or_foreign_files_raise_clear_errors(model, tmp_path, change, match):
    good = model.save(tmp_path / "good.mmnst", compact=False)  # the expanded arrays (format version 1)
    bad = _rewrite(good, tmp_path / "bad.npz", change)
    with pytest.raises(CorruptFileError, match=match) as info:
        load_model(bad)
    assert "bad.npz" in str(info.value)


def test_tampered_test_case_with_matching_hash_is_refused(model, tmp_path):
    from dataclasses import replace

    tampered = replace(model, test_proba=model.test_proba[::-1].copy())
    path = tampered.save(tmp_path / "t.mmnst")  # hash recomputed: only the self-test can catch it
    with pytest.raises(CorruptFileError, match="embedded test case fails"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04truncated", b"\x80\x04junk"])
def test_garbage_files_raise_corrupt_file_error(tmp_path, content):
    path = tmp_path / "junk.mmnst"
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=r"junk\.mmnst"):
        load_model(path)


def test_truncated_model_file(model, tmp_path):
    path = model.save(tmp_path / "m.mmnst")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match=r"m\.mmnst"):
        load_model(path)


def test_pickled_object_arrays_are_refused(tmp_path):
    buf = io.BytesIO()
    np.savez(buf, header=np.array([{"format": "mmnst_path.classifier"}], dtype=object))
    path = tmp_path / "pickle.mmnst"
    path.write_bytes(buf.getvalue())
    with pytest.raises(CorruptFileError, match="pickle"):
        load_model(path)
    assert zipfile.is_zipfile(path)


def test_missing_file_and_resolve_model(tmp_path, model):
    with pytest.raises(FileNotFoundError, match=r"nope\.mmnst"):
        load_model(tmp_path / "nope.mmnst")
    with pytest.raises(FileNotFoundError, match=r"nope\.mmnst"):
        resolve_model(str(tmp_path / "nope.mmnst"), "nucleus")
    assert resolve_model("none", "nucleus") is None
    path = model.save(tmp_path / "m.mmnst")
    assert resolve_model(str(path), "nucleus").model_id == model.model_id


def test_training_needs_two_classes_and_finite_features():
    x, y = _data(100)
    feats = [FeatureSpec(f"f{i}") for i in range(6)]
    with pytest.raises(ConfigError, match="at least two classes"):
        train_model(x, np.zeros(100, int), kind="nucleus", classes=("a", "b"), features=feats, settings={})
    x[3, 2] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        train_model(x, y, kind="nucleus", classes=("a", "b", "c"), features=feats, settings={})


def test_match_points_is_one_to_one_within_radius():
    det = np.array([[0.0, 0.0], [0.0, 3.0], [50.0, 50.0]])
    ann = np.array([[0.0, 1.0], [0.0, 2.5], [80.0, 80.0]])
    d, a = match_points(det, ann, 4.0)
    pairs = sorted(zip(d.tolist(), a.tolist(), strict=True))
    assert pairs == [(0, 0), (1, 1)]
    assert match_points(det[:0], ann, 4.0)[0].size == 0


def test_class_report_counts():
    rep = class_report(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ("a", "b"))
    assert rep["confusion"] == [[1, 1], [0, 2]]
    assert rep["per_class"]["b"]["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert rep["accuracy"] == 0.75


def _ragged_forest() -> Forest:
    """Trees of unequal depths, one a single leaf, thresholds beyond float32's range and at
    float64 values that are not float32 (the branch-free walk rounds them down)."""
    from sklearn.ensemble import ExtraTreesClassifier

    x, y = _data(2000, seed=3)
    parts = [Forest.from_sklearn(ExtraTreesClassifier(n_estimators=n, max_depth=d, random_state=d).fit(x, y), 3)
             for n, d in ((5, 14), (3, 2), (4, 7))]
    stump = Forest(left=np.array([-1], np.int32), right=np.array([-1], np.int32), feature=np.array([-1], np.int32),
                   threshold=np.array([0.0]), value=np.array([[0.25, 0.5, 0.25]], np.float32),
                   roots=np.array([0], np.int32))
    parts.append(stump)
    offsets = np.cumsum([0] + [p.n_nodes for p in parts])[:-1]

    def shift(a: np.ndarray, off: int) -> np.ndarray:
        return np.where(a >= 0, a + off, a).astype(np.int32)

    forest = Forest(
        left=np.concatenate([shift(p.left, o) for p, o in zip(parts, offsets, strict=True)]),
        right=np.concatenate([shift(p.right, o) for p, o in zip(parts, offsets, strict=True)]),
        feature=np.concatenate([p.feature for p in parts]),
        threshold=np.concatenate([p.threshold for p in parts]),
        value=np.concatenate([p.value for p in parts]),
        roots=np.concatenate([p.roots + o for p, o in zip(parts, offsets, strict=True)]).astype(np.int32),
    )
    inner = np.flatnonzero(forest.left >= 0)
    forest.threshold[inner[:3]] = [1e39, -1e39, 3.4028235677973366e38]  # beyond / at float32's largest
    assert forest.validate(6) is None
    return forest


def test_branch_free_walk_gives_the_leaf_paths_probabilities_bit_for_bit():
    """The compiled walk (absorbing leaves, float32 thresholds rounded down, fixed steps per
    tree, rows side by side) gives exactly the probabilities of the leaf-array path: at split
    thresholds, one float32 step either side of them, NaN and +-inf, beyond float32's range,
    for row counts that are not a multiple of the lanes, a single-leaf tree and float64 leaf values."""
    from mmnst_path.detect._morphology import _numba_kernels

    assert _numba_kernels() is not None
    forest = _ragged_forest()
    inner = np.flatnonzero(forest.left >= 0)
    rng = np.random.default_rng(4)
    xt = rng.normal(size=(5003, 6)).astype(np.float32)
    pick = inner[:1200]
    with np.errstate(over="ignore"):  # the thresholds beyond float32's range become +-inf
        thr = forest.threshold[pick].astype(np.float32)
    rows = np.arange(3 * len(pick)) % xt.shape[0]
    feats = np.tile(forest.feature[pick], 3)
    with np.errstate(over="ignore"):
        xt[rows, feats] = np.concatenate([thr, np.nextafter(thr, np.float32(np.inf)),
                                          np.nextafter(thr, np.float32(-np.inf))])
    xt[-7:, :] = np.array([np.nan, np.inf, -np.inf, 0, 3.4028235e38, -3.4028235e38], np.float32)
    xt[-3:, 2] = np.nan
    for x in (xt, xt[:1], xt[:0], xt[:13]):
        np.testing.assert_array_equal(forest.predict_proba(x), forest._predict_by_leaves(x))
    wide = Forest(**{**forest.arrays(), "value": forest.value.astype(np.float64) / 3.0})
    np.testing.assert_array_equal(wide.predict_proba(xt), wide._predict_by_leaves(xt))


def test_shipped_models_predict_as_their_leaf_paths():
    """Every shipped model (whatever its file holds now): compiled probabilities equal to the leaf
    path on rows at and beside its split thresholds."""
    from mmnst_path.classify import SHIPPED_MODELS, shipped_model_path

    for name in SHIPPED_MODELS:
        path = shipped_model_path(name)
        assert path is not None, name
        model = load_model(path)
        forest = model.forest
        inner = np.flatnonzero(forest.left >= 0)
        rng = np.random.default_rng(5)
        pick = rng.choice(inner, size=min(2000, inner.size), replace=False)
        x = np.tile(model.test_x.astype(np.float32), (len(pick) // len(model.test_x) + 1, 1))[: len(pick)].copy()
        thr = forest.threshold[pick].astype(np.float32)
        x[np.arange(len(pick)), forest.feature[pick]] = np.where(np.arange(len(pick)) % 2, thr,
                                                                 np.nextafter(thr, np.float32(-np.inf)))
        np.testing.assert_array_equal(forest.predict_proba(x), forest._predict_by_leaves(x), err_msg=name)
