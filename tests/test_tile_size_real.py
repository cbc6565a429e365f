"""Tile size on a real slide (issue #15 item 9): bounded, not exact.

On generated slides the counts are identical for any tile size and worker count
(tests/test_pipeline.py). On CMU-1-Small-Region forced to H-DAB they move a little, for three
measured reasons: (1) until 2026-12-03 (session 10) nucleus detection read the pigment exclusion
mask while the tiles carried the larger of the nucleus and pigment halos, not their sum (the Ki67
part of the halo now sums pigment mask, pigment fill, detection and context:
``pipeline._worker.ki67_halo_parts``); (2) two pigment rules
act on whole connected components (brown bodies touching a ring, clustered granules), whose
extent no finite halo bounds; (3) cells outside the tissue mask are kept only where their tile's
core touches tissue. Measured 2026-12-02: 1349/2293 (58.83 %) at tile_um 512 and 1346/2292
(58.73 %) at 200. This test bounds the effect so a regression shows.
"""

from __future__ import annotations

import pytest

from mmnst_path.pipeline import AnalysisConfig, analyze_slide

pytestmark = pytest.mark.slow


def test_cmu1_counts_barely_move_with_the_tile_size(shared_data):
    path = shared_data / "wsi" / "CMU-1-Small-Region.svs"
    counts = []
    for tile_um in (512.0, 200.0):
        cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "tile_um": tile_um})
        counts.append(analyze_slide(path, cfg, workers=1).counts["ki67"])
    a, b = counts
    assert a.denominator > 1000
    assert abs(a.denominator - b.denominator) <= 0.01 * a.denominator
    assert abs(100 * a.positive / a.denominator - 100 * b.positive / b.denominator) <= 0.5
