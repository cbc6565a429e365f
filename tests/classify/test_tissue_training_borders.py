"""Training rows on class borders (``scripts/train_tissue_model.py --min-share``, #13 session 20): by default a
block of a pixel-labelled image is a row only when one class covers >= 99 % of it; ``min_share`` 0.5 adds the
mixed blocks, labelled by their majority class."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify.tissue_features import TissueFeatureSettings


def test_border_blocks_become_rows_of_their_majority_class(project_module) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    rgb = synthetic.he_necrosis_tile(3, size=160, mpp=0.5).rgb  # 8 µm output blocks = 16 px: a 10 x 10 grid
    tumour, necrosis = tr.CLASSES.index("tumour"), tr.CLASSES.index("necrosis")
    label = np.full(rgb.shape[:2], tumour, np.int64)
    label[:, 100:] = necrosis  # block column 6 (px 96-111): 4 px tumour, 12 px necrosis
    label[:, 36:44] = -1  # block column 2 (px 32-47): half unlabelled, half tumour
    st = TissueFeatureSettings()
    feats, sel, y, _ = tr.tile_maps(rgb, 0.5, label, st, np.random.default_rng(0), 10**6)
    cols = sel % feats.shape[1]
    assert set(cols.tolist()) == {0, 1, 3, 4, 5, 7, 8, 9}  # pure blocks only
    assert np.array_equal(y, np.where(cols >= 7, necrosis, tumour))
    feats2, sel2, y2, _ = tr.tile_maps(rgb, 0.5, label, st, np.random.default_rng(0), 10**6, min_share=0.5)
    np.testing.assert_array_equal(feats2, feats)
    cols2 = sel2 % feats.shape[1]
    assert set(cols2.tolist()) == {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
    assert np.array_equal(y2, np.where(cols2 >= 6, necrosis, tumour))  # the border block: its majority, necrosis


def test_min_share_is_checked_and_not_taken_with_cached_rows(project_module, tmp_path) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    assert tr.parser().parse_args([]).min_share == tr.PURE_SHARE
    for bad in ("0.4", "1.5", "half"):
        with pytest.raises(SystemExit):
            tr.parser().parse_args(["--min-share", bad])
    with pytest.raises(SystemExit, match="--min-share"):
        tr.main(["--min-share", "0.5", "--rows-npz", str(tmp_path / "rows.npz"), "--out", str(tmp_path / "m.mmnst")])
