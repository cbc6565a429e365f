"""Train pigment widget: a lab's own pigment (melanin) pixel model from polygons drawn on one or more images, trained by
the library's :func:`mmnst_path.pipeline.train_pigment` (as ``mmnst-path train pigment``), saved as a ``.mmnst`` file
that Analyze's "pigment model" field (``[pigment] model``, the CLI's ``--pigment-model``) runs.

napari Shapes hold no holes: a polygon's holes (a nucleus or a gap left out of a melanin polygon) are the polygons of
the image's ``holes`` layer, each given to the polygon around it (the smallest, :func:`._roi_layers.with_holes`) and
written as its interior, which the trainer leaves out (even-odd, as ``train pigment`` reads a QuPath file). QuPath
annotations load onto the same layers (Train tissue's reader, :func:`mmnst_path.pipeline.read_tissue_polygons`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.types import FileDialogMode
from magicgui.widgets import ComboBox, Container, FileEdit, Label, PushButton

from mmnst_path.geojson import Roi

from ._common import hold_wrapped_lines, layer_choice, rgb_image_layers, scroll_area, start_worker, wrap_text
from ._export import _source
from ._mpp import image_mpp, link_mpp_box, mpp_box, unknown_mpp_words
from ._roi_layers import shape_rings, with_holes
from ._training_layers import (
    StatusGuard,
    select_for_image,
    training_layer,
    training_layers_of,
    training_meta,
    write_model,
)

if TYPE_CHECKING:
    import napari

__all__ = ["PIGMENT_CLASSES", "PIGMENT_POLYGONS", "TrainPigmentWidget", "polygons_geojson"]

#: the classes a polygon is drawn as: its GeoJSON class name (the trainer's vocabulary) and edge colour
PIGMENT_CLASSES = {"Melanin": "#8b4513", "Other": "#00c8ff"}
#: the polygons left out of the polygon around them (their class in the layer's metadata) and their edge colour
HOLE, HOLE_COLOUR = "hole", "orange"
_KIND = "pigment_polygons"
#: the training kind of the polygon layers (:mod:`._training_layers`: each linked to its image by napari id)
PIGMENT_POLYGONS = "pigment polygons"


def polygons_geojson(rings: dict[str, list[np.ndarray | Roi]]) -> dict[str, Any]:
    """QuPath GeoJSON annotations of (K, 2) level-0 (row, col) rings (or ROIs with holes: their interiors) by class
    name, in QuPath's pixel-corner frame (x = column + 0.5, y = row + 0.5, as :mod:`mmnst_path.geojson` writes: the
    trainer reads them back where they were drawn, not half a pixel up and left); melanin last, so the trainer paints
    it over an "Other" polygon drawn around it (later polygons over earlier ones)."""
    def xy(ring: np.ndarray) -> list[list[float]]:
        pts = [[float(c) + 0.5, float(r) + 0.5] for r, c in np.asarray(ring, dtype=np.float64)]
        return [*pts, pts[0]]

    features = []
    for cls, shapes in sorted(rings.items(), key=lambda item: item[0] == "Melanin"):
        for shape in shapes:
            roi = shape if isinstance(shape, Roi) else Roi(np.asarray(shape, dtype=np.float64))
            if len(roi.polygon) >= 3:
                coords = [xy(roi.polygon), *(xy(h) for h in roi.holes if len(h) >= 3)]
                features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": coords},
                                 "properties": {"objectType": "annotation", "classification": {"name": cls}}})
    return {"type": "FeatureCollection", "features": features}


class TrainPigmentWidget(StatusGuard, Container):
    """Draw ``Melanin`` and ``Other`` (not melanin) polygons on images, train a lab pigment model, save it.

    "draw melanin" / "draw other" add (or select) the chosen image's polygon layer of that class in polygon mode;
    "draw hole" its holes layer (a polygon there is left out of the polygon around it). "load annotations" puts a
    QuPath GeoJSON's classified polygons on those layers. "train" reads every image with polygons (its file, or the
    layer's pixels written to a TIFF) at its µm/px (the file's, else the one entered in ``image µm/px``) and trains
    in a thread; "save model" writes the ``.mmnst`` (asking before replacing another model's file).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        from mmnst_path.stain import PRESETS

        self.viewer = napari_viewer
        self.model: Any = None
        self.holes_outside = 0  # holes of the last training inside no polygon (left out, said)
        self.worker: Any = None
        self.image = layer_choice(napari_viewer, "image", rgb_image_layers)
        self.mpp = mpp_box()  # an image without a pixel size (a JPEG tile): the features are in µm
        self.stains = ComboBox(label="stains", choices=["auto", *PRESETS], value="auto",
                               tooltip="the slides' stains: the model reads the features of the pigment model the "
                                       "stage runs for them, and a run of other stains refuses it")
        self.draw = {cls: PushButton(text=f"draw {cls.lower()}") for cls in (*PIGMENT_CLASSES, HOLE)}
        for cls, button in self.draw.items():
            button.changed.connect(lambda *_, c=cls: self.polygons_layer(c))
        self.train_button = PushButton(text="train")
        self.train_button.changed.connect(lambda *_: self.train())
        self.file = FileEdit(label="model file", mode=FileDialogMode.OPTIONAL_FILE, filter="*.mmnst")
        self.save_button = PushButton(text="save model")
        self.save_button.changed.connect(lambda *_: self._guard(self.save, self.file.value))
        self.annotations = FileEdit(label="annotations", mode=FileDialogMode.EXISTING_FILE, filter="*.geojson *.json")
        self.load_button = PushButton(text="load annotations (QuPath GeoJSON)")
        self.load_button.changed.connect(lambda *_: self._guard(self.load_annotations, self.annotations.value))
        self.status = wrap_text(Label(value="draw melanin and other (not melanin) polygons, then train"))
        draw = Container(widgets=list(self.draw.values()), layout="horizontal", labels=False)
        # the form scrolls, the status stays in view below it (as Train tissue's and Train cells': the µm/px box and
        # the loading rows made the dock 86 px taller)
        self.form = Container(widgets=[self.image, self.mpp, self.stains, draw, self.annotations, self.load_button,
                                       self.train_button, self.file, self.save_button])
        super().__init__(widgets=[self.status])
        self.native.layout().insertWidget(0, scroll_area(self.form.native))
        hold_wrapped_lines(self.native)
        link_mpp_box(napari_viewer, self.image, self.mpp)
        # the chosen image shown over the others with its polygons (as Train tissue / Train cells)
        self.image.changed.connect(lambda *_: select_for_image(napari_viewer, PIGMENT_POLYGONS, self.image.value))

    def polygons_layer(self, cls: str, image: Any = None) -> Any:
        """The ``cls`` polygon layer of ``image`` (default: the chosen one), added over it in polygon mode; the image
        and its polygons raised over the other images (:func:`._training_layers.select_for_image`)."""
        image = image if image is not None else self.image.value
        if image is None:
            msg = "image: open an image to draw its pigment polygons on"
            raise ValueError(msg)
        layer = self._layer_of(cls, image)
        if layer is None:
            layer = self.viewer.add_shapes(
                name=f"{cls.lower()}{'s' if cls == HOLE else ' polygons'} ({image.name})", scale=image.scale,
                translate=image.translate, units=getattr(image, "units", None),
                edge_color=PIGMENT_CLASSES.get(cls, HOLE_COLOUR), face_color="transparent", edge_width=2,
                metadata={"mmnst_path": training_meta(PIGMENT_POLYGONS, image, kind=_KIND, **{"class": cls})})
        self.viewer.layers.selection.active = layer
        select_for_image(self.viewer, PIGMENT_POLYGONS, image)
        layer.mode = "add_polygon"
        return layer

    def _layer_of(self, cls: str, image: Any) -> Any:
        """The ``cls`` polygon layer of ``image`` (by the image's napari id; None when it has none)."""
        return training_layer(self.viewer, PIGMENT_POLYGONS, image, **{"class": cls})

    def load_annotations(self, path: Any) -> dict[str, int]:
        """Put the classified polygons of a QuPath GeoJSON (level-0 pixels) on the chosen image's polygon layers:
        Melanin / Pigment on *melanin*, every other class on *other* (as ``train pigment`` reads the file), their
        holes on *holes*; unclassified / Region / Ignore polygons are left out. Returns the polygons added by
        layer."""
        from mmnst_path.pipeline import read_tissue_polygons
        from mmnst_path.pipeline._train_pigment import pigment_class_names

        text = "" if path is None or str(path) in ("", ".") else str(path)
        if not text or not Path(text).is_file():
            msg = f"annotations: choose an existing GeoJSON file (got {text!r})"
            raise ValueError(msg)
        polys = read_tissue_polygons(text)
        names = pigment_class_names([n for _, n in polys], where=f"annotation file {Path(text).name!r}")
        to_layer = {"melanin": "Melanin", "other": "Other"}
        added = dict.fromkeys((*PIGMENT_CLASSES, HOLE), 0)
        image = self.image.value
        for rings, name in polys:
            cls = to_layer.get(names.get(name, ""))
            if cls is None:
                continue
            self.polygons_layer(cls, image).add_polygons([np.asarray(rings[0], dtype=np.float64)])
            added[cls] += 1
            if len(rings) > 1:
                self.polygons_layer(HOLE, image).add_polygons([np.asarray(r, dtype=np.float64) for r in rings[1:]])
                added[HOLE] += len(rings) - 1
        unused = len(polys) - added["Melanin"] - added["Other"]
        for lay in (self._layer_of(c, image) for c in added):
            if lay is not None:
                lay.mode = "pan_zoom"
        self.status.value = (f"loaded {Path(text).name}: {added['Melanin']} melanin, {added['Other']} other polygon(s)"
                             f", {added[HOLE]} hole(s) on {image.name!r}"
                             f"{f'; {unused} unclassified / Region / Ignore polygon(s) left out' if unused else ''}")
        return added

    def training_pairs(self, folder: Path) -> tuple[list[str], list[str], list[float | None]]:
        """(images, annotation files, µm/px) of the images with polygons: each image's file (the layer's pixels
        written to ``folder`` when it was not read from one) and its polygons (their holes as interiors) as QuPath
        GeoJSON in ``folder``. An image without a pixel size (none in the file, none entered) is refused."""
        import tifffile

        images: list[str] = []
        annotations: list[str] = []
        mpps: list[float | None] = []
        self.holes_outside = 0
        for image in rgb_image_layers(self.viewer):
            rings: dict[str, list[np.ndarray]] = {}
            for layer in training_layers_of(self.viewer, PIGMENT_POLYGONS, image):
                if len(layer.data):
                    cls = layer.metadata["mmnst_path"]["class"]
                    rings.setdefault(cls, []).extend(shape_rings(layer, reference=image))
            holes = rings.pop(HOLE, [])
            if not rings:
                continue
            mpp = image_mpp(image)[0]
            if not mpp:
                raise ValueError(unknown_mpp_words(image, "the pigment features are in µm"))
            classes = [cls for cls, shapes in rings.items() for _ in shapes]
            rois, outside = with_holes([Roi(r) for shapes in rings.values() for r in shapes], holes)
            self.holes_outside += outside
            by_class: dict[str, list[np.ndarray | Roi]] = {}
            for cls, roi in zip(classes, rois, strict=True):
                by_class.setdefault(cls, []).append(roi)
            n = len(images)
            path = _source(image)
            if path is None or not Path(path).is_file():
                path = str(folder / f"image{n}.tif")
                tifffile.imwrite(path, np.asarray(image.data), photometric="rgb")
            ann = folder / f"image{n}.geojson"
            ann.write_text(json.dumps(polygons_geojson(by_class)), encoding="utf-8")
            images.append(path)
            annotations.append(str(ann))
            mpps.append(float(mpp))
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
        if self.holes_outside:
            self.status.value += f"; {self.holes_outside} hole(s) inside no polygon: left out"

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
