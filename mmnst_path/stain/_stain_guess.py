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



#: An image's own white whose channels spread this many grey levels or more is tinted (:func:`_azure_reason`).
TINT_SPREAD = 10.0


def _azure_reason(counter: float, teal: float, *, glass: bool, own_white: tuple[float, float, float] | None,
                 counter_deg: tuple[float, float], teal_deg: tuple[float, float],
                 limits: tuple[float, float]) -> str:
    """The reason of an ``AzureB-DAB`` guess: what was measured, in which angle bands, against which white.

    The two shares are of tissue pixels by the angle of their hematoxylin-free residual: the blue band of
    azure B itself and the green-blue band of azure-B-bound melanin. With no glass seen the angles are taken
    against pure white, and a yellowish white balance turns the residual of azure B nuclei green-blue too (a
    bluish or pinkish one is said as a tint, without that remark). Session 43 H7's walk (defect 11): a tile whose every nucleus is azure B, own white
    (239, 242, 212), read "azure B counterstain on 0.0 % and green-blue melanin on 32.8 %"; its azure B
    nuclei lie at +81° against pure white (+116° against its own white), and of the green-blue pixels of the
    full tile (0.5 µm/px) 55 % are such nuclei, 43 % melanin.

    Parameters
    ----------
    counter, teal : float
        Shares of the tissue pixels in the blue and the green-blue band.
    glass : bool
        The angles were taken against the glass's white.
    own_white : tuple of 3 float or None
        With no glass seen, the image's own white (8-bit R, G, B; the angles were taken against pure white
        all the same); None: glass seen.
    counter_deg, teal_deg : tuple of 2 float
        The bands (degrees from DAB).
    limits : tuple of 2 float
        The shares from which the image is ``AzureB-DAB``.

    Returns
    -------
    str
    """
    tinted = own_white is not None and max(own_white) - min(own_white) >= TINT_SPREAD
    # only a yellowish white (blue the lowest channel) turns the residual of azure B nuclei green-blue against pure
    # white; a bluish or pinkish tint is said as a tint, without that remark
    yellowish = tinted and own_white is not None and own_white[2] == min(own_white)
    if glass:
        under = "against the glass's white"
    elif tinted and own_white is not None:
        under = f"against pure white (no glass seen; the image's own white {tuple(round(c) for c in own_white)} is tinted)"
    else:
        under = "against pure white (no glass seen)"
    return (f"blue of azure B (residual at {counter_deg[0]:+.0f} to {counter_deg[1]:+.0f}° from DAB) on "
            f"{100 * counter:.1f} % and green-blue ({teal_deg[0]:+.0f} to {teal_deg[1]:+.0f}°: azure-B-bound "
            f"melanin{', or azure B nuclei under the yellowish tint' if yellowish else ''}) on {100 * teal:.1f} % of the tissue, "
            f"{under} (azure B from {100 * limits[0]:.0f} % / {100 * limits[1]:.0f} %)")
