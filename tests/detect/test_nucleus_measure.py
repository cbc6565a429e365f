"""The numba passes of the nucleus measurements are bit-identical to the numpy bincount path."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.detect._morphology as morphology
from mmnst_path.detect._nucleus_measure import _label_max, _measure, _perimeter_edges
from mmnst_path.detect.nuclei import nuclei_from_stains, stain_planes
from mmnst_path.synthetic import ki67_pigment_tile

pytest.importorskip("numba")


def _both(monkeypatch: pytest.MonkeyPatch, fn, *args):
    out = {}
    for backend in ("scipy", "auto"):
        monkeypatch.setattr(morphology, "BACKEND", backend)
        out[backend] = fn(*args)
    return out["scipy"], out["auto"]


@pytest.fixture(scope="module")
def tile():
    rgb = ki67_pigment_tile(5, size=256, pigmented_cells=0.3).rgb
    hem, dab = stain_planes(rgb)
    hem, dab = np.ascontiguousarray(hem), np.ascontiguousarray(dab)
    nuclei = nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True)
    assert len(nuclei) > 30
    return nuclei.labels, len(nuclei), hem, dab


def test_measure_is_bit_identical(monkeypatch, tile):
    labels, n, hem, dab = tile
    for origin in ((0, 0), (1234, 56789)):
        ref, fast = _both(monkeypatch, _measure, labels, n, hem, dab, 0.5, origin)
        assert ref.keys() == fast.keys()
        for key in ref:
            assert fast[key].dtype == ref[key].dtype, key
            np.testing.assert_array_equal(fast[key], ref[key], err_msg=key)


def test_perimeter_and_label_max_are_bit_identical(monkeypatch, tile):
    labels, n, _, dab = tile
    ref, fast = _both(monkeypatch, _perimeter_edges, labels, n)
    np.testing.assert_array_equal(fast, ref)
    # labels touching the image border, a single-row image, uint16 labels
    edge = labels[5:70, :40].copy()
    k = int(edge.max())
    for lab in (edge, edge[:1], edge.astype(np.uint16)):
        np.testing.assert_array_equal(*_both(monkeypatch, _perimeter_edges, lab, k))
    vals = dab.copy()
    vals[10, 10] = np.nan  # NaN propagates as with np.maximum
    vals[labels == 3] = -0.0
    ref, fast = _both(monkeypatch, _label_max, vals, labels, n)
    np.testing.assert_array_equal(fast, ref)
    assert np.signbit(fast[3]) == np.signbit(ref[3])
