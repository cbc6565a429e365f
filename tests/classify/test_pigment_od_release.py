"""Peak memory of the pigment stage (issue #16): the tile's OD is not held while the pixel model
runs band by band, the OD channel planes are copied only when the tile is not cut into bands, and
the pipeline keeps the brown-mode unmixing as two planes (not beside an interleaved copy); every
output stays the same."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify.pigment import classify_pigment, pigment_probability, resolve_pigment_model
from mmnst_path.pipeline._worker import _planes_at
from mmnst_path.stain import load_stains, od_from_rgb, separate_stains
from mmnst_path.synthetic import pigment_family_tile


@pytest.fixture(scope="module")
def tile():
    return pigment_family_tile(2, "coarse", chromogen="dab", size=384)


@pytest.mark.parametrize("block_rows", [5000, 1 << 18])
def test_od_handed_over_is_freed_only_when_the_tile_goes_band_by_band(tile, block_rows):
    model = resolve_pigment_model("dab")
    od = od_from_rgb(tile.rgb)
    box = [od.copy()]
    prob, cand = pigment_probability(tile.rgb, mpp=tile.mpp, model=model, block_rows=block_rows, _od=box)
    ref, ref_cand = pigment_probability(tile.rgb, mpp=tile.mpp, model=model, block_rows=block_rows)
    assert int(cand.sum()) > 5000  # the small budget does cut the tile into bands
    np.testing.assert_array_equal(prob, ref)
    np.testing.assert_array_equal(cand, ref_cand)
    if block_rows == 5000:
        assert box == []  # banded: the whole-tile OD was let go (the bands recompute theirs)
    else:
        assert len(box) == 1  # one window: still held, and handed back unchanged
        np.testing.assert_array_equal(box[0], od)


def test_pipeline_planes_hold_the_unmixing_once_and_stack_to_the_same_values(tile):
    model = resolve_pigment_model("default")
    stains = load_stains("H-DAB")
    planes: dict = {}
    mask, prob = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains, _planes=planes)
    ref_mask, ref_prob = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains)
    assert mask.any()
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_array_equal(prob, ref_prob)
    tables, pair = planes["deconvolution"]
    assert isinstance(pair, tuple)
    assert all(p.flags.c_contiguous and p.ndim == 2 for p in pair)
    np.testing.assert_array_equal(planes["od"][1], od_from_rgb(tile.rgb, background=stains.background))
    both = separate_stains(tile.rgb, _brown_pair(stains), stains=("hematoxylin", "dab"), background=stains.background)
    # the Ki67 stage's part: the stacked planes cut at a frame, equal to the interleaved unmixing there
    shape = (200, 150, 3)
    _, conc = _planes_at(planes, "deconvolution", (0, 0), (30, 40), shape)
    assert conc.shape == (200, 150, 2)
    assert conc.flags.c_contiguous
    np.testing.assert_array_equal(conc, both[30:230, 40:190])
    assert "deconvolution" not in planes  # taken out
    # the whole image: the same values as the (M, N, 2) array the stage computes
    planes["deconvolution"] = (tables, pair)
    _, whole = _planes_at(planes, "deconvolution", (0, 0), (0, 0), tile.rgb.shape)
    np.testing.assert_array_equal(whole, both)
    planes["deconvolution"] = (tables, pair)  # a frame it does not cover: none
    assert _planes_at(planes, "deconvolution", (0, 0), (300, 0), (200, 10, 3)) is None


def _brown_pair(stains):
    from mmnst_path.stain import StainMatrix

    return StainMatrix(("hematoxylin", "dab"), np.stack([stains.vector("hematoxylin"), stains.vector("dab")]),
                       name="pigment-brown", _warn=False)
