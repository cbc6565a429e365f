"""ROIs as napari Shapes, with their holes: a QuPath annotation's polygon interiors survive the round trip.

napari Shapes hold no holes (a polygon is one ring). A ROI with holes (a fold or a bleed a pathologist left out in
QuPath; ``mmnst-path quantify --roi`` leaves them out of every measure) is shown as two Shapes layers: the outer
rings (``<file> annotations``) and the holes (``<file> ROI holes``, orange, a ``hole`` layer in its metadata). An
export gives each hole to the ROI whose outer ring holds it whole (the smallest when ROIs nest) and writes it as that
polygon's interior. A hole drawn in napari is a polygon drawn on a holes layer: the imported one, or any Shapes layer
chosen as Export's *ROI holes*.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmnst_path.geojson import Roi

from .._geojson import read_geojson_stains
from .._layers import points_layer

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "HOLES_KIND",
    "holes_layer_of",
    "import_geojson_layers",
    "selected_regions",
    "shape_rings",
    "shapes_rois",
    "with_holes",
]

#: ``metadata["mmnst_path"]["kind"]`` of a Shapes layer of ROI holes.
HOLES_KIND = "roi_holes"


def shape_rings(layer: Any, reference: Any = None) -> list[np.ndarray]:
    """The (K, 2) level-0 (row, col) rings of a Shapes layer's shapes, mapped through world coordinates into the
    data frame of ``reference`` (the nuclei Points or the slide image) when given, else in the layer's own frame."""
    if layer is None:
        return []
    out = []
    for verts in layer.data:
        v = np.asarray(verts, dtype=np.float64)
        if reference is not None:
            v = np.asarray([reference.world_to_data(layer.data_to_world(p)) for p in v], dtype=np.float64)
        out.append(v[:, -2:])
    return out


def shapes_rois(layer: Any, reference: Any = None, holes: Any = None) -> list[Roi]:
    """Library ROIs of a Shapes layer: (K, 2) level-0 (row, col) polygons, named from its features.

    Parameters
    ----------
    layer : napari.layers.Shapes or None
        The regions (a ``name`` feature, when present, names each one).
    reference : napari layer, optional
        Layer whose data frame is level-0 pixels (the nuclei Points or the slide image); the
        vertices are mapped through world coordinates into it. Without it the Shapes layer's
        own data frame is taken as level-0.
    holes : napari.layers.Shapes, optional
        ROI holes (:func:`with_holes`); a hole inside no ROI is left out (:func:`with_holes` counts them).
    """
    if layer is None:
        return []
    names = [""] * len(layer.data)
    if "name" in getattr(layer.features, "columns", ()):
        names = [
            "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in layer.features["name"]
        ]
    rois = [Roi(v, name) for v, name in zip(shape_rings(layer, reference), names, strict=True)]
    return with_holes(rois, shape_rings(holes, reference))[0] if holes is not None and holes is not layer else rois


def selected_regions(viewer: Any, reference: Any, regions: Callable[[Any], bool]) -> list[np.ndarray]:
    """The selected shapes of the layers ``regions`` accepts (ROI holes layers never: a hole is no region), as level-0
    (row, col) rings in the data frame of ``reference``; a ROI whose holes layer (:func:`holes_layer_of`) has holes
    inside it is the one even-odd ring of :attr:`Roi.region`, so its holes are left out of every measure exactly as
    ``mmnst-path quantify --roi`` leaves a QuPath ROI's holes out (Analyze's "selected shapes" measured them)."""
    polys: list[np.ndarray] = []
    for lay in viewer.layers:
        if not regions(lay) or not lay.selected_data or _kind(lay) == HOLES_KIND:
            continue
        rings = shape_rings(lay, reference)
        rois = [Roi(rings[i]) for i in sorted(lay.selected_data)]
        holes = holes_layer_of(viewer, lay)
        if holes is not None:
            rois = with_holes(rois, shape_rings(holes, reference))[0]
        polys += [r.region if r.holes else r.polygon for r in rois]
    return polys


def _kind(layer: Any) -> Any:
    meta = layer.metadata.get("mmnst_path", {}) if isinstance(layer.metadata, dict) else {}
    return meta.get("kind") if isinstance(meta, dict) else None


def with_holes(rois: list[Roi], holes: list[np.ndarray]) -> tuple[list[Roi], int]:
    """``rois`` with each ring of ``holes`` added to the holes of the ROI whose outer ring holds all its vertices
    (the smallest such ROI when ROIs nest), and the number of holes inside no ROI (left out)."""
    from skimage.measure import points_in_poly

    if not holes:
        return rois, 0
    areas = [abs(_area(r.polygon)) for r in rois]
    added: list[list[np.ndarray]] = [[] for _ in rois]
    outside = 0
    for hole in holes:
        around = [i for i, r in enumerate(rois) if len(r.polygon) >= 3 and points_in_poly(hole, r.polygon).all()]
        if not around or len(hole) < 3:
            outside += 1
            continue
        added[min(around, key=lambda i: areas[i])].append(np.asarray(hole, np.float64))
    out = [Roi(r.polygon, r.name, (*r.holes, *more), r.classification) if more else r
           for r, more in zip(rois, added, strict=True)]
    return out, outside


def _area(ring: np.ndarray) -> float:
    """Signed area of a (K, 2) ring (shoelace)."""
    r = np.asarray(ring, np.float64)
    return 0.5 * float(np.dot(r[:, 0], np.roll(r[:, 1], -1)) - np.dot(np.roll(r[:, 0], -1), r[:, 1]))


def holes_layer_of(viewer: Any, rois: Any) -> Any:
    """The Shapes layer of ROI holes imported with the ROI layer ``rois`` (named in its metadata), else None."""
    if rois is None:
        return None
    meta = rois.metadata.get("mmnst_path", {}) if isinstance(rois.metadata, dict) else {}
    name = meta.get("holes_layer")
    for lay in viewer.layers:
        lay_meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        if lay.name == name and lay_meta.get("kind") == HOLES_KIND:
            return lay
    return None


def import_geojson_layers(path: str | Path, *, mpp: float | None) -> list[tuple[Any, dict[str, Any], str]]:
    """Layer data of a QuPath GeoJSON file: annotations -> Shapes (their holes -> a second Shapes layer, ``<file>
    ROI holes``), detections -> Points (which keep the stains their measurement names say,
    ``metadata["mmnst_path"]["ki67_stains"]``, for export)."""
    cells, rois, stains = read_geojson_stains(path)
    stem = Path(path).stem
    out = []
    if rois:
        s = (float(mpp), float(mpp)) if mpp else (1.0, 1.0)
        holes = [(h, r.name) for r in rois for h in r.holes]
        holes_name = f"{stem} ROI holes"
        kw: dict[str, Any] = {
            "name": f"{stem} annotations",
            "shape_type": "polygon",
            "edge_color": "cyan",
            "face_color": "transparent",
            "scale": s,
            "features": {"name": [r.name for r in rois]},
            "metadata": {"mmnst_path": {"roi_holes": len(holes), "holes_layer": holes_name if holes else None}},
        }
        if mpp:  # in µm as the slide and the nuclei (without, napari warned "Inconsistent units across layers")
            kw["units"] = ("µm", "µm")
        out.append(([r.polygon for r in rois], kw, "shapes"))
        if holes:  # the polygons' interiors, drawn on a layer of their own (an export writes them back as holes)
            hole_kw = {**kw, "name": holes_name, "edge_color": "orange", "edge_width": 2,
                       "features": {"hole_of": [name for _, name in holes]},
                       "metadata": {"mmnst_path": {"kind": HOLES_KIND, "holes_of": kw["name"]}}}
            out.append(([h for h, _ in holes], hole_kw, "shapes"))
    if len(cells):
        data = points_layer(cells, mpp=mpp, name=f"{stem} detections")
        data[1]["metadata"]["mmnst_path"].update(ki67_stains=stains, file=str(path))
        out.append(data)
    return out
