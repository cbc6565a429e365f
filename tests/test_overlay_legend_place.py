"""The tissue-class legend of overlay.png never sits on tissue it could avoid (session 41 H3; session 39 H11 (8)):
where the four corners hide tissue it goes to the place that hides the least, and when tissue fills the panel it
goes under the panel, in a white strip below the picture, not on the tissue."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.aggregate import LowResMap
from mmnst_path.overlay import legend_corner, legend_place, overlay_image, tissue_image
from mmnst_path.pipeline import AnalysisConfig, analyze_region

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def test_legend_place_corner_then_least_tissue_then_outside() -> None:
    tissue = np.zeros((100, 200), bool)
    assert legend_place(tissue, (50, 30)) == legend_corner(tissue, (50, 30)) == (0, 66)  # a free corner: as before
    tissue[50:, :100] = True
    assert legend_place(tissue, (50, 30)) == (146, 66)
    tissue[:] = True
    tissue[40:90, 80:150] = False  # glass in the middle only: the legend goes there
    x, y = legend_place(tissue, (50, 30))
    assert not tissue[y : y + 34, x : x + 54].any(), (x, y)
    tissue[:] = True  # tissue everywhere: outside the panel
    assert legend_place(tissue, (50, 30)) is None
    tissue[:] = False
    tissue[::7, ::7] = True  # a few specks everywhere (2 % of the pixels): stays in, at a corner
    assert legend_place(tissue, (50, 30)) is not None


@pytest.fixture(scope="module")
def he_result():  # type: ignore[no-untyped-def]
    import tifffile

    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[:256, :256]
    with pytest.warns(UserWarning, match="coarser than the analysis resolution"):
        return analyze_region(rgb, AnalysisConfig(stains="H&E", measures=("necrosis",)), mpp=1.0)


def _with_map(result, fill):  # type: ignore[no-untyped-def]
    cmap = result.maps["tissue_classes"]
    image = fill(np.asarray(cmap.image).copy(), {c["name"]: c["index"] for c in result.tissue_classes["classes"]})
    return dataclasses.replace(result, maps={**result.maps, "tissue_classes": LowResMap(image, cmap.downsample)})


def test_a_panel_full_of_tissue_has_its_legend_under_it(he_result) -> None:  # type: ignore[no-untyped-def]
    """Class map all tumour and necrosis: before, the legend's white box covered the bottom-left tissue; now the
    panel is the class map to its edges and the legend is in a strip below it, under the class panel only."""

    def fill(image, idx):  # type: ignore[no-untyped-def]
        image[:] = idx["tumour"]
        image[:, image.shape[1] // 2 :] = idx["necrosis"]
        return image

    result = _with_map(he_result, fill)
    plain = overlay_image(dataclasses.replace(result, maps={k: v for k, v in result.maps.items()
                                                            if k != "tissue_classes"}))
    img = overlay_image(result)
    m, n4 = plain.shape[:2]
    n = tissue_image(result).shape[1]  # one panel (the panels of measures not run are left out: session 42 H9)
    assert img.shape[0] > m, "no strip under the picture: the legend is on the tissue"
    panel = img[:m, img.shape[1] - n :].astype(int)
    white_rows = np.all(panel[24:] == 255, axis=2).sum(axis=1)  # below the panel's label
    assert white_rows.max() < 20, "a white legend box inside the class panel"
    strip = img[m:]
    assert np.all(strip[:, : img.shape[1] - n] == 255), "the strip is white under the other panels"
    legend = strip[:, img.shape[1] - n :]
    assert (legend != 255).any(axis=2).sum() > 50, "no legend text in the strip"
    np.testing.assert_array_equal(img[:m, :n4], plain[:, :n4])  # the other panels unchanged


def test_a_panel_with_glass_keeps_its_legend_inside_and_the_picture_its_size(he_result) -> None:  # type: ignore[no-untyped-def]
    def fill(image, idx):  # type: ignore[no-untyped-def]
        image[:] = idx["background"]
        image[: image.shape[0] // 2] = idx["tumour"]
        return image

    img = overlay_image(_with_map(he_result, fill))
    plain = overlay_image(dataclasses.replace(he_result, maps={k: v for k, v in he_result.maps.items()
                                                               if k != "tissue_classes"}))
    assert img.shape[0] == plain.shape[0]


def test_the_strip_of_a_narrow_panel_is_not_cut() -> None:
    """A tall, narrow image (a core-biopsy strip): its class panel is narrower than the legend; the strip reaches
    left under the other panels (or widens the picture), so no class name or figure is cut at the panel's edge
    (session 41 H10's finding 8: the strip was cropped to the panel, "tum", "stro")."""
    import tifffile

    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / "he_necrosis.tif")[:384, :40])
    with pytest.warns(UserWarning, match="coarser than the analysis resolution"):
        result = analyze_region(rgb, AnalysisConfig(stains="H&E", measures=("necrosis",)), mpp=1.0)

    def fill(image, idx):  # type: ignore[no-untyped-def]
        image[:] = idx["tumour"]
        image[image.shape[0] // 2 :] = idx["necrosis"]
        return image

    result = _with_map(result, fill)
    plain = overlay_image(dataclasses.replace(result, maps={k: v for k, v in result.maps.items()
                                                            if k != "tissue_classes"}))
    img = overlay_image(result)
    m = plain.shape[0]
    strip = img[m:]
    assert strip.shape[0] > 0, "no strip under a panel full of tissue"
    ink = (strip != 255).any(axis=2)
    assert ink.sum() > 50, "no legend text in the strip"
    assert not ink[:, -2:].any(), "the legend runs off the picture's right edge"
    assert not ink[:, :2].any(), "the legend runs off the picture's left edge"
