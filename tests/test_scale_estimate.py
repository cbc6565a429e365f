"""Pixel-size QC from the image's own blob scale (session 35 H4): the estimate follows the pixel
size a tile was made at, a claimed pixel size far from it gets the plain sentence in the metrics,
summary row, CLI notes and report, and the check adds keys without changing a measured value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmnst_path._scale_estimate import (
    MPP_SUSPECT_FACTOR,
    ScaleEstimate,
    estimate_mpp,
    scale_metrics,
)
from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig, analyze_slide
from mmnst_path.report import SUMMARY_COLUMNS, mpp_warning, qc_warnings, summary_row
from mmnst_path.synthetic_ki67 import ki67_cells_tile

WORDS = "the pixel size looks wrong"


def test_estimate_follows_the_pixel_size_a_tile_was_made_at() -> None:
    """Generated Ki67 tiles (seed 40) drawn at 0.25, 0.5 and 1 µm/px: the estimate grows with the
    pixel size and lies within the flag's factor of the truth; at 0.25 and 0.5 µm/px a claim of twice
    or half the truth is flagged, the truth is not (at 1 µm/px the estimate reads 1.18: a claim of
    2 µm/px is within the factor). Mutations caught: the diameter doubled, the first-peak rule
    dropped for the argmax of the whole curve, the response read from the wrong sign."""
    tiles = {0.25: 768, 0.5: 384, 1.0: 256}
    est = {mpp: estimate_mpp([ki67_cells_tile(40, mpp=mpp, size=size).rgb]) for mpp, size in tiles.items()}
    assert est[0.25].mpp < est[0.5].mpp < est[1.0].mpp
    for mpp, e in est.items():
        assert e.low < e.mpp < e.high
        assert 1.0 / MPP_SUSPECT_FACTOR < e.mpp / mpp < MPP_SUSPECT_FACTOR
        assert scale_metrics(e, mpp)["mpp_suspect"] is False
    for mpp in (0.25, 0.5):
        assert scale_metrics(est[mpp], 2.0 * mpp)["mpp_suspect"] is True
        assert scale_metrics(est[mpp], 0.5 * mpp)["mpp_suspect"] is True


def test_metrics_and_no_estimate() -> None:
    est = ScaleEstimate(0.5, 0.4, 0.6, 5.0)
    assert scale_metrics(est, 0.5) == {"mpp_estimate": 0.5, "mpp_suspect": False}
    assert scale_metrics(est, 0.5 * MPP_SUSPECT_FACTOR * 1.01)["mpp_suspect"] is True
    assert scale_metrics(est, 0.5 / MPP_SUSPECT_FACTOR / 1.01)["mpp_suspect"] is True
    assert scale_metrics(est, 0.5 * MPP_SUSPECT_FACTOR * 0.99)["mpp_suspect"] is False
    assert scale_metrics(est, None)["mpp_suspect"] is False
    tiny = estimate_mpp([np.full((10, 10, 3), 200, np.uint8)])  # too small to read a scale
    assert math.isnan(tiny.mpp)
    assert scale_metrics(tiny, 0.5)["mpp_suspect"] is False
    assert math.isnan(estimate_mpp([]).mpp)


@pytest.fixture(scope="module")
def tile_results() -> dict[float, object]:
    """A generated Ki67 tile (0.5 µm/px) analysed at its pixel size and at twice it."""
    tile = ki67_cells_tile(40)
    cfg = AnalysisConfig(measures=("ki67",))
    return {k: analyze_slide(ArrayReader(tile.rgb, mpp=0.5 * k), cfg, mpp=0.5 * k, workers=1) for k in (1.0, 2.0)}


def test_pipeline_flags_twice_the_pixel_size(tile_results: dict[float, object]) -> None:
    """Mutation caught: the hook in analyze_slide removed (no ``mpp_suspect`` in the metrics)."""
    right, wrong = tile_results[1.0], tile_results[2.0]
    assert right.metrics["mpp_suspect"] is False  # type: ignore[attr-defined]
    assert wrong.metrics["mpp_suspect"] is True  # type: ignore[attr-defined]
    # the estimate reads the pixels, not the pixel size given
    assert right.metrics["mpp_estimate"] == wrong.metrics["mpp_estimate"]  # type: ignore[attr-defined]
    assert not any(WORDS in w for w in qc_warnings(summary_row(right)))  # type: ignore[arg-type]
    row = summary_row(wrong)  # type: ignore[arg-type]
    said = [w for w in qc_warnings(row) if WORDS in w]
    assert len(said) == 1
    assert said[0] == mpp_warning(row)
    assert said[0].startswith(f"{WORDS}: 1 µm/px given, the nuclei's size implies about ")
    assert {"mpp_estimate", "mpp_suspect"} <= set(SUMMARY_COLUMNS)
    # napari's Analyze reads the metrics (no ``mpp``): the sentence still reads
    assert any(w.startswith(f"{WORDS}: the pixel size given") for w in qc_warnings(wrong.metrics))  # type: ignore[attr-defined]


def test_cli_notes_name_the_file() -> None:
    from mmnst_path.cli._quantify import _result_notes

    row = {"input": "/x/2.png", "status": "ok", "mpp": 0.5, "mpp_suspect": True, "mpp_estimate": 0.25}
    notes = _result_notes([row])
    assert len(notes) == 1
    assert notes[0].startswith(f"2.png: {WORDS}: 0.5 µm/px given, the nuclei's size implies about 0.25 µm/px")
    assert _result_notes([{**row, "mpp_suspect": False}]) == []
    assert mpp_warning({"mpp_suspect": True, "mpp_estimate": float("nan"), "mpp": 0.5}) == ""
    assert mpp_warning({"mpp_suspect": "true", "mpp_estimate": 0.25, "mpp": 0.5}) == ""
