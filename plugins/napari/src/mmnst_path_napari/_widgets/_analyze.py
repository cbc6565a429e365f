"""Analyze widget: run the library's Ki67 / melanin / necrosis analysis on the view, the selected
shapes or the whole image, in a worker thread with progress and cancel; results become layers."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, Label, TextEdit

from .._analysis import box_polygon, layers_from_result, panel_text, run_analysis
from ._common import (
    Cancelled,
    RunControls,
    add_or_replace,
    image_bounds,
    layer_choice,
    layer_mpp,
    layer_reader,
    rgb_image_layers,
    view_box,
)

if TYPE_CHECKING:
    import napari

__all__ = ["REGIONS", "AnalyzeWidget", "run_in_thread"]

REGIONS = ("current view", "selected shapes", "whole image")


def run_in_thread(fn: Callable[[Callable[[int, int], None]], Any], cancel: threading.Event) -> Generator:
    """Generator running ``fn(progress)`` in a helper thread, yielding ``(done, total)`` updates.

    Meant as the body of a napari ``thread_worker``: the yields reach the GUI thread, ``progress``
    raises :class:`Cancelled` once ``cancel`` is set, and the generator returns ``fn``'s result.
    """
    q: queue.Queue = queue.Queue()

    def progress(done: int, total: int) -> None:
        if cancel.is_set():
            raise Cancelled("analysis cancelled")
        q.put(("progress", (int(done), int(total))))

    def target() -> None:
        try:
            q.put(("done", fn(progress)))
        except BaseException as exc:
            q.put(("error", exc))

    threading.Thread(target=target, daemon=True, name="mmnst-path-analysis").start()
    while True:
        kind, value = q.get()
        if kind == "progress":
            yield value
        elif kind == "done":
            return value
        else:
            raise value


class AnalyzeWidget(Container):
    """Stains, measures, main thresholds and region; runs :func:`mmnst_path.pipeline.analyze_slide`.

    After a run, ``self.result`` holds the library's :class:`~mmnst_path.aggregate.SlideResult`
    and the viewer has the layers ``nuclei``, ``melanin fraction``, ``necrosis fraction``,
    ``Ki67 heatmap`` and ``Ki67 hot spot`` (those the stains allow).
    """

    def __init__(self, viewer: napari.Viewer) -> None:
        from mmnst_path.pipeline import AnalysisConfig
        from mmnst_path.stain import PRESETS

        self.viewer = viewer
        self.result: Any = None
        self.worker: Any = None
        self._cancel = threading.Event()
        d = AnalysisConfig()
        self.image = layer_choice(viewer, "image", rgb_image_layers)
        self.stains = ComboBox(
            label="stains", choices=list(PRESETS), value=d.stains if d.stains in PRESETS else "H-DAB"
        )
        self.estimate = CheckBox(text="estimate stain vectors from the view", value=False)
        self.do_ki67 = CheckBox(text="Ki67", value=True)
        self.do_melanin = CheckBox(text="melanin", value=True)
        self.do_necrosis = CheckBox(text="necrosis", value=True)
        self.positive_od = FloatSpinBox(
            label="positive DAB OD ≥", value=d.ki67.positive_threshold_od, min=0.0, max=3.0, step=0.01
        )
        self.weak_stain = CheckBox(
            text="follow weak staining down to 0.25 OD", value=d.ki67.weak_stain_adaptation
        )
        self.min_area = FloatSpinBox(
            label="min nucleus µm²", value=d.nuclei.min_area_um2, min=0.0, max=1e4, step=1
        )
        self.max_area = FloatSpinBox(
            label="max nucleus µm²", value=d.nuclei.max_area_um2, min=1.0, max=1e5, step=5
        )
        self.analysis_mpp = FloatSpinBox(
            label="analysis µm/px", value=d.analysis_mpp, min=0.1, max=16.0, step=0.05
        )
        self.mpp = FloatSpinBox(label="image µm/px if unknown", value=0.5, min=0.01, max=100.0, step=0.01)
        self.region = ComboBox(label="region", choices=list(REGIONS), value="current view")
        self.controls = RunControls("Analyze")
        self.results = TextEdit(value="", label="results")
        self.results.read_only = True
        measures = Container(
            widgets=[self.do_ki67, self.do_melanin, self.do_necrosis], layout="horizontal", labels=False
        )
        super().__init__(
            widgets=[
                self.image, self.stains, self.estimate, Label(value="measures"), measures, self.positive_od,
                self.weak_stain, self.min_area, self.max_area, self.analysis_mpp, self.mpp, self.region, self.controls, self.results,
            ]
        )  # fmt: skip
        self.controls.run_button.changed.connect(self.run)
        self.controls.cancel_button.changed.connect(self.cancel)

    # ------------------------------------------------------------------------------------------
    def measures(self) -> tuple[str, ...]:
        return tuple(
            name for name, box in (("ki67", self.do_ki67), ("melanin", self.do_melanin), ("necrosis", self.do_necrosis))
            if box.value
        )  # fmt: skip

    def config(self, stains: str | None = None) -> Any:
        """The :class:`~mmnst_path.pipeline.AnalysisConfig` of the widget's values.

        Only the ticked measures that the stains allow are asked for (the library refuses
        e.g. necrosis without eosin).
        """
        from mmnst_path.pipeline import AnalysisConfig, applicable_measures

        m = AnalysisConfig().to_mapping()
        m["stains"] = stains or self.stains.value
        m["measures"] = []
        m["analysis_mpp"] = float(self.analysis_mpp.value)
        m["ki67"]["positive_threshold_od"] = float(self.positive_od.value)
        m["ki67"]["weak_stain_adaptation"] = bool(self.weak_stain.value)
        m["nuclei"]["min_area_um2"] = float(self.min_area.value)
        m["nuclei"]["max_area_um2"] = float(self.max_area.value)
        auto = AnalysisConfig.from_mapping(m)
        allowed = applicable_measures(auto, auto.stain_matrix())
        chosen = [name for name in self.measures() if name in allowed]
        if not chosen:
            msg = f"none of the ticked measures {list(self.measures())} applies to stains {m['stains']!r}"
            raise ValueError(msg)
        m["measures"] = chosen
        return AnalysisConfig.from_mapping(m)

    def roi(self, layer: Any) -> list[np.ndarray] | None:
        """Level-0 ROI polygons of the chosen region (None = whole image)."""
        from napari.layers import Shapes

        if self.region.value == "whole image":
            return None
        if self.region.value == "current view":
            box = view_box(self.viewer, layer)
            if box.area == 0:
                msg = "the current view shows none of the image: pan/zoom to it or choose another region"
                raise ValueError(msg)
            return [box_polygon(box)]
        polys = []
        for lay in self.viewer.layers:
            if isinstance(lay, Shapes) and lay.selected_data:
                for i in sorted(lay.selected_data):
                    world = np.asarray([lay.data_to_world(v) for v in lay.data[i]])
                    polys.append(np.asarray([layer.world_to_data(w) for w in world])[:, -2:])
        if not polys:
            msg = "region 'selected shapes': select one or more shapes (Shapes layer, select mode) first"
            raise ValueError(msg)
        return polys

    def run(self, *_: Any) -> Any:
        """Start the analysis in a worker thread; returns the napari worker."""
        from napari.qt.threading import create_worker

        layer = self.image.value
        if layer is None:
            self.controls.status.value = "no RGB image layer to analyse"
            return None
        mpp_known = layer_mpp(layer)
        mpp = mpp_known or float(self.mpp.value)
        reader = layer_reader(layer, mpp=mpp)
        try:
            roi = self.roi(layer)
            stains = self._estimated_stains(reader, layer) if self.estimate.value else None
            config = self.config(stains)
        except (ValueError, OSError) as exc:
            self.controls.status.value = f"error: {exc}"
            return None
        self._cancel.clear()
        self._display_mpp = mpp_known

        def job(progress: Callable[[int, int], None]) -> Any:
            return run_analysis(reader, config, mpp=None if reader.mpp else mpp, roi=roi, progress=progress)

        worker = create_worker(run_in_thread, job, self._cancel, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_result)
        worker.errored.connect(self._on_error)
        worker.finished.connect(lambda: self.controls.busy(False))
        self.controls.busy(True)
        self.controls.progress.value = 0
        self.controls.status.value = "analysing..."
        self.worker = worker
        worker.start()
        return worker

    def cancel(self, *_: Any) -> None:
        self._cancel.set()
        if self.worker is not None:
            self.worker.quit()
        self.controls.status.value = "cancelling..."

    def _estimated_stains(self, reader: Any, layer: Any) -> str:
        from mmnst_path.stain import estimate_stains

        box = view_box(self.viewer, layer)
        if box.area == 0:
            rows, cols = image_bounds(layer)
            from mmnst_path.geometry import Box

            box = Box(0, 0, rows, cols)
        level = reader.best_level_for_downsample(max(1.0, (box.area / 2048**2) ** 0.5))
        rgb = reader.read_region(box, level)
        return estimate_stains(rgb, reference=self.stains.value).to_json(indent=None)

    def _on_progress(self, value: tuple[int, int]) -> None:
        done, total = value
        self.controls.progress.value = int(100 * done / total) if total else 0
        self.controls.status.value = f"tiles {done}/{total}"

    def _on_result(self, result: Any) -> None:
        self.result = result
        for data in layers_from_result(result, mpp=self._display_mpp):
            add_or_replace(self.viewer, data)
        self.controls.progress.value = 100
        self.controls.status.value = f"done: {len(result.cells)} nuclei"
        self.results.value = panel_text(result)
        if "nuclei" in self.viewer.layers:
            self.viewer.layers["nuclei"].metadata["mmnst_path"]["result"] = result

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled) or self._cancel.is_set():
            self.controls.status.value = "cancelled"
        else:
            self.controls.status.value = f"error: {exc}"
