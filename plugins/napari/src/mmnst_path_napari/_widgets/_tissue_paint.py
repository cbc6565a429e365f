"""Train tissue's painting of classified polygons (a QuPath GeoJSON export, a napari Shapes layer) onto the chosen
image's training labels (split out of ``_tissue.py``, session 42).

Polygons are painted as ``mmnst-path train tissue`` paints them (:func:`mmnst_path.pipeline._train._paint_window`):
later over earlier, a polygon's holes not its class (even-odd: a hole keeps what was painted under it, an island
in a hole is the polygon's again). The GeoJSON is read with its holes (``read_tissue_polygons``); napari dropped
them before, with only a console warning, so the same file trained other models in napari and in the CLI (session
42 H6, #4). Class names are read as the CLI reads them (``check_class_names``): a near miss of a known class is
refused, and a class mmnst_path does not know is said on the status line ("new class ... kept as yours") as the
CLI says it, not only added to the legend (#16).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._tissue_live import TRAIN_LABELS
from ._training_layers import training_layer

__all__ = ["PaintPolygons"]


class PaintPolygons:
    """The polygon-painting half of :class:`~mmnst_path_napari._widgets.TrainTissueWidget` (a mixin: the widget
    gives ``viewer``, ``image``, ``status``, ``classes``, ``add_class`` and ``add_training_labels``)."""

    viewer: Any
    image: Any
    status: Any
    classes: list[str]
    add_class: Any
    add_training_labels: Any

    def paint_polygons(self, polygons: list[tuple[Any, str]], *, where: str = "polygons") -> dict[str, int]:
        """Paint classified level-0 (row, col) polygons onto the chosen image's training labels.

        Each entry is ``(rings, class name)``: ``rings`` one (k, 2) outer ring, or a list of rings (the outer, then
        its holes). Later polygons paint over earlier ones; a hole's pixels keep what was under them. Class names
        are read as ``mmnst-path train tissue`` reads them (QuPath ``Tumor`` -> ``tumour``; ``Ignore*`` /
        unnamed polygons are skipped; a near miss of a known class is refused, naming ``where``); a class not in
        the legend is added, and one mmnst_path does not know is listed in :attr:`new_classes`. The layer's paint
        event follows, so the live preview updates. Returns the labelled label-grid pixels per class.
        """
        from mmnst_path.classify._class_names import check_class_names
        from mmnst_path.pipeline._train import _paint_window

        mapping, unknown = check_class_names([name for _, name in polygons], "tissue", where=where)
        lab = training_layer(self.viewer, TRAIN_LABELS, self.image.value) or self.add_training_labels()
        d = int(lab.metadata.get("mmnst_path", {}).get("downsample", 1))
        shape = np.asarray(lab.data).shape
        in_legend = set(self.classes)
        polys, values = [], []
        self.holes = 0
        for rings, name in polygons:
            cls = mapping.get(str(name or ""), "")
            if not cls:
                continue
            ring_list = [rings] if isinstance(rings, np.ndarray) and rings.ndim == 2 else list(rings)
            polys.append(([(np.asarray(r, np.float64)[:, :2] + 0.5) / d - 0.5 for r in ring_list], cls))
            values.append(self.add_class(cls))
            self.holes += len(ring_list) - 1
        new = _paint_window(polys, np.arange(len(polys)), values, (0, 0, *shape)) if polys else np.zeros(shape, np.uint8)
        if not new.any():
            msg = "no classified polygon inside the image (expected annotations with a tissue class name)"
            raise ValueError(msg)
        self.new_classes = [c for c in unknown if c not in in_legend and c in self.classes]
        lab.data_setitem(np.nonzero(new), new[new > 0])
        return {self.classes[v - 1]: int((new == v).sum()) for v in np.unique(new[new > 0])}

    def _painted_words(self, source: str, painted: dict[str, int]) -> str:
        """The status after painting: the pixels per class, the holes honoured, the lab's own new classes."""
        text = f"painted {source}: " + ", ".join(f"{k} {v} px" for k, v in painted.items())
        if self.holes:
            text += f"; {self.holes} polygon hole{'s' if self.holes > 1 else ''} left out of the class, as mmnst-path "
            text += "train tissue paints them"
        if self.new_classes:
            values = ", ".join(f"{c} (value {self.classes.index(c) + 1})" for c in self.new_classes)
            text += f"; new classes (not classes mmnst_path knows; kept as yours): {values}: check the spelling"
        return text

    def import_annotations(self, path: Any) -> dict[str, int]:
        """Paint the classified polygons of a QuPath GeoJSON export (level-0 pixel coordinates), holes honoured."""
        from mmnst_path.pipeline._train import read_tissue_polygons

        text = "" if path is None or str(path) in ("", ".") else str(path)
        if not text or not Path(text).is_file():
            msg = f"annotations: choose an existing GeoJSON file (got {text!r})"
            raise ValueError(msg)
        painted = self.paint_polygons(read_tissue_polygons(text), where=f"annotation file {Path(text).name!r}")
        self.status.value = self._painted_words(Path(text).name, painted)
        return painted

    def paint_shapes(self, layer: Any = None) -> dict[str, int]:
        """Paint the polygons / rectangles of a Shapes layer (the selected one by default), the class
        of each from its ``class`` feature, else its ``name`` feature."""
        from napari.layers import Shapes

        if layer is None:
            layer = self.viewer.layers.selection.active
        if layer is None or not isinstance(layer, Shapes):
            msg = "select a Shapes layer whose shapes carry a 'class' (or 'name') feature"
            raise ValueError(msg)
        cols = list(getattr(layer.features, "columns", ()))
        key = "class" if "class" in cols else "name" if "name" in cols else None
        if key is None:
            msg = f"Shapes layer {layer.name!r} has no 'class' or 'name' feature (features: {cols})"
            raise ValueError(msg)
        image = self.image.value
        if image is None:
            msg = "no RGB image layer: open an image first"
            raise ValueError(msg)
        polys = []
        for verts, name in zip(layer.data, layer.features[key], strict=True):
            world = np.asarray([layer.data_to_world(v) for v in verts])
            polys.append((np.asarray([image.world_to_data(w) for w in world])[:, -2:], str(name)))
        painted = self.paint_polygons(polys, where=f"Shapes layer {layer.name!r}")
        self.status.value = self._painted_words(layer.name, painted)
        return painted
