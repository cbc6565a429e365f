"""The plugin's dock widgets (magicgui containers taking the viewer)."""

from __future__ import annotations

from ._analyze import AnalyzeWidget
from ._cells import TrainCellsWidget
from ._export import ExportWidget
from ._necrosis import TrainNecrosisWidget
from ._review import ReviewWidget

__all__ = ["AnalyzeWidget", "ExportWidget", "ReviewWidget", "TrainCellsWidget", "TrainNecrosisWidget"]
