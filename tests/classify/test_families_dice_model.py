"""benchmarks/eval_pigment_families.py: the melanin Dice reads the pixel model the settings name (session 28)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from eval_pigment_families import run_one  # noqa: E402


def test_dice_follows_a_pigment_model_given_in_the_settings():
    # another pixel model (the shipped H&E one) named in the settings must give the Dice the model="he" argument
    # gives (before session 28 it gave the shipped DAB model's Dice)
    kw = {"size": 160, "stains": "preset"}
    by_arg = run_one(3, "coarse", "dab", model="he", **kw)
    by_set = run_one(3, "coarse", "dab", settings={"pigment": {"model": "he"}}, **kw)
    shipped = run_one(3, "coarse", "dab", **kw)
    assert by_set["dice"] == by_arg["dice"]
    assert by_set["mel_meas"] == by_arg["mel_meas"]
    assert abs(shipped["dice"] - by_arg["dice"]) > 0.01  # the two detectors differ on this tile
