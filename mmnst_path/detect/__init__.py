"""Object detection on stain concentrations: nuclei (``nuclei``), melanin pigment (``pigment``).

Submodules are imported on first use so that ``import mmnst_path.detect`` stays cheap and each
detector (owned by different parts of the code base) plugs in independently.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["Nuclei", "NucleusParams", "detect_nuclei"]

_LAZY = {"Nuclei": "nuclei", "NucleusParams": "nuclei", "detect_nuclei": "nuclei"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'mmnst_path.detect' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(import_module(f"{__name__}.{module}"), name)
