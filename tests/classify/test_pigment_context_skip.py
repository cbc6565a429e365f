"""The context rule's exact skip (issue #14 / #16): with too little confirmed melanin on the tile,
or none within reach of any candidate body, :func:`context_melanin_bodies` answers "none" without
its seeds, window sums and per-body maxima; the answer is the full rule's, at the edges of both
bounds (the melanin area one pixel either side of ``context_min_um2``, the melanin one pixel
either side of the reach)."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.classify._pigment_context as ctx
from mmnst_path.classify._pigment_bodies import OBJECT_FEATURES
from mmnst_path.detect.pigment import PigmentParams

MPP = 0.5  # 1 px = 0.25 µm²: the default context_min_um2 (20 µm²) is 80 px
SHAPE = (240, 240)


def _bodies() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two near-black square bodies (rows 100..115, cols 100..115 and rows 20..30, cols 200..215)."""
    labels = np.zeros(SHAPE, np.int32)
    labels[100:116, 100:116] = 1
    labels[20:31, 200:216] = 2
    od = np.zeros((*SHAPE, 3), np.float32)
    od[labels > 0] = 2.0
    x = np.zeros((2, len(OBJECT_FEATURES)), np.float32)
    x[:, OBJECT_FEATURES.index("model_share")] = 0.8
    return labels, od, x


def _support(r0: int, c0: int, rows: int, cols: int, extra: int = 0) -> np.ndarray:
    """A block of melanin (``rows`` x ``cols`` px from (r0, c0)), ``extra`` pixels more on its last row."""
    s = np.zeros(SHAPE, bool)
    s[r0 : r0 + rows, c0 : c0 + cols] = True
    if extra:
        s[r0 + rows, c0 : c0 + extra] = True
    return s


def _full_rule(monkeypatch: pytest.MonkeyPatch, *args, **kw) -> np.ndarray:
    with monkeypatch.context() as m:
        m.setattr(ctx, "_below_min", lambda *a: False)
        m.setattr(ctx, "_out_of_reach", lambda *a: False)
        return ctx.context_melanin_bodies(*args, **kw)


def _cases() -> list[tuple[str, np.ndarray]]:
    half = round(PigmentParams().context_radius_um / MPP)  # 50 px: the square window's half-side
    out = []
    # the area bound: 9 x 8 + 8 = 80 px (20 µm², enough) and 79 px, beside body 1
    for extra in (7, 8):
        out.append((f"area {72 + extra} px", _support(118, 100, 8, 9, extra)))
    # the reach bound: 90 px of melanin (22.5 µm²) whose farthest pixel is half - 1, half or
    # half + 1 px beyond body 1 (last row and column 115): two rows below it, two columns right of
    # it (rows 60..104, within the window of its rows 100..115) and a 9 x 9 block off its corner
    # (the clusters of melanin are kept: >= cluster_min_um2 within the cluster window)
    for d in (half - 1, half, half + 1):
        out.append((f"below at {d} px", _support(114 + d, 80, 2, 45)))
        out.append((f"right at {d} px", _support(60, 114 + d, 45, 2)))
        out.append((f"diagonal at {d} px", _support(107 + d, 107 + d, 9, 9)))
    return out


@pytest.mark.parametrize(("name", "support"), _cases(), ids=[n for n, _ in _cases()])
def test_skip_answers_as_the_full_rule_at_the_bounds(monkeypatch: pytest.MonkeyPatch, name: str,
                                                      support: np.ndarray) -> None:
    labels, od, x = _bodies()
    dab = np.array([False, True, True])
    params = PigmentParams()
    got = ctx.context_melanin_bodies(labels, 2, x, dab, support, od, mpp=MPP, params=params)
    ref = _full_rule(monkeypatch, labels, 2, x, dab, support, od, mpp=MPP, params=params)
    np.testing.assert_array_equal(got, ref)


def test_the_bounds_are_met_on_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases above do test something: the full rule takes body 1 back in some (so the skip
    must not fire there) and not in others, and the skip fires in some of the latter."""
    labels, od, x = _bodies()
    dab = np.array([False, True, True])
    taken, skipped = {}, {}
    real_below, real_reach = ctx._below_min, ctx._out_of_reach
    for name, support in _cases():
        fired: list[bool] = []

        def below(*a, fired=fired):
            fired.append(real_below(*a))
            return fired[-1]

        def reach(*a, fired=fired):
            fired.append(real_reach(*a))
            return fired[-1]

        with monkeypatch.context() as m:
            m.setattr(ctx, "_below_min", below)
            m.setattr(ctx, "_out_of_reach", reach)
            ctx.context_melanin_bodies(labels, 2, x, dab, support, od, mpp=MPP, params=PigmentParams())
        skipped[name] = any(fired)
        taken[name] = bool(_full_rule(monkeypatch, labels, 2, x, dab, support, od, mpp=MPP,
                                      params=PigmentParams())[1])
    assert taken["area 80 px"]
    assert not taken["area 79 px"]
    assert skipped["area 79 px"]
    for where in ("below", "right", "diagonal"):
        assert taken[f"{where} at 49 px"]
        assert taken[f"{where} at 50 px"]
        assert not taken[f"{where} at 51 px"]
        assert skipped[f"{where} at 51 px"]
    assert not any(skipped[n] for n, t in taken.items() if t)
