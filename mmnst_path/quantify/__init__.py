"""Per-region measurements (Ki67 ``ki67``, melanin ``melanin``, necrosis ``necrosis``).

Each submodule turns one tile into additive counts; ratios are computed once from totals.
Submodules are imported on first use (``import mmnst_path.quantify`` is cheap).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "Ki67Counts",
    "Ki67Params",
    "Ki67Region",
    "compare_proportions",
    "ki67_metrics",
    "measure_ki67",
    "wilson_interval",
]

_LAZY = {
    "Ki67Counts": "ki67",
    "Ki67Params": "ki67",
    "Ki67Region": "ki67",
    "compare_proportions": "_stats",
    "ki67_metrics": "ki67",
    "measure_ki67": "ki67",
    "wilson_interval": "_stats",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'mmnst_path.quantify' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(import_module(f"{__name__}.{module}"), name)
