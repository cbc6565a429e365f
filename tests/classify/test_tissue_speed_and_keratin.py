"""Tissue classes: cheap block means, no fat rim at glass borders, keratin learned from generated tiles."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify import default_model_path, load_model
from mmnst_path.classify.tissue import (
    FAT_RIM_BLOCKS,
    TissueMap,
    classify_tissue,
    smoothed_labels,
    tissue_feature_settings,
    tissue_halo_um,
)
from mmnst_path.classify.tissue_features import block_mean
from mmnst_path.classify.train_tissue import tissue_training_rows, train_tissue_model
from mmnst_path.synthetic_tissue import he_keratin_tile


@pytest.mark.parametrize(("shape", "f"), [((64, 64), 2), ((30, 45, 3), 4), ((17, 9, 2), 3), ((8, 8), 1)])
def test_block_mean_is_the_mean_of_each_edge_padded_block(shape: tuple[int, ...], f: int) -> None:
    rng = np.random.default_rng(0)
    a = rng.random(shape).astype(np.float32)
    got = block_mean(a, f)
    m, n = -(-shape[0] // f) * f, -(-shape[1] // f) * f
    pad = np.pad(a.astype(np.float64), [(0, m - shape[0]), (0, n - shape[1])] + [(0, 0)] * (a.ndim - 2), mode="edge")
    ref = pad.reshape(m // f, f, n // f, f, *shape[2:]).mean(axis=(1, 3))
    assert got.dtype == np.float32
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)
    assert block_mean(a > 0.5, f).dtype == np.float32  # masks average to fractions


def _tmap(proba: np.ndarray, classes: tuple[str, ...]) -> TissueMap:
    return TissueMap(np.argmax(proba, -1).astype(np.int8), proba.astype(np.float32), 8.0, 16, classes, "test")


def test_fat_at_the_glass_border_takes_its_next_class_and_adipose_tissue_stays() -> None:
    """Glass on the left, then a two-block 'fat' rim in front of stroma; a wide fat region on the right."""
    classes = ("stroma", "fat", "background")
    p = np.zeros((12, 24, 3), np.float32)
    p[:, :4] = (0.1, 0.3, 0.6)      # glass
    p[:, 4:6] = (0.3, 0.4, 0.3)     # partly-glass edge blocks: fat first, stroma second
    p[:, 6:12] = (0.7, 0.2, 0.1)    # stroma
    p[:, 12:] = (0.2, 0.7, 0.1)     # adipose tissue, far from glass
    labels = smoothed_labels(_tmap(p, classes), smooth_um=0.0)
    assert (labels[:, 4:6] == 0).all()       # the rim is stroma now
    assert (labels[:, 12:] == 1).all()       # adipose tissue keeps its class
    assert (labels[:, :4] == 2).all()
    p[:, 12:14] = (0.1, 0.3, 0.6)  # glass right beside the adipose tissue: only FAT_RIM_BLOCKS of it change
    labels = smoothed_labels(_tmap(p, classes), smooth_um=0.0)
    assert (labels[:, 14 + FAT_RIM_BLOCKS:] == 1).all()
    assert (labels[:, 14:14 + FAT_RIM_BLOCKS] != 1).all()
    no_fat = smoothed_labels(_tmap(p[..., [0, 2]], ("stroma", "background")), smooth_um=0.0)
    assert no_fat.max() <= 1  # models without fat / background classes are left alone


def test_the_tissue_halo_covers_the_border_rule() -> None:
    model = load_model(default_model_path("tissue"), kind="tissue")
    settings = tissue_feature_settings(model)
    assert tissue_halo_um(model) >= settings.halo_um() + FAT_RIM_BLOCKS * settings.output_um


def _labels_at_pixels(tile, model) -> np.ndarray:
    tmap = classify_tissue(tile.rgb, mpp=tile.mpp, model=model)
    lab = smoothed_labels(tmap, smooth_um=8.0)
    big = np.repeat(np.repeat(lab, tmap.factor, 0), tmap.factor, 1)
    return big[: tile.rgb.shape[0], : tile.rgb.shape[1]]


@pytest.fixture(scope="module")
def keratin_model():
    """A small tissue model trained on generated keratinising squamous tiles (seeds 200-205, the seeds
    ``scripts/train_tissue_model.py --keratin`` starts with) through the public trainer."""
    classes = ("tumour", "stroma", "keratin", "background")
    rows = []
    for seed in range(200, 206):
        mpp = 1.0 if seed % 2 else 0.5
        tile = he_keratin_tile(seed, size=384 if mpp == 1.0 else 512, mpp=mpp)
        labels = np.zeros(tile.rgb.shape[:2], np.int32)
        for i, name in enumerate(classes):
            labels[tile.masks[name]] = i + 1
        rows.append(tissue_training_rows(tile.rgb, labels, mpp=mpp, classes=classes, min_cover=0.9))
    return train_tissue_model(rows, n_estimators=16)


@pytest.mark.parametrize(("seed", "mpp"), [(950, 0.5), (951, 1.0), (952, 0.5)])
def test_keratin_is_learned_from_the_generator_and_found_on_held_out_tiles(keratin_model, seed: int,
                                                                            mpp: float) -> None:
    """Keratin pearls / squames of seeds the model was not trained on are found where they are."""
    tile = he_keratin_tile(seed, size=640 if mpp == 0.5 else 384, mpp=mpp)
    assert tile.masks["keratin"].sum() * mpp * mpp > 2000, "test tile without keratin: pick another seed"
    names = keratin_model.class_names
    big = _labels_at_pixels(tile, keratin_model)
    clean = ~tile.masks["background"]
    keratin = (big == names.index("keratin")) & clean
    truth = tile.masks["keratin"]
    dice = 2.0 * (keratin & truth).sum() / (keratin.sum() + truth.sum())
    assert dice > 0.7
    truth_pct = tile.truth["keratin_fraction_pct"]
    assert abs(100.0 * keratin.sum() / clean.sum() - truth_pct) < 0.4 * truth_pct + 2.0  # 16 trees, 6 tiles
