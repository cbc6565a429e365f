"""Splitting under-segmented clusters on hematoxylin cores (``NucleusParams.split_min_area_um2``,
:mod:`mmnst_path.detect._split_clusters`): two touching nuclei under one region become two; one
nucleus with texture, a region without a dip between its cores, pale cores, a small convex region
stay whole; the compiled and interpreted kernels agree; off leaves the detector's path untouched."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from mmnst_path.detect import _numba_split
from mmnst_path.detect._split_clusters import region_fill, split_clusters
from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains
from mmnst_path.errors import ConfigError

MPP = 0.5
ON = NucleusParams(split_min_area_um2=40.0, split_min_od=0.1, split_min_distance_um=5.0)  # cores from 0.1 OD
OFF = NucleusParams(split_min_area_um2=None)


def _pair(gap_px: float, peak_od: float = 0.6, radius_px: float = 8.0, dip: bool = True,
          shape: tuple[int, int] = (40, 52)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One region (label 1), the union of two discs ``gap_px`` apart, with a Gaussian hematoxylin
    bump of ``peak_od`` on each (``dip`` False: a flat plateau over the region instead) and the
    area per label."""
    rows, cols = np.indices(shape, dtype=np.float32)
    mid_r, mid_c = shape[0] / 2, shape[1] / 2
    labels = np.zeros(shape, np.int32)
    signal = np.zeros(shape, np.float32)
    for c0 in (mid_c - gap_px / 2, mid_c + gap_px / 2):
        d2 = (rows - mid_r) ** 2 + (cols - c0) ** 2
        labels[d2 <= radius_px**2] = 1
        signal += np.float32(peak_od) * np.exp(-d2 / (2 * (radius_px / 2) ** 2)).astype(np.float32)
    if not dip:
        signal = np.where(labels > 0, np.float32(peak_od), np.float32(0))
        signal[int(mid_r), int(mid_c - gap_px / 2)] += np.float32(0.01)  # two maxima, no dip between
        signal[int(mid_r), int(mid_c + gap_px / 2)] += np.float32(0.02)
    area = np.bincount(labels.ravel(), minlength=2).astype(np.int64)
    return labels, signal, area


def test_two_touching_nuclei_become_two() -> None:
    labels, signal, area = _pair(14.0)  # centres 7 µm apart, each disc 4 µm in radius
    out, area_px, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 2
    assert sorted(np.unique(out).tolist()) == [0, 1, 2]
    assert np.array_equal(out > 0, labels > 0)  # the same pixels, shared out
    assert area_px.tolist() == np.bincount(out.ravel(), minlength=3).tolist()
    mid = labels.shape[1] // 2
    assert {int(out[20, : mid - 2].max()), int(out[20, mid + 2 :].max())} == {1, 2}  # one part per disc
    assert abs(int(area_px[1]) - int(area_px[2])) <= labels.shape[0]  # halves, up to the middle column


def test_three_nuclei_in_a_row_become_three() -> None:
    shape = (40, 70)
    rows, cols = np.indices(shape, dtype=np.float32)
    labels = np.zeros(shape, np.int32)
    signal = np.zeros(shape, np.float32)
    for c0 in (19.0, 35.0, 51.0):
        d2 = (rows - 20) ** 2 + (cols - c0) ** 2
        labels[d2 <= 64] = 1
        signal += np.float32(0.6) * np.exp(-d2 / 32).astype(np.float32)
    area = np.bincount(labels.ravel(), minlength=2).astype(np.int64)
    out, area_px, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 3
    assert [int(out[20, c]) for c in (19, 35, 51)] == [2, 1, 3]  # the strongest (middle) keeps the label
    assert area_px.sum() == area.sum()


def test_texture_closer_than_the_minimum_distance_stays_whole() -> None:
    labels, signal, area = _pair(9.0)  # 4.5 µm apart: under split_min_distance_um (5 µm)
    out, area_px, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 1
    assert np.array_equal(out, labels)
    assert np.array_equal(area_px, area)


def test_no_dip_between_the_cores_stays_whole() -> None:
    labels, signal, area = _pair(14.0, dip=False)
    out, _, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 1
    assert np.array_equal(out, labels)


def test_pale_cores_stay_whole() -> None:
    labels, signal, area = _pair(14.0, peak_od=0.08)  # cores under split_min_od (0.1 OD)
    out, _, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 1
    assert np.array_equal(out, labels)
    out, _, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP,
                               NucleusParams(split_min_area_um2=40.0, split_min_od=0.05, split_min_distance_um=5.0))
    assert n == 2


def test_shape_prefilter_area_limits_and_off() -> None:
    labels, signal, area = _pair(14.0)
    area_um2 = float(area[1]) * MPP * MPP  # about 92 µm², fill about 0.9
    convex_small = NucleusParams(split_min_area_um2=40.0, split_min_od=0.1, split_max_fill=0.5,
                                 split_large_area_um2=area_um2 + 1)
    for params in (convex_small,  # neither concave enough nor large: not looked at
                   replace(ON, split_min_area_um2=area_um2 + 1),  # too small to be a cluster
                   replace(ON, max_area_um2=area_um2 - 1),  # dropped anyway
                   replace(ON, min_area_um2=0.6 * area_um2),  # a part too small
                   replace(ON, split_max_neck=0.3),  # the cut is no waist
                   OFF):  # off
        out, area_px, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, params)
        assert n == 1
        assert np.array_equal(out, labels)
        assert np.array_equal(area_px, area)
    large = NucleusParams(split_min_area_um2=40.0, split_min_od=0.1, split_max_fill=0.5,
                          split_large_area_um2=area_um2 - 1)
    assert split_clusters(labels.copy(), area.copy(), 1, signal, MPP, large)[2] == 2  # large: looked at


def test_region_fill_of_an_ellipse_and_two_discs() -> None:
    rows, cols = np.indices((80, 80), dtype=np.float64)
    ellipse = ((rows - 40) / 30) ** 2 + ((cols - 40) / 12) ** 2 <= 1
    discs = ((rows - 40) ** 2 + (cols - 25) ** 2 <= 225) | ((rows - 40) ** 2 + (cols - 55) ** 2 <= 225)
    # two discs of radius R, 2R apart: variance 1.25 R² along, 0.25 R² across -> 2πR² / (4πR² sqrt(0.3125))
    for mask, expect in ((ellipse, 1.0), (discs, 2 / (4 * math.sqrt(0.3125)))):
        labels = mask.astype(np.int32)
        sums = np.zeros((2, 6))
        boxes = np.array([[80, -1, 80, -1]] * 2, np.int64)
        _numba_split.region_shapes(labels, np.array([False, True]), sums, boxes)
        r, c = np.nonzero(mask)
        assert boxes[1].tolist() == [r.min(), r.max(), c.min(), c.max()]
        assert sums[1, 0] == mask.sum()
        fill = region_fill(sums)[1]
        assert fill == pytest.approx(expect, abs=0.02)
    assert region_fill(np.zeros((1, 6)))[0] == 1.0


def test_compiled_and_interpreted_kernels_agree() -> None:
    rng = np.random.default_rng(7)
    shape = (64, 64)
    rows, cols = np.indices(shape, dtype=np.float32)
    labels = np.zeros(shape, np.int32)
    signal = rng.uniform(0, 0.05, shape).astype(np.float32)
    for lab, (r0, c0) in enumerate(((16, 14), (16, 46), (46, 30)), start=1):
        for dr, dc in ((0, -6), (0, 6), (5, 0)):
            d2 = (rows - r0 - dr) ** 2 + (cols - c0 - dc) ** 2
            labels[d2 <= 36] = lab
            signal += np.float32(rng.uniform(0.3, 0.8)) * np.exp(-d2 / 18).astype(np.float32)
    chosen = np.array([1, 2, 3], np.int64)
    runs = []
    for fn in (_numba_split.split_regions, getattr(_numba_split.split_regions, "py_func", None)):
        if fn is None:  # numba missing: the module's functions are the interpreted loops themselves
            continue
        work = labels.copy()
        sums = np.zeros((4, 6))
        boxes = np.array([[64, -1, 64, -1]] * 4, np.int64)
        _numba_split.region_shapes(work, np.ones(4, bool), sums, boxes)
        area = np.zeros(9, np.int64)
        owner = np.zeros(9, np.int64)
        made = fn(work, signal, chosen, boxes, np.float32(0.1), 6.0, 0.2, 30, 10.0, 4, 4, area, owner)
        runs.append((work, made, area, owner))
    assert len(set(runs[0][3][: runs[0][1]].tolist())) >= 2  # two regions or more split
    for work, made, area, owner in runs[1:]:
        assert np.array_equal(work, runs[0][0])
        assert made == runs[0][1]
        assert np.array_equal(area, runs[0][2])
        assert np.array_equal(owner, runs[0][3])


def _planes_two_touching(size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Hematoxylin and DAB planes (log10 OD) of a few Gaussian nuclei, two of them 6.5 µm apart so
    that their LoG blobs merge into one seed, with a little noise."""
    rng = np.random.default_rng(3)
    rows, cols = np.indices((size, size), dtype=np.float32)
    hem = rng.normal(0.02, 0.005, (size, size)).astype(np.float32)
    for r0, c0, rad in ((48, 41.5, 6.5), (48, 54.5, 6.5), (16, 16, 6.0), (80, 80, 6.0)):
        d2 = (rows - r0) ** 2 + (cols - c0) ** 2
        hem += np.float32(0.5) * np.exp(-d2 / rad**2).astype(np.float32)
    return hem, np.zeros_like(hem)


def test_detector_splits_the_touching_pair_only() -> None:
    hem, dab = _planes_two_touching()
    off = nuclei_from_stains(hem, dab, mpp=MPP, params=OFF, return_labels=True)
    on = nuclei_from_stains(hem, dab, mpp=MPP, params=ON, return_labels=True)
    assert off.labels is not None
    assert on.labels is not None
    assert len(on) == len(off) + 1
    assert np.array_equal(on.labels > 0, off.labels > 0)  # no new pixels: one region shared out
    pair = int(off.labels[48, 48])
    assert pair > 0
    assert int(on.labels[48, 41]) != int(on.labels[48, 55])
    assert int(off.labels[48, 41]) == int(off.labels[48, 55]) == pair  # one region before
    for r, c in ((16, 16), (80, 80)):  # the lone nuclei keep their outlines
        assert np.array_equal(on.labels == on.labels[r, c], off.labels == off.labels[r, c])


def test_on_without_a_region_to_split_is_the_off_path() -> None:
    hem, dab = _planes_two_touching()
    hem[:, 30:66] = np.float32(0.02)  # only the lone nuclei are left
    off = nuclei_from_stains(hem, dab, mpp=MPP, params=OFF, return_labels=True)
    on = nuclei_from_stains(hem, dab, mpp=MPP, params=ON, return_labels=True)
    assert off.labels is not None
    assert on.labels is not None
    assert np.array_equal(on.labels, off.labels)
    np.testing.assert_array_equal(on.area_um2, off.area_um2)
    np.testing.assert_array_equal(on.row, off.row)


def test_off_by_default_the_session_setting_splits_and_off_is_not_written() -> None:
    assert NucleusParams() == OFF  # opt-in (its session-36 gate failed)
    hem, dab = _planes_two_touching()
    chosen = NucleusParams(split_min_area_um2=40.0)  # the dev-chosen setting
    assert len(nuclei_from_stains(hem, dab, mpp=MPP, params=chosen)) == len(nuclei_from_stains(hem, dab, mpp=MPP)) + 1
    p = OFF
    assert not any(k.startswith("split_") for k in p.to_mapping())  # results written with it off: unchanged
    q = NucleusParams.from_mapping({"split_min_area_um2": 40.0, "split_min_od": 0.2})
    assert q.to_mapping()["split_min_od"] == 0.2
    assert NucleusParams.from_mapping(q.to_mapping()) == q
    for key, bad in (("split_min_area_um2", 0.0), ("split_min_area_um2", "40"), ("split_min_area_um2", True),
                     ("split_depth", 0.0), ("split_depth", 1.0), ("split_min_distance_um", float("nan")),
                     ("split_max_fill", -1.0), ("split_large_area_um2", 0.0), ("split_min_od", -0.1)):
        with pytest.raises(ConfigError, match=key):
            NucleusParams(**{key: bad})  # type: ignore[arg-type]
