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

__all__ = ["ContextSettings", "combine_stages", "context_feature_specs", "context_features", "keep_first_necrosis",
           "wide_necrosis"]

#: the optional inference settings of :class:`ContextSettings` (written to a model only when on)
_OPTIONAL = ("keep_necrosis_p", "keep_confident_p", "band_um", "necrosis_only", "band_min_width_um")


@dataclass(frozen=True)
class ContextSettings:
    """Scales (µm, Gaussian sigma) over which the first-stage class probabilities are pooled.

    ``keep_necrosis_p`` (0: off, else in (0.5, 1)): a block whose first-stage necrosis probability is at
    least this keeps the first stage's probabilities (:func:`keep_first_necrosis`), so the second stage
    cannot turn confident necrosis into the viable tissue around it (a narrow necrotic strip reads as
    its 8-16 µm surroundings; session 25). Opt-in (session 26); it adds no halo.

    Session 27 (opt-in, :func:`combine_stages`), limits on where and what the second stage may change, so that
    it keeps the first stage's reads far from necrosis (a tumour nest read as stroma, pale stroma read as
    necrosis):

    ``keep_confident_p`` (0: off, else in (0.5, 1)): a block whose largest first-stage probability (any
    class) is at least this keeps the first stage's probabilities.
    ``band_um`` (0: off, else > 0): the second stage acts only on blocks within this distance (µm, block
    centres) of a block the first stage reads necrosis (most probable class); elsewhere, and on a tile
    without first-stage necrosis, the first stage stands. The halo grows to ``band_um`` if that is larger.
    ``necrosis_only``: the second stage decides only the necrosis probability; the other classes keep the
    first stage's proportions, rescaled to the rest, so tumour, stroma and the others are never traded for
    each other.

    Session 28 (opt-in): ``band_min_width_um`` (0: off, else > 0; needs ``band_um``): the band grows only from
    first-stage necrosis at least this wide, i.e. what survives a morphological opening by a disk of this
    diameter (block centres); narrower specks (16-60 µm speckles in pale squamous sheets, session 27) keep the
    first stage. Local, so the halo grows to ``band_um + band_min_width_um`` if that is larger.
    """

    sigmas_um: tuple[float, ...] = (16.0, 40.0, 100.0)
    keep_necrosis_p: float = 0.0
    keep_confident_p: float = 0.0
    band_um: float = 0.0
    necrosis_only: bool = False
    band_min_width_um: float = 0.0

    def __post_init__(self) -> None:
        ok = (isinstance(self.sigmas_um, tuple) and len(self.sigmas_um) >= 1
              and all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in self.sigmas_um))
        if not ok:
            msg = f"ContextSettings.sigmas_um must be one or more positive finite scales in µm, got {self.sigmas_um!r}"
            raise ConfigError(msg)
        for name in ("keep_necrosis_p", "keep_confident_p"):
            k = getattr(self, name)
            if not (isinstance(k, int | float) and (k == 0 or 0.5 < k < 1)):
                msg = f"ContextSettings.{name} must be 0 (off) or in (0.5, 1), got {k!r}"
                raise ConfigError(msg)
        for name, what in (("band_um", "distance"), ("band_min_width_um", "width")):
            d = getattr(self, name)
            if not (isinstance(d, int | float) and math.isfinite(d) and d >= 0):
                msg = f"ContextSettings.{name} must be 0 (off) or a positive finite {what} in µm, got {d!r}"
                raise ConfigError(msg)
        w = self.band_min_width_um
        if w and not self.band_um:
            msg = f"ContextSettings.band_min_width_um ({w!r}) needs band_um > 0 (the band it limits), got band_um 0"
            raise ConfigError(msg)
        if not isinstance(self.necrosis_only, bool):
            msg = f"ContextSettings.necrosis_only must be True or False, got {self.necrosis_only!r}"
            raise ConfigError(msg)

    @property
    def limits_second_stage(self) -> bool:
        """True when any setting limits the second stage (:func:`combine_stages` is not the identity)."""
        return bool(self.keep_necrosis_p or self.keep_confident_p or self.band_um or self.necrosis_only)

    def halo_um(self) -> float:
        """Context (µm) around a block that the pooled probabilities depend on (beyond the first stage's)."""
        return max(TRUNCATE * max(self.sigmas_um), float(self.band_um) + float(self.band_min_width_um))

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sigmas_um": [float(v) for v in self.sigmas_um]}
        for name in _OPTIONAL:  # written only when on: the settings of earlier models are unchanged
            value = getattr(self, name)
            if value:
                out[name] = value if isinstance(value, bool) else float(value)
        return out

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ContextSettings:
        unknown = sorted(set(mapping) - {"sigmas_um", *_OPTIONAL})
        sig = mapping.get("sigmas_um")
        if unknown or not isinstance(sig, list | tuple):
            msg = (f"auto-context settings must be {{'sigmas_um': [µm, ...]}} (and optionally "
                   f"{', '.join(repr(n) for n in _OPTIONAL)}), got {dict(mapping)!r}")
            raise ConfigError(msg)
        try:
            return cls(tuple(float(v) for v in sig), float(mapping.get("keep_necrosis_p", 0.0)),
                       float(mapping.get("keep_confident_p", 0.0)), float(mapping.get("band_um", 0.0)),
                       mapping.get("necrosis_only", False), float(mapping.get("band_min_width_um", 0.0)))
        except (TypeError, ValueError) as exc:
            msg = (f"auto-context sigmas_um / keep_necrosis_p / keep_confident_p / band_um / band_min_width_um must be "
                   f"numbers, got {dict(mapping)!r}")
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


def combine_stages(first: np.ndarray, second: np.ndarray, *, necrosis: int, settings: ContextSettings,
                   grid_mpp: float) -> np.ndarray:
    """Output probabilities of a two-stage model: ``second`` limited by the opt-in settings of ``settings``.

    In order: ``necrosis_only`` (the second stage's necrosis probability, the first stage's other classes
    rescaled to the rest); then a block takes ``first`` unchanged where its first-stage necrosis probability
    is >= ``keep_necrosis_p``, its largest first-stage probability is >= ``keep_confident_p``, or it lies
    farther than ``band_um`` from every block the first stage reads necrosis (each when on; with
    ``band_min_width_um``, from every such block that survives the opening of :func:`wide_necrosis`).

    Parameters
    ----------
    first, second : (m, n, K) float32 ndarray
        Class probabilities of the same blocks from the first and the second stage.
    necrosis : int
        Index of the necrosis class.
    settings : ContextSettings
    grid_mpp : float
        µm per block (for ``band_um``).

    Returns
    -------
    (m, n, K) float32 ndarray
        ``second`` itself when no setting limits it.
    """
    if not settings.limits_second_stage:
        return second
    first = np.asarray(first, np.float32)
    out = np.asarray(second, np.float32)
    if settings.necrosis_only:
        p_nec = out[..., necrosis]
        rest = np.delete(first, necrosis, axis=-1)
        total = rest.sum(-1)
        share = np.where(total[..., None] > 1e-6, rest / np.maximum(total, 1e-6)[..., None],
                         np.float32(1.0 / rest.shape[-1]))
        out = np.insert(share * (1.0 - p_nec)[..., None], necrosis, p_nec, axis=-1).astype(np.float32)
    keep = np.zeros(first.shape[:-1], bool)
    if settings.keep_necrosis_p:
        keep |= first[..., necrosis] >= np.float32(settings.keep_necrosis_p)
    if settings.keep_confident_p:
        keep |= first.max(-1) >= np.float32(settings.keep_confident_p)
    if settings.band_um:
        nec = np.argmax(first, axis=-1) == necrosis
        if settings.band_min_width_um:
            nec = wide_necrosis(nec, settings.band_min_width_um / grid_mpp)
        if nec.any():
            keep |= ndi.distance_transform_edt(~nec) * grid_mpp > settings.band_um
        else:
            keep[...] = True
    return np.where(keep[..., None], first, out).astype(np.float32, copy=False)


def wide_necrosis(nec: np.ndarray, width_blocks: float) -> np.ndarray:
    """The blocks of ``nec`` that a disk of diameter ``width_blocks`` (block centres) fitting inside ``nec`` covers.

    A morphological opening (erosion, then dilation) by the disk of radius ``width_blocks / 2`` rounded down
    (at least one block); outside the map counts as necrosis for the erosion, so a region at the map's edge is
    not narrowed by the edge (the tiled path carries the halo that makes this exact inside a slide).

    Parameters
    ----------
    nec : (m, n) bool ndarray
    width_blocks : float
        Diameter in blocks; below 2 nothing is removed.

    Returns
    -------
    (m, n) bool ndarray
    """
    r = int(width_blocks // 2)
    if r < 1 or not nec.any():
        return nec
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = yy * yy + xx * xx <= r * r
    core = ndi.binary_erosion(nec, structure=disk, border_value=1)
    return ndi.binary_dilation(core, structure=disk) & nec
