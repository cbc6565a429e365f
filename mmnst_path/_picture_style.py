"""What the pictures and report.html draw with: the text font (µ and ² where a font has them) and the
tissue classes' display colours.

Font: DejaVu Sans (installed with most Linux systems and many Python packages) when Pillow finds it and it
draws µ and ² (not the missing-glyph box); otherwise Pillow's default font and ASCII units ("um", "mm2"),
as the pictures wrote before session 34 (:func:`picture_font`, :func:`units`).

Class colours: a tissue model's card gives each class a colour; a few of the default model's collide with
what the same pictures mean by a colour (necrosis brown is melanin's and DAB's brown). The drawing code
shows :func:`class_display_colour` instead; the model file keeps the card's colours, ``result.json`` both
(``colour`` and ``display_colour``).

Areas: :func:`area_text` writes an area in mm² to three significant digits, never in Python's exponent form
("5e-05 mm²"): an area under 0.001 mm² (a speck of melanin on a tile) reads in µm² ("50 µm²").
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["CLASS_DISPLAY_RGB", "area_text", "class_display_colour", "draws_glyphs", "melanocytic_flags", "picture_font",
           "units"]

#: Font files tried in order (Pillow searches the system font folders for a bare file name).
_FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

#: Display colours (RGB 0-255) by class name, where the card's colour would say something else in
#: these pictures: necrosis in the necrosis panel's magenta (never brown: melanin / DAB); blood in
#: orange, apart from tumour red and necrosis magenta.
CLASS_DISPLAY_RGB: dict[str, tuple[int, int, int]] = {
    "necrosis": (230, 0, 200),
    "blood": (255, 140, 0),
}


#: Areas (mm²) under this read in µm² (1 mm² = 10⁶ µm²), where mm² would need an exponent or many zeros.
AREA_UM2_BELOW_MM2 = 0.001


def area_text(area_mm2: float) -> str:
    """``area_mm2`` as a reader reads it, to three significant digits and without an exponent: "0.913 mm²",
    "1234 mm²", "50 µm²" (under :data:`AREA_UM2_BELOW_MM2`), "0 mm²"."""
    a = float(area_mm2)
    if a == 0 or not math.isfinite(a):
        return "0 mm²" if a == 0 else f"{a} mm²"
    if abs(a) < AREA_UM2_BELOW_MM2:
        return f"{a * 1e6:.3g} µm²"
    return f"{a:.0f} mm²" if abs(a) >= 1000 else f"{a:.3g} mm²"


def class_display_colour(name: str, colour: Sequence[int]) -> tuple[int, int, int]:
    """The colour a class is drawn in (RGB 0-255): :data:`CLASS_DISPLAY_RGB` for its name, else the card's."""
    if name in CLASS_DISPLAY_RGB:
        return CLASS_DISPLAY_RGB[name]
    r, g, b = (int(v) for v in colour)
    return r, g, b


def draws_glyphs(font: Any, text: str) -> bool:
    """True when ``font`` draws every character of ``text`` as itself, not as its missing-glyph box
    (compared with a private-use character no text font has)."""
    missing = font.getmask("\ue000")
    box = (bytes(missing), missing.size)
    for ch in text:
        mask = font.getmask(ch)
        if (bytes(mask), mask.size) == box:
            return False
    return True


@functools.lru_cache(maxsize=8)
def picture_font(size: int = 11) -> Any:
    """DejaVu Sans of ``size`` px when installed and it draws µ and ², else None (Pillow's default font)."""
    from PIL import ImageFont

    for name in _FONT_FILES:
        try:
            font = ImageFont.truetype(name, size)
        except OSError:
            continue
        if draws_glyphs(font, "µ²"):
            return font
    return None


def units(text: str, font: Any) -> str:
    """``text`` as ``font`` can draw it: µ and ² kept for a font from :func:`picture_font`, "u" and "2"
    for None (Pillow's default font has neither)."""
    return text if font is not None else text.replace("µ", "u").replace("²", "2")


def melanocytic_flags(metrics: Any, columns: Any, idx: Any) -> tuple[Any, str] | None:
    """A double stain's melanocytic flags (bool) of the nuclei ``idx`` of a result's cell ``columns`` and its marker's
    label ("MART-1+", from ``metrics``' ``ki67_melanocyte_marker``); None for a result without a melanocyte marker.
    The nucleus pictures draw these nuclei as squares."""
    from ._geojson_read import flag_values
    from ._qc_text import marker_label

    label = marker_label(metrics)  # "cytoplasmic marker, assumed" when the run never checked which
    flags = columns.get("melanocytic")
    if not label or flags is None:
        return None
    return flag_values(flags)[idx], label
