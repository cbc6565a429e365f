"""Train-necrosis widget: paint necrosis / other on a Labels layer, train the library's pixel
classifier, preview it on the view, apply it to the whole image, save / load the model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import Container, FileEdit, Label, PushButton

from .._layers import mask_layer, raster_transform
from ._common import (
    add_or_replace,
    image_bounds,
    layer_choice,
    layer_mpp,
    layer_reader,
    rgb_image_layers,
    start_worker,
    view_box,
)

if TYPE_CHECKING:
    import napari

__all__ = ["NECROSIS", "OTHER", "TrainNecrosisWidget", "labels_downsample", "read_on_grid"]

#: label values painted by the user
NECROSIS, OTHER = 1, 2
#: longest side of the training-label grid (a whole-slide label layer at level 0 would be huge)
MAX_LABEL_SIDE = 8192
TRAIN_LABELS = "necrosis training"


def labels_downsample(shape: tuple[int, int]) -> int:
    """Level-0 pixels per training-label pixel: 1 for tiles, a power of two for big slides."""
    side = max(shape)
    return 1 if side <= MAX_LABEL_SIDE else 2 ** math.ceil(math.log2(side / MAX_LABEL_SIDE))


def read_on_grid(reader: Any, r0: int, c0: int, h: int, w: int, d: int) -> np.ndarray:
    """RGB (h, w, 3) uint8 of label-grid pixels [r0, r0+h) x [c0, c0+w) at ``d`` level-0 px each."""
    from mmnst_path.geometry import Box

    box = Box(r0 * d, c0 * d, h * d, w * d)
    if d == 1:
        return np.asarray(reader.read_region(box, 0))
    from mmnst_path.io._resample import resize_area

    img = reader.read_region(box, reader.best_level_for_downsample(d))
    return img if img.shape[:2] == (h, w) else resize_area(img, (h, w))


class TrainNecrosisWidget(Container):
    """Pixel-classifier training on painted labels (1 = necrosis, 2 = other tissue)."""

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        # napari's plugin machinery passes the viewer to a parameter named ``napari_viewer``
        viewer = napari_viewer
        self.viewer = viewer
        self.model: Any = None
        self.metrics: dict[str, float] | None = None
        self.image = layer_choice(viewer, "image", rgb_image_layers)
        self.new_labels = PushButton(text="new training labels (1 necrosis, 2 other)")
        self.train_button = PushButton(text="train")
        self.preview_button = PushButton(text="preview on view")
        self.apply_button = PushButton(text="apply to image")
        self.file = FileEdit(label="model file", mode="w", filter="*.npz")
        self.save_button = PushButton(text="save model")
        self.load_button = PushButton(text="load model")
        self.status = Label(value="")
        super().__init__(
            widgets=[
                self.image, self.new_labels, self.train_button,
                Container(widgets=[self.preview_button, self.apply_button], layout="horizontal", labels=False),
                self.file, Container(widgets=[self.save_button, self.load_button], layout="horizontal", labels=False),
                self.status,
            ]
        )  # fmt: skip
        self.new_labels.changed.connect(lambda *_: self.add_training_labels())
        self.train_button.changed.connect(lambda *_: self._in_thread(self._compute_train, self._show_train))
        self.preview_button.changed.connect(lambda *_: self.preview())
        self.apply_button.changed.connect(lambda *_: self._in_thread(self._compute_apply, self._show_apply))
        self.save_button.changed.connect(lambda *_: self.save(self.file.value))
        self.load_button.changed.connect(lambda *_: self.load(self.file.value))

    # ------------------------------------------------------------------------------------------
    def _in_thread(self, compute: Any, show: Any) -> Any:
        """Run ``compute()`` in a worker thread, then ``show(result)`` in the GUI thread."""
        return start_worker(compute, show, self.status)

    def _context(self) -> tuple[Any, Any, float | None, int]:
        layer = self.image.value
        if layer is None:
            msg = "no RGB image layer"
            raise ValueError(msg)
        mpp = layer_mpp(layer)
        reader = layer_reader(layer, mpp=mpp)
        return layer, reader, mpp, labels_downsample(image_bounds(layer))

    def add_training_labels(self) -> Any:
        """Add the (empty) training Labels layer over the image, in paint mode with label 1."""
        layer, _, mpp, d = self._context()
        rows, cols = image_bounds(layer)
        shape = (math.ceil(rows / d), math.ceil(cols / d))
        kw: dict[str, Any] = {"name": TRAIN_LABELS, "opacity": 0.6, **raster_transform(downsample=d, mpp=mpp)}
        lab = add_or_replace(self.viewer, (np.zeros(shape, np.uint8), kw, "labels"))
        lab.metadata["mmnst_path"] = {"downsample": d}
        lab.selected_label = NECROSIS
        lab.mode = "paint"
        self.status.value = "paint 1 = necrosis, 2 = other tissue, then train"
        return lab

    def _need_mpp(self, mpp: float | None) -> float:
        if not mpp:
            msg = "the image's µm per pixel is unknown: the necrosis classifier works in µm"
            raise ValueError(msg)
        return float(mpp)

    def train(self) -> Any:
        """Train the library's pixel classifier on the painted pixels (bounding box of the paint)."""
        return self._show_train(self._compute_train())

    def _show_train(self, trained: tuple[Any, int, int]) -> Any:
        self.model, n_nec, n_oth = trained
        self.status.value = f"trained on {n_nec} necrosis / {n_oth} other labelled px"
        return self.model

    def _compute_train(self) -> tuple[Any, int, int]:
        from mmnst_path.quantify._pixel_classifier import train_pixel_classifier

        if TRAIN_LABELS not in self.viewer.layers:
            msg = f"no {TRAIN_LABELS!r} layer: press 'new training labels' and paint first"
            raise ValueError(msg)
        _, reader, mpp, d = self._context()
        mpp = self._need_mpp(mpp)
        labels = np.asarray(self.viewer.layers[TRAIN_LABELS].data)
        if not (np.any(labels == NECROSIS) and np.any(labels == OTHER)):
            msg = "paint both classes: 1 = necrosis and 2 = other tissue"
            raise ValueError(msg)
        rr, cc = np.nonzero(labels)
        r0, r1, c0, c1 = rr.min(), rr.max() + 1, cc.min(), cc.max() + 1
        rgb = read_on_grid(reader, r0, c0, r1 - r0, c1 - c0, d)
        lab = np.where(labels[r0:r1, c0:c1] <= OTHER, labels[r0:r1, c0:c1], 0).astype(np.uint8)
        model = train_pixel_classifier(rgb, lab, mpp=mpp * d)
        return model, int((lab == NECROSIS).sum()), int((lab == OTHER).sum())

    def _measure_box(
        self, reader: Any, r0: int, c0: int, h: int, w: int, d: int, mpp: float
    ) -> tuple[Any, Any, float, tuple[int, int]]:
        """Library necrosis measurement with the classifier on label-grid pixels [r0, r0+h) x [c0, c0+w).

        The low-resolution blocks are aligned to the image's grid (``origin``), so a preview
        of the view shows the same blocks as the whole-image result.

        Returns (NecrosisCounts, mask, level-0 px per mask pixel, level-0 (row, col) of the
        mask's top-left block corner).
        """
        from mmnst_path.quantify.necrosis import measure_necrosis

        rgb = read_on_grid(reader, r0, c0, h, w, d)
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp * d, classifier=self.model, origin=(r0, c0))
        f = max(1, round(float(mask_mpp) / (mpp * d)))  # label-grid px per mask px
        corner = ((r0 - r0 % f) * d, (c0 - c0 % f) * d)
        return counts, np.asarray(mask, bool), float(mask_mpp) / mpp, corner

    def preview(self) -> Any:
        """Classify the current view; shown as the ``necrosis preview`` Labels layer."""
        layer, reader, mpp, d = self._context()
        mpp = self._need_mpp(mpp)
        self._need_model()
        box = view_box(self.viewer, layer)
        r0, c0 = box.row // d, box.col // d
        h, w = max(1, math.ceil(box.row_end / d) - r0), max(1, math.ceil(box.col_end / d) - c0)
        _, mask, ds, corner = self._measure_box(reader, r0, c0, h, w, d, mpp)
        data = mask_layer(mask, downsample=ds, origin=corner, mpp=layer_mpp(layer), name="necrosis preview",
                          color=(0.0, 0.9, 0.3, 1.0))  # fmt: skip
        return add_or_replace(self.viewer, data)

    def apply(self, *, block: int = 4096) -> Any:
        """Classify the whole image block by block; adds ``necrosis (classifier)`` and the library's
        necrosis metrics (area, % of tissue) of the summed counts."""
        return self._show_apply(self._compute_apply(block=block))

    def _compute_apply(self, *, block: int = 4096) -> tuple[Any, np.ndarray, float, dict[str, float]]:
        from mmnst_path.aggregate import sum_counts
        from mmnst_path.quantify.necrosis import necrosis_metrics

        layer, reader, mpp, d = self._context()
        mpp = self._need_mpp(mpp)
        self._need_model()
        rows, cols = image_bounds(layer)
        H, W = math.ceil(rows / d), math.ceil(cols / d)
        parts, counts = [], []
        for r in range(0, H, block):
            for c in range(0, W, block):
                cnt, mask, ds, corner = self._measure_box(
                    reader, r, c, min(block, H - r), min(block, W - c), d, mpp
                )
                counts.append(cnt)
                parts.append((*corner, mask, ds))
        ds = parts[0][3]
        full = np.zeros((math.ceil(rows / ds), math.ceil(cols / ds)), bool)
        for r0, c0, mask, _ in parts:
            i, j = round(r0 / ds), round(c0 / ds)
            h, w = min(mask.shape[0], full.shape[0] - i), min(mask.shape[1], full.shape[1] - j)
            full[i : i + h, j : j + w] = mask[:h, :w]
        return layer, full, ds, necrosis_metrics(sum_counts(counts))

    def _show_apply(self, computed: tuple[Any, np.ndarray, float, dict[str, float]]) -> Any:
        layer, full, ds, self.metrics = computed
        data = mask_layer(full, downsample=ds, mpp=layer_mpp(layer), name="necrosis (classifier)",
                          color=(0.0, 0.9, 0.3, 1.0))  # fmt: skip
        out = add_or_replace(self.viewer, data)
        m = self.metrics
        self.status.value = (
            f"necrosis: {m['necrosis_area_mm2']:.4f} mm², {m['necrosis_fraction_pct']:.1f} % of tissue"
        )
        return out

    def _need_model(self) -> None:
        if self.model is None:
            msg = "no classifier: train one or load a model file first"
            raise ValueError(msg)

    def save(self, path: str | Path) -> Path:
        """Save the classifier (the library's .npz format, no pickle)."""
        self._need_model()
        out = self.model.save(path)
        self.status.value = f"saved {out}"
        return Path(out)

    def load(self, path: str | Path) -> Any:
        from mmnst_path.quantify._pixel_classifier import load_pixel_classifier

        self.model = load_pixel_classifier(path)
        self.status.value = f"loaded {path}"
        return self.model
