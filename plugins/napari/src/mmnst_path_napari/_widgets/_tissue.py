"""Train-tissue widget: paint tissue classes on a Labels layer, train a tissue (pixel) model with
the library's trainer, watch its prediction on the visible region while painting, apply it to the
whole image, save / load the ``.mmnst`` model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.types import FileDialogMode
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, Label, LineEdit, PushButton, TextEdit

from .._classmap import class_areas, class_legend_html, class_map_layer, class_table_text
from .._layers import raster_transform
from .._tissue import classify_box, labels_downsample, training_rows, work_downsample
from .._units import follow_image_units
from ._analyze import AUTO
from ._common import (
    add_or_replace,
    hold_wrapped_lines,
    image_bounds,
    keep_top_rows,
    layer_choice,
    layer_mpp,
    layer_reader,
    model_file,
    rgb_image_layers,
    scroll_area,
    shown_when_set,
    view_box,
    wrap_text,
)
from ._mpp import image_mpp, link_mpp_box, mpp_box, unknown_mpp_words
from ._tissue_live import DEBOUNCE_S, LIVE_TREES, PREVIEW_UM, TRAIN_LABELS, TRAIN_UM, LivePreview
from ._tissue_paint import PaintPolygons
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

__all__ = ["CLASS_MAP", "DEBOUNCE_S", "LIVE_TREES", "PREVIEW", "TRAIN_LABELS", "TrainTissueWidget"]

PREVIEW = "tissue preview"
CLASS_MAP = "tissue classes (trained)"
#: classes offered beyond the default model's (issue #13's list)
EXTRA_CLASSES = ("keratin", "melanin")
#: longest side (working pixels) of the previewed region; a larger view is previewed at its centre
MAX_PREVIEW_SIDE = 1024
#: colours of added classes the library has none for (RGB)
_PALETTE = ((31, 119, 180), (255, 127, 14), (148, 103, 189), (23, 190, 207), (188, 189, 34), (140, 86, 75))


class TrainTissueWidget(PaintPolygons, LivePreview, StatusGuard, StainChoice, Container):
    """Tissue-classifier training on painted labels; value ``k`` = ``classes[k - 1]``.

    Each image has its own training labels (``tissue training: <image>``); train (and the live preview) learn
    from the labels of every open image, and "new training labels" over painted ones asks before discarding them.

    ``self.classes`` / ``self.colours`` start from the shipped default tissue model's classes and
    colours (plus keratin and melanin); the legend shows the value to paint for each. Train fits
    a new model with :func:`mmnst_path.classify.train_tissue.train_tissue_model` (the trainer of
    ``mmnst-path train tissue``); with ``live`` ticked, every stroke (debounced) retrains a quick
    forest and predicts the visible region in a worker thread (``tissue preview``). A preview
    (live or from the button) that comes back after a newer stroke, or after its image or training
    labels were removed or replaced, or the image's µm/px changed, is dropped, never drawn.
    An image without a pixel size takes the µm/px entered in ``image µm/px`` (here, in Analyze or
    in Train cells: one value per image layer).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        from mmnst_path.stain import PRESETS

        viewer = napari_viewer
        self.viewer = viewer
        follow_image_units(viewer)  # a layer the user adds takes the image's µm scale and units
        self.classes: list[str] = []
        self.colours: list[tuple[int, int, int]] = []
        self._start_classes("H&E")
        self.model: Any = None
        self.live_model: Any = None
        self.areas: dict[str, Any] | None = None
        self.worker: Any = None
        self.live_worker: Any = None
        self._generation = 0
        self._pending: bool | None = None  # a newer live run waits for the running one to stop
        self._want_retrain = False
        self.live_runs = 0  # live jobs started (debounced strokes / view changes)
        self._rows_cache: dict[Any, Any] = {}  # per image layer id: training rows per window (live retraining)
        self.unused: list[str] = []  # training labels of closed images (said by train)
        self._timer: Any = None
        self._live_key: tuple[Any, Any, Any] | None = None  # (image, training labels, µm/px) of the live work
        self.image = layer_choice(viewer, "image", rgb_image_layers)
        self.mpp = mpp_box()
        # the same choices as Analyze and Train cells, ``auto`` resolved per image as Analyze resolves it (session 42)
        self.stains = ComboBox(label="stains", choices=[AUTO, *PRESETS], value=AUTO)
        self._detected: dict[tuple[Any, int], str] = {}
        self.stain_warning = ""  # a chosen preset that is not the training images' stains (said by train)
        self.new_labels = PushButton(text="new training labels")
        self.legend = Label(value=class_legend_html(self.classes, self.colours))
        self.new_class = LineEdit(label="new class", value="")
        self.add_class_button = PushButton(text="add class")
        self.annotations = FileEdit(
            label="annotations", mode=FileDialogMode.EXISTING_FILE, filter="*.geojson *.json"
        )
        self.import_button = PushButton(text="paint annotations (QuPath GeoJSON)")
        self.shapes_button = PushButton(text="paint selected Shapes layer (class / name)")
        self.live = CheckBox(text="live preview of the view while painting", value=True)
        self.train_button = PushButton(text="train")
        self.preview_button = PushButton(text="preview view")
        self.apply_button = PushButton(text="apply to image")
        self.file = FileEdit(label="model file", mode=FileDialogMode.OPTIONAL_FILE, filter="*.mmnst")
        self.save_button = PushButton(text="save model")
        self.load_button = PushButton(text="load model")
        self.status = Label(value="")
        self.results = shown_when_set(TextEdit(value="", label="classes"))  # no room taken before a table
        self.results.read_only = True
        pair: list[Any] = [self.new_class, self.add_class_button]
        row = Container(widgets=pair, layout="horizontal", labels=False)
        run = Container(widgets=[self.train_button, self.preview_button, self.apply_button], layout="horizontal",
                        labels=False)  # fmt: skip
        io = Container(widgets=[self.save_button, self.load_button], layout="horizontal", labels=False)
        # the settings scroll, the status and the classes table stay in view below them: the form is 664 px tall,
        # and with Train cells docked too napari's window grew to 960 px, past a 1280 x 800 or 1366 x 768 screen
        # (session 38); on a taller screen the scroll area gets the form's whole height (the legend shows whole)
        self.form = Container(widgets=[self.image, self.mpp, self.stains, self.new_labels, self.legend, row,
                                       self.annotations,
                                       self.import_button, self.shapes_button, self.live, run, self.file, io])
        super().__init__(widgets=[self.status, self.results])
        area = scroll_area(self.form.native)
        keep_top_rows(area, self.form.native, 5)  # image, µm/px, stains, new labels and the legend stay whole
        self.native.layout().insertWidget(0, area)
        wrap_text(self.status)  # (a long status was cut at the dock's right edge)
        hold_wrapped_lines(self.native)  # (its wrapped lines were taken from the legend's rows)
        self.stains.changed.connect(self._on_stains)
        self.image.changed.connect(lambda *_: self._on_image())
        # refused (no pixel size, an empty class name): said on the status line (they raised through the signal)
        self.new_labels.changed.connect(lambda *_: self._guard(self.add_training_labels))
        self.add_class_button.changed.connect(lambda *_: self._guard(self.add_class, self.new_class.value))
        self.train_button.changed.connect(lambda *_: self._run(self._compute_train, self._show_train))
        self.preview_button.changed.connect(lambda *_: self._run(self._compute_preview, self._show_preview,
                                                                 drop_stale=True))
        self.apply_button.changed.connect(lambda *_: self._start_apply())
        self.import_button.changed.connect(
            lambda *_: self._guard(self.import_annotations, self.annotations.value)
        )
        self.shapes_button.changed.connect(lambda *_: self._guard(self.paint_shapes, None))
        self.save_button.changed.connect(lambda *_: self._guard(self.save, self.file.value))
        self.load_button.changed.connect(lambda *_: self._guard(self.load, self.file.value))
        scene = getattr(viewer, "scene", None)  # napari >= 0.9 (viewer.camera is deprecated there)
        camera = scene.camera if scene is not None else viewer.camera
        for ev in (camera.events.center, camera.events.zoom):
            ev.connect(lambda *_: self._schedule(retrain=False))
        viewer.layers.events.removed.connect(self._stop_stale_live)  # the image or the training labels gone
        self._mpp_key: Any = None
        link_mpp_box(viewer, self.image, self.mpp, on_change=self._on_mpp)
        if self.image.value is not None:
            self._on_stains()  # the legend of the image's stains

    # -- classes and labels --------------------------------------------------------------------
    def add_class(self, name: str, colour: tuple[int, int, int] | None = None) -> int:
        """Add a class (the canonical name, e.g. ``Tumor`` -> ``tumour``); returns its label value."""
        from mmnst_path.classify.train import DEFAULT_COLOURS
        from mmnst_path.classify.train_tissue import canonical_tissue_class

        cls = canonical_tissue_class(name)
        if not cls:
            msg = f"class name {name!r}: expected a tissue class name such as 'keratin' or 'muscle'"
            raise ValueError(msg)
        if cls not in self.classes:
            self.classes.append(cls)
            self.colours.append(
                colour or DEFAULT_COLOURS.get(cls, _PALETTE[len(self.classes) % len(_PALETTE)])
            )
            self._refresh_colours()
        return self.classes.index(cls) + 1

    def _start_classes(self, stains: str) -> None:
        """Classes and colours of the shipped default tissue model for ``stains`` (H&E or IHC),
        then keratin and melanin."""
        from mmnst_path.classify.train import DEFAULT_COLOURS

        base = self.base_model(stains)
        self.classes = list(base.class_names)
        self.colours = [(int(c.colour[0]), int(c.colour[1]), int(c.colour[2])) for c in base.classes]
        for name in EXTRA_CLASSES:
            if name not in self.classes:
                self.classes.append(name)
                self.colours.append(DEFAULT_COLOURS.get(name, (128, 128, 128)))

    @staticmethod
    def base_model(stains: str) -> Any:
        """The shipped default tissue model of ``stains``: its classes start the legend and its
        feature recipe is the one new models are trained with (IHC: chromogen read as hematoxylin)."""
        from mmnst_path.classify import resolve_model

        return resolve_model("default", "tissue", stains)

    def _on_stains(self, *_: Any) -> None:
        """New stains (or under ``auto`` a new image): the classes restart from that default model unless
        something is painted."""
        if not any(painted(lay) for lay in training_layers(self.viewer, TRAIN_LABELS)):
            self._start_classes(self._legend_stains())
            self._refresh_colours()

    def _on_image(self) -> None:
        """Another image chosen: its training labels shown and selected; under ``auto`` the legend of its stains."""
        select_for_image(self.viewer, TRAIN_LABELS, self.image.value)
        if self.stains.value == AUTO:
            self._on_stains()

    def _legend_stains(self) -> str:
        """The stains whose default model's classes start the legend: the chosen preset, or under ``auto`` the
        chosen image's guess (H&E without an image)."""
        layer = self.image.value
        if self.stains.value != AUTO:
            return str(self.stains.value)
        if layer is None:
            return "H&E"
        return self.guessed_stains(layer, layer_reader(layer, mpp=image_mpp(layer)[0]))

    def label_of(self, name: str) -> int:
        """The label value to paint for class ``name``."""
        return self.classes.index(name) + 1

    def _refresh_colours(self) -> None:
        from .._classmap import class_colormap

        self.legend.value = class_legend_html(self.classes, self.colours)
        shown = [self.viewer.layers[name] for name in (PREVIEW, CLASS_MAP) if name in self.viewer.layers]
        for lay in [*training_layers(self.viewer, TRAIN_LABELS), *shown]:
            lay.colormap = class_colormap(self.colours, classes=self.classes)

    def _context(self, layer: Any = None) -> tuple[Any, Any, float, int]:
        """(image layer, reader, µm/px, label-grid downsample) of ``layer`` (default the chosen image)."""
        layer = self.image.value if layer is None else layer
        if layer is None:
            msg = "no RGB image layer: open an image first"
            raise ValueError(msg)
        mpp = image_mpp(layer)[0]
        if not mpp:
            raise ValueError(unknown_mpp_words(layer, "the tissue classifier works in µm"))
        reader = layer_reader(layer, mpp=mpp)
        if reader.mpp != mpp:  # a pyramid whose file gives no pixel size: the entered one (as Analyze does)
            reader.mpp = mpp
        return layer, reader, float(mpp), labels_downsample(image_bounds(layer))

    def add_training_labels(self) -> Any:
        """Add the chosen image's empty training Labels layer over it (paint mode, brush about two blocks).

        The other images' labels stay (training uses them all); when this image's labels hold paint, a question
        asks before discarding it (No keeps them)."""
        from .._classmap import class_colormap

        layer, _, mpp, d = self._context()
        old = training_layer(self.viewer, TRAIN_LABELS, layer)
        n = painted(old) if old is not None else 0
        if old is not None and n and not ask(f"Discard the {n} painted label pixels of {old.name!r} and start "
                                             f"new training labels on {layer.name!r}?"):  # fmt: skip
            select_for_image(self.viewer, TRAIN_LABELS, layer)
            self.status.value = kept_layer_words(old, "painted label pixels", n)
            return old
        if old is not None:
            self.viewer.layers.remove(old)
        rows, cols = image_bounds(layer)
        shape = (math.ceil(rows / d), math.ceil(cols / d))
        shown = layer_mpp(layer)  # None: an entered µm/px; the labels lie in the image's pixels, as it does
        kw: dict[str, Any] = {"name": training_name(TRAIN_LABELS, layer), "opacity": 0.6,
                              "colormap": class_colormap(self.colours, classes=self.classes),
                              "metadata": {"mmnst_path": training_meta(TRAIN_LABELS, layer, downsample=d)},
                              **raster_transform(downsample=d, mpp=shown)}  # fmt: skip
        if shown:
            kw["units"] = ("µm", "µm")
        lab = add_or_replace(self.viewer, (np.zeros(shape, np.uint8), kw, "labels"))
        self._rows_cache.pop(layer.unique_id, None)
        select_for_image(self.viewer, TRAIN_LABELS, layer)
        lab.selected_label = 1
        lab.mode = "paint"
        lab.brush_size = max(10, math.ceil(16.0 / (mpp * d)))  # 16 µm: two output blocks of 8 µm
        lab.events.paint.connect(lambda *_: self._schedule(retrain=True))
        lab.events.data.connect(lambda *_: self._schedule(retrain=True))
        self._live_key = self._key()
        self.status.value = "paint each class with its value (legend above); the preview follows the strokes"
        return lab

    # -- threads ---------------------------------------------------------------------------------

    def _run(self, compute: Any, show: Any, *, drop_stale: bool = False) -> Any:
        """``compute()`` in a worker, ``show(result)`` after; with ``drop_stale`` a result whose image was removed,
        replaced or given another µm/px meanwhile is dropped (said on the status line), not drawn."""
        from ._common import start_worker

        if drop_stale:
            key, draw = self._key(), show
            show = lambda value: draw(value) if self._key()[::2] == key[::2] else self._dropped()  # noqa: E731
        self.worker = start_worker(compute, show, self.status)
        return self.worker

    # -- training ----------------------------------------------------------------------------------
    def _training_parts(self) -> list[tuple[Any, np.ndarray, Any, float, int]]:
        """(image layer, labels, reader, µm/px, downsample) of every open image's painted training labels, the
        chosen image first; the names of labels whose image was closed go to ``self.unused``."""
        chosen = self.image.value
        layers = training_layers(self.viewer, TRAIN_LABELS)
        layers.sort(key=lambda lay: chosen is None or lay.metadata["mmnst_path"].get("image_id") != chosen.unique_id)
        parts, self.unused = [], []
        for lab in layers:
            image = image_of(self.viewer, lab)
            if image is None:
                if painted(lab):
                    self.unused.append(lab.name)
                continue
            labels = np.array(lab.data)
            if labels.any():
                _, reader, mpp, d = self._context(image)
                parts.append((image, labels, reader, mpp, int(lab.metadata["mmnst_path"].get("downsample", d))))
        return parts

    def _fit(
        self,
        parts: list[tuple[Any, np.ndarray, Any, float, int]],
        stains: str,
        classes: list[str],
        *,
        trees: int,
        validation: float,
        caches: dict[Any, Any] | None = None,
        held_out: bool = False,
    ) -> tuple[Any, dict[str, int]]:
        """A model of the painted labels of every image in ``parts`` (:meth:`_training_parts`); ``caches`` keeps
        each image's window rows between live retrainings."""
        from mmnst_path.classify.tissue import tissue_feature_settings
        from mmnst_path.classify.train import Places
        from mmnst_path.classify.train_tissue import train_tissue_model

        if not parts:
            msg = "nothing painted on the training labels: paint at least two classes"
            raise ValueError(msg)
        settings = tissue_feature_settings(self.base_model(stains))
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        counts: dict[str, int] = {}
        where: list[tuple[int, np.ndarray]] = []  # block centres: a held-out figure on the card
        sources = []
        for i, (layer, labels, reader, mpp, d) in enumerate(parts):
            w = work_downsample(mpp, TRAIN_UM)
            mine: list[np.ndarray] | None = [] if held_out else None
            cache = None if caches is None else caches.setdefault(layer.unique_id, {})
            got, n = training_rows(reader, labels, d=d, bounds=image_bounds(layer), mpp=mpp, w=w, classes=classes,
                                   stains=stains, settings=settings, cache=cache, places=mine)  # fmt: skip
            rows += got
            where += [(i, rc) for rc in mine or []]
            for k, v in n.items():
                counts[k] = counts.get(k, 0) + v
            source = getattr(getattr(layer, "source", None), "path", None)
            sources.append({"image": Path(source).name if source else layer.name,
                            "annotations": "napari painted labels", "labelled_blocks": n, "pixel_size_um": mpp * w})
        if caches is not None:  # images whose labels are gone
            for key in set(caches) - {layer.unique_id for layer, *_ in parts}:
                del caches[key]
        card = {"name": f"tissue classifier trained in napari on {', '.join(s['image'] for s in sources)}",
                "training_data": sources}
        places = Places.stack(where) if held_out else None
        model = train_tissue_model(rows, settings=settings, stains=stains, card=card, n_estimators=trees,
                                   validation_fraction=validation, places=places)  # fmt: skip
        return model, counts

    def train(self) -> Any:
        """Train the full model on the painted labels (in this thread)."""
        return self._show_train(self._compute_train())

    def _compute_train(self) -> tuple[Any, dict[str, int]]:
        if not training_layers(self.viewer, TRAIN_LABELS):
            msg = "no training labels: press 'new training labels' and paint first"
            raise ValueError(msg)
        parts = self._training_parts()
        stains, self.stain_warning = self.training_stains([(layer, reader) for layer, _, reader, _, _ in parts])
        return self._fit(parts, stains, list(self.classes), trees=24, validation=0.2, held_out=True)

    def _show_train(self, trained: tuple[Any, dict[str, int]]) -> Any:
        from mmnst_path.classify.train import training_caution

        self.model, counts = trained
        acc = self.model.card.get("validation", {}).get("held_out", {}).get("accuracy")
        held = f"; held-out accuracy {acc:.2f}" if acc is not None else ""
        caution = training_caution(self.model.card)
        images = [s["image"] for s in self.model.card.get("training_data", [])]
        unused = f"; not used: {', '.join(self.unused)} (its image is closed)" if self.unused else ""
        stains = self.stains_words(str(self.model.settings.get("stains", "")))
        warn = f"; {self.stain_warning}" if self.stain_warning else ""
        self.status.value = (f"trained on {len(images)} image{'s' if len(images) > 1 else ''} ({', '.join(images)}): "
                             f"{', '.join(f'{k} {v}' for k, v in counts.items())} blocks{held}; {stains}{warn}{unused}"
                             + (f"; {caution}" if caution else ""))
        return self.model

    # -- preview and apply ---------------------------------------------------------------------
    def _preview_box(self, layer: Any, mpp: float) -> Any:
        """The visible level-0 box (its centre when it exceeds :data:`MAX_PREVIEW_SIDE`)."""
        from mmnst_path.geometry import Box

        box = view_box(self.viewer, layer)
        if box.area == 0:
            msg = "the view shows none of the image: pan / zoom to it"
            raise ValueError(msg)
        side = MAX_PREVIEW_SIDE * work_downsample(mpp, PREVIEW_UM)
        h, w = min(box.height, side), min(box.width, side)
        return Box(box.row + (box.height - h) // 2, box.col + (box.width - w) // 2, h, w)

    def _need_model(self) -> Any:
        if self.model is None:
            msg = "no tissue model: train one or load a model file first"
            raise ValueError(msg)
        return self.model

    def preview(self) -> Any:
        """Classify the visible region with the trained / loaded model (``tissue preview``)."""
        return self._show_preview(self._compute_preview())

    def _compute_preview(self) -> Any:
        model = self._need_model()
        layer, reader, mpp, _ = self._context()
        w = work_downsample(mpp, PREVIEW_UM)
        return classify_box(reader, self._preview_box(layer, mpp), bounds=image_bounds(layer), mpp=mpp, w=w,
                            model=model)  # fmt: skip

    def _show_preview(self, cbox: Any) -> Any:
        """The preview layer, and the class areas of the previewed region in the panel."""
        layer = self.image.value
        mpp = image_mpp(layer)[0] if layer is not None else None
        if mpp:
            areas = class_areas(
                cbox.labels, cbox.classes, block_um2=(cbox.downsample * mpp) ** 2, weight=cbox.weight
            )
            self.results.value = "previewed region:\n" + class_table_text(areas)
        return self._add_map(cbox, PREVIEW, opacity=0.4)

    def apply(self) -> Any:
        """Classify the whole image (``tissue classes (trained)``) with per-class areas."""
        return self._show_apply(self._compute_apply())

    def _start_apply(self) -> Any:
        """Apply in a worker thread, the chunks done shown in the status line."""
        import threading

        from napari.qt.threading import create_worker

        from ._analyze import run_in_thread

        try:
            self._need_model()
            self._context()
        except ValueError as exc:
            self.status.value = f"error: {exc}"
            return None
        worker = create_worker(run_in_thread, self._compute_apply, threading.Event(), _start_thread=False,
                               _ignore_errors=True)  # fmt: skip
        worker.yielded.connect(lambda v: setattr(self.status, "value", f"applying: chunk {v[0]} of {v[1]}"))
        key = self._key()
        worker.returned.connect(lambda v: self._show_apply(v) if self._key()[::2] == key[::2] else self._dropped())
        worker.errored.connect(lambda exc: setattr(self.status, "value", f"error: {exc}"))
        self.status.value = "applying..."
        self.worker = worker
        worker.start()
        return worker

    def _compute_apply(self, progress: Any = None) -> Any:
        from mmnst_path.geometry import Box

        model = self._need_model()
        layer, reader, mpp, _ = self._context()
        rows, cols = image_bounds(layer)
        cbox = classify_box(reader, Box(0, 0, rows, cols), bounds=(rows, cols), mpp=mpp,
                            w=work_downsample(mpp, TRAIN_UM), model=model, progress=progress)  # fmt: skip
        return cbox, class_areas(
            cbox.labels, cbox.classes, block_um2=(cbox.downsample * mpp) ** 2, weight=cbox.weight
        )

    def _show_apply(self, computed: tuple[Any, dict[str, Any]]) -> Any:
        cbox, self.areas = computed
        out = self._add_map(cbox, CLASS_MAP, opacity=0.45)
        self.results.value = class_table_text(self.areas)
        nec = self.areas["pct_of_tissue"].get("necrosis")
        self.status.value = "applied" + (
            f": necrosis {nec:.1f} % of tissue" if nec is not None and nec == nec else ""
        )
        return out

    def _add_map(self, cbox: Any, name: str, *, opacity: float) -> Any:
        """A class map in the widget's label values and colours (model classes added if new)."""
        for cls in cbox.classes:
            if cls not in self.classes:
                self.add_class(cls)
        lut = np.array([self.classes.index(c) for c in cbox.classes], np.int16)
        labels = np.where(cbox.labels >= 0, lut[np.clip(cbox.labels, 0, None)], -1)
        layer = self.image.value
        data = class_map_layer(labels, classes=self.classes, colours=self.colours, downsample=cbox.downsample,
                               origin=cbox.origin, mpp=layer_mpp(layer), name=name, model_id=cbox.model_id,
                               opacity=opacity)  # fmt: skip
        out = add_or_replace(self.viewer, data)
        lab = training_layer(self.viewer, TRAIN_LABELS, layer)
        if lab is not None:  # keep the paint on top
            self.viewer.layers.move(self.viewer.layers.index(lab), len(self.viewer.layers))
            self.viewer.layers.selection.active = lab
        return out

    # -- files -----------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path | None:
        """Write the model (``.mmnst``: pickle-free, with its card); an existing file of another model is replaced
        only when the question asked is answered Yes (None: not saved)."""
        model = self._need_model()
        out = write_model(model, path, self.status)
        if out is None:
            return None
        self.status.value = f"saved {out} ({model.model_id})"
        return out

    def load(self, path: str | Path) -> Any:
        """Load a tissue model; its classes and colours join the legend."""
        from mmnst_path.classify import load_model

        self.model = load_model(model_file(path), kind="tissue")
        for spec in self.model.classes:
            if spec.name in self.classes:
                self.colours[self.classes.index(spec.name)] = tuple(spec.colour)  # type: ignore[assignment]
            else:
                self.add_class(spec.name, tuple(spec.colour))  # type: ignore[arg-type]
        self._refresh_colours()
        self.status.value = f"loaded {path} ({self.model.name}, {self.model.model_id})"
        return self.model
