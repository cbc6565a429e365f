"""Necrosis detector: real osteosarcoma tiles (necrotic > viable), generated tiles of both
generators, tile-size invariance on the global grid."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.errors import ConfigError
from mmnst_path.quantify.necrosis import (
    NecrosisCounts,
    NecrosisParams,
    mask_to_tile,
    measure_necrosis,
    necrosis_metrics,
)

ROOT = Path(__file__).resolve().parents[2]


RULES = NecrosisParams(tissue_model="none")
#: osteosarcoma tiles the default tissue model was NOT trained on (see its card)
HELD_OUT = {"nvt": ("Non-Viable-Tumor___Case-3-A12-19907-12559_113.jpg", "Non-Viable-Tumor___Case-3-A15-34291-15707_101.jpg"),
            "viable": ("Viable___Case-4-C22", "Viable___Case-4-C28-27016")}


def _pct(path, params: NecrosisParams = RULES) -> float:
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB"))
    counts, mask, mask_mpp = measure_necrosis(rgb, mpp=1.0, params=params)
    assert mask.dtype == bool
    assert mask_mpp == (2.0 if params.tissue_model == "none" else 8.0)
    return necrosis_metrics(counts)["necrosis_fraction_pct"]


def test_real_necrotic_tiles_above_viable(shared_data) -> None:
    folder = shared_data / "necrosis"
    nec = [_pct(p) for p in sorted(folder.glob("Non-Viable-Tumor___*.jpg"))[:2]]
    via = [_pct(p) for p in sorted(folder.glob("Viable___*.jpg"))[:2]]
    assert min(nec) > max(via) + 10.0


def test_default_tissue_model_on_held_out_osteosarcoma_tiles(shared_data) -> None:
    """Measured 95.1 / 88.1 % on the two held-out necrotic tiles, 0.0 / 0.0 % on the viable ones."""
    folder = shared_data / "necrosis"
    nec = [_pct(folder / name, NecrosisParams()) for name in HELD_OUT["nvt"]]
    via = [_pct(next(folder.glob(prefix + "*.jpg")), NecrosisParams()) for prefix in HELD_OUT["viable"]]
    assert min(nec) >= 80.0
    assert max(via) <= 5.0


def _dice(mask, mask_mpp, truth, mpp) -> float:
    big = mask_to_tile(mask, truth.shape, mpp=mpp, mask_mpp=mask_mpp)
    return 2 * (big & truth).sum() / (big.sum() + truth.sum())


def test_generated_tile_finds_the_necrotic_side() -> None:
    t = synthetic.he_necrosis_tile(1, size=384, necrosis_fraction=0.4)
    for params, tol in ((RULES, 3.0), (NecrosisParams(), 7.0)):
        counts, mask, mpp = measure_necrosis(t.rgb, mpp=t.mpp, params=params)
        assert _dice(mask, mpp, t.masks["necrosis"], t.mpp) > 0.85
        # issue 5 asks for 3 pp; rules measured -0.8..-2.7 pp over 8 varied tiles; the tissue model
        # 1.1.0 -5.8 pp here (1.0.0: -3.3): it under-reads this generator by 6.0 pp on average (34
        # tiles, benchmarks/eval_necrosis.py --synthetic --random-cases 24), the price of reading
        # viable breast carcinoma 13 % necrotic instead of 40 % (--brca); not met, see the README
        assert abs(necrosis_metrics(counts)["necrosis_fraction_pct"] - t.truth["necrosis_fraction_pct"]) < tol


def test_dense_eosin_necrosis_of_the_independent_generator() -> None:
    """sample_tiles recipe: necrotic eosin 0.55 OD (above the old absolute 0.2 bound), at 1 µm/px."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import eval_necrosis
    finally:
        sys.path.pop(0)
    gen = eval_necrosis._sample_generator()
    rgb, mpp, truth_pct, truth = eval_necrosis.sample_recipe_tile(gen, 508, eosin=0.55, mpp=1.0, fraction=0.3)
    # rules: Dice 0.92 and -2.4 pp at 0.5 µm/px (-7.9 pp before the border-insensitive coherence);
    # tissue model: -6.4 pp (its mask stops 10-15 µm short of the true border)
    for params, tol in ((RULES, 5.0), (NecrosisParams(), 7.0)):
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp, params=params)
        assert _dice(mask, mask_mpp, truth, mpp) > 0.85
        assert abs(necrosis_metrics(counts)["necrosis_fraction_pct"] - truth_pct) < tol


def test_edge_growth_removes_the_border_shrinkage() -> None:
    t = synthetic.he_necrosis_tile(2, size=384, necrosis_fraction=0.5, angle_deg=5.0)
    errs = []
    for grow in (0.0, NecrosisParams().edge_grow_um):
        counts, _, _ = measure_necrosis(t.rgb, mpp=t.mpp, params=NecrosisParams(edge_grow_um=grow, tissue_model="none"))
        errs.append(necrosis_metrics(counts)["necrosis_fraction_pct"] - t.truth["necrosis_fraction_pct"])
    assert errs[0] < -5.0  # the shrinkage this fixes
    assert abs(errs[1]) < 0.5 * abs(errs[0])


def test_tiles_on_the_global_grid_sum_to_the_whole() -> None:
    """Two tiles with a halo, an odd origin (misaligned with the 2 px block) and owned halves."""
    t = synthetic.he_necrosis_tile(3, size=384, necrosis_fraction=0.45)
    params = NecrosisParams()
    whole, wmask, wmpp = measure_necrosis(t.rgb, mpp=t.mpp, params=params)
    halo = math.ceil(params.halo_um() / t.mpp) | 1  # odd: the second tile starts off the block grid
    split = 192
    parts, tile_masks = [], []
    for r0, r1 in ((0, split + halo), (split - halo, 384)):
        owned = np.zeros((r1 - r0, 384), bool)
        if r0 == 0:
            owned[:split] = True
        else:
            owned[split - r0 :] = True
        c, m, mm = measure_necrosis(t.rgb[r0:r1], mpp=t.mpp, params=params, tissue=owned, origin=(r0, 0))
        parts.append(c)
        big = mask_to_tile(m, owned.shape, mpp=t.mpp, mask_mpp=mm, origin=(r0, 0))
        tile_masks.append(big[owned].reshape(-1, 384))
    total = parts[0] + parts[1]
    assert total.region_um2 == whole.region_um2
    assert abs(total.tissue_um2 - whole.tissue_um2) <= 1e-3 * whole.tissue_um2
    assert abs(total.necrosis_um2 - whole.necrosis_um2) <= 0.005 * whole.tissue_um2
    stitched = np.concatenate(tile_masks, 0)
    ref = mask_to_tile(wmask, (384, 384), mpp=t.mpp, mask_mpp=wmpp)
    assert (stitched != ref).mean() < 0.005


def test_origin_validation_and_mask_mapping() -> None:
    rgb = np.full((40, 40, 3), 240, np.uint8)
    with pytest.raises(ConfigError, match="origin"):
        measure_necrosis(rgb, mpp=1.0, origin=("a", 0))
    mask = np.array([[True, False], [False, False]])
    big = mask_to_tile(mask, (3, 3), mpp=1.0, mask_mpp=2.0, origin=(1, 1))
    assert big.tolist() == [[True, False, False], [False, False, False], [False, False, False]]


def test_counts_additive_and_nan() -> None:
    assert NecrosisCounts(1.0, 2.0, 3.0) + NecrosisCounts(1.0, 2.0, 3.0) == NecrosisCounts(2.0, 4.0, 6.0)
    assert math.isnan(necrosis_metrics(NecrosisCounts())["necrosis_fraction_pct"])


def test_real_bone_is_not_necrosis(shared_data) -> None:
    """Lamellar bone (dense, homogeneous eosin with osteocytes counted as debris) is excluded by
    the eosin-texture test; without it the same tile is ~28 % 'necrotic'."""
    from PIL import Image

    rgb = np.asarray(Image.open(shared_data / "necrosis" / "Non-Tumor___Case-3-A17-7799-34542_102.jpg").convert("RGB"))
    pct = [necrosis_metrics(measure_necrosis(rgb, mpp=1.0, params=NecrosisParams(min_texture=mt, tissue_model="none"))[0])
           ["necrosis_fraction_pct"] for mt in (0.0, NecrosisParams().min_texture)]
    assert pct[0] > 20.0  # the false necrosis this fixes
    assert pct[1] < 8.0


def test_orientation_coherence_sees_fibres_not_region_borders() -> None:
    """Parallel fibres are coherent; an amorphous texture with one strong step edge is not."""
    from mmnst_path.quantify.necrosis import _orientation_coherence

    rng = np.random.default_rng(0)
    rows = np.arange(96, dtype=np.float32)[:, None]
    fibres = 0.2 + 0.05 * np.sin(2 * np.pi * rows / 4.0) + 0.01 * rng.standard_normal((96, 96))
    amorphous = 0.2 + 0.05 * rng.standard_normal((96, 96))
    amorphous[:, 48:] += 0.5  # a dense-eosin region border, 10x the texture contrast
    from scipy import ndimage as ndi
    from skimage.feature import structure_tensor, structure_tensor_eigenvalues

    e_f, e_a = (ndi.gaussian_filter(x.astype(np.float32), 1.0) for x in (fibres, amorphous))
    coh_f = _orientation_coherence(e_f, 6.0)
    coh_a = _orientation_coherence(e_a, 6.0)
    limit = NecrosisParams().max_coherence
    assert coh_f[20:-20, 20:-20].mean() > limit + 0.1
    assert coh_a[20:-20, 20:30].mean() < limit - 0.15
    # the energy-weighted structure-tensor coherence is ~1 along the border; ours stays near the limit
    l1, l2 = structure_tensor_eigenvalues(structure_tensor(e_a, sigma=6.0, order="rc"))
    energy = ((l1 - l2) / (l1 + l2 + 1e-9)) ** 2
    assert energy[20:-20, 42:54].mean() > 0.8
    assert coh_a[20:-20, 42:54].mean() < limit + 0.05


@pytest.mark.parametrize(("shape", "mpp"), [((1, 64), 1.0), ((2, 64), 0.5), ((64, 3), 0.5), ((5, 5), 0.25)])
def test_images_thinner_than_the_feature_grid_are_measured(shape: tuple[int, int], mpp: float) -> None:
    rgb = np.full((*shape, 3), 200, np.uint8)
    rgb[..., 1] = 120  # eosin-pink
    counts, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp)
    assert mask.ndim == 2
    assert mask_mpp >= mpp
    assert counts.tissue_um2 >= 0
