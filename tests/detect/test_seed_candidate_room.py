"""LoG seed candidates held in buffers for a few % of the pixels (not 16 bytes a pixel): the same
seeds when a plane has more candidates than that room (plateaus) and on real tiles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect import _morphology, nuclei


def _kernels():
    kern = _morphology._numba_kernels()
    if kern is None:
        pytest.skip("numba is not installed: the numpy path is the only one")
    return kern


def test_a_short_buffer_gets_the_first_candidates_and_the_count_of_all():
    kern = _kernels()
    best = np.ones((9, 11), np.float32)  # a plateau: every pixel is a 3x3 maximum
    rows, cols = np.full(5, -1, np.intp), np.full(5, -1, np.intp)
    assert kern.local_max_candidates(best, np.float32(0.5), rows, cols) == best.size
    np.testing.assert_array_equal(rows, [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(cols, [0, 1, 2, 3, 4])


@pytest.mark.parametrize(("room_min", "room_div"), [(4096, 32), (1, 10**9), (3, 1000)])
def test_log_seeds_are_the_same_whatever_the_room(monkeypatch, room_min, room_div):
    """A plane with flat tops (more candidates than the room: scanned twice) and a noisy one."""
    _kernels()
    rng = np.random.default_rng(5)
    noisy = ndi.gaussian_filter(rng.random((230, 190)).astype(np.float32), 2.0)
    flat = np.round(noisy * 8) / 8  # plateaus: ties over many pixels
    for plane in (noisy, flat):
        expected = nuclei._log_seeds(plane, (3.0, 5.0), 0.8, 0.0)
        monkeypatch.setattr(nuclei, "CANDIDATE_ROOM_MIN", room_min)
        monkeypatch.setattr(nuclei, "CANDIDATE_ROOM_DIV", room_div)
        got = nuclei._log_seeds(plane, (3.0, 5.0), 0.8, 0.0)
        monkeypatch.undo()
        for a, b in zip(got, expected, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("room_min", "room_div"), [(4096, 32), (1, 10**9)])
def test_log_seeds_on_a_real_tile_are_those_of_a_whole_plane_buffer(monkeypatch, shared_data, room_min, room_div):
    """The seeds of a real BCData tile with the default room and with the least room (every
    candidate found by the second scan) are those with room for every pixel (the buffers of
    16 bytes a pixel this replaces)."""
    from PIL import Image

    from mmnst_path.detect.nuclei import NucleusParams, stain_planes

    _kernels()
    rgb = np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "0.png").convert("RGB"))
    hem, _ = stain_planes(rgb, stains="H-DAB")
    plane = np.log1p(np.asarray(hem, np.float32) / np.float32(0.1))
    p = NucleusParams()
    args = (plane, (4.0, 6.0, 8.0), p.seed_suppression, p.seed_min_response)
    monkeypatch.setattr(nuclei, "CANDIDATE_ROOM_MIN", plane.size)  # room for all: one scan
    ref = nuclei._log_seeds(*args)
    monkeypatch.setattr(nuclei, "CANDIDATE_ROOM_MIN", room_min)
    monkeypatch.setattr(nuclei, "CANDIDATE_ROOM_DIV", room_div)
    got = nuclei._log_seeds(*args)
    assert got[1].size > 100
    for a, b in zip(got, ref, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
