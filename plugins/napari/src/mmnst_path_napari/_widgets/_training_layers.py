"""The training layers of each image for Train tissue, Train cells and Train pigment, and what they share around them.

A training layer (Train tissue's painted labels, Train cells' clicked points, Train pigment's melanin / other / hole
polygons) belongs to one image layer: its name says which (``tissue training: slide_1.tif``) and its metadata holds
the image layer's napari id, so the link survives a renamed image and a later image given the same name gets none of
its layers (Train pigment matched by name until session 44 H11).
Training uses the layers of every open image, so one model learns from several images (the widgets' caution
asks for examples "on more images"). "new training labels" on an image whose layer holds paint asks before
discarding it: a second image used to replace the first image's labels without a word (session 42 H6, #3).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._analysis import detect_image_stains
from ._analyze import AUTO
from ._common import model_file, rgb_image_layers

if TYPE_CHECKING:
    import napari

__all__ = [
    "StainChoice",
    "StatusGuard",
    "ask",
    "image_of",
    "kept_layer_words",
    "may_replace",
    "not_saved_words",
    "painted",
    "raise_image",
    "select_for_image",
    "stain_family",
    "training_layer",
    "training_layers",
    "training_layers_of",
    "training_meta",
    "training_name",
    "write_model",
]


def training_name(prefix: str, image: Any) -> str:
    """The training layer's name for ``image``: ``"<prefix>: <image layer name>"``."""
    return f"{prefix}: {image.name}"


def training_meta(prefix: str, image: Any, **extra: Any) -> dict[str, Any]:
    """The ``metadata["mmnst_path"]`` of a training layer of ``image`` (its kind and the image's napari id)."""
    return {"training": prefix, "image_id": image.unique_id, "image_name": image.name, **extra}


def _meta(layer: Any) -> dict[str, Any]:
    meta = layer.metadata.get("mmnst_path", {}) if isinstance(layer.metadata, dict) else {}
    return meta if isinstance(meta, dict) else {}


def training_layers(viewer: napari.Viewer, prefix: str) -> list[Any]:
    """The training layers of kind ``prefix`` in the viewer, in layer order."""
    return [lay for lay in viewer.layers if _meta(lay).get("training") == prefix]


def image_of(viewer: napari.Viewer, layer: Any) -> Any:
    """The open RGB image layer a training layer belongs to (None when it was closed)."""
    uid = _meta(layer).get("image_id")
    for image in rgb_image_layers(viewer):
        if image.unique_id == uid:
            return image
    return None


def training_layers_of(viewer: napari.Viewer, prefix: str, image: Any) -> list[Any]:
    """The training layers of kind ``prefix`` of ``image`` (by its napari id, not its name), in layer order."""
    if image is None:
        return []
    return [lay for lay in training_layers(viewer, prefix) if _meta(lay).get("image_id") == image.unique_id]


def training_layer(viewer: napari.Viewer, prefix: str, image: Any, **match: Any) -> Any:
    """The training layer of kind ``prefix`` of ``image`` (None when it has none); ``match``: metadata items it also
    holds (Train pigment's ``class``: one layer per class)."""
    for lay in training_layers_of(viewer, prefix, image):
        if all(_meta(lay).get(k) == v for k, v in match.items()):
            return lay
    return None


def ask(question: str, *, title: str = "mmnst_path") -> bool:
    """A Yes / No question in a message box (No by default); True for Yes."""
    from qtpy.QtWidgets import QMessageBox

    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(None, title, question, buttons, QMessageBox.StandardButton.No)
    return bool(answer == QMessageBox.StandardButton.Yes)


def write_model(model: Any, path: Any, status: Any) -> Path | None:
    """Write a trained ``model`` to ``path`` (``.mmnst`` added when missing: pickle-free, with its card) for a Train
    widget's *save model*; a file holding another model is replaced only when the question asked is answered Yes
    (None, and :func:`not_saved_words` on ``status``, when not). A missing folder is a ValueError naming it."""
    p = model_file(path)
    if p.suffix != ".mmnst":
        p = p.with_suffix(".mmnst")
    if not p.parent.is_dir():
        msg = f"model file {str(p)!r}: folder {str(p.parent)!r} does not exist"
        raise ValueError(msg)
    if not may_replace(p, model):
        status.value = not_saved_words(p)
        return None
    return Path(model.save(p))


def may_replace(path: Path, model: Any) -> bool:
    """Whether *save model* may write ``model`` to ``path``: True when no file is there or it holds this very model,
    else the answer to a question naming what the file holds (a model a lab's results depend on was overwritten
    without a word: session 42 H6, #9)."""
    from mmnst_path.classify import load_model
    from mmnst_path.errors import MmnstPathError

    if not path.exists():
        return True
    try:
        old = load_model(path)
    except (OSError, ValueError, MmnstPathError):
        held = "a file that is not a readable model"
    else:
        if old.model_id == model.model_id:
            return True  # the same model again: nothing is lost
        held = f"the model {old.name!r} ({old.model_id})"
    return ask(f"{str(path)!r} exists and holds {held}. Replace it with {model.name!r} ({model.model_id})?")


def not_saved_words(path: Path) -> str:
    """The status when the user keeps an existing model file."""
    return f"not saved: {str(path)!r} exists and was kept; choose another file name to save the new model"


def kept_layer_words(layer: Any, what: str, n: int) -> str:
    """The status when the user keeps a training layer instead of replacing it."""
    return (f"kept the {n} {what} of {layer.name!r} (not replaced): go on with them, or delete the layer to "
            "start over")


def select_for_image(viewer: napari.Viewer, prefix: str, image: Any) -> Any:
    """Show ``image``'s training layers of kind ``prefix`` and select one (the one already selected when it is one
    of them, else the topmost); hide the other images' (the images lie over each other, so their paint would show
    over this one); raise ``image`` and its layers (:func:`raise_image`). Returns the selected layer, or None (the
    image is then the selected layer)."""
    mine = training_layers_of(viewer, prefix, image)
    ids = {lay.unique_id for lay in mine}
    for lay in training_layers(viewer, prefix):
        lay.visible = lay.unique_id in ids
    raise_image(viewer, image, *mine)
    active = viewer.layers.selection.active
    chosen = active if active is not None and active.unique_id in ids else (mine[-1] if mine else None)
    if chosen is not None:
        viewer.layers.selection.active = chosen
    elif image is not None and image in viewer.layers:
        viewer.layers.selection.active = image
    return chosen


def raise_image(viewer: napari.Viewer, image: Any, *training: Any) -> None:
    """Make the chosen ``image`` the one seen: shown, and moved in the layer list just above the topmost other RGB
    image layer when one lies over it (images opened at the same place hid it: the pathologist painted over
    another image, session 42 H8); each of its ``training`` layers below it just above it (their order kept).
    Other layers keep their order."""
    layers = viewer.layers
    if image is None or image not in layers:
        return
    image.visible = True
    top = max((layers.index(lay) for lay in rgb_image_layers(viewer) if lay is not image), default=-1)
    here = layers.index(image)
    if top > here:
        layers.move(here, top + 1)  # lands at ``top``: the other image is one place down once it is taken out
    for lay in reversed([t for t in training if t is not None and t in layers]):  # the topmost first: order kept
        if layers.index(lay) < layers.index(image):
            layers.move(layers.index(lay), layers.index(image) + 1)


def stain_family(stains: str) -> str:
    """The stains a model of ``stains`` is made for (the shipped default tissue model's: ``H&E`` or ``H-DAB``),
    the level at which ``mmnst-path quantify`` refuses a model of other stains."""
    from mmnst_path.classify import resolve_model

    return str(resolve_model("default", "tissue", stains).settings.get("stains", stains))


class StatusGuard:
    """A training widget's refusals said on its status line (a mixin: the widget gives ``status``, a Label)."""

    status: Any

    def _guard(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)``; a refusal (no model yet, a damaged or missing file, a bad polygon) goes to the status line."""
        try:
            return fn(*args)
        except (ValueError, OSError) as exc:
            self.status.value = f"error: {' '.join(str(exc).split())}"
            return None


class StainChoice:
    """The stains of a training widget (a mixin: the widget gives ``stains``, a combo box of ``auto (detect)`` and
    the presets): ``auto`` resolved per image layer as Analyze resolves it, and a warning when a chosen preset is
    not of the stains the guess finds on a training image (Train tissue kept H&E on an H-DAB tile and saved an
    H&E model that quantify refused later: session 42 H6, #7)."""

    stains: Any
    _detected: dict[tuple[Any, int], str]

    def resolved_stains(self, layer: Any, reader: Any) -> str:
        """The chosen preset, or under ``auto`` the stains Analyze's detection finds on the image."""
        if self.stains.value != AUTO:
            return str(self.stains.value)
        return self.guessed_stains(layer, reader)

    def guessed_stains(self, layer: Any, reader: Any) -> str:
        """The stains Analyze's ``auto`` finds on the image layer (once per layer and data)."""
        if not hasattr(self, "_detected"):
            self._detected = {}
        key = (layer.unique_id, id(layer.data))  # (a layer seen through napari's plugin proxy has a new id() each time)
        if key not in self._detected:
            self._detected[key] = str(detect_image_stains(reader).name)
        return self._detected[key]

    def stains_words(self, stains: str) -> str:
        """The stains in the status: the preset and where it came from."""
        return f"stains {stains} ({'detected from the image' if self.stains.value == AUTO else 'chosen'})"

    def training_stains(self, images: list[tuple[Any, Any]]) -> tuple[str, str]:
        """(the stains a model of these (image layer, reader) pairs is trained with, a warning or "").

        Under ``auto`` the first image's guess; images whose guesses are of other stains families are refused
        (one model is of one stains). A chosen preset is used as chosen, with a warning naming each image whose
        guess is of another family."""
        guesses = {layer.name: self.guessed_stains(layer, reader) for layer, reader in images}
        if not guesses:
            return str(self.stains.value), ""
        if self.stains.value == AUTO:
            if len({stain_family(g) for g in guesses.values()}) > 1:
                msg = ("the training images are of different stains (" + ", ".join(f"{k} {v}" for k, v in
                       guesses.items()) + "): train one model per stains")  # fmt: skip
                raise ValueError(msg)
            return next(iter(guesses.values())), ""
        chosen = str(self.stains.value)
        off = [f"{name} looks {g}" for name, g in guesses.items() if stain_family(g) != stain_family(chosen)]
        if not off:
            return chosen, ""
        return chosen, (f"warning: stains {chosen} chosen, but {'; '.join(off)} (the guess of 'auto (detect)'): "
                        f"quantify refuses a model of {chosen} on slides of other stains; choose 'auto (detect)' or "
                        "the image's stains")


def painted(layer: Any) -> int:
    """Painted label pixels (Labels) or points (Points) of a training layer."""
    data = np.asarray(layer.data)
    return int(np.count_nonzero(data)) if layer.__class__.__name__ == "Labels" else len(data)
