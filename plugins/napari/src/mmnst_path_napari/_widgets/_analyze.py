"""Analyze widget: run the library's Ki67 / melanin / necrosis analysis on the view, the selected
shapes or the whole image, in a worker thread with progress and cancel; results become layers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.types import FileDialogMode
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, FloatSpinBox, Label, TextEdit

from .._analysis import (
    THRESHOLD_FIELDS,
    WEAK_STAIN_TIP,
    box_polygon,
    done_words,
    hidden_maps,
    layers_from_result,
    notice_text,
    panel_text,
    plan_analysis,
    positive_threshold_field,
    recorded_warnings,
    run_analysis,
    weak_stain_text,
)
from .._classmap import class_legend_html, class_table_text, painted_areas, tissue_class_layer
from .._layers import keep_caption_on_canvas, legend_html
from .._units import follow_image_units
from ._common import (
    Cancelled,
    RunControls,
    hold_wrapped_lines,
    image_bounds,
    keep_lines,
    layer_choice,
    layer_mpp,
    layer_reader,
    notice_label,
    rgb_image_layers,
    scroll_area,
    view_box,
    wrap_text,
)
from ._marker import follow_marker, marker_box, marker_setting
from ._mpp import link_mpp_box, set_entered_mpp
from ._roi_layers import selected_regions
from ._thread import run_in_thread

if TYPE_CHECKING:
    import napari

__all__ = ["AUTO", "COUNT_IN", "MODEL_CHOICES", "REGIONS", "AnalyzeWidget", "run_in_thread"]

REGIONS = ("current view", "selected shapes", "whole image")
#: seconds without a finished tile after which the status says so
STUCK_S = 30.0
#: stains choice running the CLI's automatic detection
AUTO = "auto (detect)"
#: model choices: the shipped default, no model (rules), or a .mmnst file picked beside
MODEL_CHOICES = ("default", "none", "file")
#: label of the positive-threshold box; the line under it names the chromogen and the threshold's field (a
#: label changed at run time makes magicgui widen the label column, squeezing napari's canvas)
OD_LABEL = "positive OD ≥"
#: that line while the stains are detected (before a run has found them)
AUTO_OD_TEXT = ("stains auto: the detected stains' own threshold (DAB, AEC 0.35; Fast Red 0.25; Azure B "
                "counterstain 0.225), or the value entered here")
#: lines the results box keeps room for (it was 4 high after a run; each line more makes the docked form
#: ~14 px taller: a 1700 x 1100 window grows to ~1150 with 6, and Review's 12 push it past a 1200-line screen)
RESULT_LINES = 6
#: ``_show_weak_stain``'s default: the stains the text was last written for
_SAME: Any = object()
#: where Ki67 nuclei are counted (``Ki67Params.count_in``)
COUNT_IN = ("all", "tumour")


def model_words(text: str) -> str:
    """A model as the results box names it: its name and version first, its content id
    (``sha256:...``, which the metrics give first) at the end."""
    head, _, rest = text.partition(" ")
    if head.startswith("sha256:") and rest:
        return f"{rest} (id {head})"
    return text


def threshold_words(label: str, stains: str, *, detected: bool = False) -> str:
    """The line under the positive-threshold box, in words (``label`` as
    :func:`positive_threshold_field` gives it, e.g. "positive DAB OD ≥ (Azure B)"); the config
    key goes in the box's tooltip."""
    what = label.removeprefix("positive ").replace(" ≥", "")
    if detected:
        return (f"a nucleus counts as positive from this {what} up (the stains detected: {stains}; a value "
                "entered is used at the next run)")
    return f"a nucleus counts as positive from this {what} up (stains {stains})"


class AnalyzeWidget(Container):
    """Stains, measures, main thresholds and region; runs :func:`mmnst_path.pipeline.analyze_slide`.

    The stains default to ``auto``: the CLI's detection (:func:`mmnst_path.pipeline.guess_stains`
    on the tissue of the thumbnail); a ticked measure the stains do not allow (Ki67 without a
    chromogen, necrosis without eosin) is not run and the panel says so. An image without a
    pixel size is not analysed until the user enters one. Tiles run on threads.

    After a run, ``self.result`` holds the library's :class:`~mmnst_path.aggregate.SlideResult`
    and the viewer has, bottom to top, ``melanin fraction``, ``necrosis fraction``,
    ``Ki67 heatmap``, ``Ki67 hot spot`` and ``nuclei`` (those the stains allow); the layers of
    the previous run are removed first.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        # napari's plugin machinery passes the viewer to a parameter named ``napari_viewer``
        viewer = napari_viewer
        from mmnst_path.pipeline import AnalysisConfig
        from mmnst_path.stain import PRESETS

        self.viewer = viewer
        follow_image_units(viewer)  # a layer the user adds takes the image's µm scale and units
        self.result: Any = None
        self.plan: Any = None
        self.worker: Any = None
        self.mpp_source: str | None = None
        self._cancel = threading.Event()
        self._layers: list[Any] = []
        d = AnalysisConfig()
        self.image = layer_choice(viewer, "image", rgb_image_layers)
        self.stains = ComboBox(label="stains", choices=[AUTO, *PRESETS], value=AUTO)
        self.marker = marker_box()  # a double stain's melanocyte marker (the CLI's --melanocyte-marker)
        self.estimate = CheckBox(text="estimate stain vectors from the view", value=False)
        self.do_ki67 = CheckBox(text="Ki67", value=True)
        self.do_melanin = CheckBox(text="melanin", value=True)
        self.do_necrosis = CheckBox(text="necrosis", value=True)
        # necrosis follows the stains (off on IHC, quietly) until the user clicks it
        self._necrosis_follows = True
        self._necrosis_setting = False
        # the box edits the positive threshold the chosen stains count at (azure B, Fast Red: their own)
        self._od_values = {name: float(getattr(d.ki67, name)) for name in THRESHOLD_FIELDS}
        self._od_field = "positive_threshold_od"
        self._od_auto: float | None = None  # a value entered while the stains are "auto"
        self._od_setting = False
        self._weak_matrix: Any = None  # the stains the weak-stain text was last written for
        self.positive_od = FloatSpinBox(
            label=OD_LABEL, value=d.ki67.positive_threshold_od, min=0.0, max=3.0, step=0.001
        )
        self.od_info = Label(value="")
        self.weak_stain = CheckBox(
            text=weak_stain_text(None, d.ki67), value=d.ki67.weak_stain_adaptation, tooltip=WEAK_STAIN_TIP
        )
        self.min_area = FloatSpinBox(
            label="min nucleus µm²", value=d.nuclei.min_area_um2, min=0.0, max=1e4, step=1
        )
        self.max_area = FloatSpinBox(label="max nucleus µm²", value=d.nuclei.max_area_um2, min=1.0, max=1e5, step=5)
        self.analysis_mpp = FloatSpinBox(label="analysis µm/px", value=d.analysis_mpp, min=0.1, max=16.0, step=0.05)
        self.mpp = FloatSpinBox(label="image µm/px", value=0.0, min=0.0, max=100.0, step=0.01)
        self.mpp_info = Label(value="")
        self.cell_model = ComboBox(label="cell model", choices=list(MODEL_CHOICES), value="default")
        self.cell_model_file = FileEdit(label="cell model file", mode=FileDialogMode.EXISTING_FILE, filter="*.mmnst")
        self.tissue_model = ComboBox(label="tissue model", choices=list(MODEL_CHOICES), value="default")
        self.tissue_model_file = FileEdit(label="tissue model file", mode=FileDialogMode.EXISTING_FILE, filter="*.mmnst")
        self.pigment_model = ComboBox(label="pigment model", choices=list(MODEL_CHOICES), value="default")
        self.pigment_model_file = FileEdit(label="pigment model file", mode=FileDialogMode.EXISTING_FILE, filter="*.mmnst")
        self.count_in = ComboBox(label="count Ki67 in", choices=list(COUNT_IN), value=d.ki67.count_in)
        self.region = ComboBox(label="region", choices=list(REGIONS), value="current view")
        self.controls = RunControls("Analyze")
        self.notice = notice_label()
        self.results = TextEdit(value="", label="results")
        self.results.read_only = True
        keep_lines(self.results, RESULT_LINES)
        self.legend = Label(value="")
        measures = Container(  # one tick a line: in a row "necrosis (needs eosin)" was cut at the dock's edge
            widgets=[self.do_ki67, self.do_melanin, self.do_necrosis], labels=False, label="measures"
        )
        # the settings scroll (docked with Review on a 1200-line screen the window grew to 1540 px, session 34);
        # the run's buttons, warning line, results and legend stay in view below them
        self.form = Container(
            widgets=[
                self.image, self.stains, self.marker, self.estimate, measures, self.positive_od, self.od_info,
                self.weak_stain, self.min_area, self.max_area, self.cell_model, self.cell_model_file,
                self.tissue_model, self.tissue_model_file, self.pigment_model, self.pigment_model_file, self.count_in, self.analysis_mpp, self.mpp, self.mpp_info,
                self.region,
            ]
        )  # fmt: skip
        super().__init__(widgets=[self.controls, self.notice, self.results, self.legend])
        self.native.layout().insertWidget(0, scroll_area(self.form.native))
        for label in (self.mpp_info, self.od_info, self.legend):
            wrap_text(label)
        hold_wrapped_lines(self.native)  # the colour key's and warning's wrapped lines whole (the key lost its last)
        self.controls.run_button.changed.connect(self.run)
        self.controls.cancel_button.changed.connect(self.cancel)
        self.image.changed.connect(self._show_mpp)
        self.mpp.changed.connect(self._show_mpp)
        # the value entered is kept on the image layer: Train tissue / Train cells read it, and it comes back here
        link_mpp_box(viewer, self.image, self.mpp, per_image=False, on_change=self._show_mpp)
        self.positive_od.changed.connect(self._od_entered)
        self.stains.changed.connect(self._follow_stains)
        self.do_necrosis.changed.connect(self._necrosis_clicked)
        self.image.changed.connect(self._follow_necrosis)
        self.image.changed.connect(self._follow_image)
        self._running_on: Any = None  # the image being analysed; below, the one the box's figures are of
        self._result_of: Any = None
        self._shown: tuple[str, str] = ("", "")  # the box and the warning line of that image's run
        self._follow_stains()
        for choice, file in ((self.cell_model, self.cell_model_file), (self.tissue_model, self.tissue_model_file)):
            choice.changed.connect(lambda *_, c=choice, f=file: setattr(f, "enabled", c.value == "file"))
            file.enabled = False

    # ------------------------------------------------------------------------------------------
    def measures(self) -> tuple[str, ...]:
        return tuple(
            name for name, box in (("ki67", self.do_ki67), ("melanin", self.do_melanin), ("necrosis", self.do_necrosis))
            if box.value
        )  # fmt: skip

    def mapping(self) -> dict[str, Any]:
        """The widget's values as an :meth:`AnalysisConfig.to_mapping` (stains may be "auto")."""
        from mmnst_path.pipeline import AnalysisConfig

        m = AnalysisConfig().to_mapping()
        m["stains"] = "auto" if self.stains.value == AUTO else self.stains.value
        m["measures"] = []
        m["analysis_mpp"] = float(self.analysis_mpp.value)
        m["ki67"].update(self._od_values)
        m["ki67"]["weak_stain_adaptation"] = bool(self.weak_stain.value)
        m["nuclei"]["min_area_um2"] = float(self.min_area.value)
        m["nuclei"]["max_area_um2"] = float(self.max_area.value)
        m["ki67"]["cell_model"] = self.model_spec("cell")
        m["necrosis"]["tissue_model"] = self.model_spec("tissue")
        m["pigment"]["model"] = self.model_spec("pigment")  # a lab's own (Train pigment; the CLI's --pigment-model)
        m["ki67"]["count_in"] = str(self.count_in.value)
        m["ki67"]["melanocyte_marker"] = marker_setting(self.marker, m["stains"])
        return m

    def _show_od(self, field: str, text: str) -> None:
        """Point the positive-threshold box at a ``Ki67Params`` field (its value; the line under it)."""
        self._od_field = field
        self.od_info.value = text
        key = f"config key: [ki67] {field}"
        self.od_info.tooltip = key
        self.positive_od.tooltip = key
        self._od_setting = True
        try:
            self.positive_od.value = self._od_values[field]
        finally:
            self._od_setting = False

    def _follow_stains(self, *_: Any) -> None:
        """The box follows the chosen stains: the threshold their Ki67 tiles count at."""
        self._od_auto = None
        self._follow_necrosis()
        follow_marker(self.marker, "auto" if self.stains.value == AUTO else str(self.stains.value))
        if self.stains.value == AUTO:
            self._show_od("positive_threshold_od", AUTO_OD_TEXT)
            self._show_weak_stain(None)
            return
        from mmnst_path.pipeline import AnalysisConfig

        matrix = AnalysisConfig(stains=str(self.stains.value)).stain_matrix()
        field, label = positive_threshold_field(matrix)
        self._show_od(field, threshold_words(label, str(self.stains.value)))
        self._show_weak_stain(matrix)

    def _necrosis_clicked(self, *_: Any) -> None:
        if not self._necrosis_setting:  # the user's choice: kept (an IHC run then says it refuses)
            self._necrosis_follows = False
            self.do_necrosis.text = "necrosis"

    def _set_necrosis(self, on: bool, stains: str = "") -> None:
        """Tick necrosis (H&E stains, or auto) or untick it with its reason (IHC ``stains``)."""
        self._necrosis_setting = True
        try:
            self.do_necrosis.value = on
            # (no "&" in a check box text: Qt reads it as a shortcut mark, "H&E" showed as "HE")
            self.do_necrosis.text = "necrosis" if on else "necrosis (needs eosin)"
            self.do_necrosis.tooltip = (
                "measured on H&E slides (eosin); left out when the stains are detected as IHC" if on
                else f"off: the stains {stains} have no eosin; necrosis is measured on H&E slides (tick to ask anyway)"
            )
        finally:
            self._necrosis_setting = False

    def _follow_necrosis(self, *_: Any) -> None:
        """While the user has not clicked it, necrosis is ticked for H&E (or auto) stains, unticked for IHC."""
        if not self._necrosis_follows:
            return
        if self.stains.value == AUTO:
            self._set_necrosis(True)
            return
        from mmnst_path.pipeline import AnalysisConfig, applicable_measures

        config = AnalysisConfig(stains=str(self.stains.value))
        self._set_necrosis("necrosis" in applicable_measures(config, config.stain_matrix()), str(self.stains.value))

    def _show_weak_stain(self, matrix: Any = _SAME) -> None:
        """The weak-stain box's text names the chromogen and floor it lowers to (``matrix`` None:
        stains detected at the run; left out: the stains last shown), with the threshold entered."""
        from dataclasses import replace

        from mmnst_path.quantify.ki67 import Ki67Params

        if matrix is not _SAME:
            self._weak_matrix = matrix
        # the thresholds entered (not ``mapping()``: a model file not chosen yet must not raise here)
        values = dict(self._od_values)
        if self.stains.value == AUTO and self._od_auto is not None:  # typed for the stains the run detects
            values[self._od_field] = self._od_auto
        self.weak_stain.text = weak_stain_text(self._weak_matrix, replace(Ki67Params(), **values))

    def _od_entered(self, value: float) -> None:
        if self._od_setting:
            return
        if self.stains.value == AUTO:  # the field is the detected stains': set at the next run
            self._od_auto = float(value)
        else:
            self._od_values[self._od_field] = float(value)
        self._show_weak_stain()  # a threshold typed below the floor leaves the step nothing to do

    def model_spec(self, kind: str) -> str:
        """``"default"``, ``"none"`` or the chosen file of the cell / tissue / pigment model (as the config
        and ``--cell-model`` / ``--tissue-model`` / ``--pigment-model`` take it)."""
        choice, file = {"cell": (self.cell_model, self.cell_model_file), "pigment": (self.pigment_model,
                        self.pigment_model_file)}.get(kind, (self.tissue_model, self.tissue_model_file))
        if choice.value != "file":
            return str(choice.value)
        text = "" if file.value is None or str(file.value) in ("", ".") else str(file.value)
        path = Path(text)
        if not text or not path.is_file():
            msg = f"{kind} model 'file': choose an existing .mmnst file (got {text!r})"
            raise ValueError(msg)
        return str(path)

    def config(self, stains: str | None = None) -> Any:
        """The :class:`~mmnst_path.pipeline.AnalysisConfig` of the last run (``stains`` given:
        of the widget's values with these stains, the ticked measures they allow)."""
        from mmnst_path.pipeline import AnalysisConfig, applicable_measures

        if stains is None and self.plan is not None:
            return self.plan.config
        m = self.mapping()
        m["stains"] = stains or (m["stains"] if m["stains"] != "auto" else "H-DAB")
        auto = AnalysisConfig.from_mapping(m)
        allowed = applicable_measures(auto, auto.stain_matrix())
        chosen = [name for name in self.measures() if name in allowed]
        if not chosen:
            msg = f"none of the ticked measures {list(self.measures())} applies to stains {m['stains']!r}"
            raise ValueError(msg)
        m["measures"] = chosen
        return AnalysisConfig.from_mapping(m)

    def image_mpp(self) -> tuple[float | None, str]:
        """(µm per level-0 pixel, where it came from) of the chosen image; None when unknown."""
        layer = self.image.value
        known = layer_mpp(layer) if layer is not None else None
        if known:
            return known, "from the file"
        if float(self.mpp.value) > 0:
            return float(self.mpp.value), "entered by the user"
        return None, "unknown"

    def _show_mpp(self, *_: Any) -> None:
        layer = self.image.value
        known = layer_mpp(layer) if layer is not None else None
        self.mpp.enabled = not known
        if layer is None:
            self.mpp_info.value = ""
        elif known:
            self.mpp_info.value = f"pixel size {known:.4g} µm/px (from the file)"
        elif float(self.mpp.value) > 0:  # entered: no warning left (session 34's shot kept it after 0.25)
            self.mpp_info.value = (f"pixel size {float(self.mpp.value):.4g} µm/px (entered: the file gives none; "
                                   "about 0.25 at 40x, 0.5 at 20x)")
        else:
            self.mpp_info.value = (
                "⚠ the image has no pixel size: enter its µm/px above (about 0.25 at 40x, 0.5 at 20x); "
                "areas and the hot-spot window depend on it"
            )

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
        polys = selected_regions(self.viewer, layer, lambda lay: isinstance(lay, Shapes) and lay.metadata.get(
            "mmnst_path", {}).get("source") != "analyze")  # a ROI's holes (its ROI holes layer) left out
        if not polys:
            msg = "region 'selected shapes': select one or more shapes (Shapes layer, select mode) first"
            raise ValueError(msg)
        return polys

    def run(self, *_: Any) -> Any:
        """Start the analysis in a worker thread; returns the napari worker (None when refused)."""
        from napari.qt.threading import create_worker

        from mmnst_path.pipeline import AnalysisConfig

        layer = self.image.value
        if layer is None:
            self.controls.status.value = "no RGB image layer to analyse"
            return None
        mpp, source = self.image_mpp()
        if mpp is None:
            self.controls.status.value = "error: the image has no pixel size: enter its µm/px first"
            self._show_mpp()
            return None
        ticked = self.measures()
        optional = ("necrosis",) if self._necrosis_follows else ()
        if optional and self.stains.value == AUTO and "necrosis" not in ticked:  # unticked by the last detection
            ticked = (*ticked, "necrosis")
        if not ticked:
            self.controls.status.value = "error: tick at least one measure"
            return None
        reader = layer_reader(layer, mpp=mpp)
        try:
            mapping = self.mapping()
            # the settings checked now (e.g. count_in 'tumour' without a tissue model), not in the thread
            AnalysisConfig.from_mapping({**mapping, "stains": "H-DAB" if mapping["stains"] == "auto" else mapping["stains"]})
            roi = self.roi(layer)
            estimate_box = self._estimate_box(layer) if self.estimate.value else None
        except (ValueError, OSError) as exc:
            self.controls.status.value = f"error: {exc}"
            return None
        self._cancel.clear()
        od_auto = self._od_auto if mapping["stains"] == "auto" else None
        self._display_mpp = layer_mpp(layer)
        self._mpp = (mpp, source)
        self._running_on = layer  # the image this run's figures will be of (:meth:`_follow_image`)
        if not self._display_mpp:
            set_entered_mpp(layer, mpp)  # the µm/px this image was measured at, for the Train widgets too

        def job(progress: Callable[[int, int], None]) -> Any:
            if reader.mpp is None:
                reader.mpp = mpp
            with recorded_warnings() as said:  # shown in the warning line, as the CLI's row says them
                plan = plan_analysis(reader, mapping, ticked=ticked, estimate_box=estimate_box, positive_od=od_auto,
                                     optional=optional)
                progress(0, 0)
                result = run_analysis(reader, plan.config, mpp=mpp, roi=roi, progress=progress)
            return plan, result, tuple(said)

        worker = create_worker(run_in_thread, job, self._cancel, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_result)
        worker.errored.connect(self._on_error)
        worker.finished.connect(lambda: self.controls.busy(False))
        self.controls.busy(True)
        self.controls.progress.value = 0
        self.controls.status.value = (
            "detecting the stains..." if mapping["stains"] == "auto" else "analysing..."
        )
        self.worker = worker
        worker.start()
        return worker

    def cancel(self, *_: Any) -> None:
        """Stop the run: no new tile starts; the run ends (status "cancelled") once the tiles
        already running have finished and the tile threads are closed."""
        self._cancel.set()
        self.controls.status.value = "cancelling... (waiting for the running tiles)"

    def _estimate_box(self, layer: Any) -> Any:
        box = view_box(self.viewer, layer)
        if box.area == 0:
            from mmnst_path.geometry import Box

            rows, cols = image_bounds(layer)
            box = Box(0, 0, rows, cols)
        return box

    def _on_progress(self, value: tuple[Any, ...]) -> None:
        if self._cancel.is_set():
            self.controls.status.value = "cancelling... (waiting for the running tiles)"
            return
        done, total = value[0], value[1]
        self.controls.progress.value = int(100 * done / total) if total else 0
        text = f"tiles {done}/{total}" if total else "analysing..."
        if len(value) > 2 and value[2] >= STUCK_S:
            text += f" — no tile finished for {value[2]:.0f} s (Cancel stops the run)"
        self.controls.status.value = text

    def clear_layers(self) -> None:
        """Remove the layers of the previous run (by this or another Analyze widget)."""
        for lay in list(self.viewer.layers):
            meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
            if lay in self._layers or (isinstance(meta, dict) and meta.get("source") == "analyze"):
                self.viewer.layers.remove(lay)
        self._layers = []

    def _on_result(self, value: tuple[Any, Any]) -> None:
        from napari.layers import Layer

        plan, result, said = (*value, ())[:3]
        self.plan = plan
        self.result = result
        mpp, source = self._mpp
        self.mpp_source = source
        # the measures refused go to the warning line, not the results box's header
        header = [f"stains: {plan.stains} ({plan.stains_source})", f"pixel size: {mpp:.4g} µm/px ({source})"]
        for key, what in (("cell_model", "cell model"), ("tissue_model", "tissue model")):
            if result.metrics.get(key):
                header.append(f"{what}: {model_words(str(result.metrics[key]))}")
        if self._necrosis_follows and self.stains.value == AUTO:  # the box shows what the detection allowed
            skipped = "necrosis" in getattr(plan, "skipped", ())
            self._set_necrosis(not skipped, f"{plan.stains} (detected)")
        if "ki67" in result.measures:
            header.append(f"Ki67 counted in: {plan.config.ki67.count_in}")
            self._show_detected_od(plan.config)
        self.clear_layers()
        layer_data = layers_from_result(result, mpp=self._display_mpp)
        classes = tissue_class_layer(result, mpp=self._display_mpp)
        if classes is not None:  # the class map goes below the fraction maps and nuclei
            classes[1].setdefault("metadata", {}).setdefault("mmnst_path", {})["source"] = "analyze"
            layer_data.insert(0, classes)
        for data in layer_data:
            meta = data[1]["metadata"]["mmnst_path"]
            meta.update(
                header=header, mpp_source=source, stains=plan.stains, stains_source=plan.stains_source
            )
            self._layers.append(self.viewer.add_layer(Layer.create(*data)))
            if meta.get("kind") == "hotspot":
                keep_caption_on_canvas(self._layers[-1], self.viewer)
        self.controls.progress.value = 100
        self.controls.status.value = done_words(result)
        # each sentence once: what the user must act on in the warning line, the figures in the box
        self.notice.value = notice_text(plan, result, said)
        text = panel_text(result, header=header)
        self._panel = text
        self.legend.value = legend_html(result.measures, hidden=hidden_maps(layer_data))
        if classes is not None:
            meta = classes[1]["metadata"]["mmnst_path"]
            text += "\ntissue classes (% of the classed area):\n" + class_table_text(meta["areas"])
            self.legend.value += "<br>" + class_legend_html(meta["classes"], meta["colours"], values=False)
            self._follow_painting(self._layers[0])
        self.results.value = text
        self._result_of, self._shown = self._running_on, (self.results.value, self.notice.value)
        if self.image.value is not self._result_of:  # another image chosen while it ran: not under its name
            self._follow_image()
        if "nuclei" in self.viewer.layers:
            self.viewer.layers["nuclei"].metadata["mmnst_path"]["result"] = result

    def _follow_image(self, *_: Any) -> None:
        """Another image chosen (or the analysed one removed): its figures leave the box; shown back on return."""
        if self._result_of is not None and self.image.value is self._result_of in self.viewer.layers:
            self.results.value, self.notice.value = self._shown
        elif self._result_of is not None:
            gone = ", since removed" if self._result_of not in self.viewer.layers else ""
            self.notice.value = ""
            self.results.value = f"no analysis of this image yet: press Analyze (the last was of {self._result_of.name!r}{gone})"

    def _follow_painting(self, layer: Any) -> None:
        """A necrosis (or any class) region the reviewer paints or erases on the run's ``tissue classes``
        layer: the class areas in the panel (and Export's result.json) follow the strokes."""
        meta = layer.metadata["mmnst_path"]
        meta.update(labels_at_run=np.array(layer.data, copy=True), areas_at_run=meta["areas"], result=self.result)

        def painted(*_: Any) -> None:
            areas = painted_areas(layer, shape=tuple(self.result.shape), mpp=float(self.result.mpp))
            meta["areas"] = areas
            block = float(meta["downsample"]) * float(self.result.mpp)  # a stroke changes whole blocks, not pixels
            self.results.value = (f"{self._panel}\ntissue classes as painted ({areas['changed_blocks']} blocks "
                                  f"changed, whole {block:g} µm blocks; % of the classed area):\n"
                                  f"{class_table_text(areas)}")
            self._shown = (self.results.value, self.notice.value)

        layer.events.paint.connect(painted)
        layer.events.data.connect(painted)

    def _show_detected_od(self, config: Any) -> None:
        """After a run with detected stains, the box shows the field the detected stains counted at."""
        if self.stains.value != AUTO:
            return
        field, label = positive_threshold_field(config.stain_matrix())
        self._od_values[field] = float(getattr(config.ki67, field))
        self._show_od(field, threshold_words(label, self.plan.stains, detected=True))
        self._show_weak_stain(config.stain_matrix())

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled) or self._cancel.is_set():
            self.controls.status.value = "cancelled (the layers show the previous result, if any)"
        else:
            # one line in the status, the whole message (tile, file, worker traceback) in the panel
            text = str(exc)
            self.controls.status.value = f"error: {type(exc).__name__}: {text.splitlines()[0] if text else ''}"
            self.results.value = f"the analysis failed ({type(exc).__name__}):\n{text}"
            self.notice.value = "analysis failed: the layers show the previous result, if any"
