"""A ``mmnst-path quantify`` result folder (``OUT/<input>``) as napari layers, reviewed when it holds a review.

Opening its ``result.json`` (File > Open, drag and drop, or ``viewer.open("OUT/<input>/result.json")``; the reader is
registered for that file name, not for every folder, so napari asks no reader question for other folders) gives the
measured slide (the file result.json names, when it is still there), the nuclei, the melanin fraction map (when
the folder keeps ``melanin_map.npz``: Review's *paint melanin corrections* paints over it) and the tissue class map. When the
folder holds a review that :func:`mmnst_path.review.read_review` accepts (``mmnst-path review`` or napari Export's
*save review to result folder*), the nuclei are the reviewed ones (``review_edits.geojson``) and the class map the
corrected one (``review_tissue_classes.png``); the layers are named "... reviewed by NAME, DATE" and carry the
review in their metadata (the Review panel says it above the figures). A refused review (another image, edits
changed since) leaves the measured layers, and the refusal is in their metadata and the panel. The tissue class
layer keeps the run's map and areas (``labels_at_run`` / ``areas_at_run``), so painting on it again gives the
areas :func:`mmnst_path._review_tissue.reviewed_class_areas` gives from the run, as after an Analyze run.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._layers import LayerData

__all__ = ["is_result_folder", "nuclei_fingerprint", "read_result_folder", "result_folder_problem", "review_words"]


def is_result_folder(path: str | Path) -> bool:
    """True for a folder holding a quantify ``result.json`` (a JSON object with ``schema_version`` and the
    measured image's ``source.sha256``)."""
    return result_folder_problem(path) is None


def result_folder_problem(path: str | Path) -> str | None:
    """Why ``path`` (a folder) is not a quantify result folder, in a few words naming its result.json (no such
    file, not JSON, not an object, no ``schema_version``, no measured image ``source.sha256``); None when it is."""
    file = Path(path) / "result.json"
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{str(Path(path))!r} holds no result.json"
    except OSError as exc:
        return f"{str(file)!r} cannot be read ({exc.strerror or exc})"
    except ValueError as exc:
        return f"{str(file)!r} is not JSON ({exc})"
    if not isinstance(doc, dict):
        return f"{str(file)!r} is not a JSON object"
    if "schema_version" not in doc:
        return (f"{str(file)!r} has no 'schema_version': it was not written by mmnst-path quantify (a quantify "
                "result folder is OUT/<input> of mmnst-path quantify)")
    if not (isinstance(doc.get("source"), dict) and doc["source"].get("sha256")):
        return f"{str(file)!r} names no measured image (source.sha256): it is not a quantify result"
    return None


def nuclei_fingerprint(data: Any, features: Any) -> str:
    """A digest of a nuclei layer's points and per-point features (every column, compared as text, so napari's
    categorical columns equal the strings they were read as): equal digests mean no nucleus was added, deleted,
    moved or reclassified."""
    import hashlib

    import pandas as pd

    digest = hashlib.sha256(np.ascontiguousarray(np.asarray(data, np.float64)).tobytes())
    table = pd.DataFrame(features)
    for name in sorted(map(str, table.columns)):
        digest.update(name.encode())
        digest.update("\x1f".join(str(v) for v in table[name].tolist()).encode())
    return digest.hexdigest()


def review_words(review: dict[str, Any] | None) -> str:
    """"reviewed by Dr A, 2026-12-07" of a review document ("reviewer not named" without a name)."""
    if not review:
        return ""
    when = str(review.get("reviewed_at") or "")[:10]
    return f"reviewed by {review.get('reviewer') or 'reviewer not named'}" + (f", {when}" if when else "")


def read_result_folder(folder: str | Path, *, image: bool = True) -> list[LayerData]:
    """Layer data of a quantify result folder: the slide (``image``, when its file is found), the nuclei
    (reviewed when a review is accepted) and the tissue class map (corrected when the review corrected it).

    Raises
    ------
    ConfigError
        The folder holds no readable result.json.
    """
    from mmnst_path._review_tissue import read_class_map
    from mmnst_path.errors import ConfigError
    from mmnst_path.review import REVIEW_EDITS, bin_thresholds, read_review

    from ._geojson import read_detections_stains
    from ._layers import points_layer
    from ._melanin_review import folder_map_layer
    from ._reader import read_slide

    folder = Path(folder)
    try:
        doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"folder={str(folder)!r}: its result.json cannot be read ({exc})"
        raise ConfigError(msg) from exc
    review, refused = read_review(folder)
    words = review_words(review)
    mpp = float(doc["mpp"]) if doc.get("mpp") else None
    shared = {"result_folder": str(folder), "review": review, "review_refused": refused,
              "measured": {k: (doc.get("metrics") or {}).get(k) for k in
                           ("ki67_index_pct", "ki67_positive", "ki67_denominator", "necrosis_fraction_pct")},
              # a double stain's marker and the preset the run read (the Review panel names them)
              "melanocyte_marker": (doc.get("metrics") or {}).get("ki67_melanocyte_marker"),
              # how the run set it ("assumed": named double stains left at auto, the marker never checked)
              "melanocyte_marker_source": (doc.get("metrics") or {}).get("ki67_melanocyte_marker_source"),
              "stains_preset": (doc.get("stains") or {}).get("name"),
              "stains_names": list((doc.get("stains") or {}).get("names") or ())}
    layers: list[LayerData] = []
    source = Path(str((doc.get("source") or {}).get("path") or ""))
    if image and source.is_file():
        with warnings.catch_warnings():
            if mpp:  # the file's unknown pixel size is the result's (the --mpp it was measured at): not a warning
                warnings.filterwarnings("ignore", message=".*microns per pixel unknown")
            slide_layers = read_slide(source)
        for data in slide_layers:  # its metadata names its file (napari's layer source: the folder)
            meta = data[1]["metadata"]["mmnst_path"]
            if meta.get("mpp") is None and mpp:  # a tile without pixel size in its file: the --mpp it was measured at
                meta.update(mpp=mpp, mpp_source="result.json")
                data[1].update(scale=(mpp, mpp), units=("µm", "µm"))
            layers.append(data)
    nuclei_file = folder / "cells.geojson"
    reviewed_nuclei = review is not None and review.get("ki67_metrics") is not None
    if reviewed_nuclei:
        nuclei_file = folder / REVIEW_EDITS
    if nuclei_file.is_file():
        cells, stains = read_detections_stains(nuclei_file)
        if len(cells):
            data = points_layer(cells, mpp=mpp, name=f"nuclei {words}" if reviewed_nuclei else "nuclei")
            data[1]["metadata"]["mmnst_path"].update(ki67_stains=stains, file=str(nuclei_file),
                                                     bin_thresholds_od=bin_thresholds(doc.get("config")), **shared)
            if reviewed_nuclei:  # saved unchanged, these stay the earlier reviewer's (Export keeps them)
                data[1]["metadata"]["mmnst_path"]["nuclei_at_open"] = nuclei_fingerprint(data[0], data[1]["features"])
            layers.append(data)
    cmap = read_class_map(folder, doc)
    if cmap is not None:
        layers.append(_class_layer(folder, doc, cmap, review, words, mpp, shared))
    melanin = folder_map_layer(folder, doc, review, mpp=mpp, shared=shared)  # Review corrects it (melanin_map.npz)
    if melanin is not None:
        layers.append(melanin)  # over the class map (transparent without melanin), as an Analyze run shows it
    return layers


def _class_layer(folder: Path, doc: dict[str, Any], cmap: dict[str, Any], review: dict[str, Any] | None,
                 words: str, mpp: float | None, shared: dict[str, Any]) -> LayerData:
    """The tissue class layer: the corrected map of a review, else the run's; the run's kept for painting."""
    from mmnst_path._review_tissue import NOT_TISSUE, REVIEW_TISSUE_MAP, read_class_map
    from mmnst_path.errors import ConfigError

    from ._classmap import class_map_layer

    labels, areas, name = cmap["labels"], None, "tissue classes"
    tissue = (review or {}).get("tissue_classes")
    if tissue and (folder / REVIEW_TISSUE_MAP).is_file():
        try:
            labels = read_class_map(folder, doc, name=REVIEW_TISSUE_MAP)["labels"]  # type: ignore[index]
            areas, name = dict(tissue), f"tissue classes {words}"
        except ConfigError as exc:  # made on an earlier result of another grid: the measured map, and why
            shared = {**shared, "review_refused": f"the reviewed class map is not shown: {exc}"}
    tissue_mm2 = sum(a for c, a in cmap["areas"].items() if c not in NOT_TISSUE)
    at_run = {"area_mm2": dict(cmap["areas"]), "tissue_mm2": tissue_mm2,
              "pct_of_tissue": {c: (100.0 * a / tissue_mm2 if tissue_mm2 > 0 and c not in NOT_TISSUE else float("nan"))
                                for c, a in cmap["areas"].items()}}
    kwargs = {"classes": cmap["classes"], "colours": cmap["colours"], "downsample": cmap["downsample"], "mpp": mpp,
              "name": name}
    data = class_map_layer(labels, **kwargs)
    run = np.asarray(class_map_layer(cmap["labels"], **kwargs)[0])
    # labels_at_open: what Export compares with to know whether the reviewer changed the map since opening it
    data[1]["metadata"]["mmnst_path"].update(areas=areas or at_run, areas_at_run=at_run, labels_at_run=run,
                                             labels_at_open=np.array(data[0], copy=True),
                                             shape=tuple(cmap["shape"]), mpp=cmap["mpp"], **shared)
    return data
