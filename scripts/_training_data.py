"""Helpers shared by the training scripts of the shipped models (not part of the package).

Reading the training images, the deterministic held-out split by file name, the stain /
scanner / compression variant that re-renders stain concentrations through perturbed vectors, and
the stain swap that re-renders a hematoxylin-DAB image with a red chromogen.
Every function draws from the caller's generator in a fixed order, so a script's models are
reproducible from its seed.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BRCA_M2C", "RED_PRESETS", "held_out", "pigment_tile_cells", "read_rgb", "render_variant", "swap_chromogen"]

#: stain preset of each red Ki67 chromogen :func:`swap_chromogen` swaps DAB for
RED_PRESETS = {"aec": "H-AEC", "fast_red": "H-FastRed"}

#: attribution of the BRCA-M2C patches (BSD-3) for a model card's training data; add the "use"
BRCA_M2C = {
    "dataset": "BRCA-M2C (TCGA breast cancer H&E patches, Copyright (c) 2022 TopoXLab)",
    "licence": "BSD-3-Clause",
    "citation": "Abousamra S, Belinsky D, Van Arnam J, et al. Multi-Class Cell Detection Using Spatial Context "
                "Representation. ICCV 2021",
}


def read_rgb(path: Path) -> np.ndarray:
    """(M, N, 3) uint8 RGB of an image file (alpha and palettes converted)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def held_out(name: str, fraction: float) -> bool:
    """True for about ``fraction`` of file names, always the same ones (SHA-256 of the name)."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


def render_variant(conc: np.ndarray, vectors: np.ndarray, shape: tuple[int, ...], mpp: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Render (P, 3) stain concentrations as an RGB variant and the pixel size to claim for it.

    The first two stain vectors are turned by up to 8° in a random direction; then a scanner
    white balance (0.88-1 per channel), optical blur (sigma up to 0.7 µm), sensor noise (sd up to
    4 grey levels), JPEG at quality 45-95 for 70 % of the images, and a pixel size 0.85-1.18x the
    true one (a calibration error) are drawn, in that order.
    """
    from scipy import ndimage as ndi

    v = np.asarray(vectors, np.float64)
    v2 = v.copy()
    for i in (0, 1):
        d = rng.normal(size=3)
        d -= d.dot(v[i]) * v[i]
        d /= np.linalg.norm(d)
        ang = np.deg2rad(rng.uniform(0, 8))
        v2[i] = np.abs(np.cos(ang) * v[i] + np.sin(ang) * d)
        v2[i] /= np.linalg.norm(v2[i])
    od = (conc @ v2).reshape(shape)
    out = 255.0 * rng.uniform(0.88, 1.0, size=3) * np.power(10.0, -od)
    blur_px = rng.uniform(0, 0.7) / mpp
    if blur_px > 0.2:
        out = ndi.gaussian_filter(out, (blur_px, blur_px, 0))
    out += rng.normal(0, rng.uniform(0, 4), size=out.shape)
    out8 = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(out8).save(buf, format="JPEG", quality=int(rng.integers(45, 96)))
        out8 = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out8, mpp * float(np.exp(rng.uniform(np.log(0.85), np.log(1.18))))


def swap_chromogen(rgb: np.ndarray, chromogen: str, rng: np.random.Generator, *,
                   chromogen_scale: float | None = None) -> np.ndarray:
    """Re-render a hematoxylin-DAB image with another chromogen (stain swap), labels unchanged.

    The image is separated with the H-DAB preset; its hematoxylin and DAB planes (real
    morphology, real positives of every cell class) are recomposed with the vector of
    ``RED_PRESETS[chromogen]`` in DAB's place. Each draw turns both vectors by up to 6°,
    scales hematoxylin by 0.8-1.25 and the chromogen by 0.6-1.6 (red chromogens are lighter or
    darker than the DAB they replace, lab to lab) and randomises the optics (blur 0.2-0.8 px,
    JPEG q60-95 on 70 %), as ``train_nucleus_model.restain_as_ihc`` does. The residual (what neither stain
    explains) is left out. ``chromogen_scale``: fixed scales (hematoxylin 1, chromogen this) instead
    of the random ones (an evaluation tile keeps its positives' grades).
    """
    if chromogen not in RED_PRESETS:
        msg = f"swap_chromogen: chromogen must be one of {sorted(RED_PRESETS)}, got {chromogen!r}"
        raise ValueError(msg)
    from mmnst_path.stain import get_preset, separate_stains
    from mmnst_path.synthetic import _render, perturb_vector

    hdab = get_preset("H-DAB")
    conc = np.maximum(separate_stains(rgb, hdab, stains=("hematoxylin", "dab")), 0.0)
    vectors = [perturb_vector(hdab.vectors[0], rng.uniform(0, 6), rng),
               perturb_vector(get_preset(RED_PRESETS[chromogen]).vectors[1], rng.uniform(0, 6), rng)]
    quality = int(rng.integers(60, 96)) if rng.random() < 0.7 else None
    k_h, k_c = (rng.uniform(0.8, 1.25), rng.uniform(0.6, 1.6)) if chromogen_scale is None else (1.0, chromogen_scale)
    return _render([conc[..., 0] * k_h, conc[..., 1] * k_c], vectors, rng,
                   blur_px=float(rng.uniform(0.2, 0.8)), jpeg_quality=quality)


def pigment_tile_cells(seed: int, family: str, *, appearance: str, near_black: bool, size: int, pixel_model: Any,
                       positives: str = "standard", tile_kw: dict[str, Any] | None = None,
                       **measure: Any) -> tuple[Any, Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A generated H-DAB pigment-family tile read as the pipeline reads it, for the Ki67-beside-pigment models.

    The melanin mask comes from ``pixel_model`` (``classify_pigment``), then ``measure_ki67(..., **measure)``
    (e.g. ``return_cell_features=True``) with default parameters; warnings are silenced. ``positives``: the
    tile's Ki67-positive rendering (``pigment_family_tile``'s keyword); ``tile_kw``: further ``pigment_family_tile``
    keywords (e.g. ``saturated_positives=True``).

    Returns
    -------
    tile, region
        The :func:`~mmnst_path.synthetic.pigment_family_tile` and the :class:`Ki67Region`.
    r, c : (M,) int ndarrays
        Each detected cell's centroid, rounded and clipped to the tile.
    t : (M,) int ndarray
        The true nucleus label under each centroid (0: none).
    cov : (n + 1,) float64 ndarray
        Each true nucleus's melanin coverage (share of its pixels under true melanin; index = label).
    """
    from mmnst_path.classify.pigment import classify_pigment
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
    from mmnst_path.stain import load_stains
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(seed, family, chromogen="dab", size=size, appearance=appearance, near_black=near_black,
                               positives=positives, **(tile_kw or {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mask, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=pixel_model, stains="H-DAB", params=PigmentParams())
        region = measure_ki67(tile.rgb, mpp=tile.mpp, stains=load_stains("H-DAB"), params=Ki67Params(),
                              pigment_mask=mask, **measure)
    labels, mel = tile.masks["nuclei"], tile.masks["melanin"]
    n = int(labels.max())
    area = np.maximum(np.bincount(labels.ravel(), minlength=n + 1), 1)
    cov = np.bincount(labels.ravel(), mel.ravel(), minlength=n + 1) / area
    r = np.clip(np.rint(region.cells.row).astype(int), 0, labels.shape[0] - 1)
    c = np.clip(np.rint(region.cells.col).astype(int), 0, labels.shape[1] - 1)
    return tile, region, r, c, labels[r, c], cov
