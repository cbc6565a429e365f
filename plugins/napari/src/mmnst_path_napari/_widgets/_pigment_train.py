"""Train pigment widget: a lab's own pigment (melanin) pixel model from polygons drawn on one or more images, trained by
the library's :func:`mmnst_path.pipeline.train_pigment` (as ``mmnst-path train pigment``), saved as a ``.mmnst`` file
that Analyze's "pigment model" field (``[pigment] model``, the CLI's ``--pigment-model``) runs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.types import FileDialogMode
from magicgui.widgets import ComboBox, Container, FileEdit, Label, PushButton

from ._common import layer_choice, layer_mpp, rgb_image_layers, start_worker, wrap_text
from ._export import _source
from ._roi_layers import shape_rings
from ._training_layers import StatusGuard, write_model

if TYPE_CHECKING:
    import napari

__all__ = ["PIGMENT_CLASSES", "TrainPigmentWidget", "polygons_geojson"]

#: the classes a polygon is drawn as: its GeoJSON class name (the trainer's vocabulary) and edge colour
PIGMENT_CLASSES = {"Melanin": "#8b4513", "Other": "#00c8ff"}
_KIND = "pigment_polygons"


def polygons_geojson(rings: dict[str, list[np.ndarray]]) -> dict[str, Any]:
    """QuPath GeoJSON annotations of (K, 2) level-0 (row, col) rings by class name (x = column, y = row); melanin
    last, so the trainer paints it over an "Other" polygon drawn around it (later polygons over earlier ones)."""
    features = []
    for cls, shapes in sorted(rings.items(), key=lambda item: item[0] == "Melanin"):
        for ring in shapes:
            xy = [[float(c), float(r)] for r, c in np.asarray(ring, dtype=np.float64)]
            if len(xy) >= 3:
                features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*xy, xy[0]]]},
                                 "properties": {"objectType": "annotation", "classification": {"name": cls}}})
    return {"type": "FeatureCollection", "features": features}


class TrainPigmentWidget(StatusGuard, Container):
    """Draw ``Melanin`` and ``Other`` (not melanin) polygons on images, train a lab pigment model, save it.

    "draw melanin" / "draw other" add (or select) the chosen image's polygon layer of that class in polygon mode.
    "train" reads every image with polygons (its file, or the layer's pixels written to a TIFF) and trains in a
    thread; "save model" writes the ``.mmnst`` (asking before replacing another model's file).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        from mmnst_path.stain import PRESETS

        self.viewer = napari_viewer
        self.model: Any = None
        self.worker: Any = None
        self.image = layer_choice(napari_viewer, "image", rgb_image_layers)
        self.stains = ComboBox(label="stains", choices=["auto", *PRESETS], value="auto",
                               tooltip="the slides' stains: the model reads the features of the pigment model the "
                                       "stage runs for them, and a run of other stains refuses it")
        self.draw = {cls: PushButton(text=f"draw {cls.lower()}") for cls in PIGMENT_CLASSES}
        for cls, button in self.draw.items():
            button.changed.connect(lambda *_, c=cls: self.polygons_layer(c))
        self.train_button = PushButton(text="train")
        self.train_button.changed.connect(lambda *_: self.train())
        self.file = FileEdit(label="model file", mode=FileDialogMode.OPTIONAL_FILE, filter="*.mmnst")
        self.save_button = PushButton(text="save model")
        self.save_button.changed.connect(lambda *_: self._guard(self.save, self.file.value))
        self.status = wrap_text(Label(value="draw melanin and other (not melanin) polygons, then train"))
        draw = Container(widgets=list(self.draw.values()), layout="horizontal", labels=False)
        super().__init__(widgets=[self.image, self.stains, draw, self.train_button, self.file, self.save_button,
                                  self.status])


    def polygons_layer(self, cls: str, image: Any = None) -> Any:
        """The ``cls`` polygon layer of ``image`` (default: the chosen one), added over it in polygon mode."""
        image = image if image is not None else self.image.value
        if image is None:
            msg = "image: open an image to draw its pigment polygons on"
            raise ValueError(msg)
        for layer in self.viewer.layers:
            meta = layer.metadata.get("mmnst_path", {}) if isinstance(layer.metadata, dict) else {}
            if meta.get("kind") == _KIND and meta.get("class") == cls and meta.get("image") == image.name:
                break
        else:
            layer = self.viewer.add_shapes(
                name=f"{cls.lower()} polygons ({image.name})", scale=image.scale, translate=image.translate,
                units=getattr(image, "units", None), edge_color=PIGMENT_CLASSES[cls], face_color="transparent",
                edge_width=2, metadata={"mmnst_path": {"kind": _KIND, "class": cls, "image": image.name}})
        self.viewer.layers.selection.active = layer
        layer.mode = "add_polygon"
        return layer

    def training_pairs(self, folder: Path) -> tuple[list[str], list[str], list[float | None]]:
        """(images, annotation files, µm/px) of the images with polygons: each image's file (the layer's pixels
        written to ``folder`` when it was not read from one) and its polygons as QuPath GeoJSON in ``folder``."""
        import tifffile

        images: list[str] = []
        annotations: list[str] = []
        mpps: list[float | None] = []
        for image in rgb_image_layers(self.viewer):
            rings: dict[str, list[np.ndarray]] = {}
            for layer in self.viewer.layers:
                meta = layer.metadata.get("mmnst_path", {}) if isinstance(layer.metadata, dict) else {}
                if meta.get("kind") == _KIND and meta.get("image") == image.name and len(layer.data):
                    rings.setdefault(meta["class"], []).extend(shape_rings(layer, reference=image))
            if not rings:
                continue
            n = len(images)
            path = _source(image)
            if path is None or not Path(path).is_file():
                path = str(folder / f"image{n}.tif")
                tifffile.imwrite(path, np.asarray(image.data), photometric="rgb")
            ann = folder / f"image{n}.geojson"
            ann.write_text(json.dumps(polygons_geojson(rings)), encoding="utf-8")
            images.append(path)
            annotations.append(str(ann))
            mpps.append(layer_mpp(image))
        if not images:
            msg = "no polygons: draw melanin and other (not melanin) polygons on an image first"
            raise ValueError(msg)
        return images, annotations, mpps

    def _compute(self, pairs: tuple[list[str], list[str], list[float | None]], folder: Any) -> Any:
        from mmnst_path.pipeline import train_pigment

        try:
            images, annotations, mpps = pairs
            return train_pigment(images, annotations, mpp=mpps, stains=str(self.stains.value))
        finally:
            folder.cleanup()

    def train(self) -> Any:
        """Train on the drawn polygons in a thread (the model then in ``self.model``); the worker, or None when
        there is nothing to train on (the status says why)."""
        folder = tempfile.TemporaryDirectory(prefix="mmnst_pigment_")
        try:
            pairs = self.training_pairs(Path(folder.name))
        except ValueError as exc:
            folder.cleanup()
            self.status.value = f"error: {exc}"
            return None
        self.worker = start_worker(lambda: self._compute(pairs, folder), self._show, self.status)
        return self.worker

    def _show(self, model: Any) -> None:
        self.model = model
        card = model.card or {}
        counts = ", ".join(f"{k} {v}" for k, v in (card.get("training_counts") or {}).items())
        self.status.value = (f"trained {model.name!r} ({model.model_id}) on {card.get('training_images', '?')} image(s)"
                             f"{' (' + counts + ' pixels kept)' if counts else ''}; save it, then choose it as "
                             "Analyze's pigment model file")

    def save(self, path: str | Path) -> Path | None:
        """Write the trained model (``.mmnst``); a file holding another model is replaced only when the question
        asked is answered Yes (None: not saved)."""
        if self.model is None:
            msg = "no model: train one first"
            raise ValueError(msg)
        out = write_model(self.model, path, self.status)
        if out is None:
            return None
        self.status.value = f"saved {out} ({self.model.model_id}): choose it as Analyze's pigment model file"
        return out
