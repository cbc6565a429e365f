"""Auto-context (two-stage) tissue models: what the second stage learns, the file format, tiles with a halo."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path import synthetic
from mmnst_path.classify import default_model_path, load_model
from mmnst_path.classify.model import FORMAT_VERSION, ClassifierModel, FeatureSpec
from mmnst_path.classify.tissue import classify_tissue, tissue_halo_um
from mmnst_path.classify.tissue_context import ContextSettings, context_feature_specs, context_features
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features
from mmnst_path.classify.train import train_model
from mmnst_path.classify.train_tissue import ContextImage, out_of_fold_proba, train_context_stage
from mmnst_path.errors import ConfigError, CorruptFileError

CLASSES = ("tumour", "necrosis")


def _speckled_image(rng: np.random.Generator, size: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature map of a tumour region and a necrosis region split by a random line; 20 % of the tumour
    blocks are speckles whose own features look necrotic. Returns (feats, class map, speckle mask)."""
    rr, cc = np.mgrid[:size, :size]
    angle = rng.uniform(0, np.pi)
    cls = ((rr - size / 2) * np.cos(angle) + (cc - size / 2) * np.sin(angle) > rng.uniform(-8, 8)).astype(np.int64)
    speckle = (cls == 0) & (ndi.gaussian_filter(rng.random((size, size)), 0.7) > 0.53)
    looks = np.where(speckle, 1, cls)
    feats = np.stack([looks + rng.normal(0, 0.25, cls.shape), rng.normal(0, 1, cls.shape)], axis=-1)
    return feats.astype(np.float32), cls, speckle


def _first_stage(images: list[ContextImage]) -> ClassifierModel:
    x = np.concatenate([im.feats.reshape(-1, im.feats.shape[-1])[im.sel] for im in images if im.fold >= 0])
    y = np.concatenate([im.y for im in images if im.fold >= 0])
    return train_model(x, y, kind="tissue", classes=CLASSES, features=[FeatureSpec("look"), FeatureSpec("noise")],
                       settings={}, n_estimators=8, max_depth=8)


def test_context_stage_corrects_speckles_inside_a_region_but_keeps_the_region() -> None:
    """Blocks whose own features say necrosis inside a wide tumour region: the first stage calls them
    necrosis, the second (trained on out-of-fold probabilities) tumour; the necrosis region stays."""
    rng = np.random.default_rng(3)
    images = []
    for i in range(8):
        feats, cls, _ = _speckled_image(rng)
        sel = rng.choice(cls.size, 600, replace=False)
        images.append(ContextImage(feats, sel, cls.ravel()[sel], 8.0, i % 2))
    first = _first_stage(images)
    model = train_context_stage(images, first, settings=ContextSettings((16.0, 40.0)), n_estimators=8, max_depth=8)
    assert model.context is not None
    assert model.card["auto_context"]["folds"] == 2
    err1, err2, keep = [], [], []
    for _ in range(4):
        feats, cls, speckle = _speckled_image(rng)
        p1 = first.predict_proba(feats.reshape(-1, 2)).reshape(*cls.shape, 2).astype(np.float32)
        ctx = context_features(feats, p1, grid_mpp=8.0, settings=ContextSettings((16.0, 40.0)))
        lab2 = np.argmax(model.context.predict_proba(ctx.reshape(-1, ctx.shape[-1])), 1).reshape(cls.shape)
        lab1 = np.argmax(p1, -1)
        err1.append((lab1[speckle] != 0).mean())
        err2.append((lab2[speckle] != 0).mean())
        inner = ndi.binary_erosion(cls == 1, iterations=4)
        keep.append((lab2[inner] == 1).mean())
    assert np.mean(err1) > 0.8  # the first stage cannot tell a speckle from necrosis
    assert np.mean(err2) < 0.25
    assert min(keep) > 0.95


def test_out_of_fold_probabilities_in_processes_equal_one_process() -> None:
    rng = np.random.default_rng(5)
    images = []
    for i in range(4):
        feats, cls, _ = _speckled_image(rng, 20)
        images.append(ContextImage(feats, np.arange(cls.size), cls.ravel(), 8.0, i % 2 if i < 3 else -1))
    first = _first_stage(images)
    one = out_of_fold_proba(images, first, n_estimators=4, max_depth=6)
    two = out_of_fold_proba(images, first, n_estimators=4, max_depth=6, jobs=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
    # the validation image (fold -1) is predicted by the model itself; the others not
    np.testing.assert_array_equal(one[3], first.predict_proba(images[3].feats.reshape(-1, 2)).reshape(20, 20, 2)
                                  .astype(np.float32))
    assert not np.array_equal(one[0], first.predict_proba(images[0].feats.reshape(-1, 2)).reshape(20, 20, 2))


def test_context_needs_two_folds() -> None:
    rng = np.random.default_rng(0)
    feats, cls, _ = _speckled_image(rng, 16)
    im = ContextImage(feats, np.arange(cls.size), cls.ravel(), 8.0, 0)
    with pytest.raises(ConfigError, match="two folds"):
        train_context_stage([im, im], _first_stage([im]))


def test_context_settings_checked() -> None:
    assert ContextSettings.from_mapping(ContextSettings().to_mapping()) == ContextSettings()
    with pytest.raises(ConfigError, match="sigmas_um"):
        ContextSettings((-1.0,))
    with pytest.raises(ConfigError, match="auto-context settings"):
        ContextSettings.from_mapping({"sigma": [3]})


@pytest.fixture(scope="module")
def two_stage() -> ClassifierModel:
    """A small two-stage tissue model on real tissue features of generated tiles (necrosis vs tumour)."""
    settings = TissueFeatureSettings()
    images = []
    for i, seed in enumerate((11, 12, 13, 14)):
        t = synthetic.he_necrosis_tile(seed, size=256, necrosis_fraction=0.4)
        feats, gm = tissue_features(t.rgb, mpp=t.mpp, settings=settings)
        big = round(gm / t.mpp)
        nec = t.masks["necrosis"][: feats.shape[0] * big, : feats.shape[1] * big]
        share = nec.reshape(feats.shape[0], big, feats.shape[1], big).mean((1, 3))
        cls = (share > 0.5).astype(np.int64)
        sel = np.arange(cls.size)
        images.append(ContextImage(feats, sel, cls.ravel(), gm, i % 2))
    x = np.concatenate([im.feats.reshape(-1, im.feats.shape[-1]) for im in images])
    y = np.concatenate([im.y for im in images])
    first = train_model(x, y, kind="tissue", classes=CLASSES, features=tissue_feature_specs(settings),
                        settings={"features": settings.to_mapping(), "stains": "H&E"}, n_estimators=6, max_depth=8)
    return train_context_stage(images, first, settings=ContextSettings((16.0, 40.0)), n_estimators=6, max_depth=8)


def test_two_stage_model_round_trip_and_classify(two_stage, tmp_path) -> None:
    path = two_stage.save(tmp_path / "two.mmnst")
    loaded = load_model(path, kind="tissue")
    assert loaded.model_id == two_stage.model_id
    assert loaded.header()["format_version"] == 2  # canonical (the id's) version; the file is compact
    assert FORMAT_VERSION == 3
    expanded = load_model(two_stage.save(tmp_path / "two_expanded.mmnst", compact=False), kind="tissue")
    assert expanded.model_id == loaded.model_id
    assert path.stat().st_size < (tmp_path / "two_expanded.mmnst").stat().st_size
    assert loaded.context is not None
    assert loaded.context.feature_names == tuple(
        s.name for s in context_feature_specs(loaded.features, CLASSES, ContextSettings((16.0, 40.0))))
    t = synthetic.he_necrosis_tile(20, size=256, necrosis_fraction=0.4)
    tmap = classify_tissue(t.rgb, mpp=t.mpp, model=loaded)
    # by hand: first stage, pooled probabilities, second stage
    feats, gm = tissue_features(t.rgb, mpp=t.mpp)
    p1 = loaded.predict_proba(feats.reshape(-1, feats.shape[-1])).astype(np.float32).reshape(*feats.shape[:2], -1)
    ctx = context_features(feats, p1, grid_mpp=gm, settings=ContextSettings((16.0, 40.0)))
    p2 = loaded.context.predict_proba(ctx.reshape(-1, ctx.shape[-1])).reshape(*feats.shape[:2], -1)
    np.testing.assert_allclose(tmap.proba, p2, atol=1e-6)
    assert tmap.model_id == loaded.model_id
    one_stage = replace(loaded, context=None)
    assert tissue_halo_um(loaded) == pytest.approx(tissue_halo_um(one_stage) + 3.0 * 40.0)


def test_two_stage_tiles_with_the_halo_equal_the_whole_image(two_stage) -> None:
    mpp = 1.0
    rgb = synthetic.he_necrosis_tile(21, size=720, necrosis_fraction=0.4).rgb
    whole = classify_tissue(rgb, mpp=mpp, model=two_stage, origin=(0, 0))
    big = whole.factor
    halo = math.ceil(tissue_halo_um(two_stage) / mpp)
    r0 = 3
    core = (r0 + halo, r0 + halo + 4 * big)
    sub = rgb[core[0] - halo: core[1] + halo, core[0] - halo: core[1] + halo]
    origin = (core[0] - halo, core[0] - halo)
    part = classify_tissue(sub, mpp=mpp, model=two_stage, origin=origin)
    off = origin[0] % big
    b0, b1 = -(-core[0] // big), core[1] // big
    i0 = b0 - (origin[0] - off) // big
    got = part.proba[i0: i0 + (b1 - b0), i0: i0 + (b1 - b0)]
    assert got.size > 0
    np.testing.assert_allclose(got, whole.proba[b0:b1, b0:b1], atol=1e-5)


def _rewrite(src: Path, dst: Path, change) -> Path:
    with np.load(src, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays.pop("header").tobytes())
    change(header, arrays)
    np.savez(dst, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return dst


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda h, a: a.__setitem__("context_threshold", a["context_threshold"] + 0.5), "content hash"),
        (lambda h, a: a.pop("context_value"), "missing"),
        (lambda h, a: h.__setitem__("format_version", 1), "needs format_version 2"),
        (lambda h, a: h.pop("context"), "unexpected arrays"),
        (lambda h, a: h["context"]["features"].pop(), "context stage|content hash"),
    ],
)
def test_damaged_two_stage_files_raise_clear_errors(two_stage, tmp_path, change, match) -> None:
    good = two_stage.save(tmp_path / "good.mmnst", compact=False)  # the expanded arrays (format version 2)
    bad = _rewrite(good, tmp_path / "bad.npz", change)
    with pytest.raises(CorruptFileError, match=match) as info:
        load_model(bad)
    assert "bad.npz" in str(info.value)


def test_tampered_context_test_case_is_refused(two_stage, tmp_path) -> None:
    assert two_stage.context is not None
    ctx = replace(two_stage.context, test_proba=two_stage.context.test_proba[::-1].copy())
    path = replace(two_stage, context=ctx).save(tmp_path / "t.mmnst")
    with pytest.raises(CorruptFileError, match="test case of the context stage fails"):
        load_model(path)


def test_context_columns_that_this_version_does_not_compute_are_refused(two_stage) -> None:
    assert two_stage.context is not None
    ctx = replace(two_stage.context, settings={"sigmas_um": [16.0, 80.0]})
    with pytest.raises(ConfigError, match="context stage lists"):
        classify_tissue(np.full((64, 64, 3), 200, np.uint8), mpp=1.0, model=replace(two_stage, context=ctx))


def test_one_stage_files_stay_format_version_1() -> None:
    """The shipped one-stage models keep their format version (and so their ids)."""
    for path in (default_model_path("nucleus"), default_model_path("tissue", "H-DAB"),
                 default_model_path("nucleus").with_name("pigment_default.mmnst")):
        model = load_model(path)
        assert model.context is None
        assert model.header()["format_version"] == 1


def test_tissue_features_do_not_jump_at_the_nominal_pixel_size() -> None:
    """0.5 and 0.5001 µm/px are the same scan: with scipy's radius rule the 3 µm blob and nucleus kernels and
    the 6 / 18 / 30 µm context kernels lost a tap just above the models' nominal grid (features moved by up to
    0.13, a breast carcinoma patch read 14.7 vs 7.1 % necrosis); now they match to float noise, and at exactly
    the nominal sizes the kernels are scipy's (the shipped models' training features)."""
    from mmnst_path.classify import tissue_features as tf

    rgb = synthetic.he_melanin_tile(2, size=160).rgb
    st = tf.TissueFeatureSettings()
    a, _ = tf.tissue_features(rgb, mpp=0.5, settings=st)
    b, _ = tf.tissue_features(rgb, mpp=0.5001, settings=st)
    assert np.abs(a - b).max() < 2e-3
    for sigma in (1.0, 1.5, 2.0, 4.5, 7.5):  # the nominal scales in grid pixels: scipy's own radius
        assert tf.kernel_radius(sigma) == int(tf.TRUNCATE * sigma + 0.5)
        x = np.random.default_rng(0).random((40, 40))
        np.testing.assert_array_equal(tf._g(x, sigma), ndi.gaussian_filter(x, sigma, mode="reflect", truncate=tf.TRUNCATE))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda h, a: a.__setitem__("context_split_threshold32", a["context_split_threshold32"] ^ np.uint8(1)),
         "content hash"),
        (lambda h, a: a.pop("context_leaf_bits"), "missing"),
        (lambda h, a: a.__setitem__("context_leaf_value", a["context_leaf_value"][:-1]),
         "compact forest arrays of the context stage damaged"),
        (lambda h, a: h.__setitem__("format_version", 2), "missing"),
    ],
)
def test_damaged_compact_two_stage_files_raise_clear_errors(two_stage, tmp_path, change, match) -> None:
    good = two_stage.save(tmp_path / "good.mmnst")
    bad = _rewrite(good, tmp_path / "bad.npz", change)
    with pytest.raises(CorruptFileError, match=match) as info:
        load_model(bad)
    assert "bad.npz" in str(info.value)
