"""A lab's own model checked against the run before any tile: its stains and the class a measure reads.

A cell (nucleus) or tissue model learns features of its training stains: an H&E cell model on a Ki67 H-DAB
slide reads eosin-free features it never saw (silently wrong: 54.8 % for a 23.2 % tile), an H&E tissue model on
an IHC slide asks for the eosin channel on every tile (an internal error per tile). The run refuses such a model
in one line naming the file, its stains and the run's. Compatible: a tissue model of any hematoxylin +
chromogen stain on any other (the shipped IHC tissue model reads the chromogen as hematoxylin, for DAB, AEC and
Fast Red), H&E on H&E; a nucleus model whose counterstain and Ki67 chromogen are those of the run (one of the
stains its card declares). The shipped defaults (``"default"``) are the stains' own and are not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._qc_text import NECROSIS_NOT_MEASURED
from ..errors import ConfigError
from ._config import AnalysisConfig

__all__ = ["MIXED_STAINS_HINT", "check_run_models", "model_cautions", "model_stain_problem", "necrosis_not_measured",
           "pigment_stain_problem"]

#: what the refusal of a tissue model of other stains says about a batch of H&E and IHC slides
MIXED_STAINS_HINT = ("a batch of H&E and IHC slides takes one tissue model per stain: --tissue-model H&E_MODEL "
                     "--tissue-model IHC_MODEL (or [necrosis] / [ki67] tissue_model in --config)")


def _declared(model: Any) -> list[str]:
    value = model.settings.get("stains")
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _family(matrix: Any) -> tuple[str, ...]:
    from ..classify import is_ihc_stains

    names = tuple(matrix.names)
    if "eosin" in names:
        return ("H&E",)
    if is_ihc_stains(matrix):
        return ("IHC",)
    return tuple(sorted(n for n in names if n != "residual"))


def _pair(matrix: Any) -> tuple[str, str] | None:
    from ..quantify._ki67_stains import stain_pair

    try:
        return stain_pair(matrix)
    except ConfigError:
        return None


def model_stain_problem(model: Any, matrix: Any) -> str | None:
    """Why ``model`` (nucleus or tissue) does not fit a run of stain matrix ``matrix``; None when it fits or its
    card declares no stains (a model without ``settings.stains`` is not checked)."""
    key = _pair if model.kind == "nucleus" else _family
    return _declared_problem(model, matrix, key, key(matrix))


def _declared_problem(model: Any, matrix: Any, key: Any, want: Any) -> str | None:
    """The problem line of a model whose declared stains all read another ``key`` than the run's ``want`` (None:
    one fits, none is declared, or one is a stain this library does not know)."""
    from ..stain import load_stains

    declared = _declared(model)
    if not declared:
        return None
    for spec in declared:
        try:
            own = load_stains(spec)
        except (ConfigError, ValueError, KeyError):
            return None  # a card stain this library does not know: nothing to compare
        if want is not None and key(own) == want:
            return None
    return f"a model of {' / '.join(declared)} (its card's stains), this run's stains are {matrix.name}"


def _pigment_system(matrix: Any) -> str:
    """What a pigment pixel model learns of a stain matrix: the stain melanin is told from (azure B, DAB, eosin, AEC,
    Fast Red; the stage's shipped model differs by it, :func:`~mmnst_path.classify.pigment.model_for_stains`)."""
    names = tuple(matrix.names)
    return next((n for n in ("azure_b", "dab", "eosin", "aec", "fast_red") if n in names), "")


def pigment_stain_problem(model: Any, matrix: Any) -> str | None:
    """Why a pigment pixel model does not fit a run of stain matrix ``matrix`` (a melanocyte marker of a double
    stain left out, as the pigment stage leaves it); None when it fits or its settings declare no stains (the
    shipped models, and files trained before session 43, are not checked)."""
    import numpy as np

    from ..quantify.ki67 import without_marker

    _, run = without_marker(np.zeros((1, 1, 3), np.uint8), matrix)
    return _declared_problem(model, matrix, _pigment_system, _pigment_system(run))


def _check_pigment_model(config: AnalysisConfig, matrix: Any, measures: Sequence[str]) -> None:
    """Refuse a ``[pigment] model`` file (``--pigment-model``) of other stains, when the run's pigment stage uses it."""
    from ..classify.pigment import resolve_pigment_model

    path = _spec_path(config.pigment.model)
    if path is None or path.lower() in ("dab", "he", "azure") or not ({"melanin", "ki67"} & set(measures)):
        return
    if not config.pigment.uses_model(matrix):
        return
    try:
        model = resolve_pigment_model(path)
    except (OSError, ValueError) as exc:  # the key that named it (the CLI adds the config file)
        raise ConfigError(f"[pigment] model {path!r}: {' '.join(str(exc).split())}") from exc
    problem = None if model is None else pigment_stain_problem(model, matrix)
    if problem:
        raise ConfigError(f"pigment model {Path(path).name}: {problem}: train one on these slides (mmnst-path train "
                          f"pigment --stains {matrix.name}), or pass --stains if the slides are of the model's stains")


def _spec_path(spec: Any) -> str | None:
    text = str(spec or "").strip()
    return None if text.lower() in ("", "default", "none", "auto") else text


def check_run_models(config: AnalysisConfig, matrix: Any, measures: Sequence[str]) -> None:
    """Refuse, before any tile, a model file the run names that cannot serve it (one line, naming the file).

    - ``[ki67] cell_model`` (``--cell-model``) of other stains (:func:`model_stain_problem`), or without a
      ``tumour`` class (the Ki67 index counts the nuclei it calls tumour);
    - the tissue model the tiles run (``--tissue-model``, ``[necrosis]`` / ``[ki67] tissue_model``) of other
      stains, or without ``tumour`` when ``[ki67] count_in = "tumour"``.

    A tissue model without ``necrosis`` is not refused (it may serve the tissue fractions): its necrosis is
    reported as not measured (:func:`necrosis_not_measured`).
    """
    from ..classify import resolve_model
    from ._reach import ki67_tissue_model

    _check_pigment_model(config, matrix, measures)
    if "ki67" in measures and (path := _spec_path(config.ki67.cell_model)) is not None:
        model = resolve_model(path, "nucleus")
        if model is not None:
            name = Path(path).name
            problem = model_stain_problem(model, matrix)
            if problem:
                raise ConfigError(f"cell model {name}: {problem}: train one on these slides (mmnst-path train cells "
                                  f"--stains {matrix.name}), or pass --stains if the slides are of the model's stains")
            if "tumour" not in model.class_names:
                raise ConfigError(f"cell model {name}: no 'tumour' class (classes {', '.join(model.class_names)}): "
                                  "the Ki67 index counts the nuclei a cell model calls tumour; retrain it with the "
                                  "tumour cells named Tumor / Tumour")
    tumour_region = "ki67" in measures and config.ki67.count_in == "tumour"
    spec = None
    if tumour_region:
        ki = getattr(config.ki67, "tissue_model", "auto")
        spec = config.necrosis.tissue_model if ki is None or str(ki).strip().lower() == "auto" else ki
    elif "necrosis" in measures:
        spec = config.necrosis.tissue_model
    if (path := _spec_path(spec)) is None:
        return
    model = ki67_tissue_model(config, matrix) if tumour_region else resolve_model(path, "tissue")
    if model is None:
        return
    name = Path(path).name
    problem = model_stain_problem(model, matrix)
    if problem:
        raise ConfigError(f"tissue model {name}: {problem}: train one on these slides (mmnst-path train tissue "
                          f"--stains {matrix.name}), or pass --stains if the slides are of the model's stains; "
                          f"{MIXED_STAINS_HINT}")
    if tumour_region and "tumour" not in model.class_names:
        raise ConfigError(f"tissue model {name}: no 'tumour' class (classes {', '.join(model.class_names)}): "
                          "[ki67] count_in = 'tumour' (--count-in tumour) counts in the tissue it calls tumour; use "
                          "--count-in all or a model with a tumour class")


def necrosis_not_measured(config: AnalysisConfig, measures: Sequence[str]) -> str | None:
    """The reason necrosis is not measured when the necrosis tissue model has no ``necrosis`` class; else None."""
    from ..classify import resolve_model

    if "necrosis" not in measures or (path := _spec_path(config.necrosis.tissue_model)) is None:
        return None
    model = resolve_model(path, "tissue")
    if model is None or "necrosis" in model.class_names:
        return None
    return (f"{NECROSIS_NOT_MEASURED}the tissue model {Path(path).name} has no necrosis class "
            f"(classes {', '.join(model.class_names)})")


def _is_lab_model(path: str) -> bool:
    """Whether ``path`` names a model file outside the package's shipped models folder."""
    from ..classify import models_dir

    return Path(path).expanduser().resolve().parent != models_dir().resolve()


def model_cautions(config: AnalysisConfig, matrix: Any, measures: Sequence[str]) -> list[str]:
    """The training caution of each lab model file the run uses (the cell model of Ki67, the tissue model the
    tiles run, the pigment model of the pigment stage), as a result warning naming the file and its id, and which figure is the melanin figure when the
    tissue model has a ``melanin`` class; ``[]`` when none applies.

    The caution is what ``mmnst-path train`` said when it wrote the model (too few examples, a poor held-out
    accuracy or class recall, one image: :func:`~mmnst_path.classify.train.training_caution`); it goes with the
    numbers the model decides, into the result's warnings, the command line and report.html.
    """
    from ..classify import resolve_model
    from ..classify.train import training_caution
    from ._reach import tile_tissue_model

    used: list[tuple[str, str, Any]] = []
    if "ki67" in measures and (path := _spec_path(config.ki67.cell_model)) is not None:
        used.append(("cell", path, resolve_model(path, "nucleus")))
    spec = None
    if "ki67" in measures and config.ki67.count_in == "tumour":
        ki = getattr(config.ki67, "tissue_model", "auto")
        spec = config.necrosis.tissue_model if ki is None or str(ki).strip().lower() == "auto" else ki
    elif "necrosis" in measures:
        spec = config.necrosis.tissue_model
    if (path := _spec_path(spec)) is not None:
        used.append(("tissue", path, tile_tissue_model(config, matrix, measures)))
    if ({"melanin", "ki67"} & set(measures) and (path := _spec_path(config.pigment.model)) is not None
            and path.lower() not in ("dab", "he", "azure") and config.pigment.uses_model(matrix)):
        from ..classify.pigment import resolve_pigment_model

        used.append(("pigment", path, resolve_pigment_model(path)))
    out = []
    for kind, path, model in used:
        if kind == "tissue" and model is not None and "melanin" in model.class_names and (
                "melanin" in measures or "ki67" in measures):
            out.append(f"tissue model {Path(path).name} has a melanin class: class_melanin_pct is the share of the "
                       "classed tissue its 8 µm blocks call melanin; the melanin figure is melanin_fraction_pct, the "
                       "pigment classifier's per-pixel mask")
        caution = training_caution(model.card) if model is not None and _is_lab_model(path) else None
        if caution:
            what = " ".join(str(v) for v in (model.name, model.card.get("version")) if v not in (None, ""))
            out.append(f"{kind} model {Path(path).name} ({model.model_id} {what}) was trained with a {caution}")
    return out
