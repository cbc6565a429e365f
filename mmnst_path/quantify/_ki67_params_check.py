"""The checks of :class:`~mmnst_path.quantify._ki67_params.Ki67Params` (every field's range, the
thresholds' order): split from its module to keep it under 600 lines (session 32)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .._params import check_finite
from ..errors import ConfigError
from ._ki67_stains import MELANOCYTE_MARKERS

if TYPE_CHECKING:
    from ._ki67_params import Ki67Params

__all__ = ["check_ki67_params"]


def check_ki67_params(params: Ki67Params) -> None:
    """Raise :class:`~mmnst_path.errors.ConfigError` naming the first field of ``params`` out of its range."""
    t1, t2, t3 = params.positive_threshold_od, params.moderate_threshold_od, params.strong_threshold_od
    if not all(math.isfinite(t) for t in (t1, t2, t3)) or not (0 <= t1 <= t2 <= t3):
        msg = (
            "Ki67Params thresholds must satisfy 0 <= positive_threshold_od <= moderate_threshold_od"
            f" <= strong_threshold_od (log10 OD), got {t1!r}, {t2!r}, {t3!r}"
        )
        raise ConfigError(msg)
    if not 0 < params.pigment_min_visible_fraction <= 1:
        msg = (
            "Ki67Params.pigment_min_visible_fraction must be in (0, 1], got "
            f"{params.pigment_min_visible_fraction!r}"
        )
        raise ConfigError(msg)
    _non_negative(params, ("pigment_margin_um", "pigment_fill_um"), "distance >= 0 in µm")
    r = params.pigment_prior_radius_um
    if isinstance(r, bool) or not isinstance(r, int | float) or not (math.isfinite(r) and r >= 0):
        msg = f"Ki67Params.pigment_prior_radius_um must be a finite distance >= 0 in µm, got {r!r}"
        raise ConfigError(msg)
    if not (math.isfinite(params.pigment_saturated_od) and params.pigment_saturated_od >= 0):
        msg = f"Ki67Params.pigment_saturated_od must be a finite OD >= 0, got {params.pigment_saturated_od!r}"
        raise ConfigError(msg)
    for name in ("pigment_max_dab_fill", "pigment_ring_min_fraction", "pigment_saturated_share",
                 "pigment_prior_fraction", "hidden_min_probability", "hidden_covered_min_probability",
                 "pigment_cell_min_probability"):
        value = getattr(params, name)
        if not (math.isfinite(value) and 0 <= value <= 1):
            msg = f"Ki67Params.{name} must be in [0, 1], got {value!r}"
            raise ConfigError(msg)
    if not isinstance(params.pigment_cell_model, str) or not params.pigment_cell_model:
        msg = ("Ki67Params.pigment_cell_model must be 'none', 'default' or a .mmnst path, "
               f"got {params.pigment_cell_model!r}")
        raise ConfigError(msg)
    if not isinstance(params.hidden_model, str) or not params.hidden_model:
        msg = f"Ki67Params.hidden_model must be 'none', 'default' or a .mmnst path, got {params.hidden_model!r}"
        raise ConfigError(msg)
    if params.near_black not in ("auto", "pigment"):
        msg = f"Ki67Params.near_black must be 'auto' or 'pigment', got {params.near_black!r}"
        raise ConfigError(msg)
    if not (math.isfinite(params.pigment_ring_um) and params.pigment_ring_um > 0):
        msg = f"Ki67Params.pigment_ring_um must be a positive finite width in µm, got {params.pigment_ring_um!r}"
        raise ConfigError(msg)
    if not 0 <= params.lymphocyte_min_circularity <= 1:
        msg = f"Ki67Params.lymphocyte_min_circularity must be in [0, 1], got {params.lymphocyte_min_circularity!r}"
        raise ConfigError(msg)
    if not params.lymphocyte_max_area_um2 > 0:
        msg = f"Ki67Params.lymphocyte_max_area_um2 must be > 0, got {params.lymphocyte_max_area_um2!r}"
        raise ConfigError(msg)
    if not isinstance(params.weak_stain_adaptation, bool):
        msg = f"Ki67Params.weak_stain_adaptation must be true or false, got {params.weak_stain_adaptation!r}"
        raise ConfigError(msg)
    check_finite(params, ("weak_stain_floor_od", "weak_stain_fraction", "weak_stain_min_threshold_od",
                        "weak_stain_baseline_margin_od"), positive=False)
    if params.weak_stain_baseline_margin_od < 0:
        msg = (f"Ki67Params.weak_stain_baseline_margin_od must be >= 0 (0 = off), "
               f"got {params.weak_stain_baseline_margin_od!r}")
        raise ConfigError(msg)
    if params.weak_stain_basis not in ("stained", "baseline"):
        msg = f"Ki67Params.weak_stain_basis must be 'stained' or 'baseline', got {params.weak_stain_basis!r}"
        raise ConfigError(msg)
    for name in ("red_baseline_margin_od", "red_min_threshold_od"):
        value = getattr(params, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value >= 0):
            msg = f"Ki67Params.{name} must be a finite log10 OD >= 0, got {value!r}"
            raise ConfigError(msg)
    check_finite(params, ("lymphocyte_min_hematoxylin_od", "lymphocyte_max_area_um2"), positive=False)
    n = params.weak_stain_min_nuclei
    if (isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n) or int(n) != n
            or n < 1):
        msg = f"Ki67Params.weak_stain_min_nuclei must be an integer >= 1, got {n!r}"
        raise ConfigError(msg)
    object.__setattr__(params, "weak_stain_min_nuclei", int(n))
    if not isinstance(params.cell_model, str) or not params.cell_model.strip():
        msg = (f"Ki67Params.cell_model must be 'default', 'none' or the path of a nucleus model file, "
               f"got {params.cell_model!r}")
        raise ConfigError(msg)
    sheet = params.spindle_sheet
    if isinstance(sheet, str) and sheet.strip().lower() in ("auto", "true", "false"):  # (as TOML strings)
        word = sheet.strip().lower()
        sheet = "auto" if word == "auto" else word == "true"
    if not (isinstance(sheet, bool) or sheet == "auto"):
        msg = f"Ki67Params.spindle_sheet must be \"auto\", true or false, got {params.spindle_sheet!r}"
        raise ConfigError(msg)
    object.__setattr__(params, "spindle_sheet", sheet)
    if params.count_in not in ("all", "tumour"):
        msg = f"Ki67Params.count_in must be 'all' or 'tumour', got {params.count_in!r}"
        raise ConfigError(msg)
    if not isinstance(params.tissue_model, str) or not params.tissue_model.strip():
        msg = (f"Ki67Params.tissue_model must be 'auto', 'default' or the path of a tissue model file, "
               f"got {params.tissue_model!r}")
        raise ConfigError(msg)
    if params.melanocyte_marker not in MELANOCYTE_MARKERS:
        msg = (f"Ki67Params.melanocyte_marker must be one of {', '.join(MELANOCYTE_MARKERS)}, "
               f"got {params.melanocyte_marker!r}")
        raise ConfigError(msg)
    if not (math.isfinite(params.melanocyte_ring_um) and params.melanocyte_ring_um > 0):
        msg = (f"Ki67Params.melanocyte_ring_um must be a positive finite width in µm, "
               f"got {params.melanocyte_ring_um!r}")
        raise ConfigError(msg)
    if not (math.isfinite(params.fast_red_positive_threshold_od) and params.fast_red_positive_threshold_od >= 0):
        msg = (f"Ki67Params.fast_red_positive_threshold_od must be a finite log10 OD >= 0, "
               f"got {params.fast_red_positive_threshold_od!r}")
        raise ConfigError(msg)
    _non_negative(params, ("red_covered_min_chromogen_od", "red_covered_max_negative_od",
                           "red_touched_min_chromogen_od"), "log10 OD >= 0 (0: off)")
    if 0 < params.red_covered_min_chromogen_od < params.red_covered_max_negative_od:
        msg = (f"Ki67Params.red_covered_max_negative_od ({params.red_covered_max_negative_od!r}) must not exceed "
               f"red_covered_min_chromogen_od ({params.red_covered_min_chromogen_od!r})")
        raise ConfigError(msg)
    if not (isinstance(params.azure_positive_threshold_od, int | float)
            and math.isfinite(params.azure_positive_threshold_od) and params.azure_positive_threshold_od >= 0):
        msg = (f"Ki67Params.azure_positive_threshold_od must be a finite log10 OD >= 0, "
               f"got {params.azure_positive_threshold_od!r}")
        raise ConfigError(msg)
    if not isinstance(params.azure_counterstain_fill, bool):
        msg = f"Ki67Params.azure_counterstain_fill must be true or false, got {params.azure_counterstain_fill!r}"
        raise ConfigError(msg)
    if not isinstance(params.nuclear_contrast_rule, bool):
        msg = f"Ki67Params.nuclear_contrast_rule must be true or false, got {params.nuclear_contrast_rule!r}"
        raise ConfigError(msg)
    for name in ("nuclear_contrast_od", "nuclear_contrast_min_od", "nuclear_contrast_max_od"):
        value = getattr(params, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            msg = f"Ki67Params.{name} must be a finite log10 OD >= 0, got {value!r}"
            raise ConfigError(msg)
    if not isinstance(params.nuclear_contrast_neutral, bool):
        msg = f"Ki67Params.nuclear_contrast_neutral must be true or false, got {params.nuclear_contrast_neutral!r}"
        raise ConfigError(msg)
    ring = params.nuclear_contrast_ring_um
    if not (isinstance(ring, int | float) and math.isfinite(ring) and ring > 0):
        msg = f"Ki67Params.nuclear_contrast_ring_um must be a positive finite width in µm, got {ring!r}"
        raise ConfigError(msg)
    if not (math.isfinite(params.melanocyte_min_od) and params.melanocyte_min_od >= 0):
        msg = f"Ki67Params.melanocyte_min_od must be a finite log10 OD >= 0, got {params.melanocyte_min_od!r}"
        raise ConfigError(msg)


def _non_negative(params: Ki67Params, names: tuple[str, ...], what: str) -> None:
    """Raise :class:`~mmnst_path.errors.ConfigError` for the first of ``names`` that is not finite and >= 0
    ("Ki67Params.NAME must be a finite WHAT, got VALUE")."""
    for name in names:
        value = getattr(params, name)
        if not (math.isfinite(value) and value >= 0):
            msg = f"Ki67Params.{name} must be a finite {what}, got {value!r}"
            raise ConfigError(msg)
