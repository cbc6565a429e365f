"""Pictures of degenerate images: a one-pixel-high strip gets its overlay (issue #15 item 10)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from mmnst_path.overlay import overlay_png, tissue_png
from mmnst_path.pipeline import AnalysisConfig, analyze_region


def test_one_pixel_strip_overlay_and_tissue_pictures():
    rgb = np.full((1, 3000, 3), 200, np.uint8)
    rgb[0, ::7] = (120, 90, 60)
    result = analyze_region(rgb, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=0.5)
    assert result.hotspot is not None
    for png in (overlay_png(result), tissue_png(result)):
        with Image.open(io.BytesIO(png)) as im:
            assert im.width > 100
            assert im.height >= 1
