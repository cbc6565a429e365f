"""The stain guess reads each white point's OD planes once (session 44 H8, #16): the colour guess and the chromogen
places share one pass over the thumbnail, and the plateau white point is looked for without a second tissue look;
every value is the one each reader computed for itself (the guess is unchanged to the bit)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mmnst_path.stain as stain_pkg
from mmnst_path.stain import guess as guess_module
from mmnst_path.stain import places as places_module
from mmnst_path.stain._white_point import estimate_white_point
from mmnst_path.synthetic import pigment_family_tile
from mmnst_path.synthetic_double import double_stain_tile


def _tiles():
    t = double_stain_tile(0, marker="cytoplasmic", chromogen="fast_red", mpp=1.0)
    yield "double", t.rgb, None, 1.0
    t = pigment_family_tile(1, "perinuclear", chromogen="dab")
    yield "family", t.rgb, None, float(t.mpp)
    # a tile all tissue on tinted glass (no glass outside the tissue: the plateau white point, then 255 again)
    rgb = np.clip(t.rgb.astype(int) - np.array([20, 25, 40]), 0, 255).astype(np.uint8)
    yield "no_glass", rgb, np.ones(rgb.shape[:2], bool), float(t.mpp)


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float) and isinstance(b, float):
        return repr(a) == repr(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("case", list(range(3)))
def test_planes_give_the_same_colour_guess_and_places(case):
    from mmnst_path.stain._planes import ODPlanes

    _, rgb, tissue, mpp = list(_tiles())[case]
    planes = ODPlanes(rgb)
    own = guess_module._colour_guess(rgb, tissue)
    shared = guess_module._colour_guess(rgb, tissue, planes)
    assert _same(dataclasses.asdict(own), dataclasses.asdict(shared))
    for white in (own.white_point, (255.0, 255.0, 255.0)):
        got = []
        for p in (None, planes):
            bodies = {"brown": 0, "red": 0, "dab": 0, "pink": 0, "dab_brown": 0}
            degs: dict = {"brown": [], "red": [], "dab": [], "other": []}
            ret = places_module._count(rgb, tissue, mpp, white, bodies, degs, p)
            got.append((ret, bodies, degs))
        assert _same(list(got[0]), list(got[1]))
        assert sum(got[0][1].values()) > 0 or case == 2  # bodies are counted (the comparison says something)


def test_guess_computes_each_white_points_od_once(monkeypatch):
    _, rgb, tissue, mpp = list(_tiles())[2]
    calls = []
    real = stain_pkg.od_from_rgb

    def counted(rgb_, *, background=None):
        calls.append(None if background is None else tuple(float(b) for b in np.ravel(background)))
        return real(rgb_, background=background)

    monkeypatch.setattr(stain_pkg, "od_from_rgb", counted)
    g = guess_module.guess_stains_detail(rgb, tissue, mpp=mpp, dab_model=False)
    glass, wp, *_ = guess_module.colour_residuals(rgb, tissue)
    assert glass is None  # the case with two white points
    assert wp != (255.0, 255.0, 255.0)
    del calls[len(calls) - 1:]  # colour_residuals' own pass just above
    assert g.white_point == (255.0, 255.0, 255.0)
    # the colour guess at the plateau's white point and at 255, the places at 255: two passes, not three
    assert sorted(set(calls), key=str) == sorted({tuple(wp), (255.0, 255.0, 255.0)}, key=str)
    assert len(calls) == 2


def test_plateau_white_point_without_a_second_tissue_look(monkeypatch):
    _, rgb, tissue, _ = list(_tiles())[2]
    seen = []

    def recorded(rgb_, tissue_=None, **kw):
        seen.append((tissue_ is None, kw.get("plateau", 6.0)))
        return estimate_white_point(rgb_, tissue_, **kw)

    monkeypatch.setattr(guess_module, "estimate_white_point", recorded)
    glass, wp, *_ = guess_module.colour_residuals(rgb, tissue)
    assert glass is None
    assert seen == [(False, None), (True, 6.0)]  # the tissue's glass, then the plateau alone
    assert wp == estimate_white_point(rgb, tissue)  # what the plateau with the tissue named gives
