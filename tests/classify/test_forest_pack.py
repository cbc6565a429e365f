"""Compact model files (format version 3): the forests' arrays packed losslessly, checked when read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.classify import ClassifierModel, FeatureSpec, Forest, load_model
from mmnst_path.classify._forest import ARRAY_KEYS
from mmnst_path.classify._forest_pack import pack_forest, unpack_forest
from mmnst_path.classify.train import train_model
from mmnst_path.errors import CorruptFileError


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    x[:, 3] = np.round(x[:, 3] * 4) / 4 - 1e3  # a coarse feature far from 0 (thresholds not halfway in float32)
    y = (x[:, 0] + x[:, 1] ** 2 > 1).astype(int) + 2 * (x[:, 2] > 1.0)
    return x, np.minimum(y, 2)


def _same(a: Forest, b: Forest) -> bool:
    return all(getattr(a, k).dtype == getattr(b, k).dtype and getattr(a, k).shape == getattr(b, k).shape
               and getattr(a, k).tobytes() == getattr(b, k).tobytes() for k in ARRAY_KEYS)


@pytest.mark.parametrize("kind", ["random_forest", "extra_trees"])
@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_pack_unpack_gives_the_expanded_arrays_bit_for_bit(kind, n_classes):
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    x, y = _data()
    y = np.minimum(y, n_classes - 1)
    est = (RandomForestClassifier if kind == "random_forest" else ExtraTreesClassifier)(
        n_estimators=7, max_depth=9, class_weight="balanced_subsample", random_state=1).fit(x, y)
    forest = Forest.from_sklearn(est, n_classes + 1 if n_classes == 4 else n_classes)  # 4: a class never seen
    packed = pack_forest(forest)
    assert packed is not None
    assert packed["split_feature"].dtype == np.uint8
    assert packed["leaf_bits"].size == (forest.n_nodes + 7) // 8
    back = unpack_forest(packed)
    assert _same(back, forest)
    xt = np.random.default_rng(2).normal(size=(500, 5)).astype(np.float32)
    np.testing.assert_array_equal(back.predict_proba(xt), forest.predict_proba(xt))


def _tree(n_leaves: int) -> Forest:
    """A hand-made forest: a single-leaf tree, then a chain of ``n_leaves - 1`` inner nodes (left child a
    leaf, right child the next inner node) with negative, tiny and not-halfway thresholds."""
    left, right = [-1], [-1]
    for i in range(n_leaves - 1):
        base = 1 + 2 * i
        left += [base + 1, -1]
        right += [base + 2, -1]
    left.append(-1)
    right.append(-1)
    n = len(left)
    assert n == 1 + 2 * n_leaves - 1
    leaf = np.array(left) < 0
    feature = np.where(leaf, -1, np.arange(n) % 3).astype(np.int32)
    threshold = np.where(leaf, 0.0, np.linspace(-3.5, 2.0, n)).astype(np.float64)
    threshold[1] = 1e-45  # below float32's smallest subnormal: the float32 below is 0
    threshold[3] = -1.0000000000001
    threshold[5] = 1e39  # above float32's range: the largest float32 and a large rest
    value = np.zeros((n, 2), np.float32)
    frac = np.random.default_rng(0).random(int(leaf.sum()))
    value[leaf, 0] = frac.astype(np.float32)
    value[leaf, 1] = (1 - frac).astype(np.float32)
    value[np.flatnonzero(leaf)[1], :] = [0.0, 1.0]
    return Forest(left=np.array(left, np.int32), right=np.array(right, np.int32), feature=feature, threshold=threshold,
                  value=value, roots=np.array([0, 1], np.int32))


def test_hand_made_trees_single_leaf_tree_and_odd_thresholds_round_trip():
    forest = _tree(6)
    assert forest.validate(3) is None
    packed = pack_forest(forest)
    assert packed is not None
    assert _same(unpack_forest(packed), forest)


def test_a_forest_the_compact_form_does_not_hold_is_saved_expanded(tmp_path):
    """Right child before left (not the depth-first layout), or a threshold below float32's range: the
    file is written expanded (format version 1) and still reads back with its id."""
    forest = _tree(4)
    swapped = Forest(left=forest.right, right=forest.left, feature=forest.feature, threshold=forest.threshold,
                     value=forest.value, roots=forest.roots)
    huge = Forest(**{**forest.arrays(), "threshold": np.where(forest.left >= 0, -1e39, 0.0)})  # float32 below: -inf
    for other in (swapped, huge):
        assert other.validate(3) is None
        assert pack_forest(other) is None
        model = ClassifierModel.build(kind="nucleus", classes=_model().classes[:2], features=_model().features[:3],
                                      settings={}, card={"name": "odd"}, forest=other,
                                      test_x=np.zeros((2, 3), np.float32))
        path = model.save(tmp_path / "odd.mmnst")
        assert _header(path)["format_version"] == 1
        assert load_model(path).model_id == model.model_id


def _model() -> ClassifierModel:
    x, y = _data()
    return train_model(x, y, kind="nucleus", classes=("a", "b", "c"),
                       features=[FeatureSpec(f"f{i}") for i in range(5)], settings={}, card={"name": "t"},
                       n_estimators=6, max_depth=8)


@pytest.fixture(scope="module")
def model() -> ClassifierModel:
    return _model()


def _header(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(npz["header"].tobytes())


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_trainer_writes_compact_files_with_the_expanded_files_id_and_predictions(model, tmp_path):
    compact = model.save(tmp_path / "c.mmnst")
    expanded = model.save(tmp_path / "e.mmnst", compact=False)
    assert _header(compact)["format_version"] == 3
    assert _header(expanded)["format_version"] == 1
    assert "left" not in _arrays(compact)
    assert "leaf_bits" in _arrays(compact)
    assert compact.stat().st_size < 0.75 * expanded.stat().st_size
    a, b = load_model(compact), load_model(expanded)
    assert a.model_id == b.model_id == model.model_id == _header(compact)["model_id"]
    assert a.header() == b.header()  # the canonical header (format version 1) whatever the file
    assert _same(a.forest, b.forest)
    x, _ = _data(300, seed=9)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))


def _rewrite(src: Path, dst: Path, change) -> Path:
    arrays = _arrays(src)
    header = json.loads(arrays.pop("header").tobytes())
    change(header, arrays)
    np.savez(dst, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return dst


def _flip_bit(a: np.ndarray, index: int) -> np.ndarray:
    b = a.copy().reshape(-1).view(np.uint8)
    b[index] ^= np.uint8(1)
    return b.view(a.dtype).reshape(a.shape)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda h, a: a.__setitem__("split_threshold32", _flip_bit(a["split_threshold32"], 7)), "content hash"),
        (lambda h, a: a.__setitem__("split_threshold_rest", a["split_threshold_rest"][:3]), "byte planes"),
        (lambda h, a: a.__setitem__("split_threshold_rest", a["split_threshold_rest"][:, :-1]), "disagree"),
        (lambda h, a: a.__setitem__("split_feature", a["split_feature"] + 1), "content hash|feature index"),
        (lambda h, a: a.__setitem__("split_feature", a["split_feature"].astype(np.int8)), "split_feature has dtype"),
        (lambda h, a: a.__setitem__("leaf_bits", _flip_bit(a["leaf_bits"], 3)), "leaf_bits marks"),
        (lambda h, a: a.__setitem__("leaf_bits", a["leaf_bits"][:-1]), "leaf_bits holds"),
        (lambda h, a: a.__setitem__("leaf_value", a["leaf_value"].astype(np.float64)), "expected float32"),
        (lambda h, a: a.__setitem__("leaf_value", _flip_bit(a["leaf_value"], 2)), "content hash"),
        (lambda h, a: a.__setitem__("leaf_value_rest", a["leaf_value_rest"] + 1), "content hash"),
        (lambda h, a: a.__setitem__("leaf_value_rest", a["leaf_value_rest"].astype(np.uint64)), "leaf_value_rest has"),
        (lambda h, a: a.pop("split_feature"), "missing"),
        (lambda h, a: h.__setitem__("format_version", 1), "missing"),
        (lambda h, a: h.__setitem__("format_version", 4), "newer mmnst_path"),
    ],
)
def test_damaged_compact_files_raise_clear_errors(model, tmp_path, change, match):
    good = model.save(tmp_path / "good.mmnst")
    bad = _rewrite(good, tmp_path / "bad.npz", change)
    with pytest.raises(CorruptFileError, match=match) as info:
        load_model(bad)
    assert "bad.npz" in str(info.value)
    assert "\n" not in str(info.value)


def test_leaf_bits_of_a_cut_tree_or_nonzero_padding_are_refused(model, tmp_path):
    arrays = _arrays(model.save(tmp_path / "good.mmnst"))
    packed = {k: v for k, v in arrays.items() if k not in ("header", "test_x", "test_proba")}
    n = packed["split_feature"].size + packed["leaf_value"].shape[0]
    flags = np.unpackbits(packed["leaf_bits"], count=n)
    # the last node an inner node instead of a leaf (and one leaf less): the last tree is cut
    inner = np.flatnonzero(flags == 0)[-1]
    cut = flags.copy()
    cut[inner], cut[-1] = 1, 0
    cut_packed = {**packed, "leaf_bits": np.packbits(cut)}
    with pytest.raises(ValueError, match="whole trees"):
        unpack_forest(cut_packed)
    if n % 8:
        pad = packed["leaf_bits"].copy()
        pad[-1] |= np.uint8(1)
        with pytest.raises(ValueError, match="padding"):
            unpack_forest({**packed, "leaf_bits": pad})


def test_truncated_compact_file_is_a_one_line_corrupt_file_error(model, tmp_path):
    path = model.save(tmp_path / "m.mmnst")
    data = path.read_bytes()
    for keep in (len(data) * 2 // 3, len(data) - 30, 100):
        path.write_bytes(data[:keep])
        with pytest.raises(CorruptFileError, match=r"m\.mmnst") as info:
            load_model(path)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("compact", [True, False])
def test_a_bit_flipped_anywhere_is_refused_in_one_line_or_changes_nothing(model, tmp_path, compact):
    """Every 5th byte of a small file flipped in turn: a one-line CorruptFileError (before 2026-12-07 a
    damaged deflate stream raised zlib.error, a damaged method field NotImplementedError), or, where the
    reader does not use the byte (zip times, the local copies of sizes and CRCs, an unused deflate code
    length), the model as written. Flips inside the compressed arrays are refused (zipfile checks the
    CRC-32 of each member read whole)."""
    import io
    import zipfile

    good = model.save(tmp_path / "good.mmnst", compact=compact)
    data = good.read_bytes()
    member = zipfile.ZipFile(io.BytesIO(data)).getinfo("leaf_value.npy" if compact else "value.npy")
    start = member.header_offset + 30 + len(member.filename)
    kept = 0
    messages: list[str] = []
    path = tmp_path / "m.mmnst"
    for off in [*range(0, len(data), 5), start + member.compress_size // 2]:
        flipped = bytearray(data)
        flipped[off] ^= 0x10
        path.write_bytes(bytes(flipped))
        try:
            back = load_model(path)
        except CorruptFileError as exc:
            messages.append(str(exc))
            continue
        assert back.model_id == model.model_id
        assert _same(back.forest, model.forest)
        assert off != start + member.compress_size // 2  # inside an array's compressed bytes: refused
        kept += 1
    assert all("\n" not in m and "m.mmnst" in m for m in messages)
    assert len(messages) > 0.5 * (len(messages) + kept)


def test_shipped_models_are_compact_and_expand_to_valid_forests():
    from mmnst_path.classify import SHIPPED_MODELS, shipped_model_path

    for name in SHIPPED_MODELS:
        path = shipped_model_path(name)
        assert path is not None, name
        assert _header(path)["format_version"] == 3, name
        model = load_model(path)
        assert model.header()["format_version"] in (1, 2)
        assert model.model_id == _header(path)["model_id"]


def test_arrays_stored_big_endian_unpack_to_the_same_forest():
    """The compact form does not depend on the host's byte order: a file whose arrays a big-endian host stored
    (``numpy.save`` keeps their ``>`` order) expands to the same little-endian arrays, so the same model id
    (session 41 H10's finding 9: such a file was refused, and its planes read on another host gave thresholds off
    by up to 3e38)."""
    from sklearn.ensemble import RandomForestClassifier

    x, y = _data()
    forest = Forest.from_sklearn(RandomForestClassifier(n_estimators=3, max_depth=7, random_state=0).fit(x, y), 3)
    packed = pack_forest(forest)
    assert packed is not None
    swapped = {k: a.astype(a.dtype.newbyteorder(">")) for k, a in packed.items()}
    assert swapped["leaf_value"].dtype.str == ">f4"
    back = unpack_forest(swapped)
    assert _same(back, forest)
    assert {getattr(back, k).dtype.str for k in ARRAY_KEYS} <= {"<i4", "<f8", "<f4"}
