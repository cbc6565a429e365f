"""What a Ki67 run settles before its tiles (:func:`mmnst_path.quantify.ki67.measure_ki67` is
"measure_ki67" below): whether the nuclear-contrast rule runs with a stain matrix, the nucleus model
the stains select, and how far (µm) the measurement reaches into a white surround. Split word for
word out of :mod:`mmnst_path.quantify.ki67` (session 29), which re-exports these names."""

from __future__ import annotations

from typing import Any

from ._ki67_contrast import neutral_dab_ratio
from ._ki67_params import Ki67Params
from ._ki67_stains import default_cell_model_name, stain_pair

__all__ = ["cell_model_of", "nuclear_contrast_applies", "unstained_reach_um"]


def nuclear_contrast_applies(params: Ki67Params, matrix: Any) -> bool:
    """Whether the nuclear-contrast rule (``params.nuclear_contrast_rule``) runs with ``matrix``.

    It runs where its grey correction can (``nuclear_contrast_neutral``): a two-stain matrix with
    a ``residual`` (hue) direction (:func:`~mmnst_path.quantify._ki67_contrast.neutral_dab_ratio`).
    With three named stains (the double stains, an azure B counterstain) the other stain's
    crosstalk into the chromogen channel would read as nuclear contrast (generated Ki67/SOX10 tile:
    melanocytic index 36.4 -> 48.3 %), so the fixed threshold decides alone there.
    """
    if not params.nuclear_contrast_rule:
        return False
    if not params.nuclear_contrast_neutral:
        return True
    return neutral_dab_ratio(matrix, stain_pair(matrix)[1]) is not None


def cell_model_of(params: Ki67Params, stains: Any) -> Any:
    """The nucleus model :func:`measure_ki67` runs for ``stains`` (None: no model, every nucleus counts).

    ``params.cell_model`` names it: ``"none"``, a model file (runs whatever the stains), or
    ``"default"``, the shipped model of the Ki67 chromogen (:func:`default_cell_model_name`:
    ``nucleus_default.mmnst`` for DAB, ``nucleus_red.mmnst`` for AEC / Fast Red); with another
    counterstain (azure B, :func:`counterstain_of`) the default is no model (generated azure B
    tiles without pigment, ``benchmarks/eval_azure_b.py``: index error -2.2 pp mean, -4.6 pp
    worst with the DAB model, 0.3 / +0.5 pp without).
    """
    from ..classify import models_dir, resolve_model
    from ..stain import StainMatrix, load_stains

    matrix = stains if isinstance(stains, StainMatrix) else load_stains(stains)
    if params.cell_model.strip().lower() == "default":
        name = default_cell_model_name(matrix)
        return None if name is None else resolve_model(str(models_dir() / name), "nucleus")
    return resolve_model(params.cell_model, "nucleus")


def unstained_reach_um(nuclei_params: Any = None, params: Ki67Params = Ki67Params(), *, mpp: float,
                       cell_model: Any = None) -> float:
    """How far (µm) :func:`measure_ki67` carries non-white pixels into a white surround.

    An image that is white (255, 255, 255 with a white point of 255: stain concentrations 0)
    beyond this distance from its non-white and pigment-mask pixels gives the same cells when cut
    to that part (with ``origin`` / ``extent``): pigment pixels are grown by
    ``pigment_margin_um`` and filled from pigment-free pixels within 4 ``pigment_fill_um``; the
    detector's filters reach :func:`~mmnst_path.detect.nuclei.unstained_reach_px` beyond the
    stained pixels; a nucleus lies within its smoothing reach of them and its features read a
    ring (``ring_um`` of the cell model, ``pigment_ring_um``, ``melanocyte_ring_um``,
    ``nuclear_contrast_ring_um`` when that rule is on, the hidden-nucleus model's wide ring and
    granularity filter when ``hidden_model`` is set) and the cell model's fine Gaussian (4 sigma)
    around it.
    """
    from ..classify.cells import feature_settings
    from ..detect.nuclei import NucleusParams, unstained_reach_px

    nparams = NucleusParams() if nuclei_params is None else nuclei_params
    detect = unstained_reach_px(nparams, mpp) * mpp
    smooth = 4.0 * nparams.smooth_sigma_um + mpp
    rings = [params.pigment_ring_um, params.melanocyte_ring_um]
    if params.nuclear_contrast_rule:
        rings.append(params.nuclear_contrast_ring_um)
    if cell_model is not None:
        fs = feature_settings(cell_model)
        rings += [fs.ring_um, 4.0 * fs.fine_sigma_um]
    if params.hidden_model != "none" or params.pigment_cell_model != "none":
        # the hidden-nucleus / pigment-cell features' wide ring and granularity filter
        from ..classify.hidden_nuclei import SETTINGS as HIDDEN

        rings += [HIDDEN["wide_ring_um"], 4.0 * HIDDEN["grain_um"]]
    around = max(detect, 4.0 * params.pigment_fill_um + mpp, smooth + max(rings) + 2.0 * mpp)
    return params.pigment_margin_um + around + 2.0 * mpp
