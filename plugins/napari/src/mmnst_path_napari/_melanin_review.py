"""Melanin corrections in napari: a Labels layer over the run's melanin fraction map, one label per map block.

Review's *paint melanin corrections* adds :data:`LAYER` over an Analyze run that measured melanin, or over the
melanin map of a quantify result folder opened in napari (``melanin_map.npz``, :mod:`mmnst_path._melanin_map`;
the folder's accepted review's corrections, ``review_melanin.png``, are where it starts): value 1 (dark
brown) marks a block "melanin" (all its tissue), 2 (white) "no melanin" (a pigment-like artefact, a dark nucleus cluster), 0 (erase)
gives the block back to the run. Each stroke recomputes the melanin area and fraction of tissue with
:func:`mmnst_path._review_melanin.reviewed_melanin` (the library's arithmetic) into the layer's metadata
(``melanin_review``), which the Review panel shows and Export's result.json records (``review.melanin``). The
corrections act on the map's blocks (``downsample`` level-0 pixels: 16 µm at 0.5 µm/px), not on pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._layers import LayerData

__all__ = ["LAYER", "close_other_corrections", "corrections_layer", "folder_corrections", "folder_map_layer",
           "melanin_review", "melanin_review_line", "melanin_run", "melanin_source", "tumour_class_layer",
           "tumour_review", "tumour_review_words"]

LAYER = "melanin corrections"


def melanin_run(viewer: Any) -> Any:
    """The Analyze result (a SlideResult with a melanin map) shown in the viewer, else None."""
    for lay in viewer.layers:
        meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        result = meta.get("result")
        if result is not None and "melanin" in getattr(result, "maps", {}) and "tissue" in result.maps:
            return result
    return None


def run_source(result: Any) -> dict[str, Any]:
    """The melanin map of an Analyze run in the form :func:`mmnst_path._melanin_map.read_melanin_map` reads a
    result folder's (``source`` "analyze", ``result`` the run)."""
    from mmnst_path._melanin_map import result_block_tissue

    m = result.maps["melanin"]
    return {"melanin": np.asarray(m.image), "block_tissue_mm2": result_block_tissue(result),
            "downsample": float(m.downsample), "mpp": float(result.mpp),
            "block_um": float(m.downsample) * float(result.mpp), "area_mm2": result.metrics["melanin_area_mm2"],
            "tissue_mm2": result.metrics["melanin_tissue_mm2"], "source": "analyze", "result": result}


def melanin_source(viewer: Any) -> dict[str, Any] | None:
    """The melanin map the corrections go on: the Analyze run's shown in the viewer (:func:`run_source`), else the
    one of a result folder opened in it (its *melanin fraction* layer, :func:`folder_map_layer`); None without."""
    result = melanin_run(viewer)
    if result is not None:
        return run_source(result)
    for lay in viewer.layers:
        meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        if meta.get("melanin_map") is not None and meta.get("result_folder"):
            return dict(meta["melanin_map"])
    return None


def folder_map_layer(folder: Any, doc: dict[str, Any], review: dict[str, Any] | None, *, mpp: float | None,
                     shared: dict[str, Any]) -> LayerData | None:
    """The *melanin fraction* layer of a result folder that keeps a melanin map (None otherwise), carrying the map
    (``melanin_map``, with the accepted ``review``'s corrections when it corrected melanin) for
    :func:`melanin_source`."""
    from mmnst_path._melanin_map import read_corrections, read_melanin_map

    from ._layers import MAP_COLORS, fraction_colormap, heatmap_layer

    mmap = read_melanin_map(folder, doc)
    if mmap is None:
        return None
    mmap.update(source="result folder", result_folder=str(folder),
                measured_tumour_pct=(doc.get("metrics") or {}).get("melanin_tumour_fraction_pct"))
    if review and review.get("melanin"):
        mmap["corrections"] = read_corrections(folder)
    data = heatmap_layer(np.asarray(mmap["melanin"], np.float32), downsample=mmap["downsample"], mpp=mpp,
                         name="melanin fraction", contrast_limits=(0.0, 1.0), shape=tuple(doc["shape"])[:2],
                         colormap=fraction_colormap("melanin fraction", MAP_COLORS["melanin"]), opacity=0.6)
    data[1]["metadata"]["mmnst_path"].update(shared, melanin_map=mmap)
    return data


def folder_corrections(viewer: Any, folder: Any) -> Any:
    """The corrections painted on the melanin map of result ``folder`` since it was opened (the layer's data), None
    when there is no such layer or it is as it was opened."""
    import os

    for lay in viewer.layers:
        meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        if meta.get("kind") == "melanin corrections" and meta.get("result_folder") \
                and os.path.realpath(str(meta["result_folder"])) == os.path.realpath(str(folder)):
            data = np.asarray(lay.data)
            return None if np.array_equal(data, meta.get("corrections_at_open")) else data.astype(np.uint8)
    return None


def close_other_corrections(viewer: Any, folder: Any) -> str:
    """Remove every melanin corrections layer that is not of result ``folder`` (another folder's, an Analyze run's),
    as Export opens ``folder``'s layers over the image: their melanin map gives way to ``folder``'s, so they would
    sit over another map and never be saved with this folder's review. Returns the words for the status ("" when
    none was removed): which folder's corrections were closed, and whether blocks painted in them were not saved
    (they differ from that folder's ``review_melanin.png``, or from none for an Analyze run)."""
    import os
    from pathlib import Path

    from mmnst_path._melanin_map import read_corrections

    said = []
    for lay in [lay for lay in viewer.layers if isinstance(lay.metadata, dict)
                and lay.metadata.get("mmnst_path", {}).get("kind") == "melanin corrections"]:
        own = lay.metadata["mmnst_path"].get("result_folder")
        if own and os.path.realpath(str(own)) == os.path.realpath(str(folder)):
            continue
        data = np.asarray(lay.data)
        saved = read_corrections(own) if own and Path(own, "result.json").is_file() else None
        unsaved = int(np.count_nonzero(data != (saved if saved is not None and saved.shape == data.shape else 0)))
        viewer.layers.remove(lay)
        whose = f"{Path(own).parent.name}/{Path(own).name}'s" if own else "the Analyze run's"
        said.append(f"{whose} melanin corrections closed" + (f" ({unsaved} painted block(s) not saved)" if unsaved
                                                            else ""))
    return "; ".join(said)


def corrections_layer(result: Any, *, mpp: float | None) -> LayerData:
    """A corrections Labels layer on the melanin map grid of ``result`` (an Analyze run, or a
    :func:`melanin_source` map; empty, or a result folder review's corrections) (``mpp``: the image layer's display
    scale, None for pixels), block ``[i, j]`` over level-0 ``[i d, (i+1) d)``."""
    from napari.utils.colormaps import DirectLabelColormap

    from ._layers import raster_transform

    src = result if isinstance(result, dict) else run_source(result)
    kwargs: dict[str, Any] = {
        # placed as every map layer (the melanin fraction map it corrects, the class map): block [i, j] where it is
        "name": LAYER, **raster_transform(downsample=float(src["downsample"]), mpp=mpp), "opacity": 0.55,
        # melanin dark brown (the fraction map's hue), no melanin white (a block washed out): neither is a class
        # colour of the tissue class map below (blue is inflammatory, light blue mucin)
        "colormap": DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 0: (0, 0, 0, 0), 1: (0.35, 0.16, 0.02, 1.0),
                                                    2: (1.0, 1.0, 1.0, 1.0)}),
        # "analyze": a later Analyze run removes it with the run's other layers (its map is of this run only)
        "metadata": {"mmnst_path": {"kind": "melanin corrections", "block_um": src["block_um"],
                                    "source": src.get("source", "analyze")}},
    }
    data = np.zeros(np.asarray(src["melanin"]).shape, np.uint8)
    if src.get("result_folder"):  # a result folder's map: its layers go with the folder, not with an Analyze run
        if src.get("corrections") is not None:
            data = np.asarray(src["corrections"], np.uint8).copy()
        kwargs["metadata"]["mmnst_path"].update(result_folder=src["result_folder"], corrections_at_open=data.copy())
    if mpp:
        kwargs["units"] = ("µm", "µm")
    return (data, kwargs, "labels")


def melanin_review(result: Any, corrections: Any) -> dict[str, Any]:
    """The reviewed melanin figures of ``result`` (an Analyze run or a :func:`melanin_source` map) with the block
    ``corrections`` (the layer's data)."""
    from mmnst_path._review_melanin import reviewed_melanin

    src = result if isinstance(result, dict) else run_source(result)
    out = reviewed_melanin(src["melanin"], np.asarray(corrections), src["block_tissue_mm2"],
                           area_mm2=src["area_mm2"], tissue_mm2=src["tissue_mm2"])
    out["block_um"] = src["block_um"]
    return out


def tumour_class_layer(viewer: Any, src: dict[str, Any]) -> Any:
    """The tissue class layer of the result whose melanin map ``src`` is (:func:`melanin_source`: the same result
    folder, or the same Analyze run), None without one."""
    import os

    for lay in viewer.layers:
        meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        if meta.get("kind") != "tissue classes" or "labels_at_run" not in meta:
            continue
        if src.get("result_folder") and meta.get("result_folder") \
                and os.path.realpath(str(meta["result_folder"])) == os.path.realpath(str(src["result_folder"])):
            return lay
        if src.get("result") is not None and meta.get("result") is src["result"]:
            return lay
    return None


def tumour_review(viewer: Any, src: dict[str, Any], corrections: Any) -> dict[str, Any] | None:
    """The reviewed melanin of tumour of the map ``src`` with the melanin ``corrections`` and the tissue class layer
    of the same result as it is painted now (:func:`mmnst_path._review_tumour_melanin.tumour_melanin_of_maps`, the
    library's arithmetic); None when the run measured no melanin of tumour or no class layer of it is shown."""
    from mmnst_path._review_tissue import NOT_TISSUE
    from mmnst_path._review_tumour_melanin import tumour_melanin_of_maps

    from ._classmap import painted_areas

    result = src.get("result")
    measured = (result.metrics.get("melanin_tumour_fraction_pct") if result is not None
                else src.get("measured_tumour_pct"))
    layer = tumour_class_layer(viewer, src)
    if measured is None or layer is None or "tumour" not in layer.metadata["mmnst_path"].get("classes", ()):
        return None
    meta = layer.metadata["mmnst_path"]
    classes = list(meta["classes"])
    shape = tuple(meta.get("shape") or getattr(result, "shape", ()))[:2]
    run = np.asarray(meta["labels_at_run"]).astype(np.int16) - 1  # layer value k + 1 is class k
    now = np.asarray(layer.data).astype(np.int16) - 1
    cmap = {"labels": run, "classes": classes, "downsample": float(meta["downsample"]), "shape": shape,
            "areas": dict(meta["areas_at_run"]["area_mm2"])}
    painted = not np.array_equal(run, now)
    tumour_now = painted_areas(layer, shape=shape, mpp=float(meta.get("mpp") or src["mpp"]))["area_mm2"].get("tumour") \
        if painted else None
    changed = corrections is not None and np.any(np.asarray(corrections) > 0)
    return tumour_melanin_of_maps(src, cmap, now, np.asarray(corrections) if changed else None,
                                  measured_pct=float(measured), tumour_mm2_now=tumour_now,
                                  tissue_classes=[k for k, n in enumerate(classes) if n not in NOT_TISSUE],
                                  parts=("melanin" if changed else None, "tissue" if painted else None))


def tumour_review_words(tumour: dict[str, Any] | None) -> str:
    """"; of tumour reviewed 14.02 % (measured 12.51 %)" for the Review line and Export's status ("" without)."""
    if not tumour:
        return ""
    def pct(v: float) -> str:
        return "–" if v != v else f"{v:.2f} %"

    return f"; melanin of tumour reviewed {pct(tumour['melanin_tumour_fraction_pct'])} (measured {pct(tumour['measured_pct'])})"


def melanin_review_line(review: dict[str, Any]) -> str:
    """The Review panel's line: "melanin reviewed 8.12 % of tissue (measured 5.94 %): +0.0015 mm² in 4 blocks made
    melanin, -0.0002 mm² in 1 made none; whole 16 µm blocks"."""
    return (f"melanin reviewed {review['melanin_fraction_pct']:.2f} % of tissue (measured "
            f"{review['measured_fraction_pct']:.2f} %): +{review['added_mm2']:.4f} mm² in {review['blocks_added']} "
            f"blocks made melanin, -{abs(review['removed_mm2']):.4f} mm² in {review['blocks_removed']} made none; whole "
            f"{review['block_um']:g} µm blocks{tumour_review_words(review.get('tumour'))}")
