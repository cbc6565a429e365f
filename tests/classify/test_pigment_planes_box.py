"""The pigment pixel model copies the OD channel planes only over the candidates' box grown by
the features' reach (issue #16, :func:`_planes_box`): the same feature values and probabilities
as from the whole-tile planes, for candidates away from every tile edge and at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mmnst_path.classify.pigment as P
from mmnst_path.stain import od_from_rgb

MPP = 0.25


@pytest.fixture(scope="module")
def tile(shared_data) -> np.ndarray:
    return np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "2.png").convert("RGB"))


def _where(shape: tuple[int, int], edge: bool) -> np.ndarray:
    where = np.zeros(shape, bool)
    where[250:330, 230:300] = True  # far from every edge: the box is inside the tile on all sides
    where[300:320, 380:420] = True
    if edge:
        where[:20, -40:] = True  # a corner: the box is clipped there
    return where


@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("spec", ["default", "dab"])
def test_planes_of_the_box_give_the_whole_tile_values(tile, spec, edge, monkeypatch) -> None:
    model = P.resolve_pigment_model(spec)
    s = P.PigmentFeatureSettings.from_mapping(model.settings)
    where = _where(tile.shape[:2], edge)
    seen: list[np.ndarray] = []
    real = P._wide_at
    monkeypatch.setattr(P, "_wide_at", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    got, cand = P.pigment_probability(tile, mpp=MPP, model=model, where=where)
    assert cand.sum() > 100
    assert (got > 0).any()
    box = P._planes_box(cand, P.feature_reach_px(s, MPP))
    assert (box[0].start > 0 and box[1].start > 0 and box[0].stop < tile.shape[0]) != edge  # the box is cut
    # the wide blur at the candidates (the longest reach) from the box's planes: the whole tile's
    od = od_from_rgb(tile).astype(np.float32)
    whole = [np.ascontiguousarray(od[..., c]) for c in range(3)]
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], real(od, s, MPP, cand, whole))
    # and every probability, against the planes of the whole tile
    monkeypatch.setattr(P, "_planes_box", lambda cand, reach: (slice(0, cand.shape[0]), slice(0, cand.shape[1])))
    ref, ref_cand = P.pigment_probability(tile, mpp=MPP, model=model, where=where)
    np.testing.assert_array_equal(cand, ref_cand)
    np.testing.assert_array_equal(got, ref)
