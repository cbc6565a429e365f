"""Names shared by the GeoJSON writer (:mod:`mmnst_path.geojson`) and reader
(:mod:`mmnst_path._geojson_read`): QuPath class names and colours, measurement names, and
:class:`Roi`. Re-exported by :mod:`mmnst_path.geojson`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .aggregate import CELL_TYPES

__all__ = ["CLASS_COLORS", "IMAGE_MEASUREMENT_NAMES", "MEASUREMENT_NAMES", "MELANOCYTE_CLASS_NAMES", "QUPATH_CLASS_NAMES", "QUPATH_DEFAULT_COLORS", "TYPE_CLASS_NAMES", "Roi",
           "keyhole_ring", "measurement_names"]

#: QuPath classification name of each cell class.
QUPATH_CLASS_NAMES = {"positive": "Positive", "negative": "Negative", "pigment": "Pigment", "excluded": "Excluded"}
#: The colour QuPath gives a class of each name when the file or project does not set one, [r, g, b]
#: 0-255 (QuPath 0.2-0.3 ``PathClassFactory.getPathClass``, 0.4+ ``PathClass.getDefaultColor`` and
#: ``PathClass.StandardPathClasses``): a colour this module writes for another class stays clear of each
#: of them, so a class never reads as one of QuPath's; a class of the same name (Positive, Negative,
#: Stroma, Other) gets QuPath's colour, which QuPath shows anyway. Positive, Negative and the intensity
#: classes 1+ / 2+ / 3+ on their own are QuPath's constants scaled by 1.25 (``ColorTools.makeScaledRGB``,
#: channels truncated and capped at 255): Positive (200, 50, 50) -> (250, 62, 62), Negative (90, 90, 180)
#: -> (112, 112, 225); the unscaled constants are those of the classes derived from Tumor
#: ("Tumor: Positive" (200, 50, 50), "Tumor: Negative" (90, 90, 180)), which this module does not write.
QUPATH_DEFAULT_COLORS = {
    "Tumor": (200, 0, 0), "Non-tumor": (140, 220, 90), "Stroma": (150, 200, 150), "Immune cells": (160, 90, 160),
    "Nucleus": (20, 200, 20), "Cell": (220, 0, 0), "Whitespace": (180, 180, 180), "Positive": (250, 62, 62),
    "Negative": (112, 112, 225), "Artefact": (180, 180, 180), "Image": (128, 128, 128), "Region*": (0, 0, 180),
    "Necrosis": (50, 50, 50), "Other": (255, 200, 0), "1+": (255, 255, 0), "2+": (255, 187, 62),
    "3+": (250, 62, 62),
}
#: Classification colour of each cell class, [r, g, b] 0-255: Positive red (250, 62, 62) and Negative
#: blue (112, 112, 225), QuPath's own for those names (:data:`QUPATH_DEFAULT_COLORS`), so a file looks
#: the same before and after QuPath has met the class; Pigment brown (120, 72, 24), Excluded teal
#: (0, 160, 160).
CLASS_COLORS = {
    "positive": (250, 62, 62),
    "negative": (112, 112, 225),
    "pigment": (120, 72, 24),
    "excluded": (0, 160, 160),
}
#: QuPath class (and colour, [r, g, b] 0-255) of a nucleus the cell model took out of the Ki67 index,
#: by type: Lymphocyte magenta (230, 70, 230), Stroma pale green (150, 200, 150, QuPath's), Macrophage
#: olive (150, 150, 0), Other yellow (255, 200, 0, QuPath's). None is near the Positive red or the
#: Negative blue (test_geojson_class_colours.py).
#: A double stain's melanocytic nuclei (marker-positive): QuPath derived classes "Melanocyte: Positive" (and Negative,
#: Pigment), which QuPath counts and colours apart from the plain classes (and reads back as their last part); the
#: colours are QuPath's own for a derived Positive / Negative ("Tumor: Positive" (200, 50, 50), "Tumor: Negative"
#: (90, 90, 180)), a darker brown for Pigment.
MELANOCYTE_CLASS_NAMES = {"positive": ("Melanocyte: Positive", (200, 50, 50)),
                          "negative": ("Melanocyte: Negative", (90, 90, 180)),
                          "pigment": ("Melanocyte: Pigment", (90, 54, 18))}
TYPE_CLASS_NAMES = {"lymphocyte": ("Lymphocyte", (230, 70, 230)), "stromal": ("Stroma", (150, 200, 150)),
                    "macrophage": ("Macrophage", (150, 150, 0)), "other": ("Other", (255, 200, 0))}
#: Measurement names written for each CellTable column (QuPath-style names).
MEASUREMENT_NAMES = {
    "area_um2": "Area µm^2",
    "dab_od_mean": "DAB OD mean",
    "dab_od_max": "DAB OD max",
    "hematoxylin_od_mean": "Hematoxylin OD mean",
    "circularity": "Circularity",
    "eccentricity": "Eccentricity",
    "intensity_bin": "Intensity bin",
    # QC flag (1 / 0): at least half the nucleus near-black, strong DAB or melanin without granules
    # (Ki67Cells.near_black); QuPath filters or classifies on it like any measurement
    "near_black": "Near-black",
    # double stain (Ki67 / MART-1 or SOX10): 1 / 0, the nucleus is melanocytic (its marker read around or in it)
    "melanocytic": "Melanocytic",
    # double stain: mean OD of the melanocyte marker (MART-1 / SOX10 chromogen) where it is read, around or in
    # the nucleus (Ki67Cells.marker_od_mean)
    "marker_od_mean": "Marker OD mean",
    # 1 / 0: the cell model called the nucleus stromal, but it lies in a spindle-cell sheet and was counted
    # as tumour ([ki67] spindle_sheet)
    "in_spindle_sheet": "In spindle sheet",
    # the stain's call before the cell model decided: 0 negative, 1/2/3 positive 1+/2+/3+, -1 not in the
    # index (pigment or excluded by the stain rules); Ki67Cells.stain_bin, written when the spindle-sheet rule ran
    "stain_bin": "Stain bin before cell model",
    # P(tumour) of the cell model (0-1), NaN (left out) without a model
    "tumour_probability": "Tumour probability",
    # 1 / 0: a napari reviewer judged the nucleus (napari Review's saved edits and Export)
    "reviewed": "Reviewed",
}
#: Measurement names of the whole-image annotation ("Image", written when no ROI was given): the slide's
#: area measures, by their ``metrics`` key (% of tissue unless named otherwise; areas in mm²), each written
#: only when measured and defined. ``Tumour %`` / ``Stroma %`` are of the tissue the tissue model classed.
IMAGE_MEASUREMENT_NAMES = {
    "necrosis_fraction_pct": "Necrosis %",
    "necrosis_area_mm2": "Necrosis area mm^2",
    "melanin_fraction_pct": "Melanin %",
    "melanin_area_mm2": "Melanin area mm^2",
    "melanin_tumour_fraction_pct": "Melanin % of tumour",
    "tumour_fraction_pct": "Tumour %",
    "stroma_fraction_pct": "Stroma %",
    "tissue_area_mm2": "Tissue area mm^2",
    # the Ki67 index's 95 % interval and pigment bound (the counts and Positive % come from the nuclei inside)
    "ki67_ci_low_pct": "Ki67 95% CI low %",
    "ki67_ci_high_pct": "Ki67 95% CI high %",
    "ki67_pigment_obscured_pct": "Ki67 nuclei hidden by pigment %",
    "ki67_index_if_obscured_negative_pct": "Ki67 % if hidden negative",
    "ki67_index_if_obscured_positive_pct": "Ki67 % if hidden positive",
    "ki67_melanocytic_ci_low_pct": "Melanocytic Ki67 95% CI low %",
    "ki67_melanocytic_ci_high_pct": "Melanocytic Ki67 95% CI high %",
    "ki67_melanocytic_pigment": "Melanocytic nuclei hidden by pigment",
    "ki67_melanocytic_index_if_obscured_negative_pct": "Melanocytic Ki67 % if hidden negative",
    "ki67_melanocytic_index_if_obscured_positive_pct": "Melanocytic Ki67 % if hidden positive",
}
#: The models a result names (``metrics`` keys, ``id name version``), written as the annotations' ``metadata``
#: so a GeoJSON opened in QuPath says which models (a lab's own, by id) decided its numbers.
MODEL_KEYS = ("cell_model", "hidden_model", "pigment_cell_model", "tissue_model", "intact_model", "pigment_model",
              "pigment_gate")
#: Every column of :data:`MEASUREMENT_NAMES` is also read back under its own key (``stain_bin``,
#: ``tumour_probability``, ``reviewed``: how files before session 33 wrote the last three).
#: Display name of each Ki67 chromogen and counterstain (``ki67_chromogen`` / ``ki67_counterstain`` of the metrics).
STAIN_DISPLAY = {"chromogen": {"dab": "DAB", "aec": "AEC", "fast_red": "Fast Red"},
                 "counterstain": {"hematoxylin": "Hematoxylin", "azure_b": "Azure B"}}
#: Columns whose measurement name follows the stain read (chromogen or counterstain), and its form.
_STAINED_MEASUREMENTS = {"dab_od_mean": ("chromogen", "{} OD mean"), "dab_od_max": ("chromogen", "{} OD max"),
                         "hematoxylin_od_mean": ("counterstain", "{} OD mean")}


def measurement_names(chromogen: str = "dab", counterstain: str = "hematoxylin") -> dict[str, str]:
    """:data:`MEASUREMENT_NAMES` with the stain's own names: ``"AEC OD mean"`` / ``"Fast Red OD max"``
    for the chromogen columns of an AEC / Fast Red Ki67, ``"Azure B OD mean"`` for the counterstain
    column of an azure B one; DAB and hematoxylin (and an unknown stain) keep ``"DAB OD mean"``...
    """
    stains = {"chromogen": STAIN_DISPLAY["chromogen"].get(chromogen, "DAB"),
              "counterstain": STAIN_DISPLAY["counterstain"].get(counterstain, "Hematoxylin")}
    names = dict(MEASUREMENT_NAMES)
    for key, (which, form) in _STAINED_MEASUREMENTS.items():
        names[key] = form.format(stains[which])
    return names


def column_stains(stained: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """What cells.parquet's schema metadata ``mmnst_path.stains`` says: the stains (``stained``: ``stains``,
    ``chromogen``, ``counterstain`` as the result's metrics name them) and the stain each generic OD column of
    ``columns`` holds (``dab_od_mean`` -> ``"AEC"`` on an AEC Ki67, ``hematoxylin_od_mean`` -> ``"Azure B"``)."""
    names = {"chromogen": STAIN_DISPLAY["chromogen"].get(str(stained.get("chromogen") or "dab"), "DAB"),
             "counterstain": STAIN_DISPLAY["counterstain"].get(str(stained.get("counterstain") or "hematoxylin"),
                                                               "Hematoxylin")}
    held = {key: names[which] for key, (which, _) in _STAINED_MEASUREMENTS.items() if key in columns}
    if "marker_od_mean" in columns:
        held["marker_od_mean"] = "melanocyte marker (the double stain's second chromogen)"
    return {"stains": stained.get("stains"), "chromogen": stained.get("chromogen"),
            "counterstain": stained.get("counterstain"), "columns": held}


#: Every name a stained column has been written under (all stains, and the DAB names of files written
#: before the names followed the stain), for reading back.
STAINED_NAME_ALIASES = {key: tuple(form.format(name) for name in STAIN_DISPLAY[which].values())
                        for key, (which, form) in _STAINED_MEASUREMENTS.items()}
#: The stain a stained measurement name says was read: ``"AEC OD mean"`` -> ``("chromogen", "aec")``,
#: ``"Azure B OD mean"`` -> ``("counterstain", "azure_b")`` (the DAB / hematoxylin names too).
STAIN_OF_NAME = {form.format(name): (which, stain) for which, form in _STAINED_MEASUREMENTS.values()
                 for stain, name in STAIN_DISPLAY[which].items()}
#: The cell type of a QuPath class name that :data:`TYPE_CLASS_NAMES` writes (lower case), for reading.
_TYPE_OF_CLASS = {name.lower(): CELL_TYPES.index(t) for t, (name, _) in TYPE_CLASS_NAMES.items()}
_NAMESPACE = uuid.UUID("6f1c1f0e-0d1b-4f54-9a39-3b7e1d2c5a11")


@dataclass(frozen=True, eq=False)
class Roi:
    """A region of interest.

    Attributes
    ----------
    polygon : (K, 2) float64 ndarray
        Outer-ring vertices in level-0 (row, col) pixels (pixel centres at integers), not closed.
    name : str
        The annotation's name ("" when it has none).
    holes : tuple of (K, 2) float64 ndarray
        The polygon's holes, as ``polygon`` (not inside the region).
    classification : mapping, optional
        The annotation's QuPath ``classification`` as read (``{"name": ..., "color": [r, g, b]}``),
        written back unchanged; None when it had none.
    """

    polygon: np.ndarray
    name: str = ""
    holes: tuple[np.ndarray, ...] = ()
    classification: Mapping[str, Any] | None = None

    @property
    def region(self) -> np.ndarray:
        """One (K, 2) ring whose even-odd inside is the polygon less its holes (:func:`keyhole_ring`):
        what the analysis measures, through every even-odd test of a single ring."""
        return keyhole_ring(self.polygon, self.holes)

    @property
    def rings(self) -> list[np.ndarray]:
        """The outer ring, then the holes (what a picture outlines)."""
        return [np.asarray(self.polygon, np.float64), *(np.asarray(h, np.float64) for h in self.holes)]


def keyhole_ring(outer: np.ndarray, holes: Sequence[np.ndarray] = ()) -> np.ndarray:
    """A polygon with holes as one ring: the outer ring, then for each hole a cut from the outer
    ring's first vertex to the hole, around the hole and back.

    Each cut is walked once each way, so a ray crosses it an even number of times: under the even-odd
    rule (skimage ``polygon2mask`` / ``points_in_poly``, the tile planner's test) the ring's inside is
    the outer ring's less the holes' (a hole of a hole, or overlapping holes, follow even-odd too),
    wherever the cuts run.

    Parameters
    ----------
    outer : (K, 2) array
        Outer-ring vertices, not closed.
    holes : sequence of (M, 2) arrays
        Hole rings, not closed.

    Returns
    -------
    (N, 2) float64 ndarray
        ``outer`` itself when there is no hole.
    """
    ring = np.asarray(outer, dtype=np.float64)
    if not len(holes):
        return ring
    parts = [ring]
    for hole in holes:
        h = np.asarray(hole, dtype=np.float64)
        parts.append(np.concatenate([ring[:1], h, h[:1]]))
    return np.concatenate(parts)
