"""Nucleus-model training rows through the run-time path (``train_nucleus_model.py --rows-path runtime``):
a row extracted for a nucleus is the one ``analyze_region`` hands the cell model for it (session 33 H9:
the image-alone extraction corrects the neighbour counts against the image's own edges, the pipeline
against its white-padded tile read)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def field():
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(41)
    return tile.rgb[:200, :200].copy(), tile.truth["cells"]  # a 100 µm field: every nucleus near an edge


def test_runtime_rows_give_the_pipelines_tumour_probability(project_module, field):
    rt = project_module("scripts/_runtime_rows.py")
    from mmnst_path.classify import NucleusFeatureSettings, load_model
    from mmnst_path.classify.cells import feature_settings
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    rgb, _ = field
    model = load_model(rt.DEFAULT_MODEL)
    assert feature_settings(model) == NucleusFeatureSettings()  # the training's settings = the shipped model's
    det, x = rt.runtime_rows(rgb, mpp=0.5, preset="H-DAB", settings=NucleusFeatureSettings())
    res = analyze_region(rgb, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=0.5)
    assert len(det) == len(res.cells) > 20
    assert np.allclose(det, np.c_[res.cells.row, res.cells.col])
    p = model.predict_proba(x)[:, list(model.class_names).index("tumour")]
    assert np.allclose(p, np.asarray(res.cells.columns["tumour_probability"], float), atol=1e-6)


def test_image_rows_runtime_differ_from_image_alone_at_the_edge(project_module, field):
    train = project_module("scripts/train_nucleus_model.py")
    from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs

    rgb, cells = field
    settings = NucleusFeatureSettings()
    inside = (cells["row"] < 200) & (cells["col"] < 200)
    pts = np.c_[cells["row"][inside], cells["col"][inside]]
    cls = np.zeros(len(pts), np.intp)
    names = [f.name for f in nucleus_feature_specs(settings)]
    with train.rows_path("runtime"):
        x_rt, _ = train.image_rows(rgb, pts, cls, ihc=True, settings=settings)
    x_im, _ = train.image_rows(rgb, pts, cls, ihc=True, settings=settings)  # the default: the image alone
    assert train.ROWS_PATH == "image"
    assert len(x_rt) > 20
    assert len(x_im) > 20
    # the white margin counts as searched empty area at run time: fewer neighbours within 40 µm
    col = names.index("n_within_40um")
    assert np.median(x_rt[:, col]) < 0.9 * np.median(x_im[:, col])
