"""The tissue-class columns of summary.csv / summary.json: ``class_<name>_area_mm2`` and ``class_<name>_pct`` for
every class of the tissue model that ran on a row (the shipped default's, or a lab's own such as ``other`` or
``bone``), after the cell-type columns of the excluded nuclei that the fixed columns leave out (``ki67_macrophage``,
``ki67_other_cell``, a lab cell model's own ``ki67_cell_<name>``). A leaf module apart from :mod:`mmnst_path.report`, as :mod:`mmnst_path._review_columns` is.

The columns of a batch are the union over its rows (rows that used different models: empty where a class was
not measured), after every fixed column (:data:`~mmnst_path.report.SUMMARY_COLUMNS` and the review columns), so
no earlier column moves: the known classes first in the order of
:data:`~mmnst_path._class_vocab.TISSUE_CLASSES`, then a lab's own classes by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._class_vocab import CLASS_SYNONYMS, TISSUE_CLASSES

__all__ = ["cell_type_values", "class_column_stem", "class_columns", "class_values"]

_COLUMN = re.compile(r"^class_(.+)_(area_mm2|pct)$")
#: a lab cell model's own class: its excluded nuclei (``ki67_cell_plasma_cell``)
_CELL_COLUMN = re.compile(r"^ki67_cell_.+$")
#: excluded nuclei of the known types that summary.csv's fixed columns leave out (a column where some row has any)
CELL_TYPE_EXTRA = ("ki67_macrophage", "ki67_other_cell")


def class_column_stem(name: Any) -> str:
    """The ``<name>`` of a class's columns: the class name in lower case read through the vocabulary
    (:data:`~mmnst_path._class_vocab.CLASS_SYNONYMS`: ``Tumor`` -> ``tumour``), runs of other characters than
    letters (of any script) and digits as one ``_`` (``Bone marrow`` -> ``bone_marrow``, ``Некроз`` -> ``некроз``);
    ``class`` when nothing is left."""
    base = " ".join(str(name).strip().lower().split())
    base = CLASS_SYNONYMS.get(base, base)
    return re.sub(r"[\W_]+", "_", base).strip("_") or "class"


def class_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """The class columns of one summary row: its ``class_*`` keys, else read from its ``tissue_classes`` legend
    (``area_mm2``, ``pct_of_tissue``; rows written before the columns existed carry the legend only); empty
    when no tissue model ran. Two classes whose names give one stem (``Tumor bed`` and ``tumor-bed``) keep
    both: the later one's stem gets ``_2`` (``_3``...), in the model's class order."""
    out: dict[str, Any] = {}
    for c in row.get("tissue_classes") or []:
        if not isinstance(c, Mapping) or "name" not in c:
            continue
        stem = base = class_column_stem(c["name"])
        k = 1
        while f"class_{stem}_area_mm2" in out:
            k += 1
            stem = f"{base}_{k}"
        out[f"class_{stem}_area_mm2"] = c.get("area_mm2")
        out[f"class_{stem}_pct"] = c.get("pct_of_tissue")
    out.update({k: v for k, v in row.items() if _COLUMN.match(str(k))})
    return out


def cell_type_values(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The excluded nuclei per cell type of a result that summary.csv's fixed columns (``ki67_lymphocyte``,
    ``ki67_stromal``) leave out: ``ki67_macrophage``, ``ki67_other_cell`` and each class of a lab's own cell model
    (``ki67_cell_<name>``); empty without Ki67."""
    return {k: v for k, v in metrics.items() if k in CELL_TYPE_EXTRA or _CELL_COLUMN.match(str(k))}


def _cell_columns(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    extra = tuple(k for k in CELL_TYPE_EXTRA if any(_positive(r.get(k)) for r in rows))
    own = sorted({str(k) for r in rows for k in r if _CELL_COLUMN.match(str(k))})
    return extra + tuple(own)


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def class_columns(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The class columns of a batch: first the excluded nuclei of the cell types the fixed columns leave out
    (``ki67_macrophage`` / ``ki67_other_cell`` where some row has any, then each class of a lab's own cell model,
    ``ki67_cell_<name>``, by name: with ``ki67_lymphocyte`` and ``ki67_stromal`` they add up to
    ``ki67_excluded`` of a run counted in all tissue); then each tissue class of every row's model, area then %,
    known classes first in :data:`~mmnst_path._class_vocab.TISSUE_CLASSES` order, then the others by name; ``()``
    when neither."""
    stems: set[str] = set()
    for r in rows:
        for key in class_values(r):
            hit = _COLUMN.match(key)
            if hit:
                stems.add(hit.group(1))
    known = [c for c in TISSUE_CLASSES if c in stems]
    ordered = known + sorted(stems - set(known))
    return _cell_columns(rows) + tuple(f"class_{s}_{unit}" for s in ordered for unit in ("area_mm2", "pct"))
