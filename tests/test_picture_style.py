"""Pictures and report.html as a reader takes them (session 34): which necrosis figure is which (necrosis %
of the tissue vs the class map's % of the classed area), class colours that no other meaning uses (necrosis
never melanin's brown), and µ / ² drawn where a font has them."""

from __future__ import annotations

import io
import itertools
import math
import types

import numpy as np
import pytest

from mmnst_path._picture_style import class_display_colour, draws_glyphs, picture_font, units
from mmnst_path.aggregate import LowResMap
from mmnst_path.classify import default_model_path
from mmnst_path.classify.model import load_model
from mmnst_path.html_report import CLASSES_KEY, render_report
from mmnst_path.overlay import CLASSES_LABEL, _label, _legend_text
from mmnst_path.report import tissue_classes_png

#: Browns the same pictures give another meaning: melanin panel, the card's necrosis, the pigment class.
BROWNS = [(90, 45, 0), (120, 60, 20), (120, 72, 24)]
#: The necrosis panel's magenta (overlay.py's fourth panel).
NECROSIS_PANEL = (230, 0, 200)


def _legend() -> list[dict[str, object]]:
    model = load_model(default_model_path("tissue"))
    return [{"index": c.index, "name": c.name, "colour": list(c.colour), "area_mm2": 0.1 * (c.index + 1),
             "pct_of_tissue": math.nan if c.name == "background" else 10.0 + c.index} for c in model.classes]


@pytest.mark.parametrize("stains", [None, "H-DAB"])
def test_every_class_colour_is_its_own_and_none_is_brown(stains: str | None) -> None:
    # mutation: CLASS_DISPLAY_RGB without "necrosis" (the card's brown 120,60,20) -> brown; without "blood"
    # (220,30,90) the H&E classes' nearest pair is tumour / blood 55 apart
    model = load_model(default_model_path("tissue", stains))
    shown = {c.name: class_display_colour(c.name, c.colour) for c in model.classes}
    for a, b in itertools.combinations(shown.values(), 2):
        assert math.dist(a, b) >= 80
    for name, colour in shown.items():
        assert min(math.dist(colour, b) for b in BROWNS) >= 80, name
    if "necrosis" in shown:
        assert shown["necrosis"] == NECROSIS_PANEL


def test_class_map_png_and_report_legend_draw_the_display_colours() -> None:
    from PIL import Image

    legend = _legend()
    image = np.arange(len(legend), dtype=np.int8).reshape(1, -1)
    result = types.SimpleNamespace(maps={"tissue_classes": LowResMap(image, 16.0)},
                                   tissue_classes={"classes": legend})
    with Image.open(io.BytesIO(tissue_classes_png(result))) as im:  # type: ignore[arg-type]
        palette = np.asarray(im.getpalette()[: 3 * 256]).reshape(-1, 3)
    page = render_report([{"input": "x.tif", "status": "ok", "tissue_classes": legend}])
    for c in legend:
        want = class_display_colour(str(c["name"]), c["colour"])  # type: ignore[arg-type]
        assert tuple(palette[int(c["index"])]) == want  # type: ignore[call-overload]
        assert "background:#{:02x}{:02x}{:02x}".format(*want) in page
    assert "background:#783c14" not in page  # the card's necrosis brown


def test_page_and_pictures_say_which_necrosis_figure_is_which() -> None:
    # mutation: the header back to "tissue classes" / the key without CLASSES_KEY -> fails
    page = render_report([{"input": "x.tif", "status": "ok", "necrosis_fraction_pct": 94.4,
                           "necrosis_area_mm2": 0.913, "tissue_classes": _legend()}])
    assert "<th>tissue classes (% of classed area)</th>" in page
    assert CLASSES_KEY in page
    assert "necrosis % are of the tissue area" in page
    assert "classed area" in CLASSES_LABEL
    assert "background" in CLASSES_KEY


def test_units_fall_back_to_ascii_only_without_a_font() -> None:
    assert units("50 µm, 0.9 mm²", None) == "50 um, 0.9 mm2"
    font = picture_font()
    if font is not None:
        assert units("50 µm, 0.9 mm²", font) == "50 µm, 0.9 mm²"
    assert _legend_text({"name": "necrosis", "area_mm2": 0.913216, "pct_of_tissue": 92.93}) == \
        "necrosis 0.913 mm² (92.9 %)"


def test_pillow_default_font_lacks_mu_so_it_is_not_used_for_it() -> None:
    from PIL import ImageFont

    assert not draws_glyphs(ImageFont.load_default(), "µ")


def test_an_installed_dejavu_sans_is_found() -> None:
    # mutation: picture_font always None (the bitmap font, "um") -> fails where the font is installed
    from pathlib import Path

    if not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists():
        pytest.skip("DejaVu Sans not installed")
    assert picture_font() is not None


@pytest.mark.skipif(picture_font() is None, reason="no font with µ and ² installed (DejaVu Sans)")
def test_mu_renders_as_mu_not_a_box() -> None:
    # mutation: picture_font returns None (the default bitmap font) -> a label says "um"; or _label drawing
    # "µm" with the bitmap font -> the box glyph, not DejaVu's µ
    from PIL import Image, ImageDraw

    font = picture_font()
    assert draws_glyphs(font, "µ²")
    got = Image.new("RGB", (80, 24), (128, 128, 128))
    _label(got, "50 µm")
    want = Image.new("RGB", (80, 24), (128, 128, 128))
    draw = ImageDraw.Draw(want)
    box = draw.textbbox((4, 4), "50 µm", font=font)
    draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill=(255, 255, 255))
    draw.text((4, 4), "50 µm", fill=(0, 0, 0), font=font)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    ascii_ = Image.new("RGB", (80, 24), (128, 128, 128))
    _label(ascii_, "50 um")
    assert not np.array_equal(np.asarray(got), np.asarray(ascii_))


def test_overlay_class_panel_draws_necrosis_in_its_display_colour() -> None:
    # mutation: _classes_panel with the card's colours (palette / legend swatch) -> the brown swatch, no magenta
    from pathlib import Path

    import tifffile

    from mmnst_path.overlay import PANEL_PX, overlay_image
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    rgb = tifffile.imread(Path(__file__).resolve().parents[1] / "sample_tiles" / "he_necrosis.tif")
    result = analyze_region(rgb, AnalysisConfig(stains="H&E", measures=("necrosis",)), mpp=0.5)
    assert result.metrics["class_necrosis_area_mm2"] > 0
    panel = overlay_image(result)[:, -PANEL_PX:]  # the class panel, last
    pixels = {tuple(p) for p in panel.reshape(-1, 3).tolist()}
    assert NECROSIS_PANEL in pixels
    assert (120, 60, 20) not in pixels
