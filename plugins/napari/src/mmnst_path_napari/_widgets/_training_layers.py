"""One training layer per image for Train tissue and Train cells, and what the two share around it.

A training layer (Train tissue's painted labels, Train cells' clicked points) belongs to one image layer: its
name says which (``tissue training: slide_1.tif``) and its metadata holds the image layer's napari id.
Training uses the layers of every open image, so one model learns from several images (the widgets' caution
asks for examples "on more images"). "new training labels" on an image whose layer holds paint asks before
discarding it: a second image used to replace the first image's labels without a word (session 42 H6, #3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import rgb_image_layers

if TYPE_CHECKING:
    import napari

__all__ = [
    "ask",
    "image_of",
    "kept_layer_words",
    "painted",
    "select_for_image",
    "stain_family",
    "stain_mismatch",
    "training_layer",
    "training_layers",
    "training_meta",
    "training_name",
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


def training_layer(viewer: napari.Viewer, prefix: str, image: Any) -> Any:
    """The training layer of kind ``prefix`` of ``image`` (None when it has none)."""
    if image is None:
        return None
    for lay in training_layers(viewer, prefix):
        if _meta(lay).get("image_id") == image.unique_id:
            return lay
    return None


def ask(question: str, *, title: str = "mmnst_path") -> bool:
    """A Yes / No question in a message box (No by default); True for Yes."""
    from qtpy.QtWidgets import QMessageBox

    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(None, title, question, buttons, QMessageBox.StandardButton.No)
    return bool(answer == QMessageBox.StandardButton.Yes)


def kept_layer_words(layer: Any, what: str, n: int) -> str:
    """The status when the user keeps a training layer instead of replacing it."""
    return (f"kept the {n} {what} of {layer.name!r} (not replaced): go on with them, or delete the layer to "
            "start over")


def select_for_image(viewer: napari.Viewer, prefix: str, image: Any) -> Any:
    """Show and select ``image``'s training layer; hide the other images' (the images lie over each other, so their
    paint would show over this one). Returns the layer, or None."""
    mine = training_layer(viewer, prefix, image)
    for lay in training_layers(viewer, prefix):
        lay.visible = mine is not None and lay.unique_id == mine.unique_id
    if mine is not None:
        viewer.layers.selection.active = mine
    return mine


def stain_family(stains: str) -> str:
    """The stains a model of ``stains`` is made for (the shipped default tissue model's: ``H&E`` or ``H-DAB``),
    the level at which ``mmnst-path quantify`` refuses a model of other stains."""
    from mmnst_path.classify import resolve_model

    return str(resolve_model("default", "tissue", stains).settings.get("stains", stains))


def stain_mismatch(chosen: str, images: list[tuple[Any, Any]], detect: Callable[[Any, Any], str]) -> str:
    """A warning when the chosen stains are not of the family the stain guess finds on an image ("" when all agree).

    ``images``: (image layer, reader) pairs; ``detect(layer, reader)`` the guess (Analyze's ``auto``)."""
    off = []
    for layer, reader in images:
        guess = detect(layer, reader)
        if stain_family(guess) != stain_family(chosen):
            off.append(f"{layer.name} looks {guess}")
    if not off:
        return ""
    return (f"warning: stains {chosen} chosen, but {'; '.join(off)} (the guess of 'auto (detect)'): a model of "
            f"{chosen} is refused on slides of other stains; choose 'auto (detect)' or the image's stains")


def painted(layer: Any) -> int:
    """Painted label pixels (Labels) or points (Points) of a training layer."""
    data = np.asarray(layer.data)
    return int(np.count_nonzero(data)) if layer.__class__.__name__ == "Labels" else len(data)
