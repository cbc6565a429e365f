"""mmnst_path: quantitative pathology for pigmented tumours.

Ki67 proliferation index, melanin pigment fraction and necrosis area measured on whole-slide
images and plain tiles. ``import mmnst_path`` is cheap: heavy dependencies (openslide, dask,
scikit-image) are imported only by the functions that use them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import (
    ConfigError,
    CorruptFileError,
    MissingMetadataError,
    MmnstPathError,
    NoTissueError,
    RegionError,
    SlideNotFoundError,
    StainError,
    UnsupportedFormatError,
)
from .geometry import Box

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "open_slide": "mmnst_path.io",
    "SlideReader": "mmnst_path.io",
    "AnalysisConfig": "mmnst_path.pipeline",
    "analyze_region": "mmnst_path.pipeline",
    "analyze_slide": "mmnst_path.pipeline",
}

__all__ = [
    "AnalysisConfig",
    "Box",
    "ConfigError",
    "CorruptFileError",
    "MissingMetadataError",
    "MmnstPathError",
    "NoTissueError",
    "RegionError",
    "SlideNotFoundError",
    "SlideReader",
    "StainError",
    "UnsupportedFormatError",
    "__version__",
    "analyze_region",
    "analyze_slide",
    "open_slide",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'mmnst_path' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
