"""The stain swap of the nucleus training script (``scripts/_training_data.swap_chromogen``): a
hematoxylin-DAB image re-rendered with AEC / Fast Red keeps its nuclei and their positivity, so the
labels of real H-DAB data (EndoNuke) and of generated tiles carry over to red chromogens."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.stain import get_preset, separate_stains
from mmnst_path.synthetic_ki67 import ki67_cells_tile


@pytest.fixture(scope="module")
def helpers(project_module):
    return project_module("scripts/_training_data.py")


@pytest.fixture(scope="module")
def tile():
    return ki67_cells_tile(3, size=192, appearance="plain")


def _nuclear_means(conc: np.ndarray, labels: np.ndarray) -> np.ndarray:
    n = int(labels.max())
    cnt = np.maximum(np.bincount(labels.ravel(), minlength=n + 1), 1)
    return np.bincount(labels.ravel(), conc.ravel(), minlength=n + 1)[1:] / cnt[1:]


@pytest.mark.parametrize(("chromogen", "preset"), [("aec", "H-AEC"), ("fast_red", "H-FastRed")])
def test_swapped_tile_keeps_positives_in_the_red_channel(tile, helpers, chromogen, preset):
    mod = helpers
    rgb = mod.swap_chromogen(tile.rgb, chromogen, np.random.default_rng(0), chromogen_scale=1.0)
    assert rgb.shape == tile.rgb.shape
    assert rgb.dtype == np.uint8
    labels = tile.masks["nuclei"]
    cells = tile.truth["cells"]
    grade = np.asarray(cells["grade"]).astype(str)
    present = np.zeros(len(grade), bool)
    present[np.unique(labels[labels > 0]) - 1] = True
    red = _nuclear_means(separate_stains(rgb, get_preset(preset), stains=(get_preset(preset).names[1],))[..., 0],
                         labels)
    dab = _nuclear_means(separate_stains(tile.rgb, get_preset("H-DAB"), stains=("dab",))[..., 0], labels)
    strong = present & (grade == "strong")
    negative = present & (grade == "negative")
    assert strong.sum() >= 3
    assert negative.sum() >= 10
    # the DAB of the source reappears as the red chromogen, nucleus by nucleus (vectors turned <= 6°)
    assert np.corrcoef(red[present], dab[present])[0, 1] > 0.9
    assert np.median(red[strong]) > 0.4
    assert np.median(red[negative]) < 0.25 * np.median(red[strong])
    # and the colour is the red chromogen's, not DAB's: the strong nuclei's mean OD is explained by
    # hematoxylin + the red vector better than by hematoxylin + DAB (the source tile: the reverse)
    def residual(img, name):
        od = -np.log10(np.maximum(img[np.isin(labels, np.flatnonzero(strong) + 1)].astype(float), 1.0) / 255.0)
        m = get_preset(name)
        basis = np.stack([m.vector(m.names[0]), m.vector(m.names[1])], axis=1)
        target = od.mean(axis=0)
        coef, *_ = np.linalg.lstsq(basis, target, rcond=None)
        return float(np.linalg.norm(basis @ coef - target) / np.linalg.norm(target))

    assert residual(rgb, preset) < residual(rgb, "H-DAB")
    assert residual(tile.rgb, "H-DAB") < residual(tile.rgb, preset)

def test_swap_refuses_an_unknown_chromogen(tile, helpers):
    with pytest.raises(ValueError, match="chromogen"):
        helpers.swap_chromogen(tile.rgb, "dab", np.random.default_rng(0))
