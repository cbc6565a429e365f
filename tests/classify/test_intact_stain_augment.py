"""``train_intact_model.stain_augment`` and the threshold rule of the intact-nucleus model (#13, session 37)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_intact_model as tim  # noqa: E402

from mmnst_path.stain import load_stains, od_from_rgb  # noqa: E402

NONE = {"grey": (0.0, 0.0), "h_to_eosin": (0.0, 0.0), "e_grey": (0.0, 0.0), "h_scale": (1.0, 1.0),
        "e_scale": (1.0, 1.0), "white_od": (0.0, 0.0)}


def _stained(h_amount: float, e_amount: float) -> np.ndarray:
    """A 4 x 4 RGB image of one hematoxylin / eosin mixture (Ruifrok vectors), left half, and white, right half."""
    m = load_stains("H&E")
    od = h_amount * np.asarray(m.vector("hematoxylin")) + e_amount * np.asarray(m.vector("eosin"))
    rgb = np.full((4, 4, 3), 255, np.uint8)
    rgb[:, :2] = np.clip(np.round(255.0 * 10.0 ** (-od)), 0, 255).astype(np.uint8)
    return rgb


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_no_change_drawn_gives_the_image_back_bit_for_bit() -> None:
    rgb = np.random.default_rng(3).integers(1, 256, (16, 16, 3)).astype(np.uint8)  # 0 reads as 1 (od_from_rgb)
    assert np.array_equal(tim.stain_augment(rgb, np.random.default_rng(0), NONE), rgb)


def test_grey_turns_hematoxylin_grey_and_leaves_white_and_eosin_alone() -> None:
    h_only, e_only = _stained(0.6, 0.0), _stained(0.0, 0.6)
    grey = dict(NONE, grey=(1.0, 1.0))
    out = tim.stain_augment(h_only, np.random.default_rng(0), grey)
    od0, od1 = od_from_rgb(h_only)[0, 0].astype(float), od_from_rgb(out)[0, 0].astype(float)
    assert _cos(od0, np.ones(3)) < 0.95 < 0.999 < _cos(od1, np.ones(3))
    assert np.all(out[:, 2:] == 255)  # white stays white
    assert np.abs(tim.stain_augment(e_only, np.random.default_rng(0), grey).astype(int) - e_only).max() <= 1
    half = dict(NONE, grey=(0.5, 0.5))
    od_half = od_from_rgb(tim.stain_augment(h_only, np.random.default_rng(0), half))[0, 0].astype(float)
    assert _cos(od0, np.ones(3)) < _cos(od_half, np.ones(3)) < _cos(od1, np.ones(3))


def test_scales_and_white_balance_act_in_optical_density() -> None:
    m = load_stains("H&E")
    rgb = _stained(0.5, 0.3)
    out = tim.stain_augment(rgb, np.random.default_rng(0), dict(NONE, h_scale=(0.5, 0.5), e_scale=(2.0, 2.0)))
    amounts0 = od_from_rgb(rgb)[0, 0].astype(float) @ m.inverse
    amounts1 = od_from_rgb(out)[0, 0].astype(float) @ m.inverse
    assert abs(amounts1[0] - 0.5 * amounts0[0]) < 0.02
    assert abs(amounts1[1] - 2.0 * amounts0[1]) < 0.02
    white = tim.stain_augment(rgb, np.random.default_rng(0), dict(NONE, white_od=(0.02, 0.04)))
    od_white = od_from_rgb(white)[0, 3].astype(float)
    assert np.all((od_white > 0.015) & (od_white < 0.045))


def test_the_threshold_passes_at_most_the_share_of_each_ghost_source() -> None:
    rng = np.random.default_rng(1)
    score = np.concatenate([rng.uniform(0, 1, 1000), rng.uniform(0, 0.5, 300), np.full(200, 0.7)])
    source = np.array(["osteo"] * 1000 + ["gen"] * 300 + ["gen"] * 200)
    thr = tim.rule_threshold(score, source)
    for s in ("osteo", "gen"):
        assert (score[source == s] >= thr).mean() <= tim.GHOST_PASS
    # tied scores at the quantile do not pass: 40 % of the generated ghosts sit at 0.7
    assert thr > 0.7
    assert (score[source == "osteo"] >= thr).mean() > 0.0
