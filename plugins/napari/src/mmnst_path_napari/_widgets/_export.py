"""Export widget: CSV / JSON / QuPath GeoJSON of the current (reviewed) results and ROIs; import
QuPath GeoJSON annotations as Shapes (ROIs) and detections as Points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, Label, PushButton

from .._analysis import ki67_from_classes
from .._geojson import read_geojson, write_geojson
from .._layers import cells_from_points, points_layer
from ._common import add_or_replace, layer_choice, layer_mpp, nuclei_layers, rgb_image_layers

if TYPE_CHECKING:
    import napari

__all__ = [
    "ExportWidget",
    "export_csv",
    "export_geojson",
    "export_json",
    "import_geojson_layers",
    "shapes_rois",
]


def shapes_rois(layer: Any) -> list[np.ndarray]:
    """(K, 2) level-0 (row, col) polygons of a Shapes layer (its data frame)."""
    if layer is None:
        return []
    return [np.asarray(d, dtype=np.float64)[:, -2:] for d in layer.data]


def export_csv(points: Any, path: str | Path) -> Path:
    """cells.csv of the nuclei layer (library format: x, y, class, features)."""
    from mmnst_path.report import atomic_write_text, cells_csv_text

    return atomic_write_text(path, cells_csv_text(cells_from_points(points.data, points.features)))


def export_json(points: Any, path: str | Path, *, rois: list[np.ndarray] = ()) -> Path:
    """result.json: the library's result document (when the layer came from Analyze) plus the
    reviewed Ki67 counts and metrics and the ROIs."""
    from mmnst_path.report import atomic_write_text, json_ready, result_to_dict

    result = points.metadata.get("mmnst_path", {}).get("result")
    doc: dict[str, Any] = result_to_dict(result) if result is not None else {"input": None}
    feats = points.features
    counts, metrics = ki67_from_classes(
        np.asarray(feats["class"], dtype=object), np.asarray(feats["intensity_bin"])
    )
    doc["review"] = {"ki67_counts": counts.to_mapping(), "ki67_metrics": metrics, "n_cells": len(points.data)}
    doc["rois"] = [np.asarray(r).tolist() for r in rois]
    return atomic_write_text(path, json.dumps(json_ready(doc), indent=2))


def export_geojson(points: Any, path: str | Path, *, rois: list[np.ndarray] = ()) -> Path:
    """QuPath GeoJSON: ROIs as annotations, nuclei as classified detections."""
    cells = cells_from_points(points.data, points.features) if points is not None else None
    return write_geojson(path, cells=cells, rois=list(rois))


def import_geojson_layers(path: str | Path, *, mpp: float | None) -> list[tuple[Any, dict[str, Any], str]]:
    """Layer data of a QuPath GeoJSON file: annotations -> Shapes, detections -> Points."""
    cells, rois, names = read_geojson(path)
    stem = Path(path).stem
    out = []
    if rois:
        s = (float(mpp), float(mpp)) if mpp else (1.0, 1.0)
        kw: dict[str, Any] = {
            "name": f"{stem} annotations",
            "shape_type": "polygon",
            "edge_color": "cyan",
            "face_color": "transparent",
            "scale": s,
            "features": {"name": names},
        }
        out.append((rois, kw, "shapes"))
    if len(cells):
        out.append(points_layer(cells, mpp=mpp, name=f"{stem} detections"))
    return out


class ExportWidget(Container):
    """Write the nuclei layer (and a Shapes layer of ROIs) as CSV, JSON or GeoJSON; import GeoJSON."""

    def __init__(self, viewer: napari.Viewer) -> None:
        from napari.layers import Shapes

        self.viewer = viewer
        self.points = layer_choice(viewer, "nuclei layer", nuclei_layers)
        self.rois = layer_choice(
            viewer, "ROI shapes", lambda v: [lay for lay in v.layers if isinstance(lay, Shapes)]
        )
        self.rois.nullable = True
        self.kind = ComboBox(label="format", choices=["GeoJSON (QuPath)", "CSV (cells)", "JSON (result)"])
        self.out = FileEdit(label="save to", mode="w")
        self.save_button = PushButton(text="export")
        self.inp = FileEdit(label="QuPath GeoJSON", mode="r", filter="*.geojson *.json")
        self.import_button = PushButton(text="import")
        self.status = Label(value="")
        super().__init__(
            widgets=[self.points, self.rois, self.kind, self.out, self.save_button, self.inp, self.import_button,
                     self.status]
        )  # fmt: skip
        self.save_button.changed.connect(lambda *_: self.export(self.out.value))
        self.import_button.changed.connect(lambda *_: self.import_(self.inp.value))

    def export(self, path: str | Path) -> Path:
        rois = shapes_rois(self.rois.value)
        kind = self.kind.value
        if kind.startswith("GeoJSON"):
            out = export_geojson(self.points.value, path, rois=rois)
        elif self.points.value is None:
            self.status.value = "no nuclei layer to export"
            return Path(path)
        elif kind.startswith("CSV"):
            out = export_csv(self.points.value, path)
        else:
            out = export_json(self.points.value, path, rois=rois)
        self.status.value = f"wrote {out}"
        return out

    def import_(self, path: str | Path) -> list[Any]:
        images = rgb_image_layers(self.viewer)
        mpp = layer_mpp(images[0]) if images else None
        layers = [add_or_replace(self.viewer, d) for d in import_geojson_layers(path, mpp=mpp)]
        self.status.value = f"imported {len(layers)} layer(s) from {Path(path).name}"
        return layers
