"""Melanin corrections in napari: a Labels layer over the run's melanin fraction map, one label per map block.

Review's *paint melanin corrections* adds :data:`LAYER` over an Analyze run that measured melanin: value 1 (dark
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

__all__ = ["LAYER", "corrections_layer", "melanin_review", "melanin_review_line", "melanin_run"]

LAYER = "melanin corrections"


def melanin_run(viewer: Any) -> Any:
    """The Analyze result (a SlideResult with a melanin map) shown in the viewer, else None."""
    for lay in viewer.layers:
        meta = lay.metadata.get("mmnst_path", {}) if isinstance(lay.metadata, dict) else {}
        result = meta.get("result")
        if result is not None and "melanin" in getattr(result, "maps", {}) and "tissue" in result.maps:
            return result
    return None


def corrections_layer(result: Any, *, mpp: float | None) -> LayerData:
    """An empty corrections Labels layer on the result's melanin map grid (``mpp``: the image layer's display
    scale, None for pixels), block ``[i, j]`` over level-0 ``[i d, (i+1) d)``."""
    from napari.utils.colormaps import DirectLabelColormap

    m = result.maps["melanin"]
    d = float(m.downsample)
    s = float(mpp) if mpp else 1.0
    kwargs: dict[str, Any] = {
        "name": LAYER, "scale": (d * s, d * s), "translate": ((d - 1) / 2 * s, (d - 1) / 2 * s), "opacity": 0.55,
        # melanin dark brown (the fraction map's hue), no melanin white (a block washed out): neither is a class
        # colour of the tissue class map below (blue is inflammatory, light blue mucin)
        "colormap": DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 0: (0, 0, 0, 0), 1: (0.35, 0.16, 0.02, 1.0),
                                                    2: (1.0, 1.0, 1.0, 1.0)}),
        # "analyze": a later Analyze run removes it with the run's other layers (its map is of this run only)
        "metadata": {"mmnst_path": {"kind": "melanin corrections", "block_um": d * float(result.mpp),
                                    "source": "analyze"}},
    }
    if mpp:
        kwargs["units"] = ("µm", "µm")
    return (np.zeros(np.asarray(m.image).shape, np.uint8), kwargs, "labels")


def melanin_review(result: Any, corrections: Any) -> dict[str, Any]:
    """The reviewed melanin figures of ``result`` with the block ``corrections`` (the layer's data)."""
    from mmnst_path._review_melanin import block_tissue_mm2, reviewed_melanin

    m, t = result.maps["melanin"], result.maps["tissue"]
    tissue = block_tissue_mm2(t.image, tissue_downsample=t.downsample, downsample=m.downsample,
                              grid=np.asarray(m.image).shape, mpp=float(result.mpp))
    out = reviewed_melanin(m.image, np.asarray(corrections), tissue, area_mm2=result.metrics["melanin_area_mm2"],
                           tissue_mm2=result.metrics["melanin_tissue_mm2"])
    out["block_um"] = float(m.downsample) * float(result.mpp)
    return out


def melanin_review_line(review: dict[str, Any]) -> str:
    """The Review panel's line: "melanin reviewed 8.12 % of tissue (measured 5.94 %): +0.0015 mm² in 4 blocks made
    melanin, -0.0002 mm² in 1 made none; whole 16 µm blocks"."""
    return (f"melanin reviewed {review['melanin_fraction_pct']:.2f} % of tissue (measured "
            f"{review['measured_fraction_pct']:.2f} %): +{review['added_mm2']:.4f} mm² in {review['blocks_added']} "
            f"blocks made melanin, -{review['removed_mm2']:.4f} mm² in {review['blocks_removed']} made none; whole "
            f"{review['block_um']:g} µm blocks")
