"""Physical scale from file metadata: microns per pixel and objective power.

Every helper returns ``None`` for missing, unusable or implausible values (bad metadata is a
warning and ``None``, never an exception); the caller decides what to do with an unknown mpp.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MPP_RANGE_UM",
    "mpp_from_ome",
    "mpp_from_pair",
    "mpp_from_resolution",
    "objective_from_ome",
    "parse_float",
]

#: plausible microns per pixel at level 0 (0.01 µm/px is far beyond optical resolution; 100 µm/px
#: is a macro photo). Values outside are metadata junk such as the 72 dpi default of image editors.
MPP_RANGE_UM = (0.01, 100.0)

# microns per resolution unit (TIFF ResolutionUnit 2 = inch, 3 = centimetre; 1 = none)
_UM_PER_UNIT = {2: 25400.0, 3: 10000.0, "inch": 25400.0, "centimeter": 10000.0, "cm": 10000.0}

# OME length units to microns
_OME_UNIT_UM = {"µm": 1.0, "um": 1.0, "\u03bcm": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6, "Å": 1e-4}


def parse_float(value: Any) -> float | None:
    """``float(value)`` when it is a finite number (also from a string), else ``None``."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _plausible(mpp: float | None) -> float | None:
    if mpp is None or not MPP_RANGE_UM[0] <= mpp <= MPP_RANGE_UM[1]:
        return None
    return mpp


def mpp_from_pair(mpp_x: Any, mpp_y: Any = None) -> float | None:
    """Mean of two microns-per-pixel values (either may be missing); ``None`` if implausible."""
    values = [v for v in (parse_float(mpp_x), parse_float(mpp_y)) if v is not None and v > 0]
    if not values:
        return None
    return _plausible(sum(values) / len(values))


def _rational(value: Any) -> float | None:
    if isinstance(value, tuple | list) and len(value) == 2:
        num, den = parse_float(value[0]), parse_float(value[1])
        if num is None or not den:
            return None
        return num / den
    return parse_float(value)


def mpp_from_resolution(x_resolution: Any, y_resolution: Any, unit: Any) -> float | None:
    """Microns per pixel from TIFF-style resolution (pixels per ``unit``).

    Parameters
    ----------
    x_resolution, y_resolution : float or (numerator, denominator)
        Pixels per resolution unit along columns / rows (TIFF XResolution / YResolution).
    unit : int or str
        TIFF ResolutionUnit: 2 or ``"inch"``, 3 or ``"centimeter"``. Unit 1 (``"none"``) gives
        ``None``: the numbers are only an aspect ratio.

    Returns
    -------
    float or None
        Mean µm/px over both axes, ``None`` when unknown or outside :data:`MPP_RANGE_UM`.
    """
    key = unit.lower() if isinstance(unit, str) else int(getattr(unit, "value", unit) or 0)
    um_per_unit = _UM_PER_UNIT.get(key)
    if um_per_unit is None:
        return None
    mpps = []
    for res in (x_resolution, y_resolution):
        px_per_unit = _rational(res)
        if px_per_unit is not None and px_per_unit > 0:
            mpps.append(um_per_unit / px_per_unit)
    if not mpps:
        return None
    return _plausible(sum(mpps) / len(mpps))


def _ome_root(xml: str) -> ET.Element | None:
    try:
        return ET.fromstring(xml)
    except ET.ParseError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def mpp_from_ome(xml: str, image_index: int = 0) -> float | None:
    """Microns per pixel from OME-XML ``Pixels`` PhysicalSizeX/Y (with their units) of one image."""
    root = _ome_root(xml)
    if root is None:
        return None
    images = [el for el in root if _local(el.tag) == "Image"]
    if not images or image_index >= len(images):
        return None
    pixels = next((el for el in images[image_index] if _local(el.tag) == "Pixels"), None)
    if pixels is None:
        return None
    values = []
    for axis in ("X", "Y"):
        size = parse_float(pixels.get(f"PhysicalSize{axis}"))
        scale = _OME_UNIT_UM.get(pixels.get(f"PhysicalSize{axis}Unit", "µm"))
        if size is not None and size > 0 and scale is not None:
            values.append(size * scale)
    if not values:
        return None
    return _plausible(sum(values) / len(values))


def objective_from_ome(xml: str) -> float | None:
    """NominalMagnification of the first OME ``Objective``, if any."""
    root = _ome_root(xml)
    if root is None:
        return None
    for el in root.iter():
        if _local(el.tag) == "Objective":
            mag = parse_float(el.get("NominalMagnification"))
            if mag is not None and mag > 0:
                return mag
    return None


def svs_fields(description: str) -> Mapping[str, str]:
    """Key/value pairs of an Aperio ImageDescription (``... |MPP = 0.499|AppMag = 20|...``)."""
    fields: dict[str, str] = {}
    for part in description.split("|")[1:]:
        match = re.match(r"\s*([^=]+?)\s*=\s*(.*?)\s*$", part)
        if match:
            fields[match.group(1)] = match.group(2)
    return fields
