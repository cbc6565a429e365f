"""The tissue-class panel's legend in overlay.png hides as little of the class map as it can (session 36 H6:
on the real TCGA slide the legend sat on the tumour and stroma of the bottom-left corner, beside empty glass)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.aggregate import LowResMap
from mmnst_path.overlay import PANEL_PX, legend_corner, overlay_image
from mmnst_path.pipeline import AnalysisConfig, analyze_region

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def test_legend_corner_takes_the_corner_with_the_least_tissue() -> None:
    tissue = np.zeros((100, 200), bool)
    assert legend_corner(tissue, (50, 30)) == (0, 66)  # nothing hidden anywhere: bottom left, as before
    tissue[50:, :100] = True  # the bottom-left quarter is tissue
    assert legend_corner(tissue, (50, 30)) == (146, 66)  # bottom right
    tissue[50:, 100:] = True  # the whole bottom half
    assert legend_corner(tissue, (50, 30)) == (146, 20)  # top right, below the panel's label
    tissue[:] = True  # tissue everywhere: back to the first corner
    assert legend_corner(tissue, (50, 30)) == (0, 66)
    assert legend_corner(np.zeros((20, 30), bool), (50, 30)) == (0, 0)  # larger than the panel: clipped


@pytest.fixture(scope="module")
def he_result():  # type: ignore[no-untyped-def]
    import tifffile

    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[:256, :256]
    with pytest.warns(UserWarning, match="coarser than the analysis resolution"):
        return analyze_region(rgb, AnalysisConfig(stains="H&E", measures=("necrosis",)), mpp=1.0)


def test_class_legend_leaves_the_tissue_in_the_bottom_left_visible(he_result) -> None:  # type: ignore[no-untyped-def]
    """Class map: tumour in the bottom-left corner, background elsewhere. Mutation caught: the legend always
    drawn in the bottom-left corner (its white box then covers the tumour there)."""
    classes = he_result.tissue_classes["classes"]
    tumour = next(c["index"] for c in classes if c["name"] == "tumour")
    background = next(c["index"] for c in classes if c["name"] == "background")
    cmap = he_result.maps["tissue_classes"]
    rows, cols = cmap.image.shape
    image = np.full((rows, cols), background, cmap.image.dtype)
    # the left third of the bottom half: a legend (about half the panel wide: its text holds the run's class areas,
    # whose digits change with the model) fits beside it in the bottom-right corner
    image[rows // 2 :, : cols // 3] = tumour
    result = dataclasses.replace(he_result, maps={**he_result.maps, "tissue_classes": LowResMap(image, cmap.downsample)})
    img = overlay_image(result)
    panel = img[:, img.shape[1] - PANEL_PX :].astype(int)  # the class panel is the last one
    corner = panel[PANEL_PX - 30 : PANEL_PX - 6, 6:60]  # where a bottom-left legend would be
    assert not np.all(corner == 255, axis=2).any(axis=1).all(), "the bottom-left tumour is under a white legend"
    right = panel[PANEL_PX - 30 : PANEL_PX - 6, PANEL_PX - 60 : PANEL_PX - 6]
    assert np.all(right == 255, axis=2).any(), "no legend in the bottom-right corner"
