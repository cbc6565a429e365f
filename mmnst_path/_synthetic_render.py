"""The camera of the generated tiles: Beer–Lambert rendering of stain concentrations, optical blur, sensor
noise, black level and JPEG (split out of :mod:`mmnst_path.synthetic`, which imports both names from here).
"""

from __future__ import annotations

import io

import numpy as np
from scipy import ndimage as ndi

__all__: list[str] = []


def _camera(od: np.ndarray, rng: np.random.Generator, *, noise: float, quality: int | None,
            tint_rng: np.random.Generator | None, wide_rng: np.random.Generator | None = None) -> np.ndarray:
    """8-bit RGB of an (M, N, 3) OD image: glass white point, camera noise and JPEG at ``quality``.

    With ``tint_rng`` (the "varied" appearance), half of the tiles get a yellowish to bluish white
    balance and every tile a camera black level / flare of 0-22 grey levels (the darkest pixels
    turn neutral), drawn from ``tint_rng``; the white point and the noise come from ``rng``.
    With ``wide_rng`` as well (the "wide" appearance), 80 % of the tiles get a white balance from
    a wider range (strongly yellow to blue glass: R 215-255, G 210-252, B 170-255) and the black
    level reaches 30 grey levels, drawn from ``wide_rng`` instead.
    """
    bg = np.array([243.0, 241.0, 246.0]) + rng.normal(0, 3, 3)
    black = 0.0
    if tint_rng is not None:
        if tint_rng.random() < 0.5:  # white balance: yellowish to bluish glass
            bg = np.array([tint_rng.uniform(232, 252), tint_rng.uniform(226, 248), tint_rng.uniform(196, 250)])
        black = tint_rng.uniform(0.0, 22.0)
    if wide_rng is not None:
        if wide_rng.random() < 0.8:
            bg = np.array([wide_rng.uniform(215, 255), wide_rng.uniform(210, 252), wide_rng.uniform(170, 255)])
        black = wide_rng.uniform(0.0, 30.0)
    rgb = black + (bg - black) * 10.0 ** (-od)
    rgb = np.clip(np.rint(rgb + rng.normal(0, noise, od.shape)), 0, 255).astype(np.uint8)
    if quality:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=int(quality))
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    return rgb


def _render(concs, vectors, rng, *, blur_px: float, jpeg_quality: int | None) -> np.ndarray:
    od = np.zeros((*concs[0].shape, 3), np.float32)
    for c, v in zip(concs, vectors, strict=True):
        od += c[..., None] * np.asarray(v, np.float32)
    od = ndi.gaussian_filter(od, (blur_px, blur_px, 0))
    bg = np.array([243.0, 241.0, 246.0]) + rng.normal(0, 3, 3)
    rgb = bg * 10.0 ** (-od) + rng.normal(0, 2.0, od.shape)
    rgb = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    if jpeg_quality:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=int(jpeg_quality))
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    return rgb
