"""Areas as a reader reads them in report.html and the overlay legend (session 36 H6): a speck of melanin on
a real Ki67 tile (0.00005 mm²) printed "5e-05 mm²"."""

from __future__ import annotations

import re

import pytest

from mmnst_path._picture_style import area_text
from mmnst_path.html_report import render_report
from mmnst_path.overlay import _legend_text


@pytest.mark.parametrize(
    ("mm2", "text"),
    [(0.0, "0 mm²"), (-0.0, "0 mm²"), (5e-05, "50 µm²"), (0.000123456, "123 µm²"), (0.00099, "990 µm²"),
     (0.001, "0.001 mm²"), (0.00243, "0.00243 mm²"), (0.913, "0.913 mm²"), (12.345, "12.3 mm²"),
     (999.4, "999 mm²"), (1234.5, "1234 mm²")],
)
def test_area_text_has_three_digits_and_no_exponent(mm2: float, text: str) -> None:
    assert area_text(mm2) == text
    assert "e-" not in area_text(mm2)
    assert "e+" not in area_text(mm2)


def test_report_writes_a_small_melanin_area_in_um2() -> None:
    """Mutation caught: the melanin cell's area written with ``:.3g`` ("5e-05 mm²")."""
    row = {"input": "/tiles/p1_0299_1.jpg", "status": "ok", "stain_names": ["hematoxylin", "dab"],
           "melanin_fraction_pct": 0.053118, "melanin_area_mm2": 5e-05, "tissue_area_mm2": 0.09424,
           "necrosis_fraction_pct": 0.01, "necrosis_area_mm2": 0.0000094,
           "tissue_classes": [{"name": "fat", "colour": [255, 255, 0], "area_mm2": 0.00071, "pct_of_tissue": 0.7}]}
    page = render_report([row])
    assert not re.search(r"\de[-+]\d+ (mm|µm)²", page), "an area in exponent form"
    assert '% of tissue; 50 µm²</div>' in page
    assert '% of tissue; 9.4 µm²</div>' in page
    assert "</span>fat 710 µm² (0.7 %)</div>" in page
    assert "tissue 0.0942 mm²" in page
    assert 'data-value="5e-05"' in page  # the machine-readable value is kept as it was


def test_overlay_legend_writes_a_small_class_area_in_um2() -> None:
    assert _legend_text({"name": "fat", "area_mm2": 0.00005, "pct_of_tissue": 0.2}) == "fat 50 µm² (0.2 %)"
    assert _legend_text({"name": "necrosis", "area_mm2": 0.913, "pct_of_tissue": float("nan")}) == "necrosis 0.913 mm²"
