"""cell_rows_from_reader's ``places`` (session 40: napari's Train cells passes the clicks' places so its card's
held-out figure holds out spatial squares): one (k, 2) µm array per entry of rows, the level-0 positions of the
points its rows come from. Mutations caught: positions in pixels (not µm), of every point rather than the ones
that fell on a nucleus, or out of step with the rows."""

from __future__ import annotations

import warnings

import numpy as np

from mmnst_path.detect import detect_nuclei
from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import cell_rows_from_reader
from mmnst_path.synthetic import ki67_pigment_tile


def test_places_are_the_points_of_the_rows_in_um():
    tile = ki67_pigment_tile(31, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    nuc = detect_nuclei(tile.rgb, mpp=tile.mpp)
    on = np.c_[nuc.row[:20], nuc.col[:20]].astype(float)
    off = np.array([[2.0, 2.0], [3.0, 250.0]])  # glass corners: no nucleus there
    pts = np.r_[on, off]
    names = ["tumour"] * 10 + ["stromal"] * 10 + ["tumour", "stromal"]
    places: list[np.ndarray] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = cell_rows_from_reader(ArrayReader(tile.rgb, mpp=tile.mpp), pts, names, stains="H-DAB", places=places)
    assert [len(p) for p in places] == [len(y) for _, y in rows]
    got = np.concatenate(places)
    assert 0 < len(got) <= len(on)
    # every place is one of the clicked nuclei, in µm
    d = np.abs(got[:, None, :] - on[None, :, :] * tile.mpp).max(axis=2).min(axis=1)
    assert (d < 1e-9).all()
