"""A tile detects Ki67 nuclei on its core grown by the Ki67 reach without the pigment prior's square;
the prior still reads the larger pigment mask (``measure_ki67(_prior_mask=...)``, issue #16)."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

from mmnst_path.quantify._ki67_window import detection_window
from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67

MPP = 0.5


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A pale image with a near-black round body at (50, 50) and a melanin patch 250 px to its right:
    just above ``pigment_prior_fraction`` of the square the prior reads around the body."""
    params = Ki67Params()
    square = (2 * round(params.pigment_prior_radius_um / MPP) + 1) ** 2
    side = math.ceil(math.sqrt(params.pigment_prior_fraction * square)) + 1
    assert side <= 100
    rgb = np.full((160, 460, 3), (232, 226, 236), np.uint8)
    yy, xx = np.mgrid[:160, :460]
    rgb[(yy - 50) ** 2 + (xx - 50) ** 2 <= 81] = (6, 5, 4)  # near-black body, 4.5 µm radius
    rgb[(yy - 110) ** 2 + (xx - 120) ** 2 <= 81] = (150, 95, 55)  # a brown DAB nucleus
    mask = np.zeros((160, 460), bool)
    mask[30 : 30 + side, 300 : 300 + side] = True
    rgb[mask] = (60, 40, 25)
    return rgb, mask


def _class_at(cells, point: tuple[int, int]) -> str:
    d = (cells.row - point[0]) ** 2 + (cells.col - point[1]) ** 2
    assert d.size, "no nucleus detected"
    assert d.min() <= 16, f"no nucleus detected at {point}"
    return str(cells.cls[int(np.argmin(d))])


def test_the_prior_reads_the_larger_mask_when_detection_runs_on_less() -> None:
    rgb, mask = _scene()
    whole = measure_ki67(rgb, mpp=MPP, stains="H-DAB", pigment_mask=mask).cells
    assert _class_at(whole, (50, 50)) == "pigment"  # the melanin 125 µm away opens the prior
    inner = np.ascontiguousarray(rgb[:, :280])  # the patch is outside: no pigment in the inner mask
    alone = measure_ki67(inner, mpp=MPP, stains="H-DAB", pigment_mask=mask[:, :280]).cells
    assert _class_at(alone, (50, 50)) == "positive"  # without the larger mask the prior cannot hold
    part = measure_ki67(inner, mpp=MPP, stains="H-DAB", pigment_mask=mask[:, :280], extent=rgb.shape[:2],
                        _prior_mask=(mask, (0, 0))).cells
    assert _class_at(part, (50, 50)) == "pigment"
    near = part.col < 180  # (away from the inner image's cut edge) every field as in the whole image
    keep = whole.col < 180
    assert near.sum() == keep.sum() >= 2
    for f in fields(whole):
        want, got = np.asarray(getattr(whole, f.name))[keep], np.asarray(getattr(part, f.name))[near]
        assert np.array_equal(want, got, equal_nan=want.dtype.kind == "f"), f.name


def test_detection_window_drops_the_prior_square_only() -> None:
    steps = {"pigment": 30.4, "pigment_fill": 20.0, "detection": 77.3, "context": 40.0, "pigment_prior": 13.2}
    core = (slice(400, 1424), slice(400, 1424))
    win = detection_window(core, (0, 0), (1824, 1824), steps, 0.5)
    reach = math.ceil(137.3 / 0.5) + 1
    assert win == (slice(400 - reach, 1424 + reach), slice(400 - reach, 1424 + reach))
    assert detection_window(core, (0, 0), (1424, 1424), steps, 0.5) == (slice(400 - reach, 1424), slice(400 - reach, 1424))
