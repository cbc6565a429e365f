"""Nuclei under near-black, saturated melanin are unassessable, never Ki67-positive (issue #14)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
from mmnst_path.stain import od_from_rgb
from mmnst_path.synthetic import pigment_family_tile


def _hidden_saturated_positives(tile) -> np.ndarray:
    """(n + 1,) bool by truth label: Ki67-positive nuclei >= 75 % under melanin, half saturated."""
    lab, mel = tile.masks["nuclei"], tile.masks["melanin"]
    n = int(lab.max())
    area = np.maximum(np.bincount(lab.ravel(), minlength=n + 1), 1)
    cover = np.bincount(lab.ravel(), mel.ravel(), minlength=n + 1) / area
    dark = (od_from_rgb(tile.rgb).min(axis=-1) >= 1.0).ravel()
    sat = np.bincount(lab.ravel(), dark, minlength=n + 1) / area
    positive = np.bincount(lab.ravel(), tile.masks["positive_nuclei"].ravel(), minlength=n + 1) > 0
    out = (cover >= 0.75) & (sat >= 0.5) & positive
    out[0] = False
    return out


def _classes_under(tile, target: np.ndarray, params: Ki67Params) -> np.ndarray:
    res = measure_ki67(tile.rgb, mpp=tile.mpp, stains="H-DAB", pigment_mask=tile.masks["melanin"], params=params)
    shape = tile.masks["nuclei"].shape
    r = np.clip(np.rint(res.cells.row).astype(int), 0, shape[0] - 1)
    c = np.clip(np.rint(res.cells.col).astype(int), 0, shape[1] - 1)
    return res.cells.cls[target[tile.masks["nuclei"][r, c]]]


@pytest.mark.parametrize("seed", [0, 5])
def test_positive_nucleus_under_near_black_pigment_reads_pigment(seed: int) -> None:
    tile = pigment_family_tile(seed, "over_nucleus", near_black=True, size=192, positive_fraction=0.5)
    target = _hidden_saturated_positives(tile)
    assert target.sum() >= 5  # the generator hides positives under near-black pigment
    cls = _classes_under(tile, target, Ki67Params())
    assert len(cls) >= 5
    assert not (cls == "positive").any()
    assert (cls == "pigment").all()
    # without the saturation test the DAB-fill rule reads most of them positive (near-black is
    # DAB-filled by saturation): what the default must not do (the rules alone: the hidden-nucleus
    # model and the pigment-cell model, the default since session 34, mark them whatever the saturation test says)
    off = _classes_under(tile, target, Ki67Params(pigment_saturated_od=0.0, hidden_model="none",
                                                  pigment_cell_model="none"))
    assert (off == "positive").sum() >= len(off) // 2


def test_near_black_keeps_the_rest_of_the_tile() -> None:
    plain = pigment_family_tile(2, "over_nucleus", size=192)
    black = pigment_family_tile(2, "over_nucleus", size=192, near_black=True)
    assert black.truth["hidden_nuclei"] >= plain.truth["hidden_nuclei"]
    assert black.truth["melanin_fraction_pct"] > plain.truth["melanin_fraction_pct"] + 3.0
    assert black.truth["ki67_positive"] == plain.truth["ki67_positive"]
    np.testing.assert_array_equal(black.masks["nuclei"], plain.masks["nuclei"])
    # the near-black melanin is beyond the scanner's range: every channel dark, hue neutral
    only = black.masks["melanin"] & ~plain.masks["melanin"]
    assert np.median(black.rgb[only].max(axis=1)) < 40


def test_saturated_parameters_are_checked() -> None:
    from mmnst_path.errors import ConfigError

    with pytest.raises(ConfigError, match="pigment_saturated_share"):
        Ki67Params(pigment_saturated_share=1.5)
    with pytest.raises(ConfigError, match="pigment_saturated_od"):
        Ki67Params(pigment_saturated_od=-1.0)
