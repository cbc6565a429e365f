"""Train tissue's live preview: every stroke (debounced) retrains a quick forest and classifies the view in a
worker thread; a preview that is no longer the view's is dropped (split out of ``_tissue.py``, session 40).

A live job belongs to the chosen image layer, the training labels layer and the image's µm/px (its key). A
newer stroke or view moves a generation counter; removing or replacing the image or the labels, or another
µm/px, stops the timer and the running job. A result that comes back with an old generation or an old key is
dropped, never drawn: a job still running when the user deleted the image and its labels came back over the
next image before (session 40 H3, D5).
"""

from __future__ import annotations

from typing import Any

from .._tissue import classify_box, work_downsample
from ._common import image_bounds
from ._mpp import image_mpp, unknown_mpp_words
from ._training_layers import training_layer, training_layers

__all__ = ["DEBOUNCE_S", "LIVE_TREES", "PREVIEW_UM", "TRAIN_LABELS", "TRAIN_UM", "LivePreview"]

TRAIN_LABELS = "tissue training"
#: seconds after the last stroke before the live preview retrains
DEBOUNCE_S = 0.7
#: forest size of the live (quick) retraining; the "train" button fits the full forest
LIVE_TREES = 8
#: working resolution (µm/px) of training and apply (the pipeline's analysis_mpp), of the preview
TRAIN_UM, PREVIEW_UM = 0.5, 1.0


class LivePreview:
    """The live-preview half of :class:`~mmnst_path_napari._widgets.TrainTissueWidget` (a mixin: the widget
    gives ``viewer``, ``image``, ``live``, ``status``, ``_context``, ``_training_parts``, ``_preview_box``,
    ``_fit`` and ``_show_preview``)."""

    viewer: Any
    image: Any
    live: Any
    status: Any
    results: Any
    stains: Any
    training_stains: Any
    classes: list[str]
    live_model: Any
    live_worker: Any
    live_runs: int
    _generation: int
    _pending: bool | None
    _want_retrain: bool
    _rows_cache: dict[Any, Any]
    _timer: Any
    _live_key: tuple[Any, Any, Any] | None
    _mpp_key: Any

    def _key(self) -> tuple[Any, Any, Any]:
        """What a preview belongs to: the chosen image layer, the training labels layer (their napari ids) and
        the image's µm/px."""
        try:
            layer = self.image.value
        except RuntimeError:  # the dock widget was closed
            return None, None, None
        lab = training_layer(self.viewer, TRAIN_LABELS, layer)
        if layer is None:
            return None, None if lab is None else lab.unique_id, None
        return layer.unique_id, None if lab is None else lab.unique_id, image_mpp(layer)[0]

    def _dropped(self) -> None:
        self.status.value = "preview dropped: its image, training labels or µm/px changed while it ran"

    def _stop_stale_live(self, *_: Any) -> bool:
        """The image, the training labels or the µm/px the live work is for changed: the debounce timer and the
        running job are stopped and their preview will be dropped; the quick model (of the old labels) is
        forgotten. Returns True when there was live work to stop."""
        now = self._key()
        if self._live_key is None or self._live_key == now:
            return False
        if self._live_key[0] != now[0]:  # the previewed region's areas were the old image's
            self.results.value = ""
        self._live_key = None
        self._generation += 1  # a result on its way is older than this
        self._pending, self._want_retrain = None, False
        self.live_model, self._rows_cache = None, {}
        worker = self.live_worker
        running = worker is not None and worker.is_running
        if running:
            worker.quit()  # stops at its next step; its result is dropped anyway
        if self._timer is not None and self._timer.isActive():
            self._timer.stop()
            running = True
        if running:
            self.status.value = "live preview stopped: its image, training labels or µm/px changed"
        return True

    def _on_mpp(self) -> None:
        """The chosen image or its µm/px changed: stale live work stopped; an unknown pixel size said."""
        old, self._mpp_key = self._mpp_key, self._key()
        stopped = self._stop_stale_live()
        layer = self.image.value
        if layer is not None and self._mpp_key[2] is None:
            self.status.value = unknown_mpp_words(layer, "the tissue classifier works in µm")
        elif stopped and old is not None and old[:2] == self._mpp_key[:2]:  # a new µm/px: the preview follows
            self._schedule(retrain=True)

    def _schedule(self, *, retrain: bool) -> None:
        """(Re)start the debounce timer of the live preview."""
        try:
            live = bool(self.live.value)
        except RuntimeError:  # the dock widget was closed: its Qt side is gone, nothing to preview
            return
        if not live or not training_layers(self.viewer, TRAIN_LABELS):
            return
        if not retrain and self.live_model is None:
            return
        self._generation += 1
        self._want_retrain = self._want_retrain or retrain
        if self._timer is None:
            from qtpy.QtCore import QTimer

            self._timer = QTimer()
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self._start_live)
        self._timer.start(int(DEBOUNCE_S * 1000))

    def _start_live(self) -> Any:
        """Start the live job, or ask the running one to stop and start again when it has."""
        if self.live_worker is not None and self.live_worker.is_running:
            self._pending = True
            self.live_worker.quit()  # stops at its next step; the finished handler restarts
            return None
        retrain, self._want_retrain = self._want_retrain, False
        try:
            job = self._live_job(self._generation, retrain=retrain)
        except (ValueError, OSError) as exc:
            self.status.value = f"live preview: {exc}"
            return None
        except (KeyError, RuntimeError):  # the training layer was deleted, or the widget closed
            return None
        from ._common import start_worker

        self._pending = None
        self._live_key = self._key()
        self.live_runs += 1
        worker = start_worker(job, self._show_live, self.status, on_finished=self._live_finished)
        self.live_worker = worker
        return worker

    def _live_finished(self) -> None:
        if self._pending:
            self._pending = None
            self._want_retrain = True
            self._start_live()

    def _live_job(self, generation: int, *, retrain: bool) -> Any:
        """A generator function for the worker: (re)train quickly, then classify the view."""
        layer, reader, mpp, _ = self._context()
        parts = self._training_parts() if retrain else None  # every open image's labels
        box = self._preview_box(layer, mpp)
        key = self._key()
        classes = list(self.classes)

        def job() -> Any:
            model = self.live_model
            if parts is not None:
                stains = self.training_stains([(part[0], part[2]) for part in parts])[0] if parts else "H&E"
                model = self._fit(parts, stains, classes, trees=LIVE_TREES, validation=0.0,
                                  caches=self._rows_cache)[0]
            yield  # a quit() of a stale job stops here
            if model is None:
                return None
            w = work_downsample(mpp, PREVIEW_UM)
            cbox = classify_box(reader, box, bounds=image_bounds(layer), mpp=mpp, w=w, model=model)
            return generation, key, model, cbox

        return job

    def _show_live(self, value: Any) -> Any:
        if value is None:
            return None
        generation, key, model, cbox = value
        if key != self._key():  # its image or training labels removed / replaced, or another µm/px: dropped
            return None
        self.live_model = model
        if generation != self._generation:  # painted / moved since: a newer run follows
            return None
        counts = ", ".join(f"{k} {v}" for k, v in model.card.get("training_counts", {}).items())
        self.status.value = f"live preview ({LIVE_TREES} trees; labelled blocks: {counts})"
        return self._show_preview(cbox)
