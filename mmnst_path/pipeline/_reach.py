"""What a tile run needs before its pixels: the context (halo) each measure reaches around a tile's
core, by part, and the models its stages use (resolved as the stages resolve them); the warm-up that
loads them in a worker process. Used by :mod:`mmnst_path.pipeline._worker` and
:mod:`mmnst_path.pipeline._slide`; ``_worker`` re-exports every name."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._config import AnalysisConfig

__all__ = ["halo_parts", "ki67_halo_parts", "ki67_tissue_model", "learned_pigment_reach_px", "pigment_model_of", "tile_tissue_model", "warm_up"]


def halo_parts(config: AnalysisConfig, measures: Sequence[str]) -> dict[str, float]:
    """Context (µm) each part of a tile run needs around the tile core, by name; the tile halo
    is the largest (:func:`_halo_um`).

    ``ki67``: what a Ki67 cell of the core depends on, summed along the chain (the exact reach of
    each step, :func:`ki67_halo_parts`): the pigment mask's reach, the pigment fill that takes the
    pigment out of the detection input, nucleus detection at the analysis resolution and the
    cell model's context; ``pigment``: the pigment rules' or the learned pigment model's support
    (always computed: it also keeps pigment out of the Ki67 index); ``melanin``: 4 sigma of the
    tissue smoothing plus the pigment rules' support; ``necrosis``: the necrosis measure's
    (tissue model and smoothing); ``ki67_tumour``: the tissue classes around every nucleus with
    ``[ki67] count_in = "tumour"``. Parts that do not apply to ``measures`` are absent.
    """
    parts: dict[str, float] = {}
    if "ki67" in measures:
        parts["ki67"] = float(sum(ki67_halo_parts(config).values()))
    parts["pigment"] = _pigment_reach_um(config, None)
    if "melanin" in measures:  # the tile's own tissue mask is smoothed by a Gaussian (4 sigma)
        parts["melanin"] = 4.0 * config.melanin.tissue_smooth_um + config.pigment.halo_um()
    if "necrosis" in measures and hasattr(config.necrosis, "halo_um"):
        parts["necrosis"] = float(config.necrosis.halo_um())
    if "ki67" in measures and config.ki67.count_in == "tumour":  # the tissue classes around every nucleus
        from ..classify.tissue import tissue_halo_um

        stains = None if config.stains.strip().lower() == "auto" else config.stain_matrix()
        model = ki67_tissue_model(config, stains)
        if model is not None:
            parts["ki67_tumour"] = tissue_halo_um(model) + 2.0 * config.necrosis.smooth_um
            if model is config.necrosis.model():  # the class map is the necrosis one (its veto's reach)
                parts["ki67_tumour"] = max(parts["ki67_tumour"], float(config.necrosis.halo_um()))
    return parts


def _pigment_reach_um(config: AnalysisConfig, used_only: bool | None) -> float:
    """Support (µm) of the pigment masks: the rules' and, where a learned pigment model may run,
    its features'. ``used_only``: only the one that runs for ``config``'s stains (the model's when
    it replaces the rules; both when the stains are guessed per slide)."""
    rules = config.pigment.halo_um()
    if config.pigment.model.strip().lower() == "none" or (not config.pigment.model_stains
                                                          and not _azure_stains(config)):
        return rules
    from ..classify.pigment import PigmentFeatureSettings, resolve_pigment_model

    pmodel = resolve_pigment_model(config.pigment.model)
    if pmodel is None:
        return rules
    learned = PigmentFeatureSettings.from_mapping(pmodel.settings).halo_um()
    if used_only and config.stains.strip().lower() != "auto":
        matrix = config.stain_matrix()
        if pigment_model_of(config, matrix) is None:
            return rules
        from ..detect._pigment_core import pigment_mode

        # azure B: the model decides the pixels of the rules' exclusion mask (both chains run)
        return max(rules, learned) if pigment_mode(matrix, config.pigment) == "azure" else learned
    return max(rules, learned)


def _azure_stains(config: AnalysisConfig) -> bool:
    """Whether ``config``'s stains (not guessed per slide) have an azure B counterstain (pigment mode
    ``"azure"``: the shipped azure model runs whatever ``model_stains`` names)."""
    from ..detect._pigment_core import pigment_mode

    return config.stains.strip().lower() != "auto" and pigment_mode(config.stain_matrix(), config.pigment) == "azure"


def learned_pigment_reach_px(config: AnalysisConfig, model: Any, matrix: Any, mpp: float) -> int:
    """Reach (px at ``mpp``) of the learned pigment stage (:func:`mmnst_path.classify.pigment.classify_pigment`
    with ``model``, the model :func:`pigment_model_of` resolves for ``matrix``) around a tile's
    non-white pixels: the longest chain of reflect-border filters between the tile's per-pixel planes
    and anything the stage reads, summed step by step. The lean window
    (:func:`mmnst_path.pipeline._worker._lean_reach`) grows the non-white box by it (+ 2 px).

    Why it suffices. Past the non-white box the tile is white, whose planes are constants (OD 0
    at a white point of 255; a double stain's re-rendering, :func:`~mmnst_path.quantify.ki67.without_marker`,
    maps white to white). A reflect-border filter of reach r on a window whose rim holds >= r px of
    the constant reads, past the window's edge, mirrored rim pixels: the constant, as the whole tile
    does. So, step by step, each plane of a chain whose steps sum to <= the rim is the whole tile's
    on the whole window, and is its constant wherever its chain cannot reach from the box. The
    masks thresholded from those planes (the gate, the candidates, the brown bodies) are then
    False on the window's outer 2 px and beyond it, and every later step reads masks only: zero-
    border dilations (the body margin, ``model_rim_um``, ``skip_region``), edge-padded openings,
    constant-border window sums (``clustered_pigment``, the context rule's ``context_radius_um``),
    connected components and holes (a hole is bounded inside the box's spill, the white rim around
    it connects to the border in both), per-body sums and the tile's nucleus reference (over
    components). So those read the same components and counts on the window as on the tile, however
    far they reach (whole bodies, ``(context_steps + 1) * context_radius_um``): their reach is the
    content's, not the window's. The rules' chain (:meth:`~mmnst_path.detect.pigment.PigmentParams.halo_um`:
    granule peaks, grow, holes, cluster terms) is not run by this stage.

    The chains (``g(x)``: a Gaussian of scale x, to 4 sigma; ``d(x)``: a disk extreme of radius x):

    - the pixel model's features: :func:`~mmnst_path.classify._pigment_bands.feature_chain_px`
      of the model's feature names (the ``wide_um`` blur of the OD, 48 px at 0.5 µm/px, with the
      shipped models; the H&E model's bounded body columns, ``body_*``, read the brown mask, the
      hole test over ``hole_um`` and Gaussians of ``body_um`` of those: 3 + 24 + 12 px);
    - the colour gate: g(``smooth_sigma_um``) of the pigment channel (per-pixel unmixing); the hue
      angle is per pixel;
    - brown mode (the body model, the share rule, ``model_body_veto``): the brown bodies,
      g(``body_smooth_um``) of the brown channel; the body model's image features, d(0.6 µm) and
      d(1 µm) of the OD norm and the 1 µm box mean (``nearest`` border) of the unmixing planes.
    """
    from ..classify._pigment_bands import _disk_reach, _gauss_reach, feature_chain_px
    from ..classify.pigment import PigmentFeatureSettings
    from ..detect._pigment_core import pigment_mode
    from ..quantify.ki67 import without_marker

    params = config.pigment
    _, matrix = without_marker(np.zeros((1, 1, 3), np.uint8), matrix)
    settings = PigmentFeatureSettings.from_mapping(model.settings)
    reach = max(feature_chain_px(settings, mpp, [f.name for f in model.features]),
                _gauss_reach(params.smooth_sigma_um / mpp))
    if pigment_mode(matrix, params) == "brown":
        reach = max(reach, _gauss_reach(params.body_smooth_um / mpp), _disk_reach(0.6 / mpp), _disk_reach(1.0 / mpp),
                    (max(1, round(1.0 / mpp)) | 1) // 2)
    elif pigment_mode(matrix, params) == "azure":  # the model reads the rules' exclusion mask (its own chain)
        reach = max(reach, math.ceil(params.halo_um() / mpp))
    return reach


def ki67_halo_parts(config: AnalysisConfig) -> dict[str, float]:
    """The reaches (µm) a Ki67 cell of a tile's core depends on, by step; the ``ki67`` tile halo
    part is their sum.

    ``pigment``: the pigment mask the tile computes (the learned model's feature support where it
    runs, else the rules'); ``pigment_fill``: the mask grown by ``pigment_margin_um`` and the DAB
    filled from pigment-free pixels by a normalised Gaussian of ``pigment_fill_um``, then of 3x it
    (truncated at 4 sigma) where the first finds none; nucleus detection reads that DAB plane:
    ``detection`` is :meth:`~mmnst_path.detect.nuclei.NucleusParams.halo_um` at the analysis
    resolution (smoothing, background 3 r, chained LoG, seeds, nucleus extent); ``context``: the
    cell model's context features (neighbour centroids within its largest radius, 40 µm by
    default; each such neighbour must be detected as in the whole image). The rings a cell's
    pigment evidence reads lie within the detection part. ``pigment_prior``: the square of
    half-side ``pigment_prior_radius_um`` (+ one pixel: its centre is the centroid's pixel) whose
    pigment-mask share opens the pigment prior of a cell (``Ki67Params.pigment_prior_fraction``)
    reads the mask only; it adds what it reaches beyond the three steps after ``pigment`` (0 when
    they hold it; by default 150.5 µm against 137.3 µm: 13.2 µm).
    """
    k = config.ki67
    parts = {
        "pigment": _pigment_reach_um(config, True),
        "pigment_fill": k.pigment_margin_um + 4.0 * 3.0 * k.pigment_fill_um,
        "detection": config.nuclei.halo_um(config.analysis_mpp),
        "context": 0.0,
    }
    from ..classify import resolve_model
    from ..classify.cells import feature_settings

    model = resolve_model(k.cell_model, "nucleus")
    if model is not None:  # the cell model's context features reach beyond the nucleus
        parts["context"] = feature_settings(model).context_um()
    parts["pigment_prior"] = 0.0
    if k.pigment_prior_fraction > 0:  # the pigment share around a cell reads the mask (a sibling of the chain)
        chain = parts["pigment_fill"] + parts["detection"] + parts["context"]
        parts["pigment_prior"] = max(0.0, k.pigment_prior_radius_um + config.analysis_mpp - chain)
    return parts


def _halo_um(config: AnalysisConfig, measures: Sequence[str]) -> float:
    """Context a tile needs around its core: the largest support of the measures run
    (:func:`halo_parts`)."""
    return max(halo_parts(config, measures).values())


def warm_up(config: AnalysisConfig) -> None:
    """Load in a worker process, ahead of its first tile, the classifier models the tiles of
    ``config`` use (each is loaded and verified once a process); the target of
    :func:`mmnst_path.tiling.start_pool` in :func:`~mmnst_path.pipeline.analyze_slide`."""
    from ._config import applicable_measures

    auto = config.stains.strip().lower() == "auto"
    matrix = None if auto else config.stain_matrix()
    measures = tuple(config.measures) if matrix is None else applicable_measures(config, matrix)
    _halo_um(config, measures or ("ki67",))
    if matrix is not None:
        pigment_model_of(config, matrix)
        tile_tissue_model(config, matrix, measures)


def tile_tissue_model(config: AnalysisConfig, stains: Any, measures: Sequence[str]) -> Any:
    """The tissue model whose class map a tile run computes (once per tile), or None.

    The Ki67 tumour-region model when ``[ki67] count_in = "tumour"``, else the necrosis model when
    necrosis is measured with one; None otherwise (no class map: e.g. Ki67 counted in all tissue).
    """
    if "ki67" in measures and config.ki67.count_in == "tumour":
        model = ki67_tissue_model(config, stains)
        if model is None:
            msg = ("[ki67] count_in = 'tumour' needs a tissue model, but the tissue model is 'none' "
                   "([ki67] / [necrosis] tissue_model)")
            raise ConfigError(msg)
        return model
    if "necrosis" in measures:
        return config.necrosis.model()
    return None


def ki67_tissue_model(config: AnalysisConfig, stains: Any) -> Any:
    """The tissue model that draws the tumour region of ``[ki67] count_in = "tumour"``.

    ``[ki67] tissue_model`` when the config has one (other than ``"auto"``), else ``[necrosis]
    tissue_model``; ``"default"`` picks the shipped model of the stains (H&E, or the IHC model for
    hematoxylin-DAB / AEC / Fast Red). None when it names ``"none"``.
    """
    from ..classify import resolve_model

    spec = getattr(config.ki67, "tissue_model", "auto")
    if spec is None or str(spec).strip().lower() == "auto":
        spec = config.necrosis.tissue_model
    return resolve_model(spec, "tissue", stains=stains)


def pigment_model_of(config: AnalysisConfig, matrix: Any) -> Any:
    """The learned pigment model the tiles of ``matrix`` use (None: the rules run), resolved as
    :func:`mmnst_path.classify.pigment.classify_pigment` resolves it (the shipped default stands
    for the shipped H-DAB model with a brown chromogen)."""
    from ..classify.pigment import model_for_stains, resolve_pigment_model
    from ..quantify.ki67 import without_marker

    if matrix is None:
        return None
    _, matrix = without_marker(np.zeros((1, 1, 3), np.uint8), matrix)
    params = config.pigment
    model = resolve_pigment_model(params.model) if params.uses_model(matrix) else None
    return None if model is None else model_for_stains(model, matrix, params)
