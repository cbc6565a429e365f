"""Train-cells widget: click example nuclei per class on a Points layer, train the library's
nucleus (cell) model, see the classification of the visible region update, save the model for
``mmnst-path quantify --cell-model`` / ``[ki67] cell_model``.

The way QuPath's object classifier is trained: the nuclei the library detects under the clicks
take their class (``mmnst_path.pipeline.cell_rows_from_reader`` and
``mmnst_path.classify.train_cells``); nothing of the algorithm lives here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, Label, PushButton

from .._layers import raster_transform
from .._units import follow_image_units
from ._analyze import AUTO
from ._common import (
    CELL_PREVIEW_KIND,
    add_or_replace,
    hold_wrapped_lines,
    image_bounds,
    layer_choice,
    layer_mpp,
    layer_reader,
    model_file,
    rgb_image_layers,
    scroll_area,
    start_worker,
    view_box,
    wrap_text,
)
from ._mpp import image_mpp, link_mpp_box, mpp_box, unknown_mpp_words
from ._training_layers import (
    StainChoice,
    StatusGuard,
    ask,
    image_of,
    kept_layer_words,
    painted,
    select_for_image,
    training_layer,
    training_layers,
    training_meta,
    training_name,
    write_model,
)

if TYPE_CHECKING:
    import napari

__all__ = ["CELL_CLASSES", "PREVIEW", "TRAIN_POINTS", "TrainCellsWidget"]

#: classes offered for clicking (any other class name in an imported layer is kept as it is)
CELL_CLASSES = ("tumour", "lymphocyte", "stromal", "macrophage", "other")
#: display colours (RGB 0-1), the same as the library's model classes
_COLOURS = {"tumour": (0.78, 0.16, 0.16), "lymphocyte": (0.16, 0.31, 0.86), "stromal": (0.16, 0.67, 0.24),
            "macrophage": (0.86, 0.59, 0.08), "other": (0.5, 0.5, 0.5)}
#: the preview's ring colours in words (the status line says which is which)
COLOUR_WORDS = {"tumour": "red", "lymphocyte": "blue", "stromal": "green", "macrophage": "orange", "other": "grey"}
TRAIN_POINTS = "cell training"
PREVIEW = "cell classes (preview)"
#: largest side (level-0 px) of the region classified by the preview
MAX_PREVIEW_SIDE = 3000


def _placement(layer: Any) -> dict[str, Any]:
    """``scale`` / ``translate`` (and the image's units) for a layer in level-0 pixel coordinates."""
    kw: dict[str, Any] = dict(raster_transform(downsample=1, mpp=layer_mpp(layer)))
    units = getattr(layer, "units", None)
    if units is not None and layer_mpp(layer):
        kw["units"] = tuple(str(u) for u in units)[-2:]
    return kw


def _colour(name: str) -> tuple[float, float, float, float]:
    return (*_COLOURS.get(str(name), (0.9, 0.9, 0.2)), 1.0)


class TrainCellsWidget(StatusGuard, StainChoice, Container):
    """Nucleus-model training from clicked example cells, with a live preview of the view.

    With "retrain and preview after each click" ticked, a click made while a retrain runs is not lost: one
    more retrain follows the running one (the clicks in between coalesced), so the last preview is trained on
    every click. An image without a pixel size takes the µm/px entered in ``image µm/px`` (here, in Analyze
    or in Train tissue: one value per image layer). Each image has its own training points (``cell training:
    <image>``); train learns from the points of every open image, and "new training points" over clicked ones
    asks before discarding them.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        # napari's plugin machinery passes the viewer to a parameter named ``napari_viewer``
        viewer = napari_viewer
        self.viewer = viewer
        follow_image_units(viewer)  # a layer the user adds takes the image's µm scale and units
        self.model: Any = None
        self.image = layer_choice(viewer, "image", rgb_image_layers)
        self.mpp = mpp_box()
        from mmnst_path.stain import PRESETS

        # the same choices as Analyze, ``auto`` resolved as Analyze resolves it (once per image layer)
        self.stains = ComboBox(label="stains", choices=[AUTO, *PRESETS], value=AUTO)
        self._detected: dict[tuple[Any, int], str] = {}
        self.cls = ComboBox(label="class to click", choices=list(CELL_CLASSES), value="tumour")
        self.new_points = PushButton(text="new training points")
        self.train_button = PushButton(text="train")
        self.live = CheckBox(text="retrain and preview after each click", value=False)
        self.unused: list[str] = []  # training points of closed images (said by train)
        self.stain_warning = ""  # a chosen preset that is not the training images' stains (said by train)
        self.preview_button = PushButton(text="preview on view")
        self.file = FileEdit(label="model file", mode="w", filter="*.mmnst")
        self.save_button = PushButton(text="save model")
        self.load_button = PushButton(text="load model")
        self.status = Label(value="")
        wrap_text(self.status)  # (a long status was cut at the dock's right edge)
        # the settings scroll, the status stays in view below them (docked under Analyze it was below the
        # window's bottom, session 35)
        self.form = Container(
            widgets=[
                self.image, self.mpp, self.stains, self.cls, self.new_points, self.train_button, self.live,
                self.preview_button, self.file,
                Container(widgets=[self.save_button, self.load_button], layout="horizontal", labels=False),
            ]
        )  # fmt: skip
        super().__init__(widgets=[self.status])
        self.native.layout().insertWidget(0, scroll_area(self.form.native))
        # a status wrapped to several lines keeps their height (docked under Train tissue it showed only its last
        # words, "class advised): annotate more ...": session 42 H6, #15)
        hold_wrapped_lines(self.native)
        self.new_points.changed.connect(lambda *_: self.add_training_points())
        self.cls.changed.connect(lambda *_: self._set_default_class())
        self.image.changed.connect(lambda *_: select_for_image(viewer, TRAIN_POINTS, self.image.value))
        self.train_button.changed.connect(lambda *_: self._in_thread(self._compute_train, self._show_train))
        self.preview_button.changed.connect(lambda *_: self._in_thread(self._compute_preview, self._show_preview))
        # a refused save / load is said on the status line (it raised through the button's signal before)
        self.save_button.changed.connect(lambda *_: self._guard(self.save, self.file.value))
        self.load_button.changed.connect(lambda *_: self._guard(self.load, self.file.value))
        self._busy = False
        self._again = False  # a click came while a run was busy: one more live retrain follows it
        link_mpp_box(viewer, self.image, self.mpp, on_change=self._on_mpp)
        viewer.layers.events.inserted.connect(self._on_inserted)

    # ------------------------------------------------------------------------------------------
    def _on_inserted(self, event: Any) -> None:
        """Analyze drew its nuclei (positive red, negative blue): the preview's rings (tumour red, lymphocyte blue)
        are hidden, so the two colourings of opposite meanings are not seen one over the other (session 42 H6,
        #15); the status says how to compare."""
        layer = getattr(event, "value", None)
        meta = getattr(layer, "metadata", None)
        kind = meta.get("mmnst_path", {}).get("kind") if isinstance(meta, dict) else None
        if kind != "nuclei" or PREVIEW not in self.viewer.layers:
            return
        preview = self.viewer.layers[PREVIEW]
        if preview.visible:
            preview.visible = False
            try:
                self.status.value = (f"the {PREVIEW!r} layer is hidden under Analyze's nuclei (other colours: "
                                     "Ki67 positive red, negative blue): tick its eye to compare")
            except RuntimeError:  # the dock widget was closed
                return


    def _in_thread(self, compute: Any, show: Any) -> Any:
        """Run ``compute()`` in a worker thread, then ``show(result)`` in the GUI thread (one at a time)."""
        if self._busy:
            return None
        self._busy = True
        return start_worker(compute, show, self.status, on_finished=self._finished)

    def _finished(self) -> None:
        """A run ended: the live retrain that clicks made while it ran starts now (one for all of them)."""
        self._busy = False
        if self._again:
            self._again = False
            self._live_retrain()

    def _live_retrain(self) -> Any:
        """Retrain and preview after a click (``live`` ticked, two classes clicked); while a run is busy, the
        retrain is kept for its end (a click was dropped before: 27 of 40 clicks trained, session 40 H3)."""
        try:
            live = bool(self.live.value)
        except RuntimeError:  # the dock widget was closed
            return None
        names = [np.asarray(p.features["class"]).astype(str) for p in training_layers(self.viewer, TRAIN_POINTS)
                 if len(p.data) and image_of(self.viewer, p) is not None]  # fmt: skip
        if not live or len(set(np.concatenate(names).tolist()) if names else ()) < 2:
            return None
        if self._busy:
            self._again = True
            return None
        return self._in_thread(self._compute_train_and_preview, self._show_train_and_preview)

    def _on_mpp(self) -> None:
        """The chosen image or its µm/px changed: an unknown pixel size is said on the status line."""
        layer = self.image.value
        if layer is not None and image_mpp(layer)[0] is None:
            self.status.value = unknown_mpp_words(layer, "the cell features are in µm")

    def _layer_and_reader(self, layer: Any = None) -> tuple[Any, Any]:
        layer = self.image.value if layer is None else layer
        if layer is None:
            msg = "no RGB image layer"
            raise ValueError(msg)
        mpp = image_mpp(layer)[0]
        if not mpp:
            raise ValueError(unknown_mpp_words(layer, "the cell features are in µm"))
        reader = layer_reader(layer, mpp=mpp)
        if reader.mpp != mpp:  # a pyramid whose file gives no pixel size: the entered one (as Analyze does)
            reader.mpp = mpp
        return layer, reader

    def _points(self) -> list[Any]:
        """Every open image's training points layer with points, the chosen image's first; the names of layers
        whose image was closed go to ``self.unused``."""
        layers = training_layers(self.viewer, TRAIN_POINTS)
        if not layers:
            msg = f"no {TRAIN_POINTS!r} layer: press 'new training points' and click example nuclei"
            raise ValueError(msg)
        chosen = self.image.value
        layers.sort(key=lambda lay: chosen is None or lay.metadata["mmnst_path"].get("image_id") != chosen.unique_id)
        self.unused = [lay.name for lay in layers if len(lay.data) and image_of(self.viewer, lay) is None]
        return [lay for lay in layers if len(lay.data) and image_of(self.viewer, lay) is not None]

    # ------------------------------------------------------------------------------------------
    def add_training_points(self) -> Any:
        """Add the chosen image's empty training Points layer over it (level-0 pixel coordinates), in add mode.

        The other images' points stay (training uses them all); when this image's layer holds points, a question
        asks before discarding them (No keeps them)."""
        layer = self.image.value
        if layer is None:
            self.status.value = "open an RGB image first"
            return None
        old = training_layer(self.viewer, TRAIN_POINTS, layer)
        n = painted(old) if old is not None else 0
        if old is not None and n and not ask(f"Discard the {n} clicked points of {old.name!r} and start new "
                                             f"training points on {layer.name!r}?"):  # fmt: skip
            select_for_image(self.viewer, TRAIN_POINTS, layer)
            self.status.value = kept_layer_words(old, "clicked points", n)
            return old
        if old is not None:
            self.viewer.layers.remove(old)
        kw: dict[str, Any] = {"name": training_name(TRAIN_POINTS, layer), "size": 12,
                              "features": {"class": np.array([], dtype=object)}, "border_color": "white",
                              "metadata": {"mmnst_path": training_meta(TRAIN_POINTS, layer)}, **_placement(layer)}
        pts = add_or_replace(self.viewer, (np.zeros((0, 2)), kw, "points"))
        pts.feature_defaults = {"class": self.cls.value}
        pts.events.data.connect(lambda *_: self._on_points_changed(pts))
        select_for_image(self.viewer, TRAIN_POINTS, layer)
        pts.mode = "add"
        self.status.value = "choose a class, click nuclei of it; at least two classes, then train"
        return pts

    def _set_default_class(self) -> None:
        for pts in training_layers(self.viewer, TRAIN_POINTS):
            pts.feature_defaults = {"class": self.cls.value}

    def _on_points_changed(self, pts: Any) -> None:
        if all(lay.unique_id != pts.unique_id for lay in self.viewer.layers):  # (removed)
            return
        classes = np.asarray(pts.features["class"]).astype(str) if len(pts.data) else np.zeros(0, str)
        if len(classes):
            pts.face_color = np.array([_colour(c) for c in classes])
        self._live_retrain()

    def training_rows(self, places: list[tuple[int, np.ndarray]] | None = None
                      ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[dict[str, Any]], str]:
        """Features and classes of the nuclei under the clicked points of every open image; (rows, one card entry
        per image, the stains).

        ``places`` receives ``(image index, level-0 µm positions)`` of the rows
        (:func:`mmnst_path.pipeline.cell_rows_from_reader`): the held-out figures hold out whole images when there
        are several. Under ``auto`` the images must be of one stains (a model is of one stains); a chosen preset
        that is not the stains of an image leaves a warning in ``stain_warning``."""
        from mmnst_path.pipeline import cell_rows_from_reader

        pairs = [(pts, *self._layer_and_reader(image_of(self.viewer, pts))) for pts in self._points()]
        stains, self.stain_warning = self.training_stains([(layer, reader) for _, layer, reader in pairs])
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        sources: list[dict[str, Any]] = []
        for i, (pts, layer, reader) in enumerate(pairs):
            data = np.asarray(pts.data, dtype=np.float64)[:, -2:]
            names = np.asarray(pts.features["class"]).astype(str)
            where: list[np.ndarray] = []
            got = cell_rows_from_reader(reader, data, names, stains=stains, where="image layer", places=where)
            rows += got
            if places is not None:
                places += [(i, rc) for rc in where]
            sources.append({"image": layer.name, "points": len(data), "matched_nuclei": sum(len(y) for _, y in got)})
        if not sources:
            self._layer_and_reader()  # the chosen image's missing pixel size is said first
            msg = "no clicked points: choose a class and click example nuclei on the image"
            raise ValueError(msg)
        return rows, sources, stains

    def train(self) -> Any:
        """Train synchronously (what the button does in a thread)."""
        return self._show_train(self._compute_train())

    def _compute_train(self, held_out: bool = True) -> tuple[Any, int, int]:
        """Train on the clicks; with ``held_out`` the card's held-out figure (folds of spatial squares: a few more
        fits, left out of the live retraining after each click)."""
        from mmnst_path.classify.train import Places
        from mmnst_path.classify.train_cells import train_cell_model

        where: list[tuple[int, np.ndarray]] | None = [] if held_out else None  # the clicks' places (held-out figure)
        rows, sources, stains = self.training_rows(places=where)
        n_used = sum(len(y) for _, y in rows)
        model = train_cell_model(rows, stains=stains, n_estimators=40,
                                 places=Places.stack(where) if where is not None else None,
                                 card={"name": "napari-trained nucleus classifier", "training_data": sources})
        return model, sum(s["points"] for s in sources), n_used

    def _show_train(self, trained: tuple[Any, int, int]) -> Any:
        from mmnst_path.classify.train import training_caution

        self.model, n_points, n_used = trained
        counts = ", ".join(f"{k} {v}" for k, v in self.model.card["training_counts"].items())
        val = self.model.card.get("validation", {}).get("held_out", {}).get("accuracy")
        extra = f"; held-out accuracy {val:.2f}" if val is not None else ""
        stains = self.stains_words(str(self.model.settings.get("stains", self.stains.value)))
        caution = training_caution(self.model.card)
        images = [s["image"] for s in self.model.card.get("training_data", [])]
        on = f" on {len(images)} images ({', '.join(images)})" if len(images) > 1 else ""
        unused = f"; not used: {', '.join(self.unused)} (its image is closed)" if self.unused else ""
        warn = f"; {self.stain_warning}" if self.stain_warning else ""
        self.status.value = (f"trained on {n_used} of {n_points} clicks{on} ({counts}){extra}; {stains}{warn}{unused}"
                             + (f"; {caution}" if caution else ""))
        return self.model

    # ------------------------------------------------------------------------------------------
    def preview(self) -> Any:
        """Classify the nuclei of the visible region synchronously (the button runs it in a thread)."""
        return self._show_preview(self._compute_preview())

    def _compute_preview(self) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        from mmnst_path.geometry import Box
        from mmnst_path.io._resample import resize_area
        from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67

        layer, reader = self._layer_and_reader()
        box = view_box(self.viewer, layer)
        rows, cols = image_bounds(layer)
        h, w = min(box.height, MAX_PREVIEW_SIDE), min(box.width, MAX_PREVIEW_SIDE)
        if h < 16 or w < 16:
            msg = "the visible region is too small or outside the image"
            raise ValueError(msg)
        r0, c0 = box.row + (box.height - h) // 2, box.col + (box.width - w) // 2
        rgb = np.asarray(reader.read_region(Box(r0, c0, h, w)))[..., :3]
        mpp = float(reader.mpp)
        f = mpp / 0.5
        shape = (max(1, round(h * f)), max(1, round(w * f)))
        small = resize_area(rgb, shape) if shape != (h, w) else rgb
        params = Ki67Params() if self.model is not None else Ki67Params(cell_model="default")
        stains = self.resolved_stains(layer, reader)
        self._check_model_stains(stains)
        region = measure_ki67(small, mpp=0.5, stains=stains, params=params, cell_model=self.model)
        cells = region.cells
        sr, sc = h / shape[0], w / shape[1]
        rc = np.c_[(cells.row + 0.5) * sr - 0.5 + r0, (cells.col + 0.5) * sc - 0.5 + c0]
        kw: dict[str, Any] = {"name": PREVIEW, "size": 10, "face_color": "transparent",
                              "border_color": np.array([_colour(t) for t in cells.cell_type]).reshape(-1, 4),
                              "border_width": 0.25, "features": {"class": np.asarray(cells.cell_type, dtype=object),
                                                                 "ki67": np.asarray(cells.cls, dtype=object)},
                              **_placement(layer)}
        inside = (rc[:, 0] < rows) & (rc[:, 1] < cols)
        kw["metadata"] = {"stains": stains, "mmnst_path": {"kind": CELL_PREVIEW_KIND}}  # not nuclei to review
        return rc[inside], np.asarray(cells.cell_type)[inside], kw

    def _show_preview(self, result: tuple[np.ndarray, np.ndarray, dict[str, Any]]) -> Any:
        rc, types, kw = result
        kw["border_color"] = kw["border_color"][: len(rc)]
        kw["features"] = {k: v[: len(rc)] for k, v in kw["features"].items()}
        layer = add_or_replace(self.viewer, (rc, kw, "points"))
        uniq, n = np.unique(types, return_counts=True)
        who = "your model" if self.model is not None else "the default model"
        colours = ", ".join(f"{name} {COLOUR_WORDS[name]}" for name in uniq if name in COLOUR_WORDS)
        self.status.value = (f"view classified by {who} ({self.stains_words(kw['metadata']['stains'])}): "
                             + ", ".join(f"{u} {k}" for u, k in zip(uniq, n, strict=True)) + f" (rings: {colours})")
        nuclei = self.viewer.layers["nuclei"] if "nuclei" in self.viewer.layers else None
        if nuclei is not None and nuclei.visible:  # its red / blue rings (Ki67) read as tumour / lymphocyte here
            nuclei.visible = False
            self.status.value += "; the Ki67 nuclei layer is hidden under the preview: tick its eye to compare"
        mine = training_layer(self.viewer, TRAIN_POINTS, self.image.value)
        if mine is not None:  # keep the clicks selected
            self.viewer.layers.selection.active = mine
        return layer

    def _compute_train_and_preview(self) -> tuple[tuple[Any, int, int], Any]:
        trained = self._compute_train(held_out=False)
        self.model = trained[0]
        return trained, self._compute_preview()

    def _show_train_and_preview(self, both: tuple[tuple[Any, int, int], Any]) -> None:
        trained, preview = both
        self._show_train(trained)
        status = self.status.value
        self._show_preview(preview)
        self.status.value = f"{status} | {self.status.value}"

    # ------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path | None:
        """Write the trained model (portable ``.mmnst`` file with its card); an existing file of another model is
        replaced only when the question asked is answered Yes (None: not saved)."""
        if self.model is None:
            msg = "no cell model: train one or load a model file first"
            raise ValueError(msg)
        out = write_model(self.model, path, self.status)
        if out is None:
            return None
        self.status.value = f"saved {out} ({self.model.model_id}); use it with --cell-model {out}"
        return out

    def load(self, path: str | Path) -> Any:
        """Load a nucleus model file (validated; a damaged or foreign file is refused); the status names the stains
        its card was trained on."""
        from mmnst_path.classify import load_model

        self.model = load_model(model_file(path), kind="nucleus")
        trained = self.model.settings.get("stains")
        self.status.value = (f"loaded {self.model.name} ({self.model.model_id}): {', '.join(self.model.class_names)}"
                             + (f"; trained on {trained}" if trained else ""))
        return self.model

    def _check_model_stains(self, stains: str) -> None:
        """Refuse to preview with a loaded or trained model of other stains than the image's (as ``quantify
        --cell-model`` refuses it: :func:`mmnst_path.pipeline._model_stains.model_stain_problem`)."""
        from mmnst_path.pipeline._model_stains import model_stain_problem
        from mmnst_path.stain import load_stains

        if self.model is None:
            return
        matrix = load_stains(stains)
        declared = self.model.settings.get("stains")
        declared = declared if isinstance(declared, list | tuple) else [declared]
        if str(stains) in map(str, declared) or matrix.name in map(str, declared):
            return  # its own stains (an H&E cell model on H&E: the library's check is of a Ki67 run's chromogen)
        problem = model_stain_problem(self.model, matrix)
        if problem:
            msg = (f"cell model {self.model.name!r}: {problem}: train or load one for these stains, or choose the "
                   "model's stains")
            raise ValueError(msg)
