"""The shipped nucleus model's cell type does not depend on Ki67 status.

The same generated tumour nuclei are read twice: Ki67-negative, and recoloured as saturated strong
positives (2 OD of DAB in the nucleus' core, 1 px inside its outline; 60 % of their hematoxylin
moved out, as a dense chromogen hides the counterstain). The detector outlines such a nucleus
tighter and darker. The share the model excludes from the index must not grow much with
the chromogen (seeds 0-3, 409 tumour nuclei: model 1.1.0 excludes 1.7 % of them negative and
15.1 % positive; 1.2.0, trained with chromogen augmentation, 1.0 % and 7.8 %). The gap is halved,
not closed: benchmarks/README.md, "nucleus_default.mmnst 1.2.0".
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.classify import default_model_path
from mmnst_path.classify.model import load_model
from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
from mmnst_path.stain import get_preset, separate_stains
from mmnst_path.synthetic_ki67 import ki67_cells_tile

SEEDS = (0, 1, 2, 3)


def _recoloured(rgb: np.ndarray, labels: np.ndarray, which: np.ndarray, preset: str,
                rng: np.random.Generator) -> np.ndarray:
    """``rgb`` with the nuclei ``which`` made strong positives of ``preset``'s chromogen (2 OD in
    the core, 1 px inside the outline; 40 % of their hematoxylin left)."""
    dab = get_preset("H-DAB")
    conc = separate_stains(rgb, dab, stains=tuple(dab.names))
    mask = np.isin(labels, which)
    core = ndi.binary_erosion(mask, iterations=1)
    texture = np.clip(1 + ndi.gaussian_filter(rng.normal(size=labels.shape), 1.0), 0.5, 1.5)
    chrom = ndi.gaussian_filter((core * 2.0 * texture).astype(np.float32), 0.6)
    hem = conc[..., 0] * np.where(mask, 0.4, 1.0)
    vectors = np.array([dab.vectors[0], get_preset(preset).vectors[1], dab.vectors[2]])
    od = np.stack([hem, conc[..., 1] + chrom, conc[..., 2]], axis=-1) @ vectors
    return np.clip(255.0 * 10.0 ** (-od), 0, 255).round().astype(np.uint8)


def _excluded_share(model, rgb: np.ndarray, labels: np.ndarray, tumour: np.ndarray, preset: str,
                    mpp: float) -> tuple[int, int]:
    region = measure_ki67(rgb, mpp=mpp, stains=preset, params=Ki67Params(cell_model="none"), cell_model=model)
    cells = region.cells
    r = np.clip(np.round(cells.row).astype(int), 0, labels.shape[0] - 1)
    c = np.clip(np.round(cells.col).astype(int), 0, labels.shape[1] - 1)
    is_tumour = np.isin(labels[r, c], tumour)
    return int((is_tumour & (cells.cell_type != "tumour")).sum()), int(is_tumour.sum())


@pytest.fixture(scope="module")
def model():
    return load_model(default_model_path("nucleus"))


def test_recoloured_strong_positives_keep_their_cell_type(model):
    preset = "H-DAB"
    neg = np.zeros(2, int)
    pos = np.zeros(2, int)
    for seed in SEEDS:
        tile = ki67_cells_tile(seed, positive_fraction=0.0, appearance="plain")
        cells = tile.truth["cells"]
        labels = tile.masks["nuclei"]
        tumour = cells["label"][cells["cell_type"] == "tumour"]
        neg += _excluded_share(model, tile.rgb, labels, tumour, preset, tile.mpp)
        strong = _recoloured(tile.rgb, labels, tumour, preset, np.random.default_rng(seed))
        pos += _excluded_share(model, strong, labels, tumour, preset, tile.mpp)
    assert neg[1] > 200
    assert pos[1] > 200
    share_neg, share_pos = neg[0] / neg[1], pos[0] / pos[1]
    assert share_neg < 0.08, share_neg
    assert share_pos - share_neg < 0.09, (share_neg, share_pos)
