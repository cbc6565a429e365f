"""What overlay.png and tissue.png tell a reader without the docs (session 34): a scale bar, a colour key
for the Ki67 map, and a first-panel label naming only what is drawn (no "ROI" without ROIs, no "hot spot"
on H&E, "densest window" when the window holds too few nuclei for a hot spot)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.overlay import PANEL_PX, overlay_image, scale_bar_um, tissue_image, tissue_legend
from mmnst_path.pipeline import AnalysisConfig, analyze_region

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


@pytest.fixture(scope="module")
def dab_result():  # type: ignore[no-untyped-def]
    import tifffile

    rgb = tifffile.imread(SAMPLES / "ki67_primary.tif")[:256, :256]
    return analyze_region(rgb, AnalysisConfig(stains="H-DAB", measures=("ki67",)), mpp=0.5)


def test_scale_bar_length_is_a_round_number_under_a_quarter_of_the_picture() -> None:
    assert scale_bar_um(0.5, 384) == 20  # a quarter of 384 px of 0.5 µm is 48 µm
    assert scale_bar_um(2.0, 400) == 200
    assert scale_bar_um(10.0, 384) == 500
    assert scale_bar_um(40.0, 384) == 2000  # written "2 mm"
    assert math.isnan(scale_bar_um(float("nan"), 384))


def test_tissue_picture_has_a_black_scale_bar_of_that_length(dab_result) -> None:  # type: ignore[no-untyped-def]
    # mutation: no _scale_bar call in _tissue_panel -> no black run in the bottom rows
    img = tissue_image(dab_result)
    um_per_px = dab_result.mpp * dab_result.shape[1] / img.shape[1]
    want = scale_bar_um(um_per_px, img.shape[1]) / um_per_px
    black = np.all(img[-12:] == 0, axis=2)
    assert max(_longest_run(row) for row in black) >= round(want) - 1


def _longest_run(mask: np.ndarray) -> int:
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return int(np.max(edges[1::2] - edges[::2], initial=0))


def test_ki67_panel_has_its_colour_key(dab_result) -> None:  # type: ignore[no-untyped-def]
    # mutation: no _ki67_colour_bar -> the pixels under the label are the tinted thumbnail
    img = overlay_image(dab_result)
    panel = tissue_image(dab_result).shape[1]
    assert panel == PANEL_PX
    assert img.shape[1] == 2 * panel + 4  # tissue and Ki67: no panel for melanin / necrosis, not measured
    x0 = panel + 4 + 8  # second panel, 8 px in
    row = img[26, x0 + 2 : x0 + 118].astype(int)
    assert np.abs(row[0] - (40, 80, 255)).max() <= 12  # blue 0 %
    assert np.abs(row[-1] - (220, 20, 20)).max() <= 12  # red 100 %
    assert np.abs(row[len(row) // 2] - (255, 230, 0)).max() <= 20  # yellow 50 %


def test_first_panel_label_names_only_what_is_drawn(dab_result) -> None:  # type: ignore[no-untyped-def]
    # mutation: the fixed label "tissue (green), ROI (yellow), hot spot (cyan)"
    assert dab_result.hotspot is not None
    assert not dab_result.hotspot.meets_min_nuclei  # 256 px: far fewer nuclei than a hot spot needs
    assert tissue_legend(dab_result) == "tissue (green), densest window, no hot spot (cyan)"
    real = dataclasses.replace(dab_result, hotspot=dataclasses.replace(dab_result.hotspot, meets_min_nuclei=True))
    roi = np.array([[0.0, 0.0], [0.0, 100.0], [100.0, 100.0]])
    assert tissue_legend(real, [roi]) == "tissue (green), ROI (yellow), hot spot (cyan)"
    assert tissue_legend(dataclasses.replace(dab_result, hotspot=None)) == "tissue (green)"


def test_excluded_rings_have_the_geojson_and_napari_colour():
    """The check pictures ring a nucleus the cell model took out of the index in the GeoJSON's (and
    napari's) Excluded teal, not the yellow of an ROI. Mutation caught: excluded back to (255, 200, 0)."""
    from mmnst_path._geojson_names import CLASS_COLORS
    from mmnst_path.html_report import _RING_HEX
    from mmnst_path.overlay import CLASS_RGB

    assert CLASS_RGB["excluded"] == CLASS_COLORS["excluded"] == (0, 160, 160)
    assert _RING_HEX["excluded"][0] == "#{:02x}{:02x}{:02x}".format(*CLASS_RGB["excluded"])
