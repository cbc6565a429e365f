"""Apply a tissue (pixel) classifier to a tile: class probabilities and labels on a block grid.

A tissue model (``kind == "tissue"``, see :mod:`mmnst_path.classify.model`) stores in its
``settings`` the feature recipe (``features``: :class:`TissueFeatureSettings` as a mapping, which
holds the feature grids ``grid_um``, ``predict_um`` and the output grid ``output_um``) and the stain matrix it
was trained with (``stains``); classes are predicted per output block. The output grid of a tile is aligned to the slide's analysis grid with
``origin`` (as :func:`mmnst_path.quantify.necrosis.measure_necrosis` does), so a whole slide's
classes do not depend on the tiling when tiles carry :func:`tissue_halo_um` of context.

A model with a context stage (:class:`~mmnst_path.classify.model.ContextStage`, auto-context, see
:mod:`mmnst_path.classify.tissue_context`) is applied in two stages: the first forest's class
probabilities, pooled over its ``sigmas_um`` next to the features, go to the second forest, whose
probabilities are the result; its halo grows by the pooling's reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._image_reference import ImageReference, image_reference
from ._tissue_boxes import grow_box
from .model import ClassifierModel
from .tissue_context import ContextSettings, combine_stages, context_feature_specs, context_features
from .tissue_features import (
    TissueFeatureSettings,
    base_maps,
    block_mean,
    features_from_base,
    grid_factors,
    tissue_feature_specs,
    window_boxes,
)

__all__ = ["FAT_RIM_BLOCKS", "ImageReference", "TissueMap", "classify_tissue", "image_reference", "region_mask", "smoothed_labels", "tissue_factors", "tissue_feature_settings",
           "tissue_halo_um"]


@dataclass(frozen=True, eq=False)
class TissueMap:
    """Tissue classes of a tile on its output grid.

    Attributes
    ----------
    labels : (m, n) int8 ndarray
        Index of the most probable class (into ``classes``).
    proba : (m, n, K) float32 ndarray
        Class probabilities.
    mpp : float
        µm per output-grid pixel (``factor * image mpp``).
    factor : int
        Image pixels per output-grid pixel side.
    classes : tuple of str
    model_id : str
    window : (int, int, int, int) or None
        The blocks classified, rows ``window[0]:window[1]`` and columns ``window[2]:window[3]``, when
        :func:`classify_tissue` was asked for part of the grid (the others read as ``background``); None:
        every block.
    """

    labels: np.ndarray
    proba: np.ndarray
    mpp: float
    factor: int
    classes: tuple[str, ...]
    model_id: str
    window: tuple[int, int, int, int] | None = None

    def fraction(self, name: str) -> np.ndarray:
        """(m, n) bool: blocks labelled ``name`` (all False when the model has no such class)."""
        if name not in self.classes:
            return np.zeros(self.labels.shape, bool)
        return self.labels == self.classes.index(name)


def tissue_feature_settings(model: ClassifierModel) -> TissueFeatureSettings:
    """The feature recipe of a tissue model, checked against its feature names."""
    if model.kind != "tissue":
        msg = f"model {model.name!r} is a {model.kind} model, expected a tissue model"
        raise ConfigError(msg)
    try:
        settings = TissueFeatureSettings.from_mapping(model.settings["features"])
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"tissue model {model.name!r} has no valid feature settings ({exc})"
        raise ConfigError(msg) from exc
    expected = tuple(s.name for s in tissue_feature_specs(settings))
    if expected != model.feature_names:
        msg = (f"tissue model {model.name!r} lists features {list(model.feature_names)[:4]}... that this "
               f"mmnst_path does not compute from its settings ({list(expected)[:4]}...)")
        raise ConfigError(msg)
    return settings


def tissue_factors(model: ClassifierModel, mpp: float) -> tuple[int, int]:
    """(image px per fine feature block, fine blocks per output block) at image pixel size ``mpp``."""
    f, k, j = grid_factors(mpp, tissue_feature_settings(model))
    return f, k * j


def tissue_halo_um(model: ClassifierModel) -> float:
    """Context (µm) a tile needs so that its tissue classes do not depend on its borders (the features'
    reach, that of a context stage's pooled probabilities and the :data:`FAT_RIM_BLOCKS` of
    :func:`smoothed_labels`; blocks are at most 1.6x ``output_um``)."""
    settings = tissue_feature_settings(model)
    extra = _context_settings(model).halo_um() if model.context is not None else 0.0
    return settings.halo_um() + extra + 1.6 * FAT_RIM_BLOCKS * settings.output_um


def classify_tissue(rgb: np.ndarray, *, mpp: float, model: ClassifierModel, stains: Any = None,
                    origin: tuple[int, int] | None = None, reference: ImageReference | None = None,
                    window: tuple[int, int, int, int] | None = None) -> TissueMap:
    """Tissue classes of an RGB tile.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Tile at ``mpp`` µm/px.
    mpp : float
    model : ClassifierModel
        A tissue model.
    stains : str or StainMatrix or None
        Stain matrix of the slide (hematoxylin and eosin planes); None = the model's
        ``settings["stains"]`` (the one it was trained with, default ``"H&E"``).
    origin : (int, int) or None
        Position of the tile's pixel (0, 0) on the slide's analysis grid; the tile is padded by
        ``origin mod F`` rows/cols (edge values) so that output block ``b`` covers global pixels
        ``[b F, (b + 1) F)`` (``F = factor``). None: blocks start at the tile's corner.
    reference : ImageReference or None
        For a model whose features read the stain level against the slide
        (``TissueFeatureSettings.image_reference``): the slide's reference, the same for every tile
        (:func:`~mmnst_path.classify.image_reference` of its thumbnail). None: ``rgb`` is a whole
        image and is its own reference. Other models ignore it.
    window : (int, int, int, int) or None
        Classify only these output blocks (rows ``window[0]:window[1]``, columns ``window[2]:window[3]``
        of the grid, clipped to it), each feature plane computed only where they need it: the same
        probabilities there as without it, the other blocks read as ``background`` (probability 1; 0 for
        every class of a model without it) and ``TissueMap.window`` names the box. A model with a context
        stage (its pooled probabilities) classifies every block. None: every block.

    Returns
    -------
    TissueMap
        ``labels`` of shape ``ceil((M + off_r) / F) x ceil((N + off_c) / F)``.
    """
    from ..geometry import require_mpp

    mpp = require_mpp(mpp, what="image")
    settings = tissue_feature_settings(model)
    if settings.image_reference and reference is None:
        reference = image_reference(rgb, mpp=mpp, eps_od=settings.eps_od)
    f, k, j = grid_factors(mpp, settings)
    big = f * k * j
    if origin is not None:
        off_r, off_c = (int(v) % big for v in origin)
        if off_r or off_c:
            rgb = np.pad(rgb, ((off_r, 0), (off_c, 0), (0, 0)), mode="edge")
    m, n = rgb.shape[:2]
    mp, np_ = -(-m // big) * big, -(-n // big) * big
    if (mp, np_) != (m, n):
        rgb = np.pad(rgb, ((0, mp - m), (0, np_ - n), (0, 0)), mode="edge")
    stain_spec = stains if stains is not None else model.settings.get("stains", "H&E")
    grid = (mp // big, np_ // big)
    if window is not None and model.context is None:
        window = grow_box(tuple(int(v) for v in window), 0, grid)  # type: ignore[arg-type]
    if window is None or model.context is not None or window == (0, grid[0], 0, grid[1]):
        window = None
        base, fine_mpp = base_maps(rgb, mpp=mpp, stains=stain_spec, settings=settings, reference=reference)
        feats = block_mean(features_from_base(base, fine_mpp, k, settings, reference), j)
    else:
        cwin = tuple(v * j for v in window)
        boxes = window_boxes(cwin, (mp // f, np_ // f), f * mpp, k, settings)  # type: ignore[arg-type]
        base, fine_mpp = base_maps(rgb, mpp=mpp, stains=stain_spec, settings=settings, reference=reference,
                                   tensor_box=boxes["tensor_fine"])
        feats = block_mean(features_from_base(base, fine_mpp, k, settings, reference, window=boxes["out"]), j)
    shape = feats.shape[:2]
    proba = model.predict_proba(feats.reshape(-1, feats.shape[-1])).astype(np.float32).reshape(*shape, -1)
    if model.context is not None:
        cs = _context_settings(model)
        ctx = context_features(feats, proba, grid_mpp=fine_mpp * k * j, settings=cs)
        second = model.context.predict_proba(ctx.reshape(-1, ctx.shape[-1])).astype(np.float32).reshape(*shape, -1)
        if cs.limits_second_stage:
            if "necrosis" not in model.class_names:
                msg = (f"tissue model {model.name!r}: its auto-context settings limit the second stage around "
                       f"necrosis ({cs.to_mapping()}) but it has no 'necrosis' class")
                raise ConfigError(msg)
            second = combine_stages(proba, second, necrosis=model.class_names.index("necrosis"), settings=cs,
                                    grid_mpp=fine_mpp * k * j)
        proba = second
    if window is not None:  # the other blocks: background
        whole = np.zeros((*grid, proba.shape[-1]), np.float32)
        if "background" in model.class_names:
            whole[..., model.class_names.index("background")] = 1.0
        whole[window[0] : window[1], window[2] : window[3]] = proba
        proba = whole
    labels = np.argmax(proba, axis=-1).astype(np.int8)
    return TissueMap(labels, proba, fine_mpp * k * j, big, model.class_names, model.model_id, window)


def _context_settings(model: ClassifierModel) -> ContextSettings:
    """The auto-context settings of a two-stage tissue model, checked against its second-stage columns."""
    assert model.context is not None
    try:
        settings = ContextSettings.from_mapping(model.context.settings)
    except ConfigError as exc:
        msg = f"tissue model {model.name!r}: {exc}"
        raise ConfigError(msg) from exc
    expected = tuple(s.name for s in context_feature_specs(model.features, model.class_names, settings))
    if expected != model.context.feature_names:
        msg = (f"tissue model {model.name!r}: its context stage lists {len(model.context.features)} features that "
               f"this mmnst_path does not compute from its settings ({len(expected)} expected)")
        raise ConfigError(msg)
    return settings


#: Output blocks of ``fat`` within this many blocks of ``background`` are given their next most probable class.
FAT_RIM_BLOCKS = 2


def smoothed_labels(tmap: TissueMap, *, smooth_um: float, not_necrosis: np.ndarray | None = None) -> np.ndarray:
    """(m, n) int8: most probable class after a Gaussian of ``smooth_um / 2`` µm on the class probabilities.

    Then the glass-border rule: a ``fat`` block within :data:`FAT_RIM_BLOCKS` blocks (8-connected)
    of a ``background`` block takes its most probable other class. Partly-glass blocks at the edge
    of any tissue (a frayed collagen fringe, the last cells before a hole) look like a fat vacuole
    to the block features and came out as a one-to-two-block "fat" rim around all tissue; adipose
    tissue itself is many blocks wide (vacuoles of 50-150 µm), so it loses at most that rim.

    The filter reaches ``2 * smooth_um`` (4 sigma) and the rule :data:`FAT_RIM_BLOCKS` blocks:
    :func:`tissue_halo_um` includes the latter; add the former for a result that does not
    depend on the tile's borders.

    ``not_necrosis`` ((m, n) bool or None): blocks where ``necrosis`` may not be the label (intact
    nuclei seen there, :mod:`mmnst_path.quantify._intact_nuclei`); such a block takes its most
    probable other class, as the fat rim does.
    """
    from scipy import ndimage as ndi

    proba = tmap.proba
    if smooth_um > 0:
        proba = ndi.gaussian_filter(proba, (smooth_um / (2.0 * tmap.mpp),) * 2 + (0,), mode="nearest", truncate=4.0)
    labels = np.argmax(proba, axis=-1).astype(np.int8)
    if FAT_RIM_BLOCKS > 0 and "fat" in tmap.classes and "background" in tmap.classes:
        fat, bg = tmap.classes.index("fat"), tmap.classes.index("background")
        near = ndi.binary_dilation(labels == bg, np.ones((3, 3), bool), iterations=FAT_RIM_BLOCKS)
        rim = near & (labels == fat)
        if rim.any():
            other = proba[rim].copy()
            other[:, fat] = -1.0
            labels[rim] = np.argmax(other, axis=-1).astype(np.int8)
    if not_necrosis is not None and "necrosis" in tmap.classes:
        nec = tmap.classes.index("necrosis")
        veto = np.asarray(not_necrosis, bool) & (labels == nec)
        if veto.any():
            other = proba[veto].copy()
            other[:, nec] = -1.0
            labels[veto] = np.argmax(other, axis=-1).astype(np.int8)
    return labels


def region_mask(labels: np.ndarray, classes: tuple[str, ...], names: tuple[str, ...], *, shape: tuple[int, int],
                factor: int, origin: tuple[int, int] | None = None) -> np.ndarray:
    """(M, N) bool on the tile's pixels: where the (grid-aligned) class ``labels`` are one of ``names``.

    ``labels`` come from :func:`classify_tissue` (or :func:`smoothed_labels`) of the same tile
    with the same ``origin``; tile pixel (i, j) takes block ``((i + off_r) // factor, (j + off_c) // factor)``
    with ``off = origin mod factor``. A name the model lacks selects nothing.
    """
    codes = [classes.index(n) for n in names if n in classes]
    if not codes or labels.size == 0:
        return np.zeros(shape, bool)
    off_r, off_c = (int(v) % factor for v in origin) if origin is not None else (0, 0)
    ri = np.minimum((np.arange(shape[0]) + off_r) // factor, labels.shape[0] - 1)
    ci = np.minimum((np.arange(shape[1]) + off_c) // factor, labels.shape[1] - 1)
    return np.isin(labels, codes)[np.ix_(ri, ci)]
