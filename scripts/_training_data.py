"""Helpers shared by the training scripts of the shipped models (not part of the package).

Reading the training images, the deterministic held-out split by file name, and the stain /
scanner / compression variant that re-renders stain concentrations through perturbed vectors.
Every function draws from the caller's generator in a fixed order, so a script's models are
reproducible from its seed.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

__all__ = ["BRCA_M2C", "held_out", "read_rgb", "render_variant"]

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
