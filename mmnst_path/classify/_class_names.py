"""Class names of a lab's annotations -> the classes of a trained model (``mmnst-path train``).

One reading for cells and tissue: QuPath's ``Tumor: Positive`` is read as ``Tumor``; regions that are not
examples (``Region*``, ``Ignore*``, unclassified) are skipped, the list :mod:`mmnst_path.review` skips
(:data:`mmnst_path._review_tissue.NOT_A_CORRECTION`); synonyms and plurals map to the canonical names
(``Tumour cells`` -> ``tumour``, ``Immune cells`` -> ``lymphocyte`` / ``inflammatory``); a name that is a near
miss of a known class (``Necorsis``) is refused, since it would make a class of its own and leave the known one
without examples; any other name is a lab's own new class, kept and named.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .._class_vocab import CLASS_SYNONYMS, NOT_A_CORRECTION, TISSUE_CLASSES
from ..errors import ConfigError

__all__ = ["CELL_CLASSES", "CELL_SYNONYMS", "TISSUE_CLASSES", "canonical_name", "check_class_names"]

#: Cell classes mmnst_path knows (``tumour`` is what the Ki67 index counts).
CELL_CLASSES = ("tumour", "lymphocyte", "stromal", "macrophage", "other")
#: A lab's cell class names -> the cell classes (tissue names: :data:`~mmnst_path._review_tissue.CLASS_SYNONYMS`).
CELL_SYNONYMS = {
    "tumor": "tumour", "tumour cell": "tumour", "tumor cell": "tumour", "epithelium": "tumour",
    "epithelial": "tumour", "positive": "tumour", "negative": "tumour", "melanocyte": "tumour", "malignant": "tumour",
    "lymphocytes": "lymphocyte", "immune cells": "lymphocyte", "immune": "lymphocyte", "lymph": "lymphocyte",
    "inflammatory": "lymphocyte", "stroma": "stromal", "fibroblast": "stromal", "endothelium": "stromal",
    "endothelial": "stromal", "macrophages": "macrophage", "melanophage": "macrophage", "histiocyte": "macrophage",
}
_NEAR_MISS = 0.8  # difflib ratio from which an unknown name is taken for a misspelt known one


def _synonyms(kind: str) -> tuple[Mapping[str, str], tuple[str, ...]]:
    if kind == "nucleus":
        return CELL_SYNONYMS, CELL_CLASSES
    if kind == "tissue":
        return CLASS_SYNONYMS, TISSUE_CLASSES
    msg = f"kind must be 'nucleus' or 'tissue', got {kind!r}"
    raise ConfigError(msg)


def canonical_name(name: Any, kind: str) -> str:
    """Class of an annotation's class name for a ``kind`` ("nucleus" or "tissue") model; ``""`` when it is
    skipped (:data:`~mmnst_path._review_tissue.NOT_A_CORRECTION`); an unknown name in lower case with spaces as
    ``_``. ``Tumour cells`` / ``Stromal cells`` / ``Fibroblasts`` are read without the plural or "cells"."""
    synonyms, known = _synonyms(kind)
    base = str(name or "").split(":", 1)[0].strip().lower()
    base = re.sub(r"\s+", " ", base)
    if base in NOT_A_CORRECTION:
        return ""
    for cand in (base, re.sub(r" cells?$", "", base), base[:-1] if base.endswith("s") else base,
                 re.sub(r" cells?$", "", base).rstrip("s")):
        if cand in known:
            return cand
        if cand in synonyms:
            return synonyms[cand]
    return base.replace(" ", "_")


def check_class_names(names: Iterable[Any], kind: str, *, where: str) -> tuple[dict[str, str], list[str]]:
    """The class-name mapping of a file's names: ``({raw name: class ("" skipped)}, [new classes])``.

    Raises :class:`~mmnst_path.errors.ConfigError` naming ``where`` (the file) when a name is a near miss of a
    known class or synonym (``Necorsis`` -> necrosis).
    """
    synonyms, known = _synonyms(kind)
    vocabulary = sorted(set(known) | set(synonyms))
    mapping: dict[str, str] = {}
    new: list[str] = []
    for raw in sorted({str(n or "") for n in names}):
        cls = canonical_name(raw, kind)
        mapping[raw] = cls
        if not cls or cls in known:
            continue
        close = difflib.get_close_matches(cls.replace("_", " "), vocabulary, n=1, cutoff=_NEAR_MISS)
        if close:
            likely = synonyms.get(close[0], close[0])
            spelt = "" if likely == close[0] else f" ({close[0]!r})"
            msg = (f"{where}: class {raw!r} looks like a misspelt {likely!r}{spelt}; correct it in the "
                   f"annotations (known {kind} classes: {', '.join(known)}; a class of your own must not be this close)")
            raise ConfigError(msg)
        if cls not in new:
            new.append(cls)
    return mapping, new
