"""The brown bodies' per-pixel sums in one compiled pass (classify/_pigment_body_sums.py) equal
the ``np.bincount`` reference bit for bit, so the body model sees the same features and decides
the same bodies (a DAB nucleus kept as melanin, or melanin vetoed, if they differed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmnst_path.classify import _pigment_body_sums
from mmnst_path.classify._pigment_bodies import _per_body, body_image_features
from mmnst_path.classify._pigment_body_sums import SUMS, body_pixel_sums
from mmnst_path.detect._morphology import _label, _numba_kernels


def _both(labels: np.ndarray, n: int, od: np.ndarray, brown: np.ndarray, hem: np.ndarray,
          monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    idx, _, _ = _per_body(labels, n)
    maxima = (np.arange(idx.size) % 3 == 0).astype(np.float64)
    fast = body_pixel_sums(labels, n, idx, od, brown, hem, maxima)
    with monkeypatch.context() as mp:
        mp.setattr(_pigment_body_sums, "_kernel", lambda: None)
        ref = body_pixel_sums(labels, n, idx, od, brown, hem, maxima)
    return fast, ref


def test_compiled_path_is_active() -> None:
    """Without numba both sides below would be the reference."""
    assert _numba_kernels() is not None
    assert _pigment_body_sums._kernel() is not None


@pytest.mark.parametrize("seed", range(6))
def test_random_bodies_equal_bincount(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random bodies (one pixel, border-touching, many) with negative concentrations and white
    pixels (norm 0: the neutrality's floor) included."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))
    labels, n = _label(rng.random(shape) < rng.uniform(0.05, 0.9))
    od = (rng.random((*shape, 3)) * 2.0).astype(np.float32)
    od[rng.random(shape) < 0.1] = 0.0
    both = rng.normal((0.2, 0.3), (0.3, 0.4), (*shape, 2)).astype(np.float32)
    hem, brown = both[..., 0], both[..., 1]  # strided planes, as the unmixing gives them
    if seed % 2:
        hem, brown = np.ascontiguousarray(hem), np.ascontiguousarray(brown)
    fast, ref = _both(labels, n, od, brown, hem, monkeypatch)
    assert fast.shape == (n, len(SUMS))
    assert np.array_equal(fast, ref)


def test_empty_and_single_pixel(monkeypatch: pytest.MonkeyPatch) -> None:
    od = np.full((4, 5, 3), 0.5, np.float32)
    plane = np.full((4, 5), 0.2, np.float32)
    fast, ref = _both(np.zeros((4, 5), np.int32), 0, od, plane, plane, monkeypatch)
    assert fast.shape == (0, len(SUMS))
    labels = np.zeros((4, 5), np.int32)
    labels[3, 4] = 1  # one pixel in the corner
    fast, ref = _both(labels, 1, od, plane, plane, monkeypatch)
    assert np.array_equal(fast, ref)
    assert fast[0, SUMS.index("row")] == 3.0
    assert fast[0, SUMS.index("col")] == 4.0


def test_real_tile_body_features_equal_reference(monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> None:
    """The brown bodies of a real BCData tile (DAB-positive nuclei): the body model's image
    features with the kernel equal those of the reference path."""
    from PIL import Image

    from mmnst_path.detect._pigment_gate import brown_body_labels
    from mmnst_path.detect.pigment import PigmentParams, pigment_channels
    from mmnst_path.stain import od_from_rgb

    path = shared_data / "ki67" / "bcdata" / "2.png"
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    params = PigmentParams()
    od = od_from_rgb(rgb)
    chans = pigment_channels(rgb, stains="H-DAB", params=params, _with_hematoxylin=True, _od=od, _hue=False)
    labels, n = brown_body_labels(chans[0], chans[4], 0.25, params)
    assert n > 5
    fast = body_image_features(labels, n, od, chans[0], chans[4], 0.25)
    monkeypatch.setattr(_pigment_body_sums, "_kernel", lambda: None)
    ref = body_image_features(labels, n, od, chans[0], chans[4], 0.25)
    assert np.array_equal(fast, ref)
