"""``nucleus_features(which=...)`` / ``cell_classes(which=...)``: the rows of some nuclei only (a tile's
owned nuclei, issue #16), bit for bit the rows of the whole call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmnst_path.classify.nucleus_features import NucleusFeatureSettings, nucleus_features

SAMPLE = Path(__file__).resolve().parents[2] / "sample_tiles" / "ki67_primary.tif"


@pytest.fixture(scope="module")
def planes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import tifffile

    from mmnst_path.quantify.ki67 import measure_ki67
    from mmnst_path.stain import load_stains, separate_stains

    rgb = np.ascontiguousarray(np.asarray(tifffile.imread(SAMPLE))[:300, :300, :3])
    labels = measure_ki67(rgb, mpp=0.5, stains="H-DAB", return_labels=True).labels
    assert labels is not None
    assert labels.max() > 40
    conc = separate_stains(rgb, load_stains("H-DAB"), stains=("hematoxylin", "dab"))
    return labels, np.ascontiguousarray(conc[..., 0]), np.ascontiguousarray(conc[..., 1])


@pytest.mark.parametrize("arrangement", [False, True])
def test_rows_of_some_nuclei_equal_the_whole_calls_rows(planes, arrangement: bool) -> None:
    labels, hem, dab = planes
    settings = NucleusFeatureSettings(arrangement=arrangement)
    kw = {"mpp": 0.5, "settings": settings, "origin": (5, 9), "extent": (340, 320)}
    whole = nucleus_features(labels, hem, dab, **kw)
    # the nuclei of a middle box (as a tile core), in label order
    r, c = np.nonzero(labels)
    lab = labels[r, c] - 1
    n = whole.shape[0]
    rows = np.bincount(lab, r, minlength=n) / np.maximum(np.bincount(lab, minlength=n), 1)
    cols = np.bincount(lab, c, minlength=n) / np.maximum(np.bincount(lab, minlength=n), 1)
    which = np.flatnonzero((rows >= 100) & (rows < 200) & (cols >= 90) & (cols < 210))
    assert 5 < which.size < n - 20
    part = nucleus_features(labels, hem, dab, which=which, **kw)
    assert part.shape == (which.size, whole.shape[1])
    assert np.array_equal(part, whole[which], equal_nan=True)
    assert nucleus_features(labels, hem, dab, which=which[:0], **kw).shape == (0, whole.shape[1])
