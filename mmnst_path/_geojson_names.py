"""Names shared by the GeoJSON writer (:mod:`mmnst_path.geojson`) and reader
(:mod:`mmnst_path._geojson_read`): QuPath class names and colours, measurement names, and
:class:`Roi`. Re-exported by :mod:`mmnst_path.geojson`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from .aggregate import CELL_TYPES

__all__ = ["CLASS_COLORS", "MEASUREMENT_NAMES", "QUPATH_CLASS_NAMES", "TYPE_CLASS_NAMES", "Roi"]

#: QuPath classification name of each cell class.
QUPATH_CLASS_NAMES = {"positive": "Positive", "negative": "Negative", "pigment": "Pigment", "excluded": "Excluded"}
#: Classification colour of each cell class, [r, g, b] 0-255 (QuPath's defaults for Positive/Negative).
CLASS_COLORS = {
    "positive": (200, 50, 50),
    "negative": (112, 112, 225),
    "pigment": (120, 72, 24),
    "excluded": (160, 160, 160),
}
#: QuPath class (and colour) of a nucleus the cell model took out of the Ki67 index, by type.
TYPE_CLASS_NAMES = {"lymphocyte": ("Lymphocyte", (40, 80, 220)), "stromal": ("Stroma", (40, 170, 60)),
                    "macrophage": ("Macrophage", (220, 150, 20)), "other": ("Other", (130, 130, 130))}
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
    # 1 / 0: the cell model called the nucleus stromal, but it lies in a spindle-cell sheet and was counted
    # as tumour ([ki67] spindle_sheet)
    "in_spindle_sheet": "In spindle sheet",
}
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
    """

    polygon: np.ndarray
    name: str = ""
