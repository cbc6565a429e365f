"""The compiled pigment path (forest walk, Gaussians at the candidates only) gives the masks and
probabilities of the reference path (scipy filters over whole windows, the numpy forest walk) bit
for bit, under whatever pigment models are shipped (issue #16)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.synthetic import pigment_family_tile


def _both(monkeypatch: pytest.MonkeyPatch, rgb: np.ndarray, mpp: float, stains: str, full: bool = False) -> tuple:
    from mmnst_path.detect import _morphology

    model = resolve_pigment_model("default")
    fast = classify_pigment(rgb, mpp=mpp, model=model, stains=stains, full_probability=full)
    with monkeypatch.context() as m:
        m.setattr(_morphology, "BACKEND", "scipy")
        assert _morphology._numba_kernels() is None
        ref = classify_pigment(rgb, mpp=mpp, model=model, stains=stains, full_probability=full)
    return fast, ref


@pytest.mark.parametrize(("family", "seed", "chromogen", "appearance"), [
    ("coarse", 0, "dab", "varied"), ("dusty", 1, "dab", "plain"), ("confluent", 2, "dab", "varied"),
    ("over_nucleus", 3, "dab", "plain"), ("melanophage", 4, "dab", "varied"), ("spindle", 5, "dab", "varied"),
    ("whole_cell", 6, "aec", "plain"), ("none", 7, "dab", "varied"),
])
def test_fast_pigment_path_equals_reference_on_generated_families(monkeypatch, family, seed, chromogen, appearance):
    tile = pigment_family_tile(seed, family, chromogen=chromogen, size=256, appearance=appearance)
    stains = "H-DAB" if chromogen == "dab" else "H-AEC"
    (mask, prob), (ref_mask, ref_prob) = _both(monkeypatch, tile.rgb, tile.mpp, stains)
    np.testing.assert_array_equal(prob, ref_prob)
    np.testing.assert_array_equal(mask, ref_mask)
    if family != "none":
        assert (prob > 0).sum() > 50  # the model ran on candidates (not the no-candidate exit)


@pytest.mark.parametrize(("name", "mpp"), [("bcdata/3.png", 0.25), ("shidc/p1_0299_1.jpg", 0.21)])
def test_fast_pigment_path_equals_reference_on_real_tiles(monkeypatch, shared_data, name, mpp):
    """Real Ki67 tiles (no melanin; strong DAB nuclei pass the gate), read at 0.5 µm/px as the
    pipeline reads them."""
    from mmnst_path.io._resample import resize_area

    rgb = np.asarray(Image.open(shared_data / "ki67" / name).convert("RGB"))
    rgb = np.ascontiguousarray(resize_area(rgb, (round(rgb.shape[0] * mpp / 0.5),
                                                 round(rgb.shape[1] * mpp / 0.5)))[:220, :220])
    # the model on every gated pixel (by default it skips the DAB nuclei the body model decides alone)
    (mask, prob), (ref_mask, ref_prob) = _both(monkeypatch, rgb, 0.5, "H-DAB", full=True)
    assert (prob > 0).sum() > 100
    np.testing.assert_array_equal(prob, ref_prob)
    np.testing.assert_array_equal(mask, ref_mask)
    (mask, prob), (ref_mask, ref_prob) = _both(monkeypatch, rgb, 0.5, "H-DAB")
    np.testing.assert_array_equal(prob, ref_prob)
    np.testing.assert_array_equal(mask, ref_mask)


def test_grown_lower_bound_never_exceeds_the_grown_mask():
    """``_grown_at_least`` (the coarse shortcut of the feature windows) is a lower bound of the
    pixels within reach of a candidate, so the windows decided with it are the exact ones."""
    from mmnst_path.classify._pigment_windows import _grown_at_least, _windows
    from mmnst_path.detect._morphology import _square_extreme

    rng = np.random.default_rng(0)
    tight = several = 0
    for _ in range(200):
        m, n = (int(v) for v in rng.integers(5, 300, 2))
        reach = int(rng.integers(1, 60))
        where = rng.random((m, n)) < rng.choice([0.0005, 0.005, 0.05])
        exact = int(_square_extreme(where.view(np.uint8), 2 * reach + 1, op="max").sum())
        bound = _grown_at_least(where, reach)
        assert bound <= exact
        tight += bound >= exact // 2
        if where.any():
            wins = _windows(where, reach)
            seen = np.zeros(where.shape, np.int32)
            for (rs, cs), sel in wins:  # every candidate once, with its reach inside its window
                seen[rs, cs] += sel
                rows, cols = np.nonzero(sel)
                assert (rows >= np.minimum(reach, rs.start)).all()
                assert (cols >= np.minimum(reach, cs.start)).all()
                assert (rows < sel.shape[0] - np.minimum(reach, m - rs.stop)).all()
                assert (cols < sel.shape[1] - np.minimum(reach, n - cs.stop)).all()
            several += len(wins) > 1
            np.testing.assert_array_equal(seen, where.astype(np.int32))
    assert tight > 50  # the bound is close enough to decide often
    assert several > 10  # separate windows are tested too


def test_compiled_od_norm_equals_einsum():
    """The compiled norm of the fine-scale OD gives numpy's einsum + sqrt to the bit (signed,
    tiny, large and zero values; the candidates are decided on it)."""
    from mmnst_path.detect._morphology import _od_norm as _norm3

    rng = np.random.default_rng(2)
    for shape in [(1, 1, 3), (7, 5, 3), (400, 300, 3)]:
        for scale in (1e-4, 1.0, 40.0):
            v = ((rng.random(shape) - 0.1) ** 3 * scale).astype(np.float32)
            v[0, 0] = 0.0
            ref = np.sqrt(np.einsum("...c,...c->...", v, v)).astype(np.float32)
            np.testing.assert_array_equal(_norm3(v), ref)
