"""The body table's brown mask band by band, and the fine-scale OD a channel at a time (issue #16:
peak memory per worker), give exactly what the whole-tile formulation gives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from mmnst_path.classify._pigment_bodies import _BODY_OD, _BROWN, _BROWN_CONE_DEG, _body_table, _brown_mask
from mmnst_path.classify.pigment import PigmentFeatureSettings, _blur, _candidates, _od_norm
from mmnst_path.stain import od_from_rgb
from mmnst_path.synthetic import pigment_family_tile


def _whole_tile_brown(total: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """The brown mask as the body table computed it over the whole tile in one pass (before #16)."""
    dark = np.flatnonzero(total.ravel() >= _BODY_OD)
    f = fine.reshape(-1, 3)[dark]
    cos = np.einsum("kc,c->k", f, _BROWN.astype(np.float32)) / np.maximum(total.ravel()[dark], 1e-6)
    brown = np.zeros(total.shape, dtype=bool)
    brown.ravel()[dark[cos >= math.cos(math.radians(_BROWN_CONE_DEG))]] = True
    return brown


def _planes(rgb: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """(fine-scale OD, its norm) as the pigment model computes them, the fine OD by ``np.stack``
    of the three blurred channels (the formulation before #16)."""
    s = PigmentFeatureSettings()
    od = np.ascontiguousarray(od_from_rgb(rgb), dtype=np.float32)
    fine = np.stack([_blur(np.ascontiguousarray(od[..., c]), s.fine_um / mpp) for c in range(3)], axis=-1)
    return fine, _od_norm(fine)


@pytest.fixture(scope="module")
def real_tile(shared_data) -> np.ndarray:
    """A real H-DAB tile with brown nuclei (BCData 0.png, 0.25 µm/px), cropped to keep it quick."""
    return np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "0.png").convert("RGB"))[:400, :520]


@pytest.mark.parametrize("band_rows", [1, 7, 128, 10_000])
def test_banded_brown_mask_equals_whole_tile_pass(real_tile, band_rows):
    fine, total = _planes(real_tile, 0.25)
    ref = _whole_tile_brown(total, fine)
    assert 0.01 < ref.mean() < 0.9  # brown bodies and other pixels both present
    np.testing.assert_array_equal(_brown_mask(total, fine, band_rows=band_rows), ref)


def test_banded_brown_mask_on_strided_planes_and_an_empty_band():
    """A window of a larger tile (non-contiguous planes) with a white stretch of rows (no dark pixel)."""
    tile = pigment_family_tile(1, "perinuclear", chromogen="dab", size=320)
    rgb = tile.rgb.copy()
    rgb[100:140] = 255
    fine, total = _planes(rgb, tile.mpp)
    win = (slice(20, 300), slice(15, 290))
    ref = _whole_tile_brown(np.ascontiguousarray(total[win]), np.ascontiguousarray(fine[win]))
    assert ref.any()
    np.testing.assert_array_equal(_brown_mask(total[win], fine[win], band_rows=16), ref)


def test_body_table_from_the_brown_mask_equals_the_one_from_the_fine_od(real_tile):
    fine, total = _planes(real_tile, 0.25)
    labels, table = _body_table(total, fine, 0.25)
    labels2, table2 = _body_table(total, None, 0.25, brown=_whole_tile_brown(total, fine))
    assert table.shape[0] > 10
    np.testing.assert_array_equal(labels2, labels)
    np.testing.assert_array_equal(table2, table)
    with pytest.raises(ValueError, match="fine-scale OD"):
        _body_table(total, None, 0.25)


def test_candidates_fine_od_channel_at_a_time_equals_stacked(real_tile):
    s = PigmentFeatureSettings()
    planes: list[np.ndarray] = []
    od, fine, total, cand = _candidates(real_tile, mpp=0.25, settings=s, background=None, where=None, planes=planes)
    ref_fine, ref_total = _planes(real_tile, 0.25)
    assert fine.flags.c_contiguous
    assert fine.dtype == np.float32
    np.testing.assert_array_equal(fine, ref_fine)
    np.testing.assert_array_equal(total, ref_total)
    np.testing.assert_array_equal(cand, ref_total >= s.candidate_od)
    assert len(planes) == 3
    np.testing.assert_array_equal(planes[1], od[..., 1])


def test_wide_blur_at_the_candidates_gives_the_same_probabilities(monkeypatch):
    """Bands that take the candidates in row-major order read the wide blur from a (K, 2) array of
    the candidates' values; the same probabilities as from the whole-tile (M, N, 2) plane."""
    from mmnst_path.classify import pigment as P

    tile = pigment_family_tile(2, "confluent", chromogen="dab", size=384)
    model = P.resolve_pigment_model("dab")
    assert "wide_u_b" in [f.name for f in model.features]
    seen: list[object] = []
    real = P._band_starts
    monkeypatch.setattr(P, "_band_starts", lambda blocks, k: seen.append(real(blocks, k)) or seen[-1])
    prob, cand = P.pigment_probability(tile.rgb, mpp=tile.mpp, model=model, block_rows=4000)
    assert seen
    assert seen[0] is not None
    assert len(seen[0]) > 2  # two bands or more, compact values
    monkeypatch.setattr(P, "_band_starts", lambda blocks, k: None)
    ref, ref_cand = P.pigment_probability(tile.rgb, mpp=tile.mpp, model=model, block_rows=4000)
    assert (ref > 0.5).any()
    np.testing.assert_array_equal(cand, ref_cand)
    np.testing.assert_array_equal(prob, ref)


def test_band_starts_only_for_bands_in_row_major_order():
    from mmnst_path.classify.pigment import _band_starts, _blocks

    cand = np.zeros((200, 120), bool)
    cand[10:190:3, 5:115:2] = True
    blocks = _blocks(cand, 4, 300)
    starts = _band_starts(blocks, int(cand.sum()))
    assert starts is not None
    assert len(starts) == len(blocks) + 1
    assert starts[-1] == cand.sum()
    at = np.flatnonzero(cand.ravel())
    for b, ((rs, cs), sel) in enumerate(blocks):  # each band's candidates are the next ones in order
        rr, cc = np.nonzero(sel)
        np.testing.assert_array_equal((rr + rs.start) * cand.shape[1] + cc + cs.start, at[starts[b] : starts[b + 1]])
    # two windows side by side (different column spans): their candidates interleave by rows
    side = ((slice(0, 50), slice(0, 20)), np.ones((50, 20), bool)), ((slice(0, 50), slice(30, 50)), np.ones((50, 20), bool))
    assert _band_starts(list(side), 2000) is None
    # a band count that misses candidates
    assert _band_starts(blocks, int(cand.sum()) + 1) is None
