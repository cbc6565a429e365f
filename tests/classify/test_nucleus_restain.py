"""The IHC re-rendering of the nucleus training script: positivity shared alike by every class."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.detect.nuclei import nuclei_from_stains
from mmnst_path.stain import get_preset, separate_stains


@pytest.fixture(scope="module")
def script(project_module):
    return project_module("scripts/train_nucleus_model.py")


@pytest.fixture(scope="module")
def he():
    t = synthetic.he_melanin_tile(5, size=320, mpp=0.5, n_pigmented=0)
    hem = separate_stains(t.rgb, get_preset("H&E"), stains=("hematoxylin",))[..., 0]
    nuc = nuclei_from_stains(hem, np.zeros_like(hem), mpp=0.5, return_labels=True)
    pts = np.c_[nuc.row, nuc.col]
    cls = np.arange(len(pts)) % 3  # tumour / lymphocyte / stromal in turn
    return t.rgb, pts, cls


def _positive_share(mod, rgb, pts, cls, rate, seeds=range(4)):
    """Share of the annotated nuclei of each class whose mean DAB reads above 0.15 OD, over seeds."""
    hits = np.zeros(3)
    tot = np.zeros(3)
    for seed in seeds:
        ihc = mod.restain_as_ihc(rgb, pts, cls, np.random.default_rng(seed), rate)
        dab = separate_stains(ihc, get_preset("H-DAB"), stains=("dab",))[..., 0]
        r, c = np.round(pts).astype(int).T
        pos = np.array([dab[max(0, i - 1):i + 2, max(0, j - 1):j + 2].mean() > 0.15 for i, j in zip(r, c, strict=True)])
        for k in range(3):
            hits[k] += pos[cls == k].sum()
            tot[k] += (cls == k).sum()
    return hits / tot


def test_uniform_positive_rate_gives_every_class_the_same_share_of_positives(he, script):
    mod = script
    rgb, pts, cls = he
    assert len(pts) >= 60
    share = _positive_share(mod, rgb, pts, cls, 0.4)
    assert np.all(share > 0.2), share
    assert share.max() - share.min() < 0.12, share
    # the 1.0.0 recipe: tumour painted about four times as often as stroma
    legacy = _positive_share(mod, rgb, pts, cls, None)
    assert legacy[0] > legacy[2] + 0.15, legacy


def test_core_weight_leaves_a_rim_of_the_asked_depth(script):
    mod = script
    labels = np.zeros((40, 60), np.int32)
    yy, xx = np.mgrid[:40, :60]
    labels[(yy - 20) ** 2 + (xx - 15) ** 2 <= 64] = 1  # radius 8 px
    labels[(yy - 20) ** 2 + (xx - 32) ** 2 <= 64] = 2  # touches nucleus 1
    w = mod._core_weight(labels, np.array([0.0, 0.0, 3.0]))
    assert w[labels == 0].max() == 0.0
    assert np.all(w[labels == 1] == 1.0)  # depth 0: the whole nucleus
    assert w[20, 32] == 1.0  # the centre of nucleus 2
    assert w[20, 25] == 0.0  # 1 px inside nucleus 2's edge (its rim is 3 px)
    assert 0.2 < w[labels == 2].mean() < 0.45  # a core of radius ~4.5 of 8 px


@pytest.mark.parametrize("chromogen", ["dab", "aec", "fast_red"])
def test_dab_core_restain_keeps_the_chromogen_off_the_rim(he, script, chromogen):
    """``dab_core_um``: positives keep a hematoxylin rim; the chromogen reads on the tile's preset."""
    mod = script
    rgb, pts, cls = he
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    full = mod.restain_as_ihc(rgb, pts, cls, rng_a, 1.0, chromogen=chromogen)
    core = mod.restain_as_ihc(rgb, pts, cls, rng_b, 1.0, 0.0, 2.0, chromogen)
    preset = get_preset(mod.CHROMOGEN_PRESETS[chromogen])
    hem = separate_stains(rgb, get_preset("H&E"), stains=("hematoxylin",))[..., 0]
    nuc = nuclei_from_stains(hem, np.zeros_like(hem), mpp=0.5, return_labels=True)
    from scipy import ndimage as ndi

    inside = ndi.grey_dilation(nuc.labels, size=3) > 0
    rim = inside & ~ndi.binary_erosion(inside, iterations=2)
    deep = ndi.binary_erosion(inside, iterations=6)
    chrom = [separate_stains(x, preset, stains=(preset.names[1],))[..., 0] for x in (full, core)]
    assert chrom[0][rim].mean() > 0.2  # every nucleus positive: the chromogen reaches the edge
    assert chrom[1][rim].mean() < 0.6 * chrom[0][rim].mean()
    assert chrom[1][deep].mean() > 0.2
    with pytest.raises(ValueError, match="chromogen"):
        mod.restain_as_ihc(rgb, pts, cls, np.random.default_rng(0), chromogen="nbt")
