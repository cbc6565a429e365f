"""overlay.png spends no panel on a measure that was not run (session 42 H9, H5's walk #13): before, an H&E
overlay had a pale "Ki67 index per tile, H&E: not measured" panel and an IHC one "necrosis fraction: not
measured"."""

from __future__ import annotations

from pathlib import Path

import tifffile

from mmnst_path.overlay import overlay_image, tissue_image
from mmnst_path.pipeline import AnalysisConfig, analyze_region

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def test_he_overlay_has_tissue_melanin_necrosis_and_classes_only() -> None:
    rgb = tifffile.imread(SAMPLES / "he_melanin.tif")[:256, :256]
    result = analyze_region(rgb, AnalysisConfig(stains="H&E"), mpp=0.5)
    assert "ki67" not in result.maps
    assert {"melanin", "necrosis", "tissue_classes"} <= set(result.maps)
    n = tissue_image(result).shape[1]
    img = overlay_image(result)
    assert img.shape[1] == 4 * n + 3 * 4  # tissue, melanin, necrosis, classes: no Ki67 panel
