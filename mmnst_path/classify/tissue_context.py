"""Auto-context for the tissue classifier: a second forest that sees the first one's classes around a block.

Necrosis is a confluent region; a few blocks that the first forest calls necrotic inside a wide
region it calls tumour (pale vesicular nuclei of a squamous nest, JPEG-soft at 1 µm/px) are not.
The first forest's features reach about ``context_um`` (30 µm); the second stage (Tu and Bai,
"Auto-context and its application to high-level vision tasks", CVPR 2008) adds the first
forest's class probabilities at the block and their Gaussian means over ``sigmas_um`` (tens to
a hundred µm), next to the first-stage features, and a second forest decides from both.

The second forest is trained on *out-of-fold* first-stage probabilities (first-stage forests
fitted without the image, ``scripts/train_tissue_model.py --auto-context``): on its own training
images a forest is overconfident, and a second stage trained on that would learn to trust it.

Feature columns of the second stage, in order: the first-stage features (same names), then
``p_{class}`` (the first-stage probability of each class at the block), then
``p_{class}_c{S}`` (its Gaussian mean over ``S`` µm, reflect at the tile edge, truncated at
:data:`~mmnst_path.classify.tissue_features.TRUNCATE` sigma) for every ``S`` in ``sigmas_um``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import ConfigError
from .model import FeatureSpec
from .tissue_features import TRUNCATE, kernel_radius

__all__ = ["ContextSettings", "context_feature_specs", "context_features", "keep_first_necrosis"]


@dataclass(frozen=True)
class ContextSettings:
    """Scales (µm, Gaussian sigma) over which the first-stage class probabilities are pooled.

    ``keep_necrosis_p`` (0: off, else in (0.5, 1)): a block whose first-stage necrosis probability is at
    least this keeps the first stage's probabilities (:func:`keep_first_necrosis`), so the second stage
    cannot turn confident necrosis into the viable tissue around it (a narrow necrotic strip reads as
    its 8-16 µm surroundings; session 25). Opt-in (session 26); it adds no halo.
    """

    sigmas_um: tuple[float, ...] = (16.0, 40.0, 100.0)
    keep_necrosis_p: float = 0.0

    def __post_init__(self) -> None:
        ok = (isinstance(self.sigmas_um, tuple) and len(self.sigmas_um) >= 1
              and all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in self.sigmas_um))
        if not ok:
            msg = f"ContextSettings.sigmas_um must be one or more positive finite scales in µm, got {self.sigmas_um!r}"
            raise ConfigError(msg)
        k = self.keep_necrosis_p
        if not (isinstance(k, int | float) and (k == 0 or 0.5 < k < 1)):
            msg = f"ContextSettings.keep_necrosis_p must be 0 (off) or in (0.5, 1), got {k!r}"
            raise ConfigError(msg)

    def halo_um(self) -> float:
        """Context (µm) around a block that the pooled probabilities depend on (beyond the first stage's)."""
        return TRUNCATE * max(self.sigmas_um)

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sigmas_um": [float(v) for v in self.sigmas_um]}
        if self.keep_necrosis_p:  # written only when on: the settings of earlier models are unchanged
            out["keep_necrosis_p"] = float(self.keep_necrosis_p)
        return out

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ContextSettings:
        unknown = sorted(set(mapping) - {"sigmas_um", "keep_necrosis_p"})
        sig = mapping.get("sigmas_um")
        if unknown or not isinstance(sig, list | tuple):
            msg = (f"auto-context settings must be {{'sigmas_um': [µm, ...]}} (and optionally 'keep_necrosis_p'), "
                   f"got {dict(mapping)!r}")
            raise ConfigError(msg)
        try:
            return cls(tuple(float(v) for v in sig), float(mapping.get("keep_necrosis_p", 0.0)))
        except (TypeError, ValueError) as exc:
            msg = f"auto-context sigmas_um / keep_necrosis_p must be numbers, got {dict(mapping)!r}"
            raise ConfigError(msg) from exc


def context_feature_specs(base: Sequence[FeatureSpec], classes: Sequence[str],
                          settings: ContextSettings) -> list[FeatureSpec]:
    """Columns of the second stage: the first-stage ``base`` features, ``p_{class}``, ``p_{class}_c{S}``."""
    specs = list(base)
    specs += [FeatureSpec(f"p_{c}", "", f"first-stage probability of {c}") for c in classes]
    for s in settings.sigmas_um:
        specs += [FeatureSpec(f"p_{c}_c{s:g}", "", f"first-stage probability of {c}, Gaussian mean over {s:g} µm")
                  for c in classes]
    return specs


def context_features(feats: np.ndarray, proba: np.ndarray, *, grid_mpp: float,
                     settings: ContextSettings) -> np.ndarray:
    """Second-stage feature map.

    Parameters
    ----------
    feats : (m, n, F) float32 ndarray
        First-stage features on the output grid.
    proba : (m, n, K) ndarray
        First-stage class probabilities of the same blocks.
    grid_mpp : float
        µm per output block.
    settings : ContextSettings

    Returns
    -------
    (m, n, F + K (1 + len(sigmas_um))) float32 ndarray
        Columns as :func:`context_feature_specs`.
    """
    if feats.shape[:2] != proba.shape[:2] or feats.ndim != 3 or proba.ndim != 3:
        msg = f"features {feats.shape} and probabilities {proba.shape} must be maps of the same (m, n) blocks"
        raise ConfigError(msg)
    p = np.asarray(proba, np.float32)
    parts = [np.asarray(feats, np.float32), p]
    for s in settings.sigmas_um:
        sig = max(s / grid_mpp, 0.3)
        r = kernel_radius(sig)
        parts.append(ndi.gaussian_filter(p, (sig, sig, 0), mode="reflect", radius=(r, r, 0)))
    return np.concatenate(parts, axis=-1)


def keep_first_necrosis(first: np.ndarray, second: np.ndarray, necrosis: int, threshold: float) -> np.ndarray:
    """Second-stage probabilities, with the first stage's where its ``necrosis`` probability >= ``threshold``.

    Parameters
    ----------
    first, second : (..., K) float32 ndarray
        Class probabilities of the same blocks from the first and the second stage.
    necrosis : int
        Index of the necrosis class.
    threshold : float
        :attr:`ContextSettings.keep_necrosis_p`; 0 returns ``second`` unchanged.

    Returns
    -------
    (..., K) float32 ndarray
    """
    if not threshold:
        return second
    keep = first[..., necrosis] >= np.float32(threshold)
    return np.where(keep[..., None], first, second).astype(np.float32, copy=False)
