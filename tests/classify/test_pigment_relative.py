"""Brown-body features read against the tile's own nuclei (opt-in body-model columns, issue #14):
the nuclear reference, the relative columns, and that only a model trained on them computes them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmnst_path.classify._pigment_bodies import (
    ALL_FEATURES,
    OBJECT_FEATURES,
    body_image_features,
    body_melanin_probability,
    prepare_bodies,
    wants_relative,
)
from mmnst_path.classify._pigment_relative import FALLBACK, RELATIVE_FEATURES, nuclear_reference
from mmnst_path.classify.pigment import BODY_CLASSES, body_feature_specs
from mmnst_path.classify.train import train_model
from mmnst_path.detect._pigment_gate import brown_body_labels
from mmnst_path.detect.pigment import PigmentParams, pigment_channels
from mmnst_path.stain import get_preset, od_from_rgb, rgb_from_stains

MPP = 0.5


def _scene(big_od: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0.5 µm/px: 12 hematoxylin nuclei of radius 4 µm (~50 µm²), a DAB nucleus of the same size
    and a brown body of radius 8 µm (4x the area) at ``big_od``; rgb, the DAB disc, the big body."""
    conc = np.zeros((128, 192, 2), np.float32)
    conc[..., 0] = 0.03
    yy, xx = np.mgrid[:128, :192]

    def disc(r0: int, c0: int, radius: float) -> np.ndarray:
        return (yy - r0) ** 2 + (xx - c0) ** 2 <= radius**2

    for i in range(12):
        conc[disc(16 + 32 * (i // 6), 16 + 32 * (i % 6), 8), 0] = 0.5
    dab = disc(96, 32, 8)
    big = disc(96, 128, 16)
    conc[dab, 1] = 0.6
    conc[big, 1] = big_od
    return rgb_from_stains(conc, get_preset("H-DAB"), stains=("hematoxylin", "dab")), dab, big


def _rows(rgb: np.ndarray, relative: bool) -> tuple[np.ndarray, np.ndarray]:
    params = PigmentParams()
    chans = pigment_channels(rgb, stains="H-DAB", params=params, _with_hematoxylin=True)
    labels, n = brown_body_labels(chans[0], chans[4], MPP, params)
    return labels, body_image_features(labels, n, od_from_rgb(rgb), chans[0], chans[4], MPP, relative=relative)


def test_nuclear_reference_reads_the_tiles_nuclei_and_falls_back_without_them():
    rgb, _, _ = _scene()
    od = od_from_rgb(rgb)
    chans = pigment_channels(rgb, stains="H-DAB", params=PigmentParams(), _with_hematoxylin=True)
    area, dark = nuclear_reference(np.linalg.norm(od, axis=2).astype(np.float32), chans[4], chans[0], MPP)
    assert 0.8 * math.pi * 16 <= area <= 1.25 * math.pi * 16  # the 4 µm-radius nuclei
    assert 0.2 < dark < 1.0
    blank = np.zeros((64, 64), np.float32)
    assert nuclear_reference(blank, blank, blank, MPP) == FALLBACK


def test_relative_columns_tell_a_nucleus_sized_body_from_a_large_dark_one():
    rgb, dab, big = _scene(big_od=2.4)
    labels, x = _rows(rgb, relative=True)
    _, x0 = _rows(rgb, relative=False)
    assert x.shape[1] == len(ALL_FEATURES) == len(OBJECT_FEATURES) + len(RELATIVE_FEATURES)
    np.testing.assert_array_equal(x[:, : len(OBJECT_FEATURES)], x0)  # the old columns unchanged
    col = {name: i for i, name in enumerate(ALL_FEATURES)}
    a, b = int(np.bincount(labels[dab]).argmax()), int(np.bincount(labels[big]).argmax())
    assert a > 0
    assert b > 0
    xa, xb = x[a - 1], x[b - 1]
    assert abs(xa[col["rel_area"]]) < 0.15  # a nucleus of the tile's nuclear size
    assert xb[col["rel_area"]] == pytest.approx(math.log10(4.0), abs=0.15)  # four nuclei large
    assert xb[col["rel_dark"]] > xa[col["rel_dark"]] + 0.2
    assert xb[col["sat_share"]] > 0.5 > xa[col["sat_share"]]  # the dark body reaches the camera floor


def _tiny_model(relative: bool):
    """A tiny body model (on :data:`ALL_FEATURES`, else :data:`OBJECT_FEATURES`) that calls melanin
    what is > 2 nuclei large (``rel_area``), or (without the relative columns) > 80 µm²."""
    names = ALL_FEATURES if relative else OBJECT_FEATURES
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 3, (400, len(names))).astype(np.float32)
    y = (x[:, names.index("rel_area")] > 0.3 if relative else x[:, names.index("log_area")] > 1.9).astype(np.int64)
    return train_model(x, y, kind="tissue", classes=BODY_CLASSES, features=body_feature_specs(relative=relative),
                       settings={"target": "pigment_bodies", "pixel_model_id": "test", "ranges": {}},
                       n_estimators=5, max_depth=3)


def test_only_a_model_trained_on_relative_columns_computes_and_reads_them():
    plain, model = _tiny_model(False), _tiny_model(True)
    assert not wants_relative(plain)
    assert wants_relative(model)
    rgb, dab, big = _scene()
    params = PigmentParams()
    chans = pigment_channels(rgb, stains="H-DAB", params=params, _with_hematoxylin=True)
    b_plain = prepare_bodies(rgb, chans, plain, mpp=MPP, params=params, background=None)
    b_rel = prepare_bodies(rgb, chans, model, mpp=MPP, params=params, background=None)
    assert b_plain.x.shape[1] == len(OBJECT_FEATURES)
    assert b_rel.x.shape[1] == len(ALL_FEATURES)
    np.testing.assert_array_equal(b_rel.x[:, : len(OBJECT_FEATURES)], b_plain.x)
    p = body_melanin_probability(b_rel.x, model)
    a, b = int(np.bincount(b_rel.labels[dab]).argmax()), int(np.bincount(b_rel.labels[big]).argmax())
    assert p[b - 1] > 0.5 > p[a - 1]  # the large body melanin, the nucleus-sized one DAB
