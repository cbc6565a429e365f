"""Generated spindle-cell tumour tiles (ki67_cells_tile(tumour="spindle"))."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.synthetic_ki67 import ki67_cells_tile


def _shapes(labels: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(major, minor, orientation) of the moment ellipse of the labels ``which`` (pixels, radians)."""
    major, minor, theta = [], [], []
    for lab in which:
        rr, cc = np.nonzero(labels == lab)
        if len(rr) < 5:
            major.append(np.nan)
            minor.append(np.nan)
            theta.append(np.nan)
            continue
        cov = np.cov(np.vstack([rr, cc]).astype(float))
        w, v = np.linalg.eigh(cov)
        major.append(4 * np.sqrt(w[1]))
        minor.append(4 * np.sqrt(max(w[0], 0.0)))
        theta.append(np.arctan2(v[1, 1], v[0, 1]))
    return np.array(major), np.array(minor), np.array(theta)


def test_spindle_tumour_is_fascicles_of_plump_aligned_nuclei_beside_sparse_thin_fibroblasts() -> None:
    tile = ki67_cells_tile(1, size=256, tumour="spindle", positive_fraction=0.3, appearance="plain")
    t = tile.truth
    cells = t["cells"]
    types = cells["cell_type"]
    assert t["tumour"] == "spindle"
    assert t["n_tumour"] > 40
    assert t["n_stromal"] > 5
    labels = tile.masks["nuclei"]
    r = np.rint(cells["row"]).astype(int)
    c = np.rint(cells["col"]).astype(int)
    assert np.mean(labels[r, c] == cells["label"]) > 0.9  # packed, but not painted over each other
    tumour, stromal = types == "tumour", types == "stromal"
    assert tile.masks["nest"][r[tumour], c[tumour]].all()
    assert not tile.masks["nest"][r[stromal], c[stromal]].any()
    maj_t, min_t, th_t = _shapes(labels, cells["label"][tumour])
    maj_s, min_s, _ = _shapes(labels, cells["label"][stromal])
    # spindles: elongated, yet plumper and longer than the fibroblasts
    assert np.nanmedian(maj_t / min_t) > 2.0
    assert np.nanmedian(min_t) > 1.4 * np.nanmedian(min_s)
    assert np.nanmedian(maj_t) > np.nanmedian(maj_s)
    # fascicles: a nucleus is nearly parallel to its nearest tumour neighbours
    pts = np.c_[cells["row"][tumour], cells["col"][tumour]]
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    nearest = np.argmin(d, axis=1)
    ok = ~np.isnan(th_t) & ~np.isnan(th_t[nearest])
    agreement = np.abs(np.cos(2 * (th_t - th_t[nearest])))[ok]
    assert t["spindle_disorder_rad"] < 0.3  # (seed 1: a tight fascicle)
    assert np.median(agreement) > 0.85  # random orientations: 0.64 on average
    # densely packed tumour, paucicellular stroma
    px_um2 = tile.mpp ** 2
    tumour_density = t["n_tumour"] / (tile.masks["nest"].sum() * px_um2)
    stroma_density = t["n_stromal"] / ((tile.masks["tissue"] & ~tile.masks["nest"]).sum() * px_um2)
    assert tumour_density > 3 * stroma_density
    # hyperchromatic: the tumour nuclei carry more counterstain than the nest's vesicular ones
    nest = ki67_cells_tile(1, size=256, positive_fraction=0.0, appearance="plain")
    spin = ki67_cells_tile(1, size=256, tumour="spindle", positive_fraction=0.0, appearance="plain")

    def tumour_darkness(tl) -> float:
        lab = tl.masks["nuclei"]
        tum = tl.truth["cells"]["label"][tl.truth["cells"]["cell_type"] == "tumour"]
        grey = tl.rgb.astype(float).mean(axis=2)
        return float(255 - np.median(grey[np.isin(lab, tum)]))

    assert tumour_darkness(spin) > tumour_darkness(nest) + 10
    np.testing.assert_array_equal(ki67_cells_tile(1, size=256, tumour="spindle", positive_fraction=0.3,
                                                  appearance="plain").rgb, tile.rgb)  # seeded


def test_the_nest_is_still_the_default_and_the_option_is_checked() -> None:
    a = ki67_cells_tile(2, size=96)
    b = ki67_cells_tile(2, size=96, tumour="nest")
    np.testing.assert_array_equal(a.rgb, b.rgb)
    assert a.truth["tumour"] == "nest"
    assert not np.array_equal(ki67_cells_tile(2, size=96, tumour="spindle").rgb, a.rgb)
    with pytest.raises(ValueError, match="tumour"):
        ki67_cells_tile(0, size=64, tumour="epithelioid")
