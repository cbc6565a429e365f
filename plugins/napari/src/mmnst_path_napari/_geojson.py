"""Adapter between napari layer data and the library's QuPath GeoJSON (:mod:`mmnst_path.geojson`).

Writing is entirely the library's: regions become :class:`mmnst_path.geojson.Roi` annotations
(with the Ki67 counts of the nuclei inside each one) and nuclei detections
(:func:`mmnst_path.geojson.feature_collection_chunks`), streamed to disk atomically. Regions are
read back with the library's tolerant reader (QuPath 0.2-0.6 forms): nuclei with
:func:`mmnst_path.geojson.read_cells` (points, or polygon outlines such as ``mmnst-path
quantify``'s octagons and QuPath's cells, at their area centroid) and regions with
:func:`mmnst_path.geojson.rois_from_features`. Nothing is parsed here.

Stains: the nuclei's OD measurements are named by the stain read ("AEC OD mean", "Azure B OD mean":
:func:`mmnst_path._geojson_names.measurement_names`). A nuclei layer knows its stain from its
analysis result (``ki67_chromogen`` / ``ki67_counterstain``), else from the file it was read from
(``metadata["mmnst_path"]["ki67_stains"]``, :func:`read_geojson_stains`), else from its stain preset
(``metadata["mmnst_path"]["stains"]``); :func:`layer_stains` gives them to :func:`write_geojson`.

Coordinates: QuPath's pixel ``i`` spans ``[i, i + 1)``, napari and mmnst_path put pixel centres
at integers, so ``x = col + 0.5``, ``y = row + 0.5``. The library writes positions rounded to
0.001 px.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mmnst_path.aggregate import CellTable
from mmnst_path.errors import ConfigError
from mmnst_path.geojson import Roi, read_cells

__all__ = ["layer_stains", "read_detections", "read_detections_stains", "read_geojson", "read_geojson_stains",
           "write_geojson"]

#: Nuclei of a GeoJSON file as a CellTable: the library's reader (kept under the plugin's name).
read_detections = read_cells


def write_geojson(
    path: str | Path,
    *,
    cells: CellTable | None = None,
    rois: Sequence[Roi] = (),
    mpp: float | None = None,
    shape: str = "point",
    chromogen: str = "dab",
    counterstain: str = "hematoxylin",
) -> Path:
    """Write ``rois`` (annotations) and ``cells`` (detections) as a QuPath FeatureCollection.

    Parameters
    ----------
    path : str or Path
        Output file (written atomically).
    cells : CellTable, optional
        Nuclei, level-0 (row, col). Each ROI then carries the counts of the nuclei inside it.
    rois : sequence of Roi
        Regions, level-0 (row, col) outer rings.
    mpp : float, optional
        Level-0 µm per pixel; needed only for ``shape="polygon"``.
    shape : {"point", "polygon"}
        Nuclei as points (exact round trip to a Points layer) or as octagons of their area.
    chromogen, counterstain : str
        The Ki67 stains read (``"aec"``, ``"azure_b"``...: :func:`layer_stains`); they name the
        nuclei's OD measurements ("AEC OD mean").

    Returns
    -------
    Path
        ``path``.
    """
    from mmnst_path.geojson import feature_collection_chunks, roi_features
    from mmnst_path.report import atomic_open_text, atomic_write_text

    path = Path(path)
    seed = path.stem
    if cells is None:  # regions only: no counts (nothing was measured)
        doc = {"type": "FeatureCollection", "features": roi_features(list(rois), None, seed=seed)}
        return atomic_write_text(path, json.dumps(doc, ensure_ascii=False))
    with atomic_open_text(path) as fh:
        for part in feature_collection_chunks(cells, list(rois), mpp=mpp, shape=shape, seed=seed, chromogen=chromogen,
                                              counterstain=counterstain):
            fh.write(part)
    return path


# ------------------------------------------------------------------------------------------------
# reading
def read_geojson(path: str | Path) -> tuple[CellTable, list[Roi]]:
    """Nuclei and regions of a QuPath / mmnst_path GeoJSON file, parsed once by the library.

    Returns
    -------
    cells : CellTable
        Detections as points, level-0 (row, col) (:func:`mmnst_path.geojson.cells_from_features`);
        empty when there are none.
    rois : list of Roi
        Annotation polygons, or every non-detection polygon when no annotation is marked
        (:func:`mmnst_path.geojson.rois_from_features`); empty when there are none.

    Raises
    ------
    ConfigError
        The file cannot be opened, is not GeoJSON, or holds neither nuclei nor regions.
    CorruptFileError
        The file is not valid JSON, or a feature's coordinates are malformed.
    """
    cells, rois, _ = read_geojson_stains(path)
    return cells, rois


def read_geojson_stains(path: str | Path) -> tuple[CellTable, list[Roi], dict[str, str]]:
    """:func:`read_geojson` plus the stains the nuclei's measurement names say were read
    (:func:`mmnst_path.geojson.stains_of_features`: ``{"chromogen": "aec"}``...; empty when none)."""
    from mmnst_path.geojson import cells_from_features, read_features, rois_from_features, stains_of_features

    path = Path(path)
    source = f"GeoJSON file {str(path)!r}"
    feats = read_features(path)
    cells = cells_from_features(feats, source=source)
    rois = rois_from_features(feats, source=source)
    if not len(cells) and not rois:
        msg = f"{source} holds neither detections nor polygon annotations (found {len(feats)} feature(s))"
        raise ConfigError(msg)
    return cells, rois, stains_of_features(feats)


def read_detections_stains(path: str | Path) -> tuple[CellTable, dict[str, str]]:
    """:data:`read_detections` (the nuclei; empty when the file holds none) plus the stains their
    measurement names say were read (:func:`mmnst_path.geojson.stains_of_features`)."""
    from mmnst_path.geojson import cells_from_features, read_features, stains_of_features

    path = Path(path)
    feats = read_features(path)
    return cells_from_features(feats, source=f"GeoJSON file {str(path)!r}"), stains_of_features(feats)


def layer_stains(layer: Any) -> dict[str, str]:
    """``chromogen`` and ``counterstain`` of a nuclei layer, for :func:`write_geojson`: its analysis
    result's (``ki67_chromogen`` / ``ki67_counterstain``), else the file's it was read from
    (``ki67_stains``), else its stain preset's (``stains``, e.g. ``"H-AEC"``), else DAB / hematoxylin."""
    meta = getattr(layer, "metadata", None)
    meta = meta.get("mmnst_path", {}) if isinstance(meta, Mapping) else {}
    metrics = getattr(meta.get("result"), "metrics", None) or {}
    sources: list[Mapping[str, Any]] = [
        {"chromogen": metrics.get("ki67_chromogen"), "counterstain": metrics.get("ki67_counterstain")},
        meta.get("ki67_stains") or {},
        _preset_stains(meta.get("stains")),
    ]
    out = {"chromogen": "dab", "counterstain": "hematoxylin"}
    for key in out:
        out[key] = next((str(s[key]) for s in sources if s.get(key)), out[key])
    return out


def _preset_stains(name: Any) -> dict[str, str]:
    """Chromogen and counterstain of a stain preset name (``"H-AEC"``); empty when it names none."""
    if not isinstance(name, str) or not name or name == "auto":
        return {}
    from mmnst_path.errors import MmnstPathError
    from mmnst_path.quantify.ki67 import chromogen_of, counterstain_of
    from mmnst_path.stain import get_preset

    try:
        matrix = get_preset(name)
        return {"chromogen": chromogen_of(matrix), "counterstain": counterstain_of(matrix)}
    except MmnstPathError:  # H&E, an unknown name: no Ki67 pair
        return {}
