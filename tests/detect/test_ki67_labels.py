"""The Ki67 stage's component labelling by runs (``_morphology._label``): the seedless foreground of
the nucleus detector, the banded watershed's mask components and the smoothing groups get
``ndi.label``'s labels (int32, same numbering and count), so the detector's labels, the banded
watershed and the windowed smoothing are the same as with ``ndi.label`` at those call sites."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect import _morphology, nuclei
from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes

_runs = pytest.importorskip("mmnst_path._numba_runs")


def _scipy_label(mask: np.ndarray, *, eight: bool = False) -> tuple[np.ndarray, int]:
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool) if eight else None)
    return labels, int(n)


def _counting(calls: list[int]) -> Any:
    """``component_labels`` that counts its calls (to show the compiled path ran)."""
    original = _runs.component_labels

    def spy(mask: np.ndarray, out: np.ndarray, eight: bool) -> int:
        calls.append(int(mask.size))
        return int(original(mask, out, eight))

    return spy


@pytest.mark.parametrize("eight", [False, True])
@pytest.mark.parametrize("dtype", [bool, np.uint8])
def test_label_equals_ndi_label_for_the_stage_dtypes(eight: bool, dtype: type) -> None:
    """Bool masks (the detector's foreground) and uint8 0 / 1 masks (the smoothing's dilated
    groups): the same int32 labels and count; any nonzero uint8 value is foreground."""
    rng = np.random.default_rng(3)
    for _ in range(60):
        shape = (int(rng.integers(1, 90)), int(rng.integers(1, 90)))
        mask = (rng.random(shape) < rng.choice([0.001, 0.05, 0.4, 0.7])).astype(dtype)
        if dtype is np.uint8:
            mask *= np.uint8(rng.choice([1, 255]))
        got, n = _morphology._label(mask, eight=eight)
        want, n_want = _scipy_label(mask, eight=eight)
        assert got.dtype == np.int32
        assert want.dtype == np.int32
        assert n == n_want
        np.testing.assert_array_equal(got, want)


def _planes(seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(seed, size=256)
    hem, dab = stain_planes(np.asarray(tile.rgb))
    return hem, dab, float(tile.mpp)


@pytest.mark.parametrize("band_rows", [1000, 24])
def test_detector_labels_equal_those_with_ndi_label(monkeypatch: pytest.MonkeyPatch, band_rows: int) -> None:
    """The detector's labels with the runs at its call sites (foreground components without a
    seed; with narrow bands, the watershed cut into bands as for tied markers, the watershed's
    mask components too) equal those with ``ndi.label`` there, and the compiled labelling ran."""
    flood = _morphology._flood_kernels()
    assert flood is not None

    def banded() -> None:
        monkeypatch.setattr(_morphology, "WATERSHED_BAND_ROWS", band_rows)
        monkeypatch.setattr(flood, "distinct_priorities", lambda *args: False)

    params = NucleusParams()
    for seed in (0, 4):
        hem, dab, mpp = _planes(seed)
        banded()
        calls: list[int] = []
        monkeypatch.setattr(_runs, "component_labels", _counting(calls))
        fast = nuclei_from_stains(hem, dab, mpp=mpp, params=params, return_labels=True)
        assert len(calls) >= (2 if band_rows < hem.shape[0] else 1)
        # the calls before the runs: ndi.label(mask), 4-connected, at both sites
        monkeypatch.setattr(_morphology, "_label", lambda mask, **kw: _scipy_label(mask))
        monkeypatch.setattr(_runs, "component_labels", None)  # not called any more
        slow = nuclei_from_stains(hem, dab, mpp=mpp, params=params, return_labels=True)
        monkeypatch.undo()
        assert fast.labels is not None
        assert slow.labels is not None
        assert fast.labels.max() > 10
        np.testing.assert_array_equal(fast.labels, slow.labels)


def test_sparse_smoothing_groups_equal_those_with_ndi_label(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_smoothed_at`` on sparse pixels (its group-by-group path, which labels the dilated
    groups 8-connected) gives the same values with the runs as with ``ndi.label``, and the
    compiled labelling ran."""
    rng = np.random.default_rng(8)
    x = rng.random((180, 150)).astype(np.float32)
    where = rng.random(x.shape) < 0.0015
    where[0, 0] = where[170, 140] = True
    calls: list[int] = []
    monkeypatch.setattr(_runs, "component_labels", _counting(calls))
    fast = _morphology._smoothed_at((x,), 1.5, where)[0]
    assert calls
    # the call before the runs: ndi.label(reach, 3x3 structure), 8-connected
    monkeypatch.setattr(_morphology, "_label", lambda mask, **kw: _scipy_label(mask, eight=True))
    slow = _morphology._smoothed_at((x,), 1.5, where)[0]
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast, ndi.gaussian_filter(x, 1.5, truncate=4.0)[where])


def test_real_tile_seedless_components_are_4_connected(monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> None:
    """On a real SHIDC tile whose seedless foreground holds two pieces touching only at a corner
    (one component 8-connected, two 4-connected), the detector's labels there are
    ``ndi.label(mask)``'s (4-connected), as before the runs."""
    from PIL import Image

    from mmnst_path.pipeline import analyze_region

    seen: list[tuple[np.ndarray, np.ndarray, int]] = []
    original = _morphology._label

    def spy(mask: np.ndarray, **kw: Any) -> tuple[np.ndarray, int]:
        labels, n = original(mask, **kw)
        if sys._getframe(1).f_code is nuclei._labels_of.__code__:  # the detector's seedless components
            seen.append((mask.copy(), labels, n))
        return labels, n

    monkeypatch.setattr(_morphology, "_label", spy)
    rgb = np.asarray(Image.open(shared_data / "ki67" / "shidc" / "p1_0299_9.jpg").convert("RGB"))
    analyze_region(rgb, mpp=0.21)
    assert seen
    corner = 0
    for mask, labels, n in seen:
        want, n_want = ndi.label(mask)
        assert n == n_want
        np.testing.assert_array_equal(labels, want)
        corner += n_want - ndi.label(mask, structure=np.ones((3, 3), bool))[1]
    assert corner > 0  # the tile holds the case that tells 4- from 8-connectivity
