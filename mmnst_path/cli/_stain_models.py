"""``mmnst-path models list / show`` for the stain-guess models (``stains_*.json``: small logistic
regressions that pick the stain preset under ``stains = "auto"``), beside the ``.mmnst`` classifiers.

They are JSON files (format ``mmnst_path.linear_model``) with a card like the classifiers', checked on
loading (content id, embedded test probabilities); a damaged one gets the loader's one-line error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["STAIN_MODELS", "load_stain_model", "show_stain_model", "stain_model_lines"]

#: shipped file -> (what it decides, loader module, loader function)
STAIN_MODELS: dict[str, tuple[str, str, str]] = {
    "stains_he.json": ("stains = auto: H&E or IHC (eosin or a chromogen)", "he_model", "load_he_model"),
    "stains_chromogen.json": ("stains = auto: AEC or Fast Red (red chromogen)", "chromogen_model",
                              "load_chromogen_model"),
    "stains_dab_aec.json": ("stains = auto: DAB or AEC when the colour rules say DAB but the chromogen is reddish",
                            "dab_bodies", "load_dab_model"),
}


def _loader(module: str, name: str) -> Callable[[Path | None], Any]:
    import importlib

    return getattr(importlib.import_module(f"mmnst_path.stain.{module}"), name)  # type: ignore[no-any-return]


def _resolve(spec: str) -> tuple[Path, list[tuple[str, str, str]]] | None:
    """The file a spec names and the loaders to try, or None when the spec is not a stain-guess model."""
    from ..classify import models_dir

    stem = spec.strip()
    name = stem if stem.lower().endswith(".json") else f"{stem}.json"
    shipped = models_dir() / name
    if name in STAIN_MODELS and not Path(stem).is_file():
        return shipped, [STAIN_MODELS[name]]
    path = Path(stem).expanduser()
    if path.suffix.lower() == ".json":
        by_name = STAIN_MODELS.get(path.name)
        return path, [by_name] if by_name else list(STAIN_MODELS.values())
    return None


def load_stain_model(spec: str) -> tuple[Any, str] | None:
    """(model, what it decides) for a stain-guess model named by shipped name or ``.json`` path; None when
    ``spec`` names no such file kind; the loader's error (CorruptFileError) when the file is not one."""
    resolved = _resolve(spec)
    if resolved is None:
        return None
    path, loaders = resolved
    if not path.is_file():
        raise FileNotFoundError(f"stain model {str(path)!r} does not exist or is not a file")
    first: Exception | None = None
    for use, module, fn in loaders:  # a user's file: the loader whose classes and features it has
        try:
            return _loader(module, fn)(path), use
        except (ValueError, OSError) as exc:
            first = first or exc
    assert first is not None
    raise first


def stain_model_lines() -> tuple[list[str], bool]:
    """``models list`` lines for the shipped stain-guess models, and False when one of them could not be
    read (a damaged file is said in its line, not raised)."""
    from ..classify import models_dir

    lines: list[str] = []
    ok = True
    for name, (use, module, fn) in STAIN_MODELS.items():
        stem = Path(name).stem
        try:
            model = _loader(module, fn)(models_dir() / name)
        except (ValueError, OSError) as exc:
            lines.append(f"{stem:24s} {' '.join(str(exc).split())}")
            ok = False
            continue
        lines.append(f"{stem:24s} sha256:{model.model_id}  {model.name} {model.card.get('version', '')}")
        lines.append(f"{'':24s} used for: {use}; classes {', '.join(model.classes)}")
    return lines, ok


def show_stain_model(model: Any, use: str, *, as_json: bool) -> None:
    """Print a stain-guess model's card (``--json``: classes, features, card and id as JSON)."""
    if as_json:
        print(json.dumps({"format": "mmnst_path.linear_model", "classes": list(model.classes),
                          "features": [{"name": n, "unit": u, "description": d} for n, u, d in model.features],
                          "card": model.card, "model_id": model.model_id}, indent=1, ensure_ascii=False))
        return
    card = model.card
    print(f"{model.name}  version {card.get('version', '?')}  id sha256:{model.model_id}  (stain-guess model)")
    print(f"used for: {use}")
    print(f"classes: {', '.join(model.classes)} (the probability is of {model.classes[1]})")
    print(f"features ({len(model.features)}): {', '.join(n for n, _, _ in model.features)}")
    for key in ("task", "model", "licence", "intended_use", "not_trained", "settings"):
        if key in card:
            print(f"{key}: {card[key]}")
    data = card.get("training_data", []) or []
    for item in data if isinstance(data, list) else [data]:
        print(f"training data: {json.dumps(item, ensure_ascii=False)}")
    val = card.get("validation")
    if isinstance(val, dict):
        for key, value in val.items():
            print(f"validation {key}: {value}")
    elif val:
        print(f"validation: {val}")
