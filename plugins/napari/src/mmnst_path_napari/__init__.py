"""napari plugin for mmnst_path: reader, sample data and analysis / review / export widgets.

The plugin holds no algorithm: it converts between napari layers and the library's inputs and
results (:mod:`mmnst_path_napari._layers`) and runs the library in worker threads.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
