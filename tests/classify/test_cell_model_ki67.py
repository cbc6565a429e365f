"""The nucleus model decides who is counted in the Ki67 index; positivity stays the DAB decision."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.aggregate import CELL_CLASSES, CELL_TYPES, CellTable, TileTable, apply_slide_threshold
from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from mmnst_path.classify.train import train_model
from mmnst_path.detect.nuclei import nuclei_from_stains
from mmnst_path.errors import ConfigError
from mmnst_path.quantify.ki67 import Ki67Counts, Ki67Params, measure_ki67
from mmnst_path.stain import get_preset, separate_stains

NAMES = [f.name for f in nucleus_feature_specs()]
SMALL_UM2 = 35.0


@pytest.fixture(scope="module")
def size_model():
    """A model that calls nuclei under SMALL_UM2 'lymphocyte' and the rest 'tumour' (learned)."""
    xs = []
    for seed in (11, 12):
        t = synthetic.ki67_pigment_tile(seed, size=320, pigmented_cells=0.0, positive_fraction=0.3)
        conc = separate_stains(t.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
        nuc = nuclei_from_stains(conc[..., 0], conc[..., 1], mpp=t.mpp, return_labels=True)
        xs.append(nucleus_features(nuc.labels, conc[..., 0], conc[..., 1], mpp=t.mpp))
    x = np.concatenate(xs)
    y = np.where(x[:, NAMES.index("area_um2")] < SMALL_UM2, 1, 0)
    return train_model(x, y, kind="nucleus", classes=("tumour", "lymphocyte"), features=nucleus_feature_specs(),
                       settings={"features": NucleusFeatureSettings().to_mapping()}, n_estimators=10,
                       max_depth=4, min_samples_leaf=2, class_weight=None)


def test_model_excludes_non_tumour_and_counts_them_by_type(size_model):
    t = synthetic.ki67_pigment_tile(5, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    plain = measure_ki67(t.rgb, mpp=t.mpp, params=Ki67Params(cell_model="none"))
    region = measure_ki67(t.rgb, mpp=t.mpp, cell_model=size_model)
    cells = region.cells
    assert len(cells) == len(plain.cells)  # same detections
    assert set(np.unique(cells.cell_type)) <= {"tumour", "lymphocyte"}
    small = cells.area_um2 < SMALL_UM2 - 3
    big = cells.area_um2 > SMALL_UM2 + 3
    assert small.any()
    assert big.any()
    assert np.mean(cells.cell_type[small] == "lymphocyte") > 0.9
    lymph = cells.cell_type == "lymphocyte"
    # non-tumour nuclei leave the index whatever their DAB; tumour nuclei keep the plain decision
    assert np.all(cells.cls[lymph] == "excluded")
    keep = ~lymph
    np.testing.assert_array_equal(cells.cls[keep], plain.cells.cls[keep])
    assert region.counts.lymphocyte == int(lymph.sum())
    assert region.counts.excluded >= region.counts.lymphocyte
    assert region.counts.denominator == int(np.isin(cells.cls, ("positive", "negative")).sum())
    assert np.all((cells.tumour_probability >= 0) & (cells.tumour_probability <= 1))


def test_counts_add_with_types():
    a = Ki67Counts(positive=1, negative=2, excluded=3, positive_1plus=1, lymphocyte=2, stromal=1)
    b = Ki67Counts(negative=1, excluded=1, other_cell=1)
    s = a + b
    assert (s.excluded, s.lymphocyte, s.stromal, s.other_cell, s.total) == (4, 2, 1, 1, 8)


def test_cell_model_param_is_checked():
    with pytest.raises(ConfigError, match="cell_model"):
        Ki67Params(cell_model="  ")
    with pytest.raises(FileNotFoundError, match=r"missing\.mmnst"):
        measure_ki67(np.full((64, 64, 3), 230, np.uint8), mpp=0.5, params=Ki67Params(cell_model="missing.mmnst"))


def test_model_at_a_far_resolution_is_refused(size_model):
    rgb = synthetic.ki67_pigment_tile(5, size=160, pigmented_cells=0.0).rgb
    with pytest.raises(ConfigError, match="µm/px"):
        measure_ki67(rgb, mpp=2.0, cell_model=size_model)


def test_slide_threshold_never_flips_model_excluded_cells():
    code = {n: i for i, n in enumerate(CELL_CLASSES)}
    cls = np.array([code["excluded"], code["excluded"], code["negative"]] + [code["positive"]] * 12, np.int8)
    dab = np.array([0.3, 0.3, 0.3] + [0.32] * 12)
    ctype = np.array([CELL_TYPES.index("lymphocyte"), CELL_TYPES.index("unclassified"),
                      CELL_TYPES.index("tumour")] + [CELL_TYPES.index("tumour")] * 12, np.int8)
    cells = CellTable(np.zeros(15), np.zeros(15), cls, {"dab_od_mean": dab, "intensity_bin": np.where(cls == 0, 1, 0),
                                                        "cell_type": ctype})
    tiles = TileTable(np.array([[0, 0, 10, 10]]), {"ki67_positive": np.array([12.0]),
                                                   "ki67_negative": np.array([1.0]),
                                                   "ki67_excluded": np.array([2.0])})
    counts = Ki67Counts(positive=12, negative=1, excluded=2, positive_1plus=12, lymphocyte=1)
    new_cells, _, new_counts, thr = apply_slide_threshold(cells, np.zeros(15, int), tiles, counts, Ki67Params())
    assert thr < 0.3
    names = new_cells.class_names()
    assert names[0] == "excluded"  # the lymphocyte stays out
    assert names[1] == "positive"
    assert names[2] == "positive"
    assert new_counts.positive == 14
    assert new_counts.lymphocyte == 1


def test_pipeline_records_cell_types_and_widens_the_halo(size_model, tmp_path):
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.pipeline._reach import _halo_um

    path = size_model.save(tmp_path / "cells.mmnst")
    cfg = AnalysisConfig.from_mapping({"ki67": {"cell_model": str(path)}, "stains": "H-DAB",
                                       "measures": ["ki67"]})
    plain = AnalysisConfig.from_mapping({"ki67": {"cell_model": "none"}, "stains": "H-DAB", "measures": ["ki67"]})
    # the pigment prior's square (150 µm) is a sibling of the detection + context chain: by default it is the
    # longer reach with or without the cell model, so the 40 µm context shows once the prior is off
    from mmnst_path.pipeline._worker import ki67_halo_parts

    assert ki67_halo_parts(cfg)["context"] == pytest.approx(40.0)
    assert _halo_um(cfg, ("ki67",)) >= _halo_um(plain, ("ki67",))
    no_prior = {"pigment_prior_fraction": 0.0}
    cfg0 = AnalysisConfig.from_mapping({"ki67": {"cell_model": str(path), **no_prior}, "stains": "H-DAB",
                                        "measures": ["ki67"]})
    plain0 = AnalysisConfig.from_mapping({"ki67": {"cell_model": "none", **no_prior}, "stains": "H-DAB",
                                          "measures": ["ki67"]})
    assert _halo_um(cfg0, ("ki67",)) == pytest.approx(_halo_um(plain0, ("ki67",)) + 40.0)
    t = synthetic.ki67_pigment_tile(5, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    result = analyze_region(t.rgb, cfg, mpp=t.mpp)
    types = np.asarray(result.cells.columns["cell_type"])
    assert {CELL_TYPES[i] for i in np.unique(types)} <= {"tumour", "lymphocyte"}
    assert np.all(result.cells.class_names()[types == CELL_TYPES.index("lymphocyte")] == "excluded")


def test_arrangement_features_see_parallel_spindles_and_leave_the_other_columns_alone():
    def ellipses(angles):  # a 6 x 6 grid of 7 x 2 µm spindles at 0.5 µm/px, 12 µm apart
        labels = np.zeros((160, 160), np.int32)
        yy, xx = np.mgrid[0:160, 0:160]
        for k, ang in enumerate(angles):
            r, c = 20 + 24 * (k // 6), 20 + 24 * (k % 6)
            u = (yy - r) * np.cos(ang) + (xx - c) * np.sin(ang)
            v = -(yy - r) * np.sin(ang) + (xx - c) * np.cos(ang)
            labels[(u / 7.0) ** 2 + (v / 2.0) ** 2 <= 1] = k + 1
        return labels

    hem = np.full((160, 160), 0.3, np.float32)
    on = NucleusFeatureSettings(arrangement=True)
    names = [f.name for f in nucleus_feature_specs(on)]
    assert names[-2:] == ["nbr_align", "rel_elong"]
    assert "arrangement" not in NucleusFeatureSettings().to_mapping()  # older models read as before
    assert NucleusFeatureSettings.from_mapping(on.to_mapping()) == on
    stream = ellipses([0.3] * 36)
    disorder = ellipses(np.random.default_rng(0).uniform(0, np.pi, 36))
    f_stream = nucleus_features(stream, hem, mpp=0.5, settings=on)
    f_disorder = nucleus_features(disorder, hem, mpp=0.5, settings=on)
    np.testing.assert_array_equal(f_stream[:, :-2], nucleus_features(stream, hem, mpp=0.5))
    align = names.index("nbr_align")
    assert np.median(f_stream[:, align]) > 0.8
    assert np.median(f_disorder[:, align]) < 0.4
    assert np.abs(f_stream[:, names.index("rel_elong")]).max() < 0.05  # all alike
