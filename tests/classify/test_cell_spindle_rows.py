"""Training rows of generated spindle-cell tumour tiles (``train_nucleus_model.py --generated-spindle``):
the spindle tumour nuclei reach the trainer labelled tumour, elongated like fibroblasts yet larger
and more crowded, which is what a cell model must learn to keep them in the Ki67 count."""

from __future__ import annotations

import numpy as np


def test_spindle_tumour_rows_are_tumour_and_differ_from_fibroblasts_by_size_and_crowding(project_module):
    train = project_module("scripts/train_nucleus_model.py")
    from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs

    settings = NucleusFeatureSettings()
    names = [f.name for f in nucleus_feature_specs(settings)]
    parts = train.generated(1, settings, first_seed=train.SPINDLE_FIRST_SEED + 1, tumour="spindle")
    x, y = train._stack(parts)
    x = x.reshape(-1, len(names))
    tumour, stromal = y == train.CLASSES.index("tumour"), y == train.CLASSES.index("stromal")
    assert tumour.sum() > 30
    assert stromal.sum() > 5
    col = {n: x[:, i] for i, n in enumerate(names)}
    # the detected spindle tumour nuclei are elongated (not round nest nuclei) ...
    assert np.median(col["eccentricity"][tumour]) > 0.8
    # ... larger and more crowded than the fibroblasts beside them
    assert np.median(col["area_um2"][tumour]) > 1.3 * np.median(col["area_um2"][stromal])
    assert np.median(col["n_within_20um"][tumour]) > np.median(col["n_within_20um"][stromal])
