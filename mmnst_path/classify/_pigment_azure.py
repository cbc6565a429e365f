"""Melanin of an azure B counterstain by the learned pixel model (issue #14, session 41).

With an azure B counterstain (preset ``AzureB-DAB``, Kamino & Tam 1991) melanin binds the dye and
turns green-blue; the rules (:func:`mmnst_path.detect.pigment.pigment_masks`, mode ``"azure"``)
find it by the stained-melanin sector of the azure B + DAB unmixing, grown into the blurred edge
of each granule. Against the melanin as drawn (before the optical blur) that edge is the rules'
main error. Here the shipped azure model (``pigment_azure.mmnst``, ``scripts/train_pigment_azure.py``:
the project's pixel features, :func:`~mmnst_path.classify.pigment.pigment_probability`, trained on
the drawn label of generated azure B tiles) decides each pixel **inside the rules' Ki67 exclusion
mask**: the melanin mask is the pixels there it calls melanin, and the Ki67 exclusion mask stays
the rules' (a superset of the new melanin mask), so the Ki67 index reads the same exclusion as with
the rules. The model runs on the exclusion pixels only (a few % of a pigmented tile, none on most
unpigmented ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .model import ClassifierModel

__all__ = ["azure_pigment_masks"]


def azure_pigment_masks(rgb: np.ndarray, *, mpp: float, model: ClassifierModel, stains: Any, params: Any = None,
                        background: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Melanin mask, Ki67 exclusion mask and melanin probability of an azure B tile.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    mpp : float
        µm per pixel of ``rgb``.
    model : ClassifierModel
        A pigment pixel model (the shipped azure one: :func:`~mmnst_path.classify.pigment.model_for_stains`).
    stains : str or StainMatrix
        A matrix with azure B and DAB (pigment mode ``"azure"``).
    params : PigmentParams or None
        The rules' thresholds and ``min_probability``.
    background : white point or None

    Returns
    -------
    melanin : (M, N) bool ndarray
        Pixels of the rules' exclusion mask with P(melanin) >= ``params.min_probability``.
    exclusion : (M, N) bool ndarray
        The rules' Ki67 exclusion mask (:func:`~mmnst_path.detect.pigment.pigment_masks`), unchanged.
    probability : (M, N) float32 ndarray
        The model's probability (0 outside the exclusion mask and the candidates).
    """
    from ..detect._pigment_params import _matrix
    from ..detect.pigment import PigmentParams, pigment_masks, pigment_mode
    from .pigment import pigment_probability

    params = params if params is not None else PigmentParams()
    if background is None:  # the matrix's own white point (as classify_pigment)
        background = _matrix(stains).background
    mode = pigment_mode(stains, params)
    if mode != "azure":
        msg = f"azure_pigment_masks needs stains of pigment mode 'azure' (azure B + DAB), got mode {mode!r}"
        raise ValueError(msg)
    _, exclusion = pigment_masks(rgb, mpp=mpp, stains=stains, params=params, background=background)
    if not exclusion.any():
        prob = np.zeros(rgb.shape[:2], np.float32)
        return np.zeros(rgb.shape[:2], bool), exclusion, prob
    prob, _ = pigment_probability(rgb, mpp=mpp, model=model, background=background, where=exclusion)
    return (prob >= params.min_probability) & exclusion, exclusion, prob
