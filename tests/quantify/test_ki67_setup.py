"""What a Ki67 run settles before its tiles (:mod:`mmnst_path.quantify._ki67_setup`, split out of
:mod:`mmnst_path.quantify.ki67`; the re-exports from ``ki67``:
tests/test_module_splits.py)."""

from __future__ import annotations

from mmnst_path.quantify import _ki67_setup, ki67
from mmnst_path.stain import get_preset


def test_no_cell_model_and_no_contrast_rule_when_switched_off():
    params = ki67.Ki67Params(cell_model="none", nuclear_contrast_rule=False)
    assert _ki67_setup.cell_model_of(params, get_preset("H-DAB")) is None
    assert _ki67_setup.nuclear_contrast_applies(params, get_preset("H-DAB")) is False


def test_reach_grows_with_the_pigment_margin():
    base = ki67.Ki67Params()
    wider = ki67.Ki67Params(pigment_margin_um=base.pigment_margin_um + 5.0)
    assert _ki67_setup.unstained_reach_um(params=wider, mpp=0.5) == _ki67_setup.unstained_reach_um(params=base, mpp=0.5) + 5.0
