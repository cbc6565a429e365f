"""The outputs a user reads, checked the way session 32's acceptance pass read them: report.html in a
browser window, the CLI table under a run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmnst_path.cli._quantify import _print_table
from mmnst_path.html_report import render_report


def _row(**kw):
    base = {"input": "/data/a.png", "status": "ok", "ki67_index_pct": 26.4, "ki67_ci_low_pct": 22.4,
            "ki67_ci_high_pct": 31.0, "ki67_denominator": 401, "ki67_hotspot_index_pct": 26.4,
            "ki67_hotspot_nuclei": 401, "ki67_hotspot_meets_min_nuclei": True, "hotspot_min_nuclei": 500,
            "ki67_positive_threshold_od": 0.35, "ki67_nuclear_contrast_od": 0.12, "stain_names": ["hematoxylin", "dab"],
            "melanin_fraction_pct": 17.02, "necrosis_fraction_pct": None}  # fmt: skip
    base.update(kw)
    return base


def test_the_positivity_rule_wraps_instead_of_widening_the_ki67_column():
    # on one line (white-space:nowrap) the rule "positive at DAB ≥ 0.35 OD, or ≥ 0.12 OD above the ring
    # around the nucleus" made the Ki67 column ~350 px wide: in a 1600 px window the tissue classes and
    # the error column were cut off (headless Chromium screenshot of the README job, session 32)
    html = render_report([_row()])
    div = re.search(r'<div class="([^"]*)">positive at DAB ≥ 0.35 OD, or ≥ 0.12 OD above the ring', html)
    assert div is not None
    classes = div.group(1).split()
    assert "rule" in classes
    css = re.search(r"\.ci\.rule\{([^}]*)\}", html)
    assert css is not None
    assert "white-space:normal" in css.group(1)
    assert "max-width" in css.group(1)
    # the CI and the other short notes stay on one line
    assert re.search(r"\.ci\{[^}]*white-space:nowrap", html)
    assert '<div class="ci">95% CI 22.4–31.0</div>' in html


def _printed(rows, capsys: pytest.CaptureFixture[str]) -> str:
    _print_table(rows, Path("results"))
    return capsys.readouterr().out


def test_cli_table_gives_the_excluded_count_beside_n(capsys: pytest.CaptureFixture[str]) -> None:
    """The nuclei left out of n as not tumour, in their own column (napari's results line and the report
    give the same count); "–" where Ki67 was not measured. Mutation caught: the column left out."""
    out = _printed([_row(input="ihc.png", ki67_excluded=27), {"input": "he.png", "status": "ok",
                                                              "melanin_fraction_pct": 2.0}], capsys)
    header = next(line for line in out.splitlines() if "excluded" in line)
    cols = [c.strip() for c in header.strip("┃│ ").replace("┃", "│").split("│")]
    ihc = [c.strip() for c in next(line for line in out.splitlines() if "ihc.png" in line).strip("│ ").split("│")]
    he = [c.strip() for c in next(line for line in out.splitlines() if "he.png" in line).strip("│ ").split("│")]
    assert ihc[cols.index("excluded")] == "27"
    assert he[cols.index("excluded")] == "–"


def test_cli_table_does_not_call_a_short_window_a_hot_spot(capsys: pytest.CaptureFixture[str]) -> None:
    # report.html greys such a window and says "not a hot spot"; the CLI printed the bare number under
    # "hot spot %" (every 512 px generated tile of session 32's pass: 289-401 nuclei, 500 needed)
    out = _printed([_row(input="short.png", ki67_hotspot_meets_min_nuclei=False),
                    _row(input="real.png", ki67_hotspot_index_pct=31.5)], capsys)
    short = next(line for line in out.splitlines() if "short.png" in line)
    real = next(line for line in out.splitlines() if "real.png" in line)
    assert "(26.4)" in short
    assert "31.5" in real
    assert "(31.5)" not in real
    text = " ".join(out.split())
    assert "(hot spot %): not a hot spot, no window holds the 500 tumour nuclei one needs" in text
    # a table where every hot spot is real has neither the parentheses nor the note
    plain = _printed([_row(input="real.png", ki67_hotspot_index_pct=31.5)], capsys)
    assert "(31.5)" not in plain
    assert "not a hot spot" not in plain
    # no hot spot at all (H&E: Ki67 not measured) is "–", not "(–)"
    he = _printed([_row(input="he.tif", ki67_index_pct=None, ki67_hotspot_index_pct=None,
                        ki67_hotspot_meets_min_nuclei=False)], capsys)
    assert "(–)" not in he
    assert "not a hot spot" not in he


def _picture(side: int, mpp: float, n: int = 400):
    import types

    import numpy as np

    from mmnst_path.geometry import Box
    from mmnst_path.overlay import nucleus_field_image

    rng = np.random.default_rng(7)
    cells = types.SimpleNamespace(row=rng.uniform(30, side - 5, n), col=rng.uniform(5, side - 5, n),
                                  cls=rng.integers(0, 4, n), columns={"area_um2": rng.uniform(20, 60, n)})
    result = types.SimpleNamespace(cells=cells, mpp=mpp)
    rgb = np.full((side, side, 3), 200, np.uint8)
    img, counts = nucleus_field_image(result, rgb, Box(0, 0, side, side), "densest window (too few nuclei for a hot spot)")
    return img, img.shape[0] - side, counts


@pytest.mark.parametrize(("side", "mpp"), [(512, 0.5), (300, 1.0), (150, 0.5)])
def test_check_picture_caption_wraps_inside_a_narrow_field(side: int, mpp: float) -> None:
    # one caption line cut "Ki67 26.4 % here" off every 512 px field (a 256 µm tile; session 32's
    # generated tiles) and most of the legend of a 300 µm field at 1 µm/px
    img, caption, counts = _picture(side, mpp)
    assert caption > 44  # the legend took more lines
    strip = img[:caption]
    assert (strip[:, -3:] == 255).all()  # nothing reaches the right edge
    assert sum(counts.values()) == 400
    # the caption's lines end inside the picture: dark (text) pixels on every 20 px line
    dark = (strip < 100).all(axis=2)
    assert all(dark[4 + 20 * i : 20 + 20 * i].any() for i in range((caption - 4) // 20))


def test_check_picture_caption_that_fits_keeps_its_44_px_strip() -> None:
    _img, caption, _ = _picture(1024, 0.5)
    assert caption == 44


NEAR_BLACK = {"ki67_near_black_positive_pct": 41.0, "ki67_near_black_positive": 25,
              "ki67_index_if_near_black_pigment_pct": 18.5}
DAB_SENTENCE = ('41 % of the Ki67-positive nuclei are near-black (strong DAB or melanin look alike): if this lesion is '
                'pigmented, melanin may be counted as Ki67; set [ki67] near_black = "pigment" (index then 18.5 %) or '
                "use a red chromogen (AEC, Fast Red) or an Azure B counterstain")


@pytest.mark.parametrize(("chromogen", "counterstain", "strong", "red_advice"), [
    ("dab", "hematoxylin", "DAB", True),
    (None, None, "DAB", True),  # a result written before the keys existed reads as DAB, as it did
    ("aec", "hematoxylin", "AEC", False),
    ("fast_red", "hematoxylin", "Fast Red", False),
    ("dab", "azure_b", "DAB", False),
])
def test_near_black_advice_follows_the_stain(chromogen, counterstain, strong, red_advice):
    # the pigment sentence stopped telling a red-chromogen / azure B slide to use a red chromogen or azure B
    # (session 31); the near-black sentence still did
    from mmnst_path.report import near_black_warning

    metrics = dict(NEAR_BLACK)
    if chromogen is not None:
        metrics.update(ki67_chromogen=chromogen, ki67_counterstain=counterstain)
    text = near_black_warning(metrics)
    assert text.startswith(f"41 % of the Ki67-positive nuclei are near-black (strong {strong} or melanin look alike)")
    assert ("use a red chromogen" in text) is red_advice
    if red_advice:
        assert text == DAB_SENTENCE  # the words the README quotes, unchanged
    else:
        assert text.endswith('set [ki67] near_black = "pigment" (index then 18.5 %) or bleach the melanin before staining')
