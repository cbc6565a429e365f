"""Generated Ki67 tiles with per-nucleus truth (mmnst_path.synthetic_ki67)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmnst_path.synthetic_ki67 import CELL_TYPES, GRADES, ki67_cells_tile


def test_truth_table_agrees_with_counts_labels_and_regions() -> None:
    tile = ki67_cells_tile(3, size=160, positive_fraction=0.5, weak_share=0.5, lymphocyte_density=4.0)
    t = tile.truth
    cells = t["cells"]
    assert tile.rgb.shape == (160, 160, 3)
    assert tile.rgb.dtype == np.uint8
    assert set(cells["cell_type"]) <= set(CELL_TYPES)
    assert set(cells["grade"]) <= set(GRADES)
    tumour = cells["cell_type"] == "tumour"
    assert t["ki67_positive"] == int((tumour & (cells["grade"] != "negative")).sum())
    assert t["ki67_negative"] == int((tumour & (cells["grade"] == "negative")).sum())
    assert math.isclose(t["ki67_index_pct"], 100 * t["ki67_positive"] / (t["ki67_positive"] + t["ki67_negative"]))
    assert (cells["grade"][tumour] == "weak").any()  # a weak share of 0.5 gives weak positives
    assert t["n_lymphocyte"] > 0
    assert t["n_stromal"] > 0
    # every centre lies on its own label, tumour centres in the nest, stromal ones outside it
    r = np.rint(cells["row"]).astype(int)
    c = np.rint(cells["col"]).astype(int)
    lab = tile.masks["nuclei"][r, c]
    assert np.mean(lab == cells["label"]) > 0.9
    assert tile.masks["nest"][r[tumour], c[tumour]].all()
    assert not tile.masks["nest"][r[cells["cell_type"] == "stromal"], c[cells["cell_type"] == "stromal"]].any()
    np.testing.assert_array_equal(ki67_cells_tile(3, size=160, positive_fraction=0.5, weak_share=0.5,
                                                  lymphocyte_density=4.0).rgb, tile.rgb)  # seeded


def test_grades_are_ordered_in_the_rendered_dab() -> None:
    from mmnst_path.stain import load_stains, separate_stains

    tile = ki67_cells_tile(5, size=192, positive_fraction=0.6, weak_share=0.4, appearance="plain")
    cells = tile.truth["cells"]
    dab = separate_stains(tile.rgb, load_stains("H-DAB"), stains=("hematoxylin", "dab"))[..., 1]
    labels = tile.masks["nuclei"]
    n = int(labels.max())
    mean = np.bincount(labels.ravel(), dab.ravel(), minlength=n + 1)[1:] / np.maximum(
        np.bincount(labels.ravel(), minlength=n + 1)[1:], 1)
    tumour = cells["cell_type"] == "tumour"
    med = {g: float(np.median(mean[tumour & (cells["grade"] == g)])) for g in GRADES}
    assert med["negative"] < 0.12 < med["weak"] < 0.35 < med["strong"]
    assert med["weak"] < med["moderate"] < med["strong"]


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="appearance"):
        ki67_cells_tile(0, size=64, appearance="tinted")
    with pytest.raises(ValueError, match="mpp"):
        ki67_cells_tile(0, size=64, mpp=0.0)


def test_grey_beige_nuclei_read_as_faint_dab_and_leave_other_pixels_alone() -> None:
    from mmnst_path.stain import load_stains, separate_stains

    plain = ki67_cells_tile(6, size=192, positive_fraction=0.0, appearance="plain")
    grey = ki67_cells_tile(6, size=192, positive_fraction=0.0, appearance="plain", grey_share=1.0)
    cells = grey.truth["cells"]
    assert not plain.truth["cells"]["grey"].any()
    assert cells["grey"].sum() == (cells["cell_type"] == "tumour").sum() > 10  # every tumour nucleus
    np.testing.assert_array_equal(grey.masks["nuclei"], plain.masks["nuclei"])
    from scipy import ndimage as ndi

    diff = np.abs(grey.rgb.astype(int) - plain.rgb.astype(int)).max(axis=2)
    near = ndi.binary_dilation(np.isin(grey.masks["nuclei"], cells["label"][cells["grey"]]), iterations=4)
    assert grey.truth["jpeg_quality"] is None  # (seed 6: no JPEG, whose blocks would spread the change)
    assert diff[near].mean() > 10
    assert diff[~near].max() <= 1  # only the blur's tail reaches farther
    # a neutral absorber unmixes partly as DAB: the hard negative of the contrast rule
    labels = grey.masks["nuclei"]
    n = int(labels.max())
    area = np.maximum(np.bincount(labels.ravel(), minlength=n + 1)[1:], 1)
    dab = {}
    for name, tile in (("plain", plain), ("grey", grey)):
        d = separate_stains(tile.rgb, load_stains("H-DAB"), stains=("dab",))[..., 0]
        dab[name] = np.bincount(labels.ravel(), d.ravel(), minlength=n + 1)[1:] / area
    lift = (dab["grey"] - dab["plain"])[cells["grey"]]
    assert 0.03 < float(np.median(lift)) < 0.2
    with pytest.raises(ValueError, match="grey_share"):
        ki67_cells_tile(0, size=64, grey_share=1.5)
