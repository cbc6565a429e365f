"""Export widget: CSV / JSON / QuPath GeoJSON of the current (reviewed) results and ROIs; import
QuPath GeoJSON annotations as Shapes (ROIs) and detections as Points.

The file formats are the library's (:mod:`mmnst_path.report`, :mod:`mmnst_path.geojson`); this
module only converts layers to and from the library's types (CellTable, Roi)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, Label, LineEdit, PushButton

from mmnst_path._review_clip import clipped_words
from mmnst_path.errors import MmnstPathError
from mmnst_path.geojson import Roi
from mmnst_path.review import REVIEW_NAME

from .._geojson import layer_stains, write_geojson
from .._layers import cells_from_points
from .._result_find import remember_place
from .._units import follow_image_units
from ._common import (
    add_or_replace,
    hold_wrapped_lines,
    layer_choice,
    layer_mpp,
    nuclei_layers,
    rgb_image_layers,
    scroll_area,
    wrap_text,
)
from ._export_find import FindsResults
from ._roi_layers import (
    HOLES_KIND,
    holes_layer_of,
    import_geojson_layers,
    shape_rings,
    shapes_rois,
    with_holes,
)

if TYPE_CHECKING:
    import napari

__all__ = [
    "ExportWidget",
    "export_csv",
    "export_geojson",
    "export_json",
    "import_geojson_layers",
    "result_folder_of",
    "save_review",
    "shapes_rois",
    "unchanged_reviewed_nuclei",
]


def export_csv(points: Any, path: str | Path) -> Path:
    """cells.csv of the nuclei layer (library format: x, y, class, features)."""
    from mmnst_path.report import atomic_write_text, cells_csv_text

    return atomic_write_text(path, cells_csv_text(cells_from_points(points.data, points.features)))


def export_json(points: Any, path: str | Path, *, rois: list[Roi] = (), tissue_classes: Any = None,
                run: Any = None, image: Any = None, melanin: Any = None) -> Path:
    """result.json: the library's result document (when the layer came from Analyze) plus the
    reviewed Ki67 counts and metrics, the ROIs and, when the reviewer painted the run's tissue class
    map, its class areas as painted (``review.tissue_classes``: area mm², % of the classed area) and, when the
    reviewer painted melanin corrections, the reviewed melanin figures (``review.melanin``,
    :func:`mmnst_path._review_melanin.reviewed_melanin`).
    ``points`` may be None (an H&E run has no nuclei): ``run`` is then the layer holding the run. Nuclei read
    from a file carry no run: ``input`` then names the file of ``image`` (the slide layer), and ``nuclei_from``
    the file the nuclei came from, so a colleague knows what the reviewed counts are of."""
    from mmnst_path.report import atomic_write_text, json_ready, result_to_dict

    from ._review import layer_ki67

    holder = points if points is not None else run
    meta = holder.metadata.get("mmnst_path", {}) if holder is not None else {}
    result = meta.get("result")
    doc: dict[str, Any] = result_to_dict(result) if result is not None else {"input": _source(image)}
    if result is None and meta.get("file"):
        doc["nuclei_from"] = meta["file"]
    for key in ("mpp_source", "stains_source"):  # where the pixel size and the stains came from
        if meta.get(key):
            doc[key] = meta[key]
    doc["review"] = {}
    if points is not None:
        counts, metrics = layer_ki67(points.features)  # as the Review panel computes them
        doc["review"] = {"ki67_counts": counts.to_mapping(), "ki67_metrics": metrics, "n_cells": len(points.data)}
    if tissue_classes is not None:
        doc["review"]["tissue_classes"] = tissue_classes
    if melanin is not None:
        doc["review"]["melanin"] = melanin
    doc["rois"] = [{"name": r.name, "polygon_row_col": np.asarray(r.polygon).tolist(),
                    **({"holes_row_col": [np.asarray(h).tolist() for h in r.holes]} if r.holes else {})} for r in rois]
    return atomic_write_text(path, json.dumps(json_ready(doc), indent=2))


def export_geojson(points: Any, path: str | Path, *, rois: list[Roi] = ()) -> Path:
    """QuPath GeoJSON (the library's writer): ROIs as annotations with the Ki67 counts inside,
    nuclei as classified point detections, their OD named by the layer's stain (:func:`layer_stains`:
    "AEC OD mean" on an AEC slide)."""
    cells = cells_from_points(points.data, points.features) if points is not None else None
    stains = layer_stains(points)
    return write_geojson(path, cells=cells, rois=list(rois), chromogen=stains["chromogen"],
                         counterstain=stains["counterstain"])


def result_folder_of(path: str | Path) -> Path | None:
    """The quantify result folder a GeoJSON was read from (its folder holds ``result.json``), else None."""
    folder = Path(path).parent
    return folder if (folder / "result.json").is_file() else None


def save_review(points: Any, folder: str | Path, *, reviewer: str | None = None, image: Any = None,
                tissue_classes: Any = None, classes_layer: Any = None, replace: bool = False,
                melanin_map: Any = None) -> dict[str, Any]:
    """Save the reviewed nuclei (``points``, None for a tissue-only review) and the painted class map
    (``tissue_classes`` areas of ``classes_layer``) as the review of a quantify result folder (``review.json``,
    ``review_edits.geojson`` and ``review_tissue_classes.png`` beside its result.json, which is not changed): the
    edits as Review's *save edits* writes them, then :func:`mmnst_path.review.write_review`, which computes the
    reviewed counts from them as ``mmnst-path review`` does and checks the slide (``image``'s file, else
    result.json's) is the measured one. With ``replace`` the review replaces an earlier one whole (as
    ``mmnst-path review --replace``); else the earlier review's other part is kept. ``melanin_map``: the melanin
    corrections painted on the folder's melanin map (``review_melanin.png``, recomputed by the library)."""
    import os
    import tempfile

    from mmnst_path.review import write_review

    folder = Path(folder)
    if not (folder / "result.json").is_file():
        msg = f"result folder={str(folder)!r} holds no result.json: give OUT/<input> of mmnst-path quantify"
        raise ValueError(msg)
    fd, tmp = tempfile.mkstemp(prefix=".review_edits.", suffix=".tmp", dir=folder)  # quantify clears leftovers
    os.close(fd)
    try:
        export_geojson(points, tmp)
        painted_map = None
        if tissue_classes is not None and classes_layer is not None:  # layer value k + 1 is class k
            painted_map = np.asarray(classes_layer.data).astype(np.int16) - 1
        return write_review(folder, tmp, reviewer=reviewer, image=_source(image), tissue_classes=tissue_classes,
                            tissue_map=painted_map, replace=replace, melanin_map=melanin_map)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _source(layer: Any) -> str | None:
    """The file a layer was read from (napari's ``layer.source.path``; a slide opened with its result folder
    records its own file), None when it was not read from a file."""
    meta = getattr(layer, "metadata", None)
    named = meta.get("mmnst_path", {}).get("path") if isinstance(meta, dict) else None
    path = named or getattr(getattr(layer, "source", None), "path", None)
    return str(path) if path and not Path(path).is_dir() else None


def painted_classes(viewer: Any, folder: str | Path | None = None, *,
                    since_open: bool = False) -> tuple[dict[str, Any] | None, Any]:
    """The class areas of the run's tissue class layer when the reviewer painted it (None otherwise), and
    that layer (None when there is none). With ``folder``, the layer read from that result folder (or, when no
    layer was read from it, the one layer of an Analyze run); a layer read from another folder is never taken,
    and two candidates raise ValueError. A layer read from a result folder (it records the slide's ``shape``)
    is counted now (:func:`painted_areas`): painted since, or as its review corrected it. With ``since_open``
    (a review to save) such a layer counts only when painted since it was opened (:func:`edited_since_open`):
    then even a map painted back to the run's (``changed_blocks`` 0: the earlier correction undone)."""
    from .._classmap import painted_areas

    layers = [lay for lay in viewer.layers if isinstance(lay.metadata, dict)
              and lay.metadata.get("mmnst_path", {}).get("kind") == "tissue classes"
              and "areas_at_run" in lay.metadata["mmnst_path"]]
    if folder is not None:
        own = [lay for lay in layers if _same_folder(lay.metadata["mmnst_path"].get("result_folder"), folder)]
        layers = own or [lay for lay in layers if not lay.metadata["mmnst_path"].get("result_folder")]
        if len(layers) > 1:
            msg = (f"{len(layers)} tissue class layers could be {Path(folder).name}'s ({', '.join(lay.name for lay in layers)}): "
                   "remove the others before saving its review")
            raise ValueError(msg)
    for lay in layers:
        meta = lay.metadata["mmnst_path"]
        areas = painted_areas(lay, shape=meta["shape"], mpp=meta["mpp"]) if "shape" in meta else meta["areas"]
        if since_open and "labels_at_open" in meta:
            return (dict(areas) if edited_since_open(lay) else None), lay
        return (dict(areas) if areas.get("changed_blocks") else None), lay
    return None, None


def painted_melanin(viewer: Any) -> tuple[dict[str, Any] | None, Any]:
    """The reviewed melanin figures of the melanin corrections layer when a block was changed (None otherwise),
    and that layer (None when there is none)."""
    for lay in viewer.layers:
        meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        if meta.get("kind") == "melanin corrections":
            review = meta.get("melanin_review") or {}
            return (dict(review) if review.get("changed_blocks") else None), lay
    return None, None


def edited_since_open(layer: Any) -> bool:
    """Whether a tissue class layer read from a result folder was painted since it was opened (its data differs
    from ``labels_at_open``); False for a layer that does not record it."""
    meta = layer.metadata.get("mmnst_path", {}) if isinstance(getattr(layer, "metadata", None), dict) else {}
    if "labels_at_open" not in meta:
        return False
    return not np.array_equal(np.asarray(layer.data), np.asarray(meta["labels_at_open"]))


def unchanged_reviewed_nuclei(layer: Any) -> str | None:
    """"reviewed by Dr A, 2026-12-07" when ``layer`` is a reviewed result's nuclei layer (opened from its folder)
    with no nucleus added, deleted, moved or reclassified since it was opened; None otherwise (edited, not a
    reviewed layer, no layer)."""
    from .._result_folder import nuclei_fingerprint, review_words

    meta = layer.metadata.get("mmnst_path", {}) if isinstance(getattr(layer, "metadata", None), dict) else {}
    at_open = meta.get("nuclei_at_open")
    if not at_open or nuclei_fingerprint(layer.data, layer.features) != at_open:
        return None
    return review_words(meta.get("review")) or "reviewed"


def _same_folder(a: Any, b: str | Path) -> bool:
    return bool(a) and os.path.realpath(str(a)) == os.path.realpath(str(b))


def slide_of_folder(images: Sequence[Any], folder: str | Path) -> Any:
    """The image layer of the slide a result folder was measured on (result.json's ``source.path``); the only
    image layer when none is that file; None when several are open and none is (the review then reads
    result.json's file)."""
    try:
        doc = json.loads((Path(folder) / "result.json").read_text(encoding="utf-8"))
        path = str((doc.get("source") or {}).get("path") or "")
    except (OSError, ValueError, AttributeError):
        path = ""
    named = [lay for lay in images if path and _source(lay) and _same_folder(_source(lay), path)]
    if named:
        return named[0]
    return images[0] if len(images) == 1 else None


def folder_of_layers(*layers: Any) -> Path | None:
    """The result folder a layer was read from (:mod:`mmnst_path_napari._result_folder`), else None."""
    for lay in layers:
        meta = getattr(lay, "metadata", None)
        folder = meta.get("mmnst_path", {}).get("result_folder") if isinstance(meta, dict) else None
        if folder:
            return Path(folder)
    return None


class ExportWidget(FindsResults, Container):
    """Write the nuclei layer (and a Shapes layer of ROIs) as CSV, JSON or GeoJSON; import GeoJSON."""

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        # napari's plugin machinery passes the viewer to a parameter named ``napari_viewer``
        viewer = napari_viewer
        from napari.layers import Shapes

        self.viewer = viewer
        follow_image_units(viewer)  # a layer the user adds takes the image's µm scale and units
        self.points = layer_choice(viewer, "nuclei layer", nuclei_layers)
        self.rois = layer_choice(
            viewer, "ROI shapes", lambda v: [lay for lay in v.layers if isinstance(lay, Shapes)]
        )
        self.rois.nullable = True
        # napari Shapes hold no holes: a ROI's holes are the polygons of another Shapes layer (the one imported with
        # the ROIs by default; any Shapes layer drawn as holes), written as the interiors of the ROIs around them
        self.holes = layer_choice(
            viewer, "ROI holes", lambda v: [lay for lay in v.layers if isinstance(lay, Shapes)], nullable=True
        )
        self.holes.value = holes_layer_of(viewer, self.rois.value)
        self.holes.tooltip = ("polygons left out of the ROIs around them (a fold, a bleed): written as their holes; "
                              "draw one on this layer, or choose a Shapes layer you drew them on")
        self.kind = ComboBox(label="format", choices=["GeoJSON (QuPath)", "CSV (cells)", "JSON (result)"])
        self.out = FileEdit(label="save to", mode="w")
        self.save_button = PushButton(text="export")
        self.inp = FileEdit(label="QuPath GeoJSON", mode="r", filter="*.geojson *.json")
        self.import_button = PushButton(text="import")
        self.status = wrap_text(Label(value=""))  # a long line wraps, not widens the dock
        # the review of a quantify result: beside its result.json, read by `mmnst-path report`
        self.result_folder = FileEdit(label="result folder", mode="d")
        self.reviewer = LineEdit(label="reviewer", value="")
        self.review_button = PushButton(text="save review to result folder")
        # as `mmnst-path review --replace`: the new review replaces the earlier one whole (nothing of it kept)
        self.replace = CheckBox(text="replace the earlier review", value=False)
        # the results of an image opened alone (its folder's results*/, places used before): the newest opened
        reading = self._find_widgets()  # the image's read (SHA-256) in a worker: its progress and stop
        self.reviewer.native.setPlaceholderText("your name or initials")
        # the form scrolls and the status (the one sign a save or an import worked) stays in view below it:
        # docked under Review in a 1600 x 1000 window the status was cut by the window's bottom edge (session 42
        # H5); the form stays a child of this container (found by the widget tree), its Qt widget moves into the
        # scroll area
        self.form = Container(
            widgets=[self.points, self.rois, self.holes, self.kind, self.out, self.save_button, self.inp, self.import_button,
                     Container(widgets=[self.found, self.open_found], layout="horizontal", labels=True),
                     Container(widgets=reading, layout="horizontal", labels=False),
                     self.result_folder, self.reviewer, self.review_button, self.replace]
        )  # fmt: skip
        super().__init__(widgets=[self.form, self.status], labels=False)
        self._area = scroll_area(self.form.native)
        self.native.layout().insertWidget(0, self._area)
        hold_wrapped_lines(self.native)  # the status's wrapped lines whole (its first line was cut above the rest)
        from qtpy.QtCore import QEvent, QObject

        class Hold(QObject):  # a new status text asks the dock for a new layout: its height followed there
            def eventFilter(inner, obj: Any, event: Any) -> bool:
                if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
                    self._hold_status()
                return False

        self.native.installEventFilter(Hold(self.native))  # parented to the dock's widget: lives as long as it
        self.review_button.changed.connect(lambda *_: self.save_review())
        self.points.changed.connect(self._follow_folder)
        self.rois.changed.connect(lambda *_: setattr(self.holes, "value", holes_layer_of(viewer, self.rois.value)))
        self._follow_folder()
        self.save_button.changed.connect(lambda *_: self.export(self.out.value))
        self.import_button.changed.connect(lambda *_: self.import_(self.inp.value))
        self.result_folder.changed.connect(lambda *_: remember_place(str(self.result_folder.value)))
        self._follow_find()
        self.find_results()

    def _hold_status(self) -> None:
        """The dock's minimum height at the scrolled form's minimum plus the status's wrapped height at its width
        (the layout counted the status as one line and the scrolled form overlapped the first of four)."""
        label, layout = self.status.native, self.native.layout()
        text_h = label.heightForWidth(max(label.width(), 1))
        label.setMinimumHeight(max(text_h, 0))
        margins = layout.contentsMargins()
        need = self._area.minimumHeight() + max(text_h, 0) + layout.spacing() + margins.top() + margins.bottom()
        if need > self.native.minimumHeight():
            self.native.setMinimumHeight(need)

    def _follow_folder(self, *_: Any) -> None:
        """A result folder opened in napari: Export's *result folder* names it, the status says whose review the
        layers show (the nuclei's, else the class map's)."""
        from .._result_folder import review_words

        classes = self._class_layers()
        folders = {os.path.realpath(str(f)) for f in map(folder_of_layers, classes) if f}
        if len(folders) > 1:  # several result folders open: only the nuclei layer names the one being reviewed
            classes = []
            self.status.value = (f"{len(folders)} result folders open: the review is saved to the folder of the "
                                 "layers you changed (the nuclei layer's, the painted class map's)")
        for lay in (self.points.value, *classes[:1]):
            meta = lay.metadata.get("mmnst_path", {}) if lay is not None and isinstance(lay.metadata, dict) else {}
            if meta.get("result_folder"):
                self.result_folder.value = Path(meta["result_folder"])
                review = meta.get("review")
                self.status.value = (f"REVIEWED: {review_words(review).removeprefix('reviewed ')}" if review else
                                     f"measured result of {Path(meta['result_folder']).name}")
                tissue, measured = (review or {}).get("tissue_classes"), meta.get("measured") or {}
                if tissue and tissue.get("pct_of_tissue", {}).get("necrosis") is not None:
                    was = measured.get("necrosis_fraction_pct")
                    self.status.value += (f"; necrosis {tissue['pct_of_tissue']['necrosis']:.1f} %"
                                          + ("" if was is None else f" (measured {was:.1f} %)"))
                if tissue and tissue.get("annotations_clipped"):  # an outline ran off the image when it was made
                    self.status.value += f"; {clipped_words(tissue['annotations_clipped'])}"
                return

    def export(self, path: str | Path) -> Path:
        reference = self.points.value
        images = rgb_image_layers(self.viewer)
        if reference is None:
            reference = images[0] if images else None
        rois, outside = shapes_rois(self.rois.value, reference), 0
        if self.holes.value is not None and self.holes.value is not self.rois.value:
            rois, outside = with_holes(rois, shape_rings(self.holes.value, reference))
        kind = self.kind.value
        painted, run = painted_classes(self.viewer)
        melanin, mel_layer = painted_melanin(self.viewer)
        holder = self.points.value if self.points.value is not None else run
        of = (holder.metadata.get("mmnst_path", {}) if holder is not None else {}).get("result")
        if melanin is not None and of is not None and mel_layer.metadata["mmnst_path"].get("result") is not of:
            melanin = None  # corrections of another run's melanin map: never written beside this run's figures
        if kind.startswith("GeoJSON"):
            out = export_geojson(self.points.value, path, rois=rois)
        elif kind.startswith("JSON") and self.points.value is None and (painted or melanin) is not None:  # H&E run
            out = export_json(None, path, rois=rois, tissue_classes=painted, run=run or mel_layer, melanin=melanin)
        elif self.points.value is None:
            self.status.value = "no nuclei layer to export"
            return Path(path)
        elif kind.startswith("CSV"):
            out = export_csv(self.points.value, path)
        else:
            out = export_json(self.points.value, path, rois=rois, tissue_classes=painted,
                              image=images[0] if images else None, melanin=melanin)
        self.status.value = f"wrote {out}"
        n_holes = sum(len(r.holes) for r in rois)
        if n_holes and kind.startswith(("GeoJSON", "JSON")):
            self.status.value += f" with {n_holes} ROI hole(s)"
        if outside:
            self.status.value += f"; {outside} hole(s) of {self.holes.value.name!r} inside no ROI: left out"
        return out

    def import_(self, path: str | Path) -> list[Any]:
        images = rgb_image_layers(self.viewer)
        mpp = layer_mpp(images[0]) if images else None
        layers = [add_or_replace(self.viewer, d) for d in import_geojson_layers(path, mpp=mpp)]
        # the nuclei layer box moves to the imported detections (as Review's does), not the layer they may hide
        folder, reopened = result_folder_of(path), False
        if folder is not None:  # a quantify result: its review can be saved beside it
            self.result_folder.value = folder
            if Path(path).name == "cells.geojson" and (folder / REVIEW_NAME).is_file():
                layers, reopened = self._reopen_reviewed(folder, layers), True
        names = {lay.name for lay in layers}
        imported = [lay for lay in nuclei_layers(self.viewer) if lay.name in names]
        if imported:
            self.points.reset_choices()
            self.points.value = imported[0]
        if reopened:  # says whose review the layers show
            self._follow_folder()
            if getattr(self, "_closed", ""):
                self.status.value += f"; {self._closed}"
                self._closed = ""
        else:
            self.status.value = f"imported {len(layers)} layer(s) from {Path(path).name}"
        holes = [lay for lay in layers if isinstance(lay.metadata, dict)
                 and lay.metadata.get("mmnst_path", {}).get("kind") == HOLES_KIND]
        annotations = [lay for lay in layers if lay.name == f"{Path(path).stem} annotations"]
        if annotations:  # the imported ROIs (and their holes) are what an export writes
            self.rois.reset_choices()
            self.holes.reset_choices()
            self.rois.value = annotations[0]
            self.holes.value = holes[0] if holes else None
        if holes:  # napari Shapes have no holes: they are drawn on a layer of their own, written back as holes
            self.status.value += (f"; {len(holes[0].data)} ROI hole(s) on {holes[0].name!r} (orange): an export "
                                  "writes them back as holes of the ROIs around them")
        return layers

    def _reopen_reviewed(self, folder: Path, imported: list[Any]) -> list[Any]:
        """The import of a reviewed result's cells.geojson: the reviewed nuclei and class map take the
        measured ones' place (:func:`read_result_folder`, as opening the folder gives), status says whose."""
        from .._result_folder import read_result_folder

        data = read_result_folder(folder, image=False)
        meta = data[0][1]["metadata"]["mmnst_path"] if data else {}
        if not meta.get("review"):
            self.status.value = f"review not shown: {meta.get('review_refused') or 'no reviewed layer'}"
            return imported
        for lay in imported:
            if lay.name in self.viewer.layers and "detections" in lay.name:
                self.viewer.layers.remove(lay)
        from .._melanin_review import close_other_corrections

        self._closed = close_other_corrections(self.viewer, folder)  # its melanin map takes the other one's place
        layers = [add_or_replace(self.viewer, d) for d in data]
        return [lay for lay in imported if lay in self.viewer.layers] + layers

    def _class_layers(self) -> list[Any]:
        return [lay for lay in self.viewer.layers if isinstance(lay.metadata, dict)
                and lay.metadata.get("mmnst_path", {}).get("kind") == "tissue classes"]

    def _target_folder(self) -> Path:
        """The result folder the review goes to: the folder the layers being saved were read from (the nuclei
        layer's, a class layer's painted since it was opened); *result folder* when no layer names one. Raises
        ValueError when those layers come from two folders or *result folder* names another one."""
        chosen = self.result_folder.value
        chosen = Path(chosen) if str(chosen) and str(chosen) != "." else None
        own: dict[str, tuple[Path, str]] = {}
        nuclei = folder_of_layers(self.points.value)
        if nuclei is not None:
            own[os.path.realpath(nuclei)] = (nuclei, f"the nuclei layer {self.points.value.name!r}")
        for lay in self._class_layers():
            f = folder_of_layers(lay)
            if f is not None and edited_since_open(lay):
                own.setdefault(os.path.realpath(f), (f, f"the tissue class layer {lay.name!r} painted"))
        if len(own) > 1:
            said = "; ".join(f"{what} is {f.name}'s" for f, what in own.values())
            msg = (f"the layers being saved come from {len(own)} result folders ({said}): save one folder's review "
                   "at a time (choose that folder's nuclei layer)")
            raise ValueError(msg)
        if own:
            ((folder, what),) = own.values()
            if chosen is not None and os.path.realpath(chosen) != os.path.realpath(folder):
                msg = (f"result folder is {str(chosen)!r}, but {what} was read from {str(folder)!r}: choose "
                       f"{folder.name} (or that folder's layers)")
                raise ValueError(msg)
            return folder
        if chosen is not None:
            return chosen
        painted_melanin = [lay for lay in self.viewer.layers if lay.name == "melanin corrections"]  # an H&E folder
        folders = {str(folder_of_layers(lay)) for lay in [*self._class_layers(), *painted_melanin] if folder_of_layers(lay)}
        return Path(folders.pop()) if len(folders) == 1 else Path()  # two folders' maps: not guessed

    def save_review(self) -> dict[str, Any] | None:
        """Save the nuclei layer (and the class map painted since it was opened) as the review of the result folder
        they were read from (:func:`save_review`); the status line says the reviewed index, what of an earlier
        review was kept or replaced, or why the review was refused."""
        try:
            folder = self._target_folder()
        except ValueError as exc:
            self.status.value = f"review not saved: {exc}"
            return None
        known = bool(str(folder)) and str(folder) != "."
        try:
            painted, classes_layer = painted_classes(self.viewer, folder if known else None, since_open=True)
        except ValueError as exc:
            self.status.value = f"review not saved: {exc}"
            return None
        from .._melanin_review import folder_corrections

        melanin = folder_corrections(self.viewer, folder) if known else None  # painted since the folder was opened
        points, kept = self.points.value, unchanged_reviewed_nuclei(self.points.value)
        if kept is not None and not self.replace.value:  # a reopened review's nuclei, not edited: they stay
            # that reviewer's, not re-signed (replacing the earlier review whole, the saver takes them over)
            points = None
            if painted is None and melanin is None and known:
                self.status.value = (f"review not saved: nothing changed since {Path(folder).name} was opened: its "
                                     f"nuclei ({kept}) and class map stay as they are; edit a nucleus or paint the "
                                     "class map to save a new review")
                return None
        if points is None and painted is None and melanin is None and classes_layer is not None and known \
                and "labels_at_open" in classes_layer.metadata.get("mmnst_path", {}):
            self.status.value = (f"review not saved: the class map of {Path(folder).name} is unchanged since it was "
                                 "opened, and no melanin block was painted since (its review stays as it is): paint "
                                 "it, or choose a nuclei layer")
            return None
        if (points is None and painted is None and melanin is None) or not known:
            self.status.value = "review not saved: choose the nuclei layer and the result folder (OUT/<input>)"
            return None
        try:
            review = save_review(points, folder, reviewer=self.reviewer.value or None,
                                 image=slide_of_folder(rgb_image_layers(self.viewer), folder),
                                 tissue_classes=painted, classes_layer=classes_layer, replace=self.replace.value,
                                 melanin_map=melanin)
        except (MmnstPathError, ValueError, OSError) as exc:  # the one line: another slide, no result.json...
            self.status.value = f"review not saved: {exc}"
            return None
        m, tissue, parts = review["ki67_metrics"], review.get("tissue_classes"), []
        if m is not None:
            parts.append(f"Ki67 {m['index_pct']:.1f} % ({m['positive']} / {m['denominator']})")
        if tissue:
            pct = tissue["pct_of_tissue"]
            shown = (f"necrosis {pct['necrosis']:.1f} %" if pct.get("necrosis") is not None else
                     ", ".join(f"{c} {v:.1f} %" for c, v in pct.items() if v is not None and v == v and v > 0))
            cm = classes_layer.metadata.get("mmnst_path", {}) if classes_layer is not None else {}
            mpp = cm.get("mpp") or getattr(cm.get("result"), "mpp", None)
            size = f" whole {float(cm['downsample']) * float(mpp):g} µm" if cm.get("downsample") and mpp else ""
            parts.append(f"{shown} of tissue ({tissue['changed_blocks']}{size} blocks changed"
                         + ("; the run's class map: an earlier correction undone" if not tissue["changed_blocks"]
                            else "") + ")")
            if tissue.get("annotations_clipped"):  # kept from an earlier review made of annotations
                parts.append(clipped_words(tissue["annotations_clipped"]))
        if review.get("melanin"):
            mel = review["melanin"]
            parts.append(f"melanin {mel['melanin_fraction_pct']:.2f} % of tissue (measured {mel['measured_fraction_pct']:.2f} "
                         f"%; {mel['changed_blocks']} whole {mel['block_um']:g} µm blocks changed)")
        if review.get("melanin_tumour"):  # melanin or tumour corrected: the melanin of tumour, reviewed
            from .._melanin_review import tumour_review_words

            parts.append(tumour_review_words(review["melanin_tumour"]).removeprefix("; "))
        merged = review.get("merged")
        if merged:
            parts.append(f"kept the earlier review's {merged['kept']} ({merged.get('reviewer') or 'reviewer not named'})")
        if review.get("dropped"):
            parts.append(str(review["dropped"]))
        self.status.value = (f"review saved in {Path(folder).name}: {'; '.join(parts)}; mmnst-path report "
                             f"{Path(folder).parent} rebuilds the report")
        return review
