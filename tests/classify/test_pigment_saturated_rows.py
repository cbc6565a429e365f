"""``train_pigment_model.py --saturated-positives``: near-black Ki67 positives as negatives (#14, session 29)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_pigment_model as tpm  # noqa: E402

from mmnst_path.classify.pigment import PigmentFeatureSettings, resolve_pigment_model  # noqa: E402
from mmnst_path.detect.pigment import PigmentParams  # noqa: E402

NAMES = ["u_r", "u_b", "log_od", "grey"]


def _rows(monkeypatch, saturated: bool):
    monkeypatch.setattr(tpm, "PIGMENT_FAMILIES", ("none",))
    monkeypatch.setitem(tpm.ENDONUKE, "names", NAMES)
    return tpm.generated_rows(range(1000, 1001), PigmentFeatureSettings(), 400, np.random.default_rng(0), 96,
                              chromogens=("dab",), appearances=("varied",), saturated=saturated)


def test_pixel_rows_add_the_saturated_tile_as_background_after_the_default_rows(monkeypatch):
    x0, y0 = _rows(monkeypatch, False)
    x1, y1 = _rows(monkeypatch, True)
    assert len(x1) > len(x0)
    np.testing.assert_array_equal(x1[: len(x0)], x0)  # the default tile's rows come first, unchanged
    assert not y1.any()  # no melanin is added: every saturated positive is a negative
    extra = x1[len(x0):]
    assert extra[:, NAMES.index("log_od")].max() > x0[:, NAMES.index("log_od")].max()  # darker than any default row


def test_body_rows_add_round_black_dab_bodies_labelled_dab():
    model = resolve_pigment_model("dab")
    args = (range(1000, 1001), model, PigmentParams(), 128)
    x0, y0 = tpm.body_rows(*args, families=("none",), appearances=("varied",))
    x1, y1 = tpm.body_rows(*args, families=("none",), appearances=("varied",), saturated=True)
    assert len(x1) > len(x0)
    np.testing.assert_array_equal(x1[: len(x0)], x0)
    assert not y1[len(x0):].any()


def test_flag_is_opt_in_and_named_in_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["train_pigment_model.py", "--help"])
    try:
        tpm.main()
    except SystemExit:
        pass
    assert "--saturated-positives" in capsys.readouterr().out
