"""The plugin's dock widgets (magicgui containers taking the viewer)."""

from __future__ import annotations

from ._analyze import AnalyzeWidget
from ._cells import TrainCellsWidget
from ._export import ExportWidget
from ._pigment_train import TrainPigmentWidget
from ._review import ReviewWidget
from ._tissue import TrainTissueWidget

__all__ = ["AnalyzeWidget", "ExportWidget", "ReviewWidget", "TrainCellsWidget", "TrainPigmentWidget",
           "TrainTissueWidget"]
