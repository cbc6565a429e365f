"""report.html's overlay link of a folder with a space or a non-ASCII letter, and the pigment sentence of a stain
call that was close (session 41 H5's walk, D10 / D5)."""

from __future__ import annotations

from mmnst_path._qc_text import pigment_warning
from mmnst_path.html_report import render_report


def test_the_overlay_link_is_percent_encoded() -> None:
    name = "/data/Fall 3 rouge é.tif"
    html = render_report([{"input": name, "status": "ok"}], thumbnails={name: b"\x89PNG"},
                         folders={name: "Fall 3 rouge é"})
    assert 'href="Fall%203%20rouge%20%C3%A9/overlay.png"' in html
    assert 'href="Fall 3' not in html


def _bound(**extra: object) -> str:
    metrics = {"ki67_pigment_obscured_pct": 20.0, "ki67_index_if_obscured_negative_pct": 10.0,
               "ki67_index_if_obscured_positive_pct": 30.0, **extra}
    return pigment_warning(metrics)


def test_the_pigment_sentence_of_a_close_stain_call_says_to_name_the_stains_first() -> None:
    close = _bound(ki67_chromogen="dab", stains_source="detected, a close call: check")
    assert "if this slide is already AEC or Fast Red, name its stains" in close
    plain = _bound(ki67_chromogen="dab", stains_source="detected")
    assert plain.endswith("a red chromogen (AEC, Fast Red) or an Azure B counterstain would resolve it")
    assert "the stain already tells melanin by colour" in _bound(ki67_chromogen="aec", stains_source="chosen")
