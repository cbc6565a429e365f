"""Second-stage (auto-context) training rows on class borders (#13, session 25): the maps of
``scripts/train_tissue_model.py --save-maps`` record every block's majority class and its share without changing the
first stage's rows, and ``--context-min-share`` trains the second stage on the mixed border blocks too, which is how
it learns a necrosis rim that looks like stroma next to confident necrosis (the first stage never sees those blocks)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path import synthetic
from mmnst_path.classify.model import ClassifierModel, FeatureSpec
from mmnst_path.classify.tissue_context import ContextSettings, context_features
from mmnst_path.classify.tissue_features import TissueFeatureSettings
from mmnst_path.classify.train import train_model
from mmnst_path.classify.train_tissue import ContextImage, out_of_fold_proba, train_context_stage

CLASSES = ("tumour", "stroma", "necrosis")
SETTINGS = ContextSettings((8.0, 16.0))


def _rim_image(rng: np.random.Generator, size: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Feature map: a necrosis region (left of a random vertical-ish line) whose outer block looks like stroma and is
    only partly necrotic (a mixed border block labelled necrosis by majority), tumour beyond it, and small stroma islands
    inside the tumour far from the necrosis. Returns (feats, class map, block share, rim mask)."""
    rr, cc = np.mgrid[:size, :size]
    edge = size / 2 + rng.uniform(-6, 6) + 3 * np.sin(rr / rng.uniform(4, 8))
    cls = np.where(cc < edge, 2, 0)
    rim = (cls == 2) & (cc >= edge - 1)
    islands = (ndi.gaussian_filter(rng.random((size, size)), 1.5) > 0.56) & (cc > edge + 6)
    cls[islands] = 1
    looks = np.where(rim, 1, cls)
    share = np.where(rim, 0.7, 1.0).astype(np.float32)
    feats = np.stack([looks == 0, looks == 1, looks == 2], axis=-1) + rng.normal(0, 0.2, (size, size, 3))
    return feats.astype(np.float32), cls, share, rim


def _images(rng: np.random.Generator, n: int, border: bool) -> list[ContextImage]:
    out = []
    for i in range(n):
        feats, cls, share, _ = _rim_image(rng)
        pure = np.flatnonzero(share.ravel() >= 0.99)
        sel = rng.choice(pure, 500, replace=False)
        extra = np.flatnonzero(share.ravel() < 0.99) if border else None
        ctx_sel = None if extra is None else np.concatenate([sel, extra])
        ctx_y = None if ctx_sel is None else cls.ravel()[ctx_sel]
        out.append(ContextImage(feats, sel, cls.ravel()[sel], 8.0, i % 2, ctx_sel, ctx_y))
    return out


def _first_stage(images: list[ContextImage]) -> ClassifierModel:
    x = np.concatenate([im.feats.reshape(-1, 3)[im.sel] for im in images])
    y = np.concatenate([im.y for im in images])
    return train_model(x, y, kind="tissue", classes=CLASSES, features=[FeatureSpec(f"look_{c}") for c in CLASSES],
                       settings={}, n_estimators=8, max_depth=8)


def test_border_rows_teach_the_second_stage_the_rim_the_first_stage_misses() -> None:
    """A necrosis rim that looks like stroma: the first stage (pure blocks) reads it stroma, a second stage trained on
    pure blocks only reads at most part of it, one trained on the border blocks too reads it necrosis; stroma away from the
    necrosis stays stroma."""
    read = {}
    for border in (False, True):
        rng = np.random.default_rng(11)
        images = _images(rng, 8, border)
        first = _first_stage(images)
        proba = out_of_fold_proba(images, first, n_estimators=8, max_depth=8)
        model = train_context_stage(images, first, settings=SETTINGS, n_estimators=8, max_depth=8, proba=proba)
        assert model.context is not None
        n_rows = sum(model.card["auto_context"]["training_counts"].values())
        assert n_rows == sum(len(im.context_rows()[0]) for im in images)
        rim1, rim2, isl = [], [], []
        for _ in range(3):
            feats, cls, _, rim = _rim_image(rng)
            p1 = first.predict_proba(feats.reshape(-1, 3)).reshape(*cls.shape, 3).astype(np.float32)
            ctx = context_features(feats, p1, grid_mpp=8.0, settings=SETTINGS)
            lab2 = np.argmax(model.context.predict_proba(ctx.reshape(-1, ctx.shape[-1])), 1).reshape(cls.shape)
            rim1.append((np.argmax(p1, -1)[rim] == 2).mean())
            rim2.append((lab2[rim] == 2).mean())
            isl.append((lab2[cls == 1] == 1).mean())
        read[border] = (np.mean(rim1), np.mean(rim2), min(isl))
    assert read[True][0] < 0.1  # the first stage reads the rim as stroma
    assert read[False][1] < 0.6  # pure rows only: the second stage never saw a rim block (it guesses)
    assert read[True][1] > 0.9  # with the border rows it reads the rim as necrosis
    assert read[True][2] > 0.9  # stroma far from the necrosis stays stroma


def test_context_images_add_majority_border_blocks_of_training_images_only(project_module) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    by = np.array([[0, 0, 2, 2], [0, 1, 2, -1]], np.int8)
    bs = np.array([[1.0, 0.6, 0.7, 1.0], [0.4, 0.995, 0.5, 0.0]], np.float16)
    feats = np.zeros((2, 4, 3), np.float32)
    sel = np.array([0, 3, 5])
    y = by.ravel()[sel].astype(np.int64)
    maps = [tr.ImageMap("brca_m2c", "a.png", False, feats, sel, y, 8.0, by, bs),
            tr.ImageMap("brca_m2c", "b.png", True, feats, sel, y, 8.0, by, bs),
            tr.ImageMap("kather", "c.tif", False, feats, sel, y, 8.0)]
    train, held, old = tr.context_images(maps, 0.5)
    rows, cls = train.context_rows()
    assert rows.tolist() == [0, 3, 5, 1, 2, 6]  # the first stage's rows, then the blocks with share 0.5-0.99
    assert cls.tolist() == [0, 2, 1, 0, 2, 2]
    assert held.fold == -1
    assert held.ctx_sel is None
    assert old.ctx_sel is None  # a map without block labels
    assert [im.fold for im in (train, old)] == [tr.fold_of("brca_m2c", "a.png"), tr.fold_of("kather", "c.tif")]
    none = tr.context_images(maps, None)[0]
    assert none.context_rows()[0] is sel
    higher = tr.context_images(maps, 0.65)[0].context_rows()[0]
    assert higher.tolist() == [0, 3, 5, 2]


def test_block_labels_leave_the_rows_and_draws_unchanged(project_module, tmp_path) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    rgb = synthetic.he_necrosis_tile(3, size=160, mpp=0.5).rgb  # 10 x 10 output blocks of 16 px
    tumour, necrosis = tr.CLASSES.index("tumour"), tr.CLASSES.index("necrosis")
    label = np.full(rgb.shape[:2], tumour, np.int64)
    label[:, 100:] = necrosis  # block column 6: 4 px tumour, 12 px necrosis
    st = TissueFeatureSettings()
    r1, r2 = np.random.default_rng(4), np.random.default_rng(4)
    got: list[tuple[np.ndarray, np.ndarray]] = []
    f1, s1, y1, _ = tr.tile_maps(rgb, 0.5, label, st, r1, 60)
    f2, s2, y2, _g2 = tr.tile_maps(rgb, 0.5, label, st, r2, 60, blocks=got)
    np.testing.assert_array_equal(f1, f2)
    assert s1.tolist() == s2.tolist()
    assert y1.tolist() == y2.tolist()
    assert r1.random() == r2.random()  # the same draws
    (by, bs), = got
    assert by.dtype == np.int8
    assert by.shape == f2.shape[:2]
    assert by.ravel()[s2].tolist() == y2.tolist()
    assert set(by[:, 6].tolist()) == {necrosis}
    assert np.allclose(bs[:, 6].astype(float), 0.75)
    assert (bs.ravel()[s2] >= 0.99).all()
    maps = [tr.ImageMap("x", "a", False, f2, s2, y2, 8.0, by, bs), tr.ImageMap("x", "b", True, f1, s1, y1, 8.0)]
    tr.save_maps(tmp_path / "m.npz", maps)
    back = tr.load_maps(tmp_path / "m.npz")
    assert back[0].block_y is not None
    assert np.array_equal(back[0].block_y, by)
    assert back[0].block_share is not None
    assert np.array_equal(back[0].block_share, bs)
    assert back[1].block_y is None
    assert back[1].block_share is None


def test_context_options_need_auto_context(project_module, tmp_path) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    out = str(tmp_path / "m.mmnst")
    with pytest.raises(SystemExit, match="options of --auto-context"):
        tr.main(["--context-min-share", "0.5", "--out", out])
    with pytest.raises(SystemExit, match="--first-stage: with --maps-npz"):
        tr.main(["--auto-context", "--first-stage", out, "--out", out])
    with pytest.raises(SystemExit):
        tr.parser().parse_args(["--context-sigmas", "8,-1"])
    assert tr.parser().parse_args(["--context-sigmas", "8,16"]).context_sigmas == (8.0, 16.0)


def _tiny_maps(tr, tmp_path, rng: np.random.Generator) -> tuple[list[str], ClassifierModel, list]:
    """Tiny saved maps (6 kather images, one held out, and 2 one-class oedema images in ``extra.npz``), a 4-tree first
    stage fitted on the kather rows, and the common command line of a second stage over it."""
    st = TissueFeatureSettings()
    specs = tr.tissue_feature_specs(st)
    n_f = len(specs)

    def image(src: str, name: str, held: bool, classes: tuple[int, ...]) -> object:
        y_map = rng.choice(np.asarray(classes), size=(12, 12))
        feats = (rng.normal(0, 0.3, (12, 12, n_f)) + y_map[..., None]).astype(np.float32)
        sel = rng.choice(144, 60, replace=False)
        return tr.ImageMap(src, name, held, feats, sel, y_map.ravel()[sel].astype(np.int64), 8.0)

    names = [f"t{i}" for i in range(40)]
    by_fold = [[n for n in names if tr.fold_of("kather", n) == f][:3] for f in (0, 1)]
    maps = [image("kather", n, i == 5, (0, 1, 2)) for i, n in enumerate(by_fold[0] + by_fold[1])]
    extra = [image("oedema", f"seed{i}", False, (1,)) for i in range(2)]
    tr.save_maps(tmp_path / "maps.npz", maps)
    tr.save_maps(tmp_path / "extra.npz", extra)
    x = np.concatenate([m.feats.reshape(-1, n_f)[m.sel] for m in maps if not m.held])
    y = np.concatenate([m.y for m in maps if not m.held])
    first = train_model(x, y, kind="tissue", classes=tr.CLASSES, features=specs,
                        settings={"features": st.to_mapping(), "stains": "H&E"}, n_estimators=4, max_depth=6,
                        validation=(maps[5].feats.reshape(-1, n_f)[maps[5].sel], maps[5].y))
    first.save(tmp_path / "first.mmnst")
    common = ["--maps-npz", str(tmp_path / "maps.npz"), "--auto-context", "--first-stage", str(tmp_path / "first.mmnst"),
              "--oof-npz", str(tmp_path / "oof.npz"), "--context-sigmas", "8,16", "--trees", "4", "--depth", "6"]
    return common, first, maps


def test_extra_maps_train_the_second_stage_only(project_module, tmp_path) -> None:
    """``--auto-context --first-stage MODEL --maps-npz`` keeps MODEL's forest as the first stage, caches the out-of-fold
    maps (``--oof-npz``: a second run reads them) and adds the rows of ``--context-extra-maps`` to the second stage only
    (``--context-extra-repeat`` times), which the card says."""
    tr = project_module("scripts/train_tissue_model.py")
    common, first, _ = _tiny_maps(tr, tmp_path, np.random.default_rng(2))
    assert tr.main([*common, "--out", str(tmp_path / "a.mmnst")]) == 0
    assert (tmp_path / "oof.npz").exists()
    assert tr.main([*common, "--context-extra-maps", str(tmp_path / "extra.npz"), "--context-extra-repeat", "2",
                    "--version", "x", "--out", str(tmp_path / "b.mmnst")]) == 0
    from mmnst_path.classify import load_model

    a, b = load_model(tmp_path / "a.mmnst"), load_model(tmp_path / "b.mmnst")
    for m in (a, b):
        assert m.context is not None
        np.testing.assert_array_equal(m.forest.threshold, first.forest.threshold)  # the first stage is not refitted
    stroma = tr.CLASSES.index("stroma")
    counts_a = a.card["auto_context"]["training_counts"]
    counts_b = b.card["auto_context"]["training_counts"]
    assert counts_b[tr.CLASSES[stroma]] == counts_a[tr.CLASSES[stroma]] + 2 * 2 * 60  # 2 maps x 60 rows, twice
    assert "oedema (x2)" in b.card["auto_context"]["extra_sources"]
    assert "extra_sources" not in a.card["auto_context"]
    assert b.card["version"] == "x"
    # the cache was made with the hash folds: other folds refuse it
    with pytest.raises(SystemExit, match="other folds"):
        tr.main([*common, "--context-folds", "alternate", "--out", str(tmp_path / "c.mmnst")])


def test_alternate_folds_put_every_source_and_class_in_both_folds(project_module) -> None:
    """``--context-folds alternate``: within a source the images alternate between the folds in name order (names sort
    by class), so two tiles of one class are apart, which the hash folds did not promise (session 25: both
    osteosarcoma Non-Viable-Tumor training tiles in fold 0); augmented copies keep their image's fold."""
    tr = project_module("scripts/train_tissue_model.py")
    osteo = sorted(tr.OSTEO_TRAIN)
    f = np.zeros((2, 2, 3), np.float32)
    sel, y = np.array([0]), np.array([0])
    maps = [tr.ImageMap("osteosarcoma", n, False, f, sel, y, 8.0) for n in osteo for _ in range(3)]  # with copies
    maps.append(tr.ImageMap("osteosarcoma", "held.jpg", True, f, sel, y, 8.0))
    hashed = {(m.name, im.fold) for m, im in zip(maps, tr.context_images(maps, None), strict=True)}
    nvt = [n for n in osteo if n.startswith("Non-Viable")]
    assert len({fold for name, fold in hashed if name in nvt}) == 1  # the hash put both in one fold
    images = tr.context_images(maps, None, "alternate")
    fold = {}
    for m, im in zip(maps, images, strict=True):
        assert fold.setdefault(m.name, im.fold) == im.fold  # copies share the fold
    assert fold["held.jpg"] == -1
    for cls in ("Non-Tumor", "Non-Viable", "Viable"):
        assert {fold[n] for n in osteo if n.startswith(cls)} == {0, 1}
    three = {m.name: im.fold for m, im in zip(maps, tr.context_images(maps, None, "alternate", 3), strict=True)}
    assert {three[n] for n in osteo} == {0, 1, 2}
    assert {three[n] for n in nvt} == {0, 1}  # the two NVT tiles sort next to each other: still apart
    with pytest.raises(SystemExit, match="hash or alternate"):
        tr.context_images(maps, None, "random")
    with pytest.raises(SystemExit, match="2-10 folds"):
        tr.context_images(maps, None, "hash", 1)


def test_context_drop_takes_images_out_of_the_second_stage_only(project_module, tmp_path) -> None:
    """``--context-drop SOURCE[/PREFIX]`` (#13 session 30): the named training images give the second stage no rows
    (its counts fall by exactly their rows; held-out images still validate), the out-of-fold cache is the same one, the
    card names them, and a pair that matches no training image is refused."""
    tr = project_module("scripts/train_tissue_model.py")
    common, _, maps = _tiny_maps(tr, tmp_path, np.random.default_rng(3))
    assert tr.main([*common, "--out", str(tmp_path / "a.mmnst")]) == 0
    oof = (tmp_path / "oof.npz").read_bytes()
    dropped = [m for m in maps if not m.held and m.name.startswith(maps[0].name)]
    assert len(dropped) == 1
    assert tr.main([*common, "--context-drop", f"kather/{maps[0].name}", "--out", str(tmp_path / "b.mmnst")]) == 0
    assert (tmp_path / "oof.npz").read_bytes() == oof  # the out-of-fold first stages are unchanged
    from mmnst_path.classify import load_model

    a, b = load_model(tmp_path / "a.mmnst"), load_model(tmp_path / "b.mmnst")
    counts_a = a.card["auto_context"]["training_counts"]
    counts_b = b.card["auto_context"]["training_counts"]
    for k, cls in enumerate(tr.CLASSES):
        assert counts_b.get(cls, 0) == counts_a.get(cls, 0) - int((dropped[0].y == k).sum())
    assert f"kather named {maps[0].name}*" in b.card["auto_context"]["dropped_images"]
    assert "dropped_images" not in a.card["auto_context"]
    with pytest.raises(SystemExit, match="no training image matches"):
        tr.main([*common, "--context-drop", "osteosarcoma", "--out", str(tmp_path / "c.mmnst")])
    with pytest.raises(SystemExit, match="options of --auto-context"):
        tr.main(["--context-drop", "kather", "--out", str(tmp_path / "d.mmnst")])
    assert tr.parser().parse_args(["--context-drop", "osteosarcoma/Non-Tumor", "brca"]).context_drop == [
        ("osteosarcoma", "Non-Tumor"), ("brca", "")]


def test_context_drop_keeps_held_out_images(project_module) -> None:
    """``--context-drop``: a held-out image of the named source stays (it only validates); only training images go,
    and the images and probabilities stay paired."""
    fit = project_module("scripts/_tissue_fit.py")
    from types import SimpleNamespace

    maps = [SimpleNamespace(source="osteosarcoma", name="A.jpg", held=False),
            SimpleNamespace(source="osteosarcoma", name="B.jpg", held=True),
            SimpleNamespace(source="kather", name="C.tif", held=False)]
    images, proba = ["im_a", "im_b", "im_c"], ["p_a", "p_b", "p_c"]
    kept_images, kept_proba = fit.drop_context_images(maps, images, proba, [("osteosarcoma", "")])
    assert kept_images == ["im_b", "im_c"]
    assert kept_proba == ["p_b", "p_c"]


def test_context_thin_keeps_a_fraction_of_the_second_stage_rows(project_module, tmp_path) -> None:
    """``--context-thin SOURCE[/PREFIX]=FRACTION`` (#13 session 31): each named training image gives the second stage
    round(FRACTION * k) of its k rows (its counts fall by exactly the rest; the held-out image stays whole), the
    out-of-fold cache is the same one, the card names it, and bad entries are refused."""
    tr = project_module("scripts/train_tissue_model.py")
    common, _, maps = _tiny_maps(tr, tmp_path, np.random.default_rng(5))
    assert tr.main([*common, "--out", str(tmp_path / "a.mmnst")]) == 0
    oof = (tmp_path / "oof.npz").read_bytes()
    assert tr.main([*common, "--context-thin", "kather=0.25", "--out", str(tmp_path / "b.mmnst")]) == 0
    assert (tmp_path / "oof.npz").read_bytes() == oof  # the out-of-fold first stages are unchanged
    from mmnst_path.classify import load_model

    a, b = load_model(tmp_path / "a.mmnst"), load_model(tmp_path / "b.mmnst")
    total_a = sum(a.card["auto_context"]["training_counts"].values())
    total_b = sum(b.card["auto_context"]["training_counts"].values())
    thinned = [m for m in maps if not m.held]
    assert len(thinned) == 5
    assert all(len(m.y) == 60 for m in thinned)
    assert total_b == total_a - 5 * (60 - 15)  # each of the 5 training images keeps 15 of its 60 rows
    assert b.card["auto_context"]["thinned_images"].startswith("second stage: 0.25 of the rows of each training "
                                                               "image of kather (")
    assert "thinned_images" not in a.card["auto_context"]
    with pytest.raises(SystemExit, match="no training image matches"):
        tr.main([*common, "--context-thin", "osteosarcoma=0.5", "--out", str(tmp_path / "c.mmnst")])
    with pytest.raises(SystemExit, match="options of --auto-context"):
        tr.main(["--context-thin", "kather=0.5", "--out", str(tmp_path / "d.mmnst")])
    assert tr.parser().parse_args(["--context-thin", "osteosarcoma/Non-Viable-Tumor=0.0833", "brca=0.5"]).context_thin \
        == [("osteosarcoma", "Non-Viable-Tumor", 0.0833), ("brca", "", 0.5)]
    for bad in ("kather", "kather=0", "kather=1", "=0.5", "kather=x"):
        with pytest.raises(SystemExit):
            tr.parser().parse_args(["--context-thin", bad])


def test_context_thin_draws_rows_of_the_named_images_only(project_module) -> None:
    """``--context-thin``: only the named training images lose rows, to exactly round(fraction * k) distinct rows of
    their own second-stage rows (with their classes), and held-out images stay whole."""
    fit = project_module("scripts/_tissue_fit.py")
    from types import SimpleNamespace

    from mmnst_path.classify.train_tissue import ContextImage

    feats = np.zeros((10, 10, 2), np.float32)
    def im(k: int) -> ContextImage:
        return ContextImage(feats, np.arange(k), np.arange(k) % 3, 8.0, 0)
    maps = [SimpleNamespace(source="osteosarcoma", name="NVT_a.jpg", held=False),
            SimpleNamespace(source="osteosarcoma", name="NVT_b.jpg", held=True),
            SimpleNamespace(source="osteosarcoma", name="NT_c.jpg", held=False)]
    images = [im(50), im(50), im(40)]
    out = fit.thin_context_images(maps, images, [("osteosarcoma", "NVT", 0.1)])
    sel, y = out[0].context_rows()
    assert len(sel) == 5
    assert len(set(sel.tolist())) == 5
    assert np.array_equal(y, sel % 3)
    assert out[1] is images[1]
    assert out[2] is images[2]
    most = fit.thin_context_images(maps, images, [("osteosarcoma", "NVT", 0.9)])[0].context_rows()[0]
    assert len(most) == 45
    assert len(set(most.tolist())) == 45  # a draw with replacement repeats rows at 45 of 50
    with pytest.raises(SystemExit, match="no training image matches"):
        fit.thin_context_images(maps, images, [("osteosarcoma", "NVT_b", 0.5)])
