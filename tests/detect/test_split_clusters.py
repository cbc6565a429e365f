"""Splitting under-segmented clusters (``NucleusParams.split_min_area_um2``, opt-in,
:mod:`mmnst_path.detect._split_clusters`): two touching nuclei under one region become two; one
nucleus with texture, a pale region, a small or an oversized region stay whole; off is HEAD's path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmnst_path.detect._split_clusters import split_clusters
from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes
from mmnst_path.errors import ConfigError

MPP = 0.5
ON = NucleusParams(split_min_area_um2=50.0)  # the session-35 candidate (depth 0.1, 6 µm, 0.5 OD)


def _pair(gap_px: float, peak_od: float = 1.0, radius_px: float = 8.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One region (label 1) that is the union of two discs ``gap_px`` apart, a Gaussian bump of
    ``peak_od`` in each (the foreground signal), and its area per label."""
    rows, cols = np.indices((40, 48), dtype=np.float32)
    centres = ((20.0, 24.0 - gap_px / 2), (20.0, 24.0 + gap_px / 2))
    labels = np.zeros(rows.shape, np.int32)
    signal = np.zeros(rows.shape, np.float32)
    for r, c in centres:
        d2 = (rows - r) ** 2 + (cols - c) ** 2
        labels[d2 <= radius_px**2] = 1
        signal += np.float32(peak_od) * np.exp(-d2 / (2 * (radius_px / 2) ** 2)).astype(np.float32)
    area = np.bincount(labels.ravel(), minlength=2).astype(np.int64)
    return labels, signal, area


def test_two_touching_nuclei_become_two() -> None:
    labels, signal, area = _pair(14.0)  # centres 7 µm apart, each disc 4 µm in radius
    out, area_px, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 2
    assert sorted(np.unique(out).tolist()) == [0, 1, 2]
    assert np.array_equal(out > 0, labels > 0)  # the same pixels, shared out
    assert area_px.tolist() == np.bincount(out.ravel(), minlength=3).tolist()
    left = out[20, : 24].max()
    right = out[20, 24 + 2 :].max()
    assert {int(left), int(right)} == {1, 2}  # one part per disc


def test_texture_closer_than_the_minimum_distance_stays_whole() -> None:
    labels, signal, area = _pair(10.0)  # 5 µm apart: under split_min_distance_um (6 µm)
    out, area_px, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 1
    assert np.array_equal(out, labels)
    assert np.array_equal(area_px, area)


def test_pale_cores_stay_whole() -> None:
    labels, signal, area = _pair(14.0, peak_od=0.3)  # cores under split_min_od (0.5 OD)
    out, _, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, ON)
    assert n == 1
    assert np.array_equal(out, labels)
    out, _, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP,
                               NucleusParams(split_min_area_um2=50.0, split_min_od=0.2))
    assert n == 2


def test_area_limits_and_off() -> None:
    labels, signal, area = _pair(14.0)
    area_um2 = float(area[1]) * MPP * MPP  # about 92 µm²
    for params in (NucleusParams(split_min_area_um2=area_um2 + 1),  # too small to be a cluster
                   NucleusParams(split_min_area_um2=50.0, max_area_um2=area_um2 - 1),  # dropped anyway
                   NucleusParams()):  # off (the default)
        out, area_px, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, params)
        assert n == 1
        assert np.array_equal(out, labels)
        assert np.array_equal(area_px, area)
    small = NucleusParams(split_min_area_um2=50.0, min_area_um2=0.6 * area_um2)  # a part under min_area_um2
    out, _, n = split_clusters(labels.copy(), area.copy(), 1, signal, MPP, small)
    assert n == 1
    assert np.array_equal(out, labels)


def _bcdata_planes() -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67" / "bcdata" / "5.png"
    if not path.exists():
        pytest.skip("shared/data not present")
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))[::2, ::2]  # 320² at 0.5 µm/px
    return stain_planes(rgb)


@pytest.mark.parametrize("seed_scale_um", [None, 1.0])
def test_real_tile_splits_only_clusters(seed_scale_um: float | None) -> None:
    hem, dab = _bcdata_planes()
    off = nuclei_from_stains(hem, dab, mpp=MPP, params=NucleusParams(seed_scale_um=seed_scale_um),
                             return_labels=True)
    on = nuclei_from_stains(hem, dab, mpp=MPP, return_labels=True,
                            params=NucleusParams(seed_scale_um=seed_scale_um, split_min_area_um2=50.0))
    assert off.labels is not None
    assert on.labels is not None
    assert len(on) > len(off)
    pairs = {(int(a), int(b)) for a, b in zip(off.labels.ravel(), on.labels.ravel(), strict=True) if a or b}
    assert all(a > 0 for a, _ in pairs)  # no new pixels: only regions shared out
    parts: dict[int, set[int]] = {}
    for a, b in pairs:
        parts.setdefault(a, set()).add(b)
    split = {a for a, bs in parts.items() if len(bs) > 1}
    assert split
    assert all(0 not in parts[a] for a in split)
    assert all(off.area_um2[a - 1] >= 50.0 for a in split)  # only regions of the cluster size
    owners: dict[int, int] = {}
    for a, b in pairs:
        assert owners.setdefault(b, a) == a  # every new nucleus lies inside one old region
    whole = [a for a in parts if a not in split]
    np.testing.assert_array_equal(np.sort(off.area_um2[np.array(whole) - 1]),
                                  np.sort(on.area_um2[np.array([next(iter(parts[a])) for a in whole]) - 1]))


def test_params_are_checked_and_not_written_when_off() -> None:
    p = NucleusParams()
    assert p.split_min_area_um2 is None
    assert not any(k.startswith("split_") for k in p.to_mapping())  # results written with the default: unchanged
    q = NucleusParams.from_mapping({"split_min_area_um2": 50.0, "split_min_od": 0.4})
    assert q.to_mapping()["split_min_od"] == 0.4
    assert NucleusParams.from_mapping(q.to_mapping()) == q
    for key, bad in (("split_min_area_um2", 0.0), ("split_min_area_um2", "50"), ("split_min_area_um2", True),
                     ("split_depth", 0.0), ("split_min_distance_um", float("nan")), ("split_min_od", -0.1)):
        with pytest.raises(ConfigError, match=key):
            NucleusParams(**{key: bad})  # type: ignore[arg-type]
