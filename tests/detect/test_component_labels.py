"""Components and holes of a mask by runs (``_label``, ``_hole_labels``): the compiled labelling
gives ``ndi.label``'s labels (4- and 8-connected, numbered in the same order) and the same holes,
pixel for pixel and in the same order, and the brown-body table that reads them is the same
through either path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect import _morphology
from mmnst_path.detect._pigment_core import _hole_labels, _label, _small_holes


def _holes_by_scipy(mask: np.ndarray) -> np.ndarray:
    """The holes of ``mask`` labelled by ``ndi.label`` (4-connected), 0 elsewhere."""
    holes = ndi.binary_fill_holes(mask) & ~mask
    return ndi.label(holes)[0]


def _holes(mask: np.ndarray) -> np.ndarray:
    gaps, is_hole = _hole_labels(mask)
    at = is_hole[gaps]
    relabel = np.zeros(is_hole.shape[0], np.int64)
    relabel[is_hole] = np.arange(1, int(is_hole.sum()) + 1)
    return np.where(at, relabel[gaps], 0)


def _masks() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    out = [rng.random(tuple(rng.integers(1, 30, 2))) < rng.uniform(0.2, 0.8) for _ in range(200)]
    ring = np.zeros((12, 14), bool)  # nested rings: a hole holding a body holding a hole
    ring[1:11, 1:13] = True
    ring[2:10, 2:12] = False
    ring[3:9, 3:11] = True
    ring[5:7, 5:9] = False
    out.append(ring)
    edge = np.zeros((6, 7), bool)  # a ring cut by the border is no hole
    edge[0:4, 0:4] = True
    edge[1:3, 0:2] = False
    edge[4, 5] = True
    out.append(edge)
    # a dense mask of many holes, one pixel from every border (the first runs of rows 1 and m - 2)
    dense = rng.random((64, 80)) < 0.75
    dense[[0, -1], :] = True
    dense[:, [0, -1]] = True
    out.append(dense)
    out += [np.zeros((5, 5), bool), np.ones((5, 5), bool), np.zeros((1, 9), bool), np.ones((9, 1), bool)]
    return out


@pytest.mark.parametrize("backend", ["auto", "scipy"])
def test_holes_and_their_order_match_ndi_label(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setattr(_morphology, "BACKEND", backend)
    for mask in _masks():
        assert np.array_equal(_holes(mask), _holes_by_scipy(mask)), mask.shape


@pytest.mark.parametrize("eight", [False, True])
def test_components_match_ndi_label(eight: bool) -> None:
    from mmnst_path._numba_runs import component_labels

    assert _morphology._numba_kernels() is not None  # the compiled path is the one under test
    structure = np.ones((3, 3), bool) if eight else None
    for mask in _masks():
        labels, n = _label(mask, eight=eight)
        want, n_want = ndi.label(mask, structure=structure)
        assert n == n_want
        assert labels.dtype == want.dtype
        assert np.array_equal(labels, want), mask.shape
        direct = np.zeros(mask.shape, np.int32)
        assert component_labels(np.ascontiguousarray(mask), direct, eight) == n_want
        assert np.array_equal(direct, want)


def test_small_holes_are_the_same_through_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    masks = _masks()
    fast = [_small_holes(m, 3.0) for m in masks]
    monkeypatch.setattr(_morphology, "BACKEND", "scipy")
    for mask, got in zip(masks, fast, strict=True):
        assert np.array_equal(got, _small_holes(mask, 3.0))


def test_a_real_tile_brown_mask(monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> None:
    """The brown bodies of a real Ki67 tile, whose complement is one large background component
    around thousands of small holes, through the body table of the pixel model."""
    from PIL import Image

    from mmnst_path.classify._pigment_bodies import _body_table
    from mmnst_path.stain import od_from_rgb

    rgb = np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "0.png").convert("RGB"))[:320, :320]
    od = od_from_rgb(rgb).astype(np.float32)
    total = np.sqrt((od * od).sum(axis=2)).astype(np.float32)
    fast = _body_table(total, od, 0.25)
    mask = fast[0] > 0
    assert 0 < mask.mean() < 0.9
    assert _holes_by_scipy(mask).max() > 10
    assert np.array_equal(_holes(mask), _holes_by_scipy(mask))
    assert np.array_equal(_label(mask, eight=True)[0], ndi.label(mask, structure=np.ones((3, 3), bool))[0])
    monkeypatch.setattr(_morphology, "BACKEND", "scipy")
    slow = _body_table(total, od, 0.25)
    assert np.array_equal(fast[0], slow[0])
    assert np.array_equal(fast[1], slow[1])
