"""The result types of the Ki67 measurement: classified nuclei (:class:`Ki67Cells`) and one
image's result (:class:`Ki67Region`). Re-exported by :mod:`mmnst_path.quantify.ki67`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from ._ki67_counts import Ki67Counts

__all__ = ["Ki67Cells", "Ki67Region"]


@dataclass(frozen=True, slots=True, eq=False)
class Ki67Cells:
    """Classified nuclei: the :class:`~mmnst_path.detect.nuclei.Nuclei` features plus a class.

    Attributes
    ----------
    row, col : (n,) float64
        Centroids in pixels of the analysed image.
    area_um2, dab_od_mean, dab_od_max, hematoxylin_od_mean, circularity, eccentricity : (n,) arrays
        As in ``Nuclei``.
    cls : (n,) str array
        One of :data:`CLASSES`.
    intensity_bin : (n,) int8
        0 for non-positive nuclei, 1/2/3 for 1+/2+/3+ positive nuclei.
    cell_type : (n,) str array
        Class from the cell model (``tumour``, ``lymphocyte``, ``stromal``...), ``unclassified``
        without one.
    tumour_probability : (n,) float32
        The cell model's tumour probability (NaN without a model).
    outline_radii : (n, 16) float32
        Outline of each nucleus as radii (pixels of the analysed image) of a star polygon around
        its centroid (:mod:`mmnst_path.detect.outlines`); (n, 0) when not computed.
    melanocytic : (n,) bool
        The nucleus carries the melanocyte marker of a double stain (False without a marker).
    marker_od_mean : (n,) float32
        Median red (marker) concentration, log10 OD, where the marker was read (perinuclear ring
        or nucleus, pigment pixels left out); NaN without a marker or with no readable pixel.
    near_black : (n,) bool
        At least ``Ki67Params.pigment_saturated_share`` of the nucleus's pixels are near-black
        (OD >= ``pigment_saturated_od`` in every RGB channel): strong DAB, or melanin without
        granules, which no per-nucleus cue tells apart (``Ki67Params.near_black``; QC count
        ``Ki67Counts.near_black_positive``). False when not measured.
    in_spindle_sheet : (n,) bool
        The cell model called the nucleus stromal, but it lies in a crowded sheet of spindle
        nuclei (:func:`mmnst_path.classify.cells.spindle_sheet`); with
        ``Ki67Params.spindle_sheet = True`` it is counted as tumour, with ``"auto"`` the slide
        decides (:func:`mmnst_path.aggregate.apply_spindle_sheet`). False without the rule.
    stain_bin : (n,) int8
        The stain's call before the cell model decided: 0 negative, 1/2/3 positive 1+/2+/3+, -1
        not in the index whatever the model says (pigment, or excluded by the stain rules). What
        a nucleus in a spindle sheet is counted as when the slide takes it back.
    """

    row: np.ndarray
    col: np.ndarray
    area_um2: np.ndarray
    dab_od_mean: np.ndarray
    dab_od_max: np.ndarray
    hematoxylin_od_mean: np.ndarray
    circularity: np.ndarray
    eccentricity: np.ndarray
    cls: np.ndarray
    intensity_bin: np.ndarray
    cell_type: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U12"))
    tumour_probability: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    outline_radii: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    melanocytic: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    marker_od_mean: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    near_black: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    in_spindle_sheet: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    stain_bin: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))

    def __post_init__(self) -> None:
        n = int(self.row.shape[0])
        if self.cell_type.shape != (n,):
            object.__setattr__(self, "cell_type", np.full(n, "unclassified", dtype="<U12"))
        if self.tumour_probability.shape != (n,):
            object.__setattr__(self, "tumour_probability", np.full(n, np.nan, dtype=np.float32))
        if self.outline_radii.ndim != 2 or self.outline_radii.shape[0] != n:
            object.__setattr__(self, "outline_radii", np.zeros((n, 0), np.float32))
        if self.melanocytic.shape != (n,):
            object.__setattr__(self, "melanocytic", np.zeros(n, bool))
        if self.marker_od_mean.shape != (n,):
            object.__setattr__(self, "marker_od_mean", np.full(n, np.nan, dtype=np.float32))
        if self.near_black.shape != (n,):
            object.__setattr__(self, "near_black", np.zeros(n, bool))
        if self.in_spindle_sheet.shape != (n,):
            object.__setattr__(self, "in_spindle_sheet", np.zeros(n, bool))
        if self.stain_bin.shape != (n,):
            stain = np.where(self.cls == "positive", self.intensity_bin, np.where(self.cls == "negative", 0, -1))
            object.__setattr__(self, "stain_bin", stain.astype(np.int8))

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def select(self, keep: np.ndarray) -> Ki67Cells:
        """Subset by a boolean mask or index array."""
        return Ki67Cells(*(getattr(self, f.name)[keep] for f in fields(self)))

    def counts(self) -> Ki67Counts:
        """Additive counts of these cells."""
        return Ki67Counts.from_classes(self.cls, self.intensity_bin, self.cell_type, self.melanocytic,
                                       near_black=self.near_black)


@dataclass(frozen=True, slots=True, eq=False)
class Ki67Region:
    """Result of :func:`measure_ki67` on one image: classified cells and their counts."""

    cells: Ki67Cells
    counts: Ki67Counts
    labels: np.ndarray | None = field(default=None, repr=False)
    pigment_features: np.ndarray | None = field(default=None, repr=False)
    cell_features: np.ndarray | None = field(default=None, repr=False)
