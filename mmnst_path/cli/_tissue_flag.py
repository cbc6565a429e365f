"""``quantify --tissue-model``, once or once per stain family: one value sets ``[necrosis] tissue_model`` (which the
Ki67 tumour region also takes while ``[ki67] tissue_model`` is ``auto``); two model files, one of H&E and one of IHC
stains (hematoxylin + a chromogen, as their cards declare), set ``[necrosis] tissue_model`` to the H&E model and
``[ki67] tissue_model`` to the IHC model, so a mixed batch (``--manifest`` of H&E and Ki67 slides) runs each slide
with the model of its stains: the split a ``--config`` file gives with ``[necrosis]`` / ``[ki67] tissue_model``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["tissue_model_changes"]

def _family(path: str) -> str:
    """``"H&E"`` or ``"IHC"``: the stains a tissue model file's card declares."""
    from ..classify import resolve_model
    from ..pipeline._model_stains import _declared
    from ..pipeline._model_stains import _family as matrix_family
    from ..stain import load_stains

    model = resolve_model(path, "tissue")
    families: set[str] = set()
    for spec in _declared(model):
        try:
            families.update(matrix_family(load_stains(spec)))
        except (ConfigError, ValueError, KeyError):
            continue
    if families == {"H&E"} or families == {"IHC"}:
        return families.pop()
    shown = ", ".join(_declared(model)) or "none"
    msg = (f"--tissue-model {Path(path).name}: its card's stains ({shown}) are not one of H&E or IHC, so it cannot "
           "be told which slides of a mixed batch it serves; give it alone, or set [necrosis] / [ki67] tissue_model "
           "in --config")
    raise ConfigError(msg)


def tissue_model_changes(values: Sequence[str], model_flag: Callable[[str, str, str], str]) -> dict[str, dict[str, Any]]:
    """The config sections ``--tissue-model`` sets: ``{"necrosis": {...}}`` for one value, ``{"necrosis": ...,
    "ki67": ...}`` for an H&E and an IHC model file (module docstring); ``model_flag`` checks each value."""
    checked = [model_flag("--tissue-model", v, "tissue") for v in values]
    if len(checked) == 1:
        return {"necrosis": {"tissue_model": checked[0]}}
    if len(checked) > 2 or any(v in ("default", "none") for v in checked):
        msg = (f"--tissue-model given {len(checked)} times ({', '.join(values)}): give one value, or two model files, "
               "one of H&E and one of IHC stains (each slide of a mixed batch runs the one of its stains); for the "
               "shipped model of one stain family beside your own of the other, set [necrosis] / [ki67] tissue_model "
               "in --config (e.g. [ki67] tissue_model = \"lab_ihc.mmnst\", [necrosis] left default)")
        raise ConfigError(msg)
    by_family = {_family(v): v for v in checked}
    if len(by_family) != 2:
        msg = (f"--tissue-model {values[0]} and {values[1]}: both are {next(iter(by_family))} models; give one of H&E "
               "and one of IHC stains")
        raise ConfigError(msg)
    return {"necrosis": {"tissue_model": by_family["H&E"]}, "ki67": {"tissue_model": by_family["IHC"]}}
