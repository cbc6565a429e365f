"""A review annotation partly outside the image: how much was clipped is recorded and said (session 41 H4).

Result folders made by hand (:mod:`test_review_fixes_s39h10`'s: a 128 px image at 0.5 µm/px with a 4 x 4 class
map), so each clipped area is known exactly. Fails before: review.json had no ``annotations_clipped`` and the
``mmnst-path review`` line said nothing of the part outside the image.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_review_fixes_s39h10 import _box, _poly, _result, _write

from mmnst_path._review_clip import annotations_off_image, clipped_words, ring_area
from mmnst_path.cli import main
from mmnst_path.errors import ConfigError
from mmnst_path.review import REVIEW_NAME, write_review

PX_MM2 = (0.5 / 1000.0) ** 2  # one pixel at 0.5 µm/px


def test_half_outside_is_recorded_and_said(tmp_path, capsys):
    folder = _result(tmp_path / "he")
    # x -64..64, y 0..64: 128 x 64 px drawn, the left half off the image
    edits = _write(tmp_path / "half.geojson", [_poly([_box(-64, 0, 64, 64)], "Necrosis")])
    assert main(["review", str(folder), str(edits)]) == 0
    (rec,) = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))["tissue_classes"]["annotations_clipped"]
    assert rec == {"annotation": 1, "class": "necrosis", "area_mm2": pytest.approx(8192 * PX_MM2),
                   "outside_mm2": pytest.approx(4096 * PX_MM2), "outside_pct": pytest.approx(50.0)}
    line = capsys.readouterr().out
    assert "annotation 1 (necrosis): 50.0 % of its 0.0020 mm² outside the image, clipped" in line, line


def test_hole_and_inside_annotation(tmp_path):
    folder = _result(tmp_path / "he")
    # outer x -32..96, y 0..96 (12288 px²) with a hole x -16..16, y 32..64 (1024 px², half outside); a second
    # annotation wholly inside: not recorded
    holed = _poly([_box(-32, 0, 96, 96), _box(-16, 32, 16, 64)], "Necrosis")
    edits = _write(tmp_path / "holed.geojson", [holed, _poly([_box(70, 70, 120, 120)], "Stroma")])
    review = write_review(folder, edits)
    (rec,) = review["tissue_classes"]["annotations_clipped"]
    drawn, inside = 12288 - 1024, 96 * 96 - 16 * 32
    assert rec["annotation"] == 1
    assert rec["area_mm2"] == pytest.approx(drawn * PX_MM2)
    assert rec["outside_mm2"] == pytest.approx((drawn - inside) * PX_MM2)
    assert rec["outside_pct"] == pytest.approx(100.0 * (drawn - inside) / drawn)
    inside_only = _write(tmp_path / "in.geojson", [_poly([_box(0, 0, 128, 128)], "Necrosis")])
    assert write_review(folder, inside_only, replace=True)["tissue_classes"]["annotations_clipped"] == []


def test_off_image_words_and_refusal():
    ring = np.array([[0.0, 0.0], [0.0, 10.0], [10.0, 10.0], [10.0, 0.0]])
    assert ring_area(ring) == 100.0
    assert clipped_words([]) == ""
    far = [(0, [np.array([[5000.0, 5000.0], [5000.0, 6000.0], [6000.0, 6000.0], [6000.0, 5000.0]])])]
    with pytest.raises(ConfigError, match=r"annotation 1 \(tumour.*outside the image"):
        annotations_off_image(far, (128, 128), ["tumour"], mpp=0.5, source="e")
    with pytest.raises(ValueError, match="mpp=0"):
        annotations_off_image(far, (128, 128), ["tumour"], mpp=0, source="e")
    # a quarter off the bottom-right corner, (row, col) pixel centres: corners at -0.5 .. 127.5 + 64
    corner = [(0, [np.array([[63.5, 63.5], [63.5, 191.5], [191.5, 191.5], [191.5, 63.5]])])]
    (rec,) = annotations_off_image(corner, (128, 128), ["tumour"], mpp=1.0, source="e")
    assert rec["outside_pct"] == pytest.approx(75.0)
    assert clipped_words([rec]).startswith("annotation 1 (tumour): 75.0 % of its 0.0164 mm² outside the image")
