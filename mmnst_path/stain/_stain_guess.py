"""The result of the stain guess (:class:`StainGuess`; split from :mod:`mmnst_path.stain.guess` in
session 34, unchanged: importable from there as the same object)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .places import ChromogenPlaces

__all__ = ["StainGuess"]


@dataclass(frozen=True)
class StainGuess:
    """Result of :func:`guess_stains_detail`.

    Attributes
    ----------
    name : str
        ``"H-DAB"``, ``"H-AEC"``, ``"H-FastRed"``, ``"AzureB-DAB"``, ``"H&E"``, ``"H-DAB-FastRed"`` or
        ``"H-DAB-AEC"``.
    ambiguous : bool
        The evidence lies within the margin of a boundary (``reason`` says which).
    reason : str
        One plain-language sentence: what decided, and why it is ambiguous when it is.
    chromogen_deg : float
        Angle of the chromogen peak from DAB in the hematoxylin-free plane (NaN: none).
    pink_share : float
        Fraction of the tissue pixels tinted red (eosin or a red chromogen).
    white_point : tuple of 3 float
        White point (8-bit R, G, B) the OD was computed with.
    alternative : str
        The preset to pass when an ambiguous guess is wrong (the other side of the boundary; "":
        none in particular).
    azure_share : float
        Largest of the azure B counterstain and green-blue melanin shares, each over its limit
        (>= 1: azure B).
    red_dense : float
        Share of the densest quarter of the tissue pixels that a red chromogen dominates, over the
        pink share of the lighter half (>= ``RED_DENSE_RATIO``: the red sits in the nuclei, not
        H&E; NaN: not computed).
    places : ChromogenPlaces or None
        Where the chromogen sits (None: not measured, the image too coarse or ``mpp`` not given).
    marker : str
        Where a double stain's melanocyte marker sits: ``"cytoplasmic"`` (MART-1 / Melan-A, red in
        rings around cells) or ``"nuclear"`` (SOX10, red nuclei); ``""`` for a single stain. The
        pipeline passes it on as ``Ki67Params.melanocyte_marker`` when that is ``"auto"``.
    he_probability : float
        The stain model's probability that the image is H&E
        (:mod:`mmnst_path.stain.he_model`; NaN: too few tissue pixels, the pink share decided).
    chromogen_features : (F,) ndarray or None
        The chromogen model's feature row (:func:`~mmnst_path.stain.chromogen_model.chromogen_features`;
        None: no chromogen peak).
    chromogen_probability : float
        The chromogen model's Fast Red probability of a single red-chromogen guess
        (:mod:`mmnst_path.stain.chromogen_model`; NaN: not asked).
    dab_features : (F,) ndarray or None
        The DAB-vs-AEC body model's row of a single H-DAB guess redder than DAB
        (:func:`~mmnst_path.stain.dab_bodies.dab_row`; None: not asked).
    aec_probability : float
        The DAB-vs-AEC body model's AEC probability of that guess
        (:func:`~mmnst_path.stain.dab_bodies.by_dab_model`; NaN: not asked).
    """

    name: str
    ambiguous: bool
    reason: str
    chromogen_deg: float
    pink_share: float
    white_point: tuple[float, float, float]
    alternative: str = ""
    azure_share: float = 0.0
    red_dense: float = math.nan
    places: ChromogenPlaces | None = None
    marker: str = ""
    he_probability: float = math.nan
    chromogen_features: np.ndarray | None = field(default=None, repr=False, compare=False)
    chromogen_probability: float = math.nan
    dab_features: np.ndarray | None = field(default=None, repr=False, compare=False)
    aec_probability: float = math.nan
