"""Training rows of generated lymphocyte-infiltrate tiles (``train_nucleus_model.py --infiltrate``): the
packed lymphocytes reach the trainer labelled lymphocyte, more crowded and with larger outlines (merged
neighbours, activated ones) than the scattered family's, and the option refuses seeds past its range."""

from __future__ import annotations

import numpy as np
import pytest


def test_infiltrate_rows_are_crowded_lymphocytes_and_differ_from_the_scattered_family(project_module):
    train = project_module("scripts/train_nucleus_model.py")
    from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs

    settings = NucleusFeatureSettings()
    names = [f.name for f in nucleus_feature_specs(settings)]
    seed = train.INFILTRATE_FIRST_SEED
    ly = train.CLASSES.index("lymphocyte")
    xi, yi = train._stack(train.generated(2, settings, first_seed=seed, lymphocytes="infiltrate"))
    xs, ys = train._stack(train.generated(2, settings, first_seed=seed))
    xi, xs = xi.reshape(-1, len(names)), xs.reshape(-1, len(names))
    assert (yi == ly).sum() > 1.5 * (ys == ly).sum()  # the infiltrates add lymphocytes to the same tiles
    col = names.index("n_within_20um")
    assert np.median(xi[yi == ly, col]) > np.median(xs[ys == ly, col])
    area = names.index("area_um2")
    assert np.mean(xi[yi == ly, area] >= 45) > np.mean(xs[ys == ly, area] >= 45) + 0.1
    # tumour rows of the same seeds stay tumour-sized in both families
    tu = train.CLASSES.index("tumour")
    assert np.median(xi[yi == tu, area]) > 1.3 * np.median(xi[yi == ly, area])


def test_infiltrate_option_refuses_more_tiles_than_its_seed_range(project_module, tmp_path):
    train = project_module("scripts/train_nucleus_model.py")
    with pytest.raises(SystemExit):
        train.main(["--infiltrate", "201", "--out", str(tmp_path / "m.mmnst"), "--train", str(tmp_path)])
    import argparse

    from mmnst_path.classify import NucleusFeatureSettings

    with pytest.raises(ValueError, match="infiltrate must be 1-200"):
        train.infiltrate_rows(argparse.Namespace(infiltrate=0, nuclear_stain="all", swap=[], rows_cache=None),
                              NucleusFeatureSettings())
