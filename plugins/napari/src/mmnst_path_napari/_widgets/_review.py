"""Review widget: add, delete and reclassify nuclei on the Points layer; Ki67 index, CI and
counts update at once (library metrics of the edited classes), with the pigment and near-black QC
sentences of the edited nuclei in an orange warning line above the figures; edits saved / loaded as
GeoJSON."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, Label, PushButton, TextEdit

from .._analysis import COUNTED_CLASSES, ki67_from_classes, panel_text, reviewed_hotspot_caption
from .._classmap import qc_warnings
from .._geojson import layer_stains, read_detections_stains, write_geojson
from .._layers import CLASS_COLORS, added_nucleus_features, cells_from_points, points_layer, results_text
from .._units import follow_image_units
from ._common import (
    PANEL_LINES,
    add_or_replace,
    keep_lines,
    layer_choice,
    layer_mpp,
    notice_label,
    nuclei_layers,
    rgb_image_layers,
    wrap_text,
)

if TYPE_CHECKING:
    import napari

__all__ = ["ReviewWidget", "figures_with", "layer_bin_thresholds", "layer_ki67", "layer_marker", "marker_words",
           "review_line", "review_warnings", "reviewed_melanocytic_line", "set_classes", "stains_line",
           "toggle_classes", "unreviewed_near_black"]

EDIT_CLASSES = ("positive", "negative", "pigment")
#: the class a reviewer gives a counted nucleus that is not a tumour nucleus (a stromal nucleus, a lymphocyte):
#: kept on the layer and in every export as "Excluded", out of the index (deleting it lost that judgement)
NOT_TUMOUR = "excluded"


def layer_bin_thresholds(layer: Any) -> tuple[float, float]:
    """The DAB OD of the 2+ and 3+ bins of a nuclei layer's run: its Analyze result's, the result folder's it
    was read from (``bin_thresholds_od``), else the library's defaults (:func:`mmnst_path.review.bin_thresholds`)."""
    from mmnst_path.review import bin_thresholds

    meta = layer.metadata.get("mmnst_path", {}) if isinstance(layer.metadata, dict) else {}
    if meta.get("result") is not None:
        return bin_thresholds(getattr(meta["result"], "config", None))
    if meta.get("bin_thresholds_od"):
        return (float(meta["bin_thresholds_od"][0]), float(meta["bin_thresholds_od"][1]))
    return bin_thresholds()


def set_classes(layer: Any, indices: Any, cls: str) -> None:
    """Give the points ``indices`` of a nuclei layer the class ``cls`` and its colour; they are
    then ``reviewed`` (the near-black QC no longer counts them: the reviewer has judged them). A nucleus made
    positive without an intensity bin takes the bin of its DAB OD mean at the run's 2+ / 3+ thresholds
    (:func:`mmnst_path.review.positive_bin`; 1+ when its DAB is unknown), as a measured positive is binned, so
    the H-score counts it as the run would have; one made negative, pigment or excluded has bin 0."""
    idx = np.asarray(sorted(indices), dtype=np.intp)
    if idx.size == 0:
        return
    if cls not in CLASS_COLORS:
        msg = f"class must be one of {tuple(CLASS_COLORS)}, got {cls!r}"
        raise ValueError(msg)
    features = layer.features
    col = features.columns.get_loc("class")
    features.iloc[idx, col] = cls
    if "intensity_bin" in features.columns:
        from mmnst_path.review import positive_bin

        b = features.columns.get_loc("intensity_bin")
        current = np.asarray(features["intensity_bin"], np.int64)[idx]
        if cls == "positive":
            dab = (np.asarray(features["dab_od"], np.float64)[idx] if "dab_od" in features.columns
                   else np.full(idx.size, np.nan))
            binned = np.where(current >= 1, current, positive_bin(dab, layer_bin_thresholds(layer)))
            features.iloc[idx, b] = binned.astype(features["intensity_bin"].dtype)
        else:
            features.iloc[idx, b] = np.zeros(idx.size, features["intensity_bin"].dtype)
    if "reviewed" in features.columns:
        features.iloc[idx, features.columns.get_loc("reviewed")] = True
    colors = np.asarray(layer.border_color).copy()
    colors[idx] = CLASS_COLORS[cls]
    layer.border_color = colors  # emits events.border_color, which the Review widget listens to


def toggle_classes(layer: Any, indices: Any) -> None:
    """Swap positive <-> negative for the points ``indices`` (other classes become negative)."""
    idx = np.asarray(sorted(indices), dtype=np.intp)
    if idx.size == 0:
        return
    current = np.asarray(layer.features["class"], dtype=object)[idx]
    to_neg = idx[current == "positive"]
    to_pos = idx[current != "positive"]
    set_classes(layer, to_pos, "positive")
    set_classes(layer, to_neg, "negative")


def review_line(meta: Mapping[str, Any]) -> str:
    """What a nuclei layer read from a result folder is: "REVIEWED by Dr A, 2026-12-07 (review.json); measured
    5.45 % (57 / 1045)", or why the folder's review was refused (the measured nuclei are shown)."""
    from .._result_folder import review_words

    measured = meta.get("measured") or {}
    index = measured.get("ki67_index_pct")
    was = ("" if index is None else f"; measured {index:.2f} % ({measured.get('ki67_positive')} / "
           f"{measured.get('ki67_denominator')})")
    if meta.get("review"):
        return f"REVIEWED: {review_words(meta['review'])} (review.json){was}"
    return f"measured nuclei (the folder's review was refused: {meta['review_refused']})"


def unreviewed_near_black(features: Any) -> np.ndarray | None:
    """(N,) bool: near-black nuclei (``near_black`` feature) the reviewer has not re-classed or
    added (``reviewed``); None when the layer has no near-black flag (nothing to warn of)."""
    cols = getattr(features, "columns", features)
    if "near_black" not in cols:
        return None
    dark = np.asarray(features["near_black"], dtype=bool)
    if "reviewed" in cols:
        dark = dark & ~np.asarray(features["reviewed"], dtype=bool)
    return dark


def review_warnings(counts: Any, metrics: Mapping[str, Any], features: Any = None,
                    spindle_sheet_rule: str | None = None, stains: Mapping[str, str] | None = None) -> list[str]:
    """The QC sentences (pigment, near-black, stromal exclusion: the library's words, ``⚠``-prefixed)
    of the reviewed nuclei: Ki67 ``counts`` and ``metrics`` of :func:`ki67_from_classes`.

    ``features`` (the nuclei layer's) gives the stromal-exclusion sentence its counts: the nuclei
    still excluded that the cell model called stromal, and those the spindle-sheet rule counted as
    tumour that are still in the index (``in_spindle_sheet``); ``spindle_sheet_rule`` is the run's
    setting (``ki67_spindle_sheet_rule``), which the sentence's advice follows. ``stains``
    (``chromogen`` / ``counterstain``, :func:`mmnst_path_napari._geojson.layer_stains`) is what the
    pigment and near-black advice follows: an AEC, Fast Red or azure B slide is not told to use the
    stain it already has.
    """
    m: dict[str, Any] = {f"ki67_{key}": v for key, v in metrics.items()}
    m["ki67_near_black_positive"] = counts.near_black_positive
    cols = getattr(features, "columns", features)
    if cols is not None and "cell_type" in cols:
        cls = np.asarray(features["class"], dtype=object)
        types = np.asarray(features["cell_type"], dtype=object)
        m["ki67_stromal"] = int(np.count_nonzero((types == "stromal") & (cls == "excluded")))
        if "in_spindle_sheet" in cols:
            sheet = np.asarray(features["in_spindle_sheet"], dtype=bool) & (types == "tumour")
            m["ki67_spindle_sheet_nuclei"] = int(np.count_nonzero(sheet & np.isin(cls, ("positive", "negative"))))
    if spindle_sheet_rule is not None:
        m["ki67_spindle_sheet_rule"] = spindle_sheet_rule
    if stains:
        m["ki67_chromogen"] = stains.get("chromogen", "dab")
        m["ki67_counterstain"] = stains.get("counterstain", "hematoxylin")
    return [f"⚠ {w}" for w in qc_warnings(m)]


def stains_line(named: Mapping[str, str], stains: Mapping[str, str], *, preset: str | None = None,
                marker: str = "") -> str:
    """The panel's line saying which stains a nuclei layer read from a file was taken as: ``named``
    are those the file's measurement names gave (``ki67_stains``), ``stains`` those the layer uses
    (:func:`layer_stains`); "stains: DAB + Azure B (from the file's measurement names)". ``preset``, the stain
    preset a result folder's result.json names (a double stain's "H-DAB-FastRed"), leads when given; ``marker``, a
    double stain's marker in words (:func:`marker_words`), follows the Ki67 stains: "stains: H-DAB-FastRed (from
    result.json; Ki67 read as DAB + Hematoxylin; marker Fast Red (MART-1, cytoplasmic))"."""
    from mmnst_path._geojson_names import STAIN_DISPLAY

    text = (f"stains: {STAIN_DISPLAY['chromogen'].get(stains['chromogen'], stains['chromogen'])} + "
            f"{STAIN_DISPLAY['counterstain'].get(stains['counterstain'], stains['counterstain'])}")
    more = f"; {marker}" if marker else ""
    if preset:
        return f"stains: {preset} (from result.json; Ki67 read as {text.removeprefix('stains: ')}{more})"
    if named:
        return f"{text} (from the file's measurement names{more})"
    return f"{text} (the file names no stain: assumed{more})"


#: a double stain's marker in words, by where the run read it (the library's ``ki67_melanocyte_marker``)
MARKER_WORDS = {"cytoplasmic": "MART-1, cytoplasmic", "nuclear": "SOX10, nuclear"}


def layer_marker(meta: Mapping[str, Any]) -> dict[str, str]:
    """A double stain's marker as its run recorded it: ``ki67_melanocyte_marker`` (``"cytoplasmic"`` /
    ``"nuclear"``) and ``ki67_melanocyte_marker_source`` (``"detected"`` / ``"chosen"`` / ``"assumed"``), from a
    nuclei layer's Analyze result, else from the result folder it was read from; ``{}`` for a single stain."""
    metrics = getattr(meta.get("result"), "metrics", None) or {}
    marker = metrics.get("ki67_melanocyte_marker") or meta.get("melanocyte_marker")
    if not marker:
        return {}
    source = (metrics.get("ki67_melanocyte_marker_source") if metrics.get("ki67_melanocyte_marker")
              else meta.get("melanocyte_marker_source"))
    return {"ki67_melanocyte_marker": str(marker), "ki67_melanocyte_marker_source": str(source or "")}


def marker_words(meta: Mapping[str, Any], stains: Mapping[str, str]) -> str:
    """"marker Fast Red (MART-1, cytoplasmic)" of a double stain's nuclei layer: the marker's chromogen (the stain
    of the run's preset that is neither the Ki67 chromogen nor the counterstain) and the marker as the run recorded
    it ("cytoplasmic marker, assumed" when named stains left it at auto); ``""`` for a single stain."""
    from mmnst_path._geojson_names import STAIN_DISPLAY
    from mmnst_path._qc_text import marker_label

    marker = layer_marker(meta)
    if not marker or marker["ki67_melanocyte_marker"] not in MARKER_WORDS:
        return ""
    used = {stains.get("chromogen"), stains.get("counterstain")}
    red = [n for n in meta.get("stains_names") or () if n in STAIN_DISPLAY["chromogen"] and n not in used]
    which = (marker_label(marker) if marker["ki67_melanocyte_marker_source"] == "assumed"
             else MARKER_WORDS[marker["ki67_melanocyte_marker"]])
    return f"marker {STAIN_DISPLAY['chromogen'][red[0]] if red else 'chromogen'} ({which})"


def layer_ki67(features: Any) -> tuple[Any, dict[str, Any]]:
    """Library Ki67 counts and metrics of a nuclei layer's features as edited: the one computation of the Review
    panel and Export's result.json (the near-black QC of the unreviewed near-black nuclei, a double stain's
    melanocyte-restricted index)."""
    return ki67_from_classes(
        np.asarray(features["class"], dtype=object),
        np.asarray(features["intensity_bin"]),
        near_black=unreviewed_near_black(features),
        melanocytic=np.asarray(features["melanocytic"], dtype=bool) if "melanocytic" in features else None,
    )


def reviewed_melanocytic_line(meta: Mapping[str, Any], reviewed: Mapping[str, Any]) -> str:
    """"Ki67 in melanocytes (MART-1+): X % ..." of the reviewed classes of a double stain's nuclei layer
    (``""`` for a layer of a single stain): the marker as the run recorded it (:func:`layer_marker`; "cytoplasmic
    marker, assumed" when named stains left it at auto), from the analysis result, else from the result folder."""
    from mmnst_path._qc_text import melanocytic_text

    marker = layer_marker(meta)
    if not marker or "melanocytic_index_pct" not in reviewed:
        return ""
    return melanocytic_text({**marker,
                             **{f"ki67_{k}": reviewed.get(k) for k in ("melanocytic_index_pct", "melanocytic_ci_low_pct",
                                                                        "melanocytic_ci_high_pct",
                                                                        "melanocytic_denominator")}})


def figures_with(text: str, line: str) -> str:
    """The panel's figures ``text`` with ``line`` (a double stain's melanocyte-restricted index) just below the index
    and its CI, among the first lines a docked box shows without scrolling (session 43 H7's defect 13: below the
    counts and the H-score it was out of view with Analyze docked above Review)."""
    lines = text.split("\n")
    at = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("95% CI")), 1)
    return "\n".join([*lines[:at], line, *lines[at:]])


class ReviewWidget(Container):
    """Correct the nuclei of the analysis; the panel shows the library's metrics of the edits.

    Keys on the nuclei layer: ``t`` toggles positive/negative, ``1``/``2``/``3`` set positive /
    negative / pigment, ``4`` excluded (not tumour, not counted) for the selected points. In napari's
    *add points* mode new nuclei get the class chosen in "add as" (and no measurements), whichever
    nucleus was selected before (napari copies a selected point's features to the next one added).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        # napari's plugin machinery passes the viewer to a parameter named ``napari_viewer``
        viewer = napari_viewer
        self.viewer = viewer
        follow_image_units(viewer)  # a layer the user adds takes the image's µm scale and units
        self.points = layer_choice(viewer, "nuclei layer", nuclei_layers)
        self.add_class = ComboBox(label="add as", choices=list(EDIT_CLASSES), value="positive")
        buttons = []
        for cls in (*EDIT_CLASSES, NOT_TUMOUR):
            b = PushButton(text=f"→ {cls}" if cls != NOT_TUMOUR else "→ not tumour")
            b.changed.connect(lambda *_, c=cls: self._apply(c))
            buttons.append(b)
        self.toggle_button = PushButton(text="toggle +/−")
        self.toggle_button.changed.connect(lambda *_: self._apply(None))
        self.notice = notice_label()  # the QC sentences of the reviewed nuclei, said once
        self.results = TextEdit(value="", label="review")
        self.results.read_only = True
        keep_lines(self.results, PANEL_LINES)
        self._box_min = self.results.native.minimumHeight()  # grown while a melanocytic line needs it (_show_line)
        self.file = FileEdit(label="edits file", mode="w", filter="*.geojson")
        self.save_button = PushButton(text="save edits (GeoJSON)")
        self.load_button = PushButton(text="load edits (GeoJSON)")
        self.save_button.changed.connect(lambda *_: self.save(self.file.value))
        self.load_button.changed.connect(lambda *_: self.load(self.file.value))
        # melanin: blocks of the run's melanin map painted melanin (1) / no melanin (2); the figures follow
        self.melanin_button = PushButton(text="paint melanin corrections")
        self.melanin_button.changed.connect(lambda *_: self.paint_melanin())
        self.melanin_line = wrap_text(Label(value=""))
        self.melanin_line.visible = False  # shown once melanin is corrected: no room taken in a Ki67 review
        row = Container(widgets=[*buttons[:3], self.toggle_button], layout="horizontal", labels=False)
        files = Container(widgets=[self.save_button, self.load_button], layout="horizontal", labels=False)
        super().__init__(
            widgets=[
                self.points, self.add_class, row,
                buttons[3], self.melanin_button, self.melanin_line,  # in view under a docked Analyze too
                self.notice, self.results, self.file, files,
            ]
        )  # fmt: skip
        # the nuclei controls: hidden while only a class map is open (an H&E result folder has no nuclei: its Ki67
        # buttons and an empty nuclei choice said nothing, session 42 H5's walk)
        self._ki67_widgets = (self.points, self.add_class, row, buttons[3], self.file, files)
        self._tissue_followed: Any = None  # the class map layer the box follows while no nuclei layer is open
        self._connected: Any = None
        self.points.changed.connect(self._connect)
        # a deleted nuclei layer must not leave its index in the panel
        viewer.layers.events.removed.connect(self._connect)
        viewer.layers.events.removed.connect(self._melanin_closed)
        viewer.layers.events.inserted.connect(self._follow_new_layer)
        self._melanin_layer: Any = None  # the corrections layer the melanin line follows
        self.add_class.changed.connect(self._set_add_class)
        self._connect()

    # ------------------------------------------------------------------------------------------
    def _follow_new_layer(self, event: Any = None) -> None:
        """A nuclei layer added to the viewer (Export's import, Analyze's run, a loaded file) is the
        one reviewed from then on, not the layer it may hide."""
        layer = getattr(event, "value", None)
        self.points.reset_choices()
        if layer is not None and any(lay is layer for lay in nuclei_layers(self.viewer)):
            self.points.value = layer
        self._connect()  # (with no nuclei layer: the class map opened is followed there)

    def _connect(self, *_: Any) -> None:
        layer = self.points.value
        if layer is self._connected:
            if layer is None:  # still no nuclei: a class map may have come or gone
                for w in self._ki67_widgets:
                    w.visible = self._tissue_layer() is None
                self._follow_tissue()
            return
        if self._connected is not None:
            self._connected.events.data.disconnect(self._data_changed)
            self._connected.events.border_color.disconnect(self.update)
        self._connected = layer
        for w in self._ki67_widgets:  # shown with a nuclei layer, or when no class map is there to review either
            w.visible = layer is not None or self._tissue_layer() is None
        if layer is None:
            self.results.value = self.notice.value = ""
            self._follow_tissue()
            return
        layer.events.data.connect(self._data_changed)
        layer.events.border_color.connect(self.update)
        layer.bind_key("t", lambda lay: toggle_classes(lay, lay.selected_data), overwrite=True)
        for key, cls in zip("1234", (*EDIT_CLASSES, NOT_TUMOUR), strict=True):
            layer.bind_key(key, lambda lay, c=cls: set_classes(lay, lay.selected_data, c), overwrite=True)
        self._set_add_class()
        self.update()

    def _tissue_layer(self) -> Any:
        """The class map of a result folder (or of an Analyze run) shown, the newest: what the box reviews while no
        nuclei layer is open."""
        maps = [lay for lay in self.viewer.layers if isinstance(lay.metadata, dict)
                and lay.metadata.get("mmnst_path", {}).get("kind") == "tissue classes"
                and "areas_at_run" in lay.metadata["mmnst_path"] and "shape" in lay.metadata["mmnst_path"]]
        return maps[-1] if maps else None

    def _follow_tissue(self) -> None:
        """No nuclei layer: the box gives the class areas of the open class map as painted (measured beside), and
        follows each stroke (:func:`~mmnst_path_napari._classmap.painted_areas`, as Export saves them)."""
        layer = self._tissue_layer()
        if layer is not self._tissue_followed:
            if self._tissue_followed is not None:
                self._tissue_followed.events.paint.disconnect(self._tissue_update)
                self._tissue_followed.events.data.disconnect(self._tissue_update)
            self._tissue_followed = layer
            if layer is not None:
                layer.events.paint.connect(self._tissue_update)
                layer.events.data.connect(self._tissue_update)
        self._tissue_update()

    def _tissue_update(self, *_: Any) -> None:
        from .._classmap import class_table_text, painted_areas

        layer = self._tissue_followed
        if self.points.value is not None:
            return
        if layer is None or layer not in self.viewer.layers:
            self.results.value = ""
            return
        meta = layer.metadata["mmnst_path"]
        areas = painted_areas(layer, shape=tuple(meta["shape"]), mpp=float(meta["mpp"]))
        block = float(meta["downsample"]) * float(meta["mpp"])
        folder = Path(str(meta["result_folder"])).name if meta.get("result_folder") else "the run"
        lines = [review_line(meta)] if meta.get("review") or meta.get("review_refused") else []
        was = (meta.get("measured") or {}).get("necrosis_fraction_pct")
        now = areas["pct_of_tissue"].get("necrosis")
        if now is not None and now == now:
            lines.append(f"necrosis {now:.1f} % of the classed area as painted"
                         + ("" if was is None else f" (measured {was:.1f} % of tissue)"))
        lines.append(f"tissue classes of {folder} as painted ({areas['changed_blocks']} blocks changed, whole "
                     f"{block:g} µm blocks; % of the classed area):\n{class_table_text(areas)}")
        lines.append("paint a class's value on the 'tissue classes' layer (0 erases); Export's 'save review to "
                     "result folder' keeps it")
        self.results.value = "\n".join(lines)

    def _data_changed(self, event: Any = None) -> None:
        """Points added (napari's add mode): the "add as" class and an added nucleus's features, whatever
        napari copied from the nucleus selected before (its class, DAB, area, type); then the panel."""
        layer = self.points.value
        if layer is not None and str(getattr(event, "action", "")) == "added":
            n = len(layer.data)
            idx = sorted({int(i) % n for i in getattr(event, "data_indices", ()) if -n <= int(i) < n})
            if idx:
                features = layer.features
                for key, value in added_nucleus_features(features.columns, self.add_class.value).items():
                    if key in features.columns:
                        features.iloc[idx, features.columns.get_loc(key)] = value
                colors = np.asarray(layer.border_color).copy()
                colors[idx] = CLASS_COLORS[self.add_class.value]
                layer.border_color = colors  # emits border_color: the panel follows
                self._set_add_class()  # the next point added, too
        self.update()

    def _set_add_class(self, *_: Any) -> None:
        layer = self.points.value
        if layer is None:
            return
        cls = self.add_class.value
        layer.feature_defaults["class"] = cls
        layer.feature_defaults["intensity_bin"] = 1 if cls == "positive" else 0
        layer.current_border_color = CLASS_COLORS[cls]

    def _apply(self, cls: str | None) -> None:
        layer = self.points.value
        if layer is None:
            return
        if cls is None:
            toggle_classes(layer, layer.selected_data)
        else:
            set_classes(layer, layer.selected_data, cls)

    def metrics(self) -> tuple[Any, dict[str, Any]]:
        """Library Ki67 counts and metrics of the nuclei layer as edited."""
        return layer_ki67(self.points.value.features)

    def update(self, *_: Any) -> None:
        """Recompute the index, CI and counts from the layer's current classes (the box), and the QC
        sentences of the reviewed nuclei (the warning line; the measures a run refused are Analyze's)."""
        layer = self.points.value
        if layer is None:
            return
        counts, k = self.metrics()
        meta = layer.metadata.get("mmnst_path", {})
        result = meta.get("result")
        if result is not None:
            text = panel_text(result, reviewed=k, header=meta.get("header", ()))
            self._follow_caption(result, layer)
        else:
            text = results_text(k, {name: k[name] for name in COUNTED_CLASSES})
        rule = getattr(result, "metrics", {}).get("ki67_spindle_sheet_rule") if result is not None else None
        stains = layer_stains(layer)
        warnings = review_warnings(counts, k, layer.features, rule, stains=stains)
        self.notice.value = "\n".join(warnings)
        if melano := reviewed_melanocytic_line(meta, k):
            text = figures_with(text, melano)
        lines = [text]
        if meta.get("review") or meta.get("review_refused"):  # read from a reviewed result folder
            lines.insert(0, review_line(meta))
        if "ki67_stains" in meta:  # read from a file: say which stain its measurement names gave
            lines.append(stains_line(meta["ki67_stains"], stains, preset=meta.get("stains_preset"),
                                     marker=marker_words(meta, stains)))
        self.results.value = "\n".join(lines)
        self._show_line(melano)

    def _show_line(self, line: str) -> None:
        """Grow the box (its dock takes the room from the docks beside it) until its text down to ``line`` shows
        without scrolling, at most :data:`PANEL_LINES` + 5 lines; back to its usual height without such a line.
        Session 43 H7's defect 13: with Analyze docked above, napari gave Review's box three lines, the index
        wrapped on two, and a double stain's melanocytic line was out of view."""
        # the warning line above: napari's dock sizes by minimum heights, which a word-wrapped label's height at the
        # dock's width is not; its lines squeezed the box below its minimum (and were cut themselves) until it is
        notice = self.notice.native
        notice.setMinimumHeight(max(0, notice.heightForWidth(notice.width())) if self.notice.value else 0)
        native = self.results.native
        need = self._box_min
        if line:
            doc = native.document()
            block = doc.begin()
            while block.isValid() and not block.text().startswith(line[:40]):
                block = block.next()
            if block.isValid():
                bottom = doc.documentLayout().blockBoundingRect(block).bottom()
                cap = (PANEL_LINES + 5) * native.fontMetrics().lineSpacing()
                need = max(need, min(int(bottom + 0.999) + 2 * native.frameWidth() + 2, cap))
        if native.minimumHeight() != need:
            native.setMinimumHeight(need)

    def _follow_caption(self, result: Any, layer: Any) -> None:
        """The run's hot-spot frame (Analyze's layer) captions the reviewed nuclei inside it."""
        caption = reviewed_hotspot_caption(result, layer.features["class"], layer.data)
        for frame in self.viewer.layers:
            meta = frame.metadata.get("mmnst_path", {}) if isinstance(frame.metadata, dict) else {}
            if caption is not None and meta.get("kind") == "hotspot" and meta.get("source") == "analyze":
                if list(frame.features["label"]) != [caption]:
                    frame.features = {"label": [caption]}

    def save(self, path: str | Path) -> Path:
        """Write the edited nuclei as QuPath GeoJSON point detections (the library's writer), their
        OD named by the layer's stain (:func:`layer_stains`)."""
        layer = self.points.value
        stains = layer_stains(layer)
        return write_geojson(path, cells=cells_from_points(layer.data, layer.features), chromogen=stains["chromogen"],
                             counterstain=stains["counterstain"])

    def load(self, path: str | Path) -> Any:
        """Replace the nuclei layer's points by the detections of a GeoJSON file (points, or
        polygons such as ``mmnst-path quantify``'s cells.geojson, taken at their centroid)."""
        cells, stains = read_detections_stains(path)
        layer = self.points.value
        meta = dict(layer.metadata.get("mmnst_path", {})) if layer is not None else {}
        mpp = meta.get("mpp")
        if mpp is None:  # no nuclei layer yet (edits reopened on the slide): the slide's pixel size, as Export's
            images = rgb_image_layers(self.viewer)  # import takes it (at scale 1 the nuclei lay at 1 / mpp times
            mpp = layer_mpp(images[0]) if images else None  # their place, under an "Inconsistent units" toast)
        data = points_layer(cells, mpp=mpp, name=layer.name if layer is not None else "nuclei")
        keep = ("result", "header", "mpp_source", "stains", "stains_source", "source")
        data[1]["metadata"]["mmnst_path"].update({k: v for k, v in meta.items() if k in keep}, ki67_stains=stains,
                                                 file=str(path))
        new = add_or_replace(self.viewer, data)
        self.points.reset_choices()
        self.points.value = new
        self._connect()
        return new

    def _melanin_closed(self, event: Any = None) -> None:
        """The corrections layer the melanin line follows was removed (Export opened another result, the reviewer
        deleted it): the line no longer shows its figures."""
        if event is not None and getattr(event, "value", None) is self._melanin_layer and self._melanin_layer is not None:
            self._melanin_layer = None
            self.melanin_line.value = ("melanin corrections closed (their layer was removed): press paint melanin "
                                       "corrections to correct the melanin of the result shown")

    def paint_melanin(self) -> Any:
        """Add (or select) the melanin corrections layer over the Analyze run's melanin map (else over a result
        folder's, starting from its review's corrections), in paint mode with
        label 1 (melanin; 2 no melanin, 0 gives a block back to the run); each stroke recomputes the melanin
        figures (:func:`mmnst_path_napari._melanin_review.melanin_review`) into the line below the panel."""
        from .._melanin_review import (
            LAYER,
            corrections_layer,
            melanin_review,
            melanin_review_line,
            melanin_source,
            tumour_class_layer,
            tumour_review,
        )

        src = melanin_source(self.viewer)
        self.melanin_line.visible = True
        # room for its 3 wrapped lines: squeezed under a docked Analyze, the line was cut top and bottom
        self.melanin_line.native.setMinimumHeight(3 * self.melanin_line.native.fontMetrics().lineSpacing() + 6)
        if src is None:
            self.melanin_line.value = ("no melanin map to correct: run Analyze with melanin on the image first, or "
                                       "open a result folder of a run that measured melanin (its melanin_map.npz)")
            return None
        here = self.viewer.layers[LAYER].metadata["mmnst_path"] if LAYER in self.viewer.layers else {}
        if here and (here.get("result") is src.get("result") if src.get("result") is not None
                     else here.get("result_folder") == src.get("result_folder")):
            layer = self.viewer.layers[LAYER]
        else:
            images = rgb_image_layers(self.viewer)
            layer = add_or_replace(self.viewer, corrections_layer(src, mpp=layer_mpp(images[0]) if images else None))
            meta = layer.metadata["mmnst_path"]
            meta["result"] = src.get("result")

            def follow(*_: Any) -> None:
                meta["melanin_review"] = melanin_review(src, layer.data)
                # melanin of tumour: with the class map of the same result as painted now (None without one)
                meta["melanin_review"]["tumour"] = tumour_review(self.viewer, src, layer.data)
                self.melanin_line.value = melanin_review_line(meta["melanin_review"])
                lines = 5 if meta["melanin_review"]["tumour"] else 3  # room for the wrapped line, not cut
                self.melanin_line.native.setMinimumHeight(lines * self.melanin_line.native.fontMetrics().lineSpacing() + 6)

            layer.events.paint.connect(follow)
            layer.events.data.connect(follow)
            classes = tumour_class_layer(self.viewer, src)
            if classes is not None:  # painting tumour in or out moves the melanin of tumour too
                classes.events.paint.connect(lambda *_: layer in self.viewer.layers and follow())
            layer.brush_size = 1  # one block a dab (napari's 10 would be 160 µm across)
            follow()
        self._melanin_layer = layer
        layer.selected_label = 1
        layer.mode = "paint"
        self.viewer.layers.selection.active = layer
        return layer
