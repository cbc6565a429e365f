"""Synthetic slides for the tiling tests, written in tmp_path (imported by the tiling tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def blob_slide(rows: int, cols: int, *, n_blobs: int, max_diameter_px: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """White glass with a pink tissue band and dark round 'nuclei' (discs) of known centres.

    Returns
    -------
    rgb : (rows, cols, 3) uint8
    centres : (n_blobs, 2) int, level-0 (row, col) of every disc (discs do not touch).
    """
    rng = np.random.default_rng(seed)
    img = np.full((rows, cols, 3), 255, dtype=np.uint8)
    rr, cc = np.mgrid[0:rows, 0:cols]
    band = (rr > rows * 0.15) & (rr < rows * 0.85) & (cc > cols * 0.1) & (cc < cols * 0.9)
    img[band] = (225, 170, 205)
    centres: list[tuple[int, int]] = []
    radius = max_diameter_px / 2
    tries = 0
    while len(centres) < n_blobs and tries < 100 * n_blobs:
        tries += 1
        r = int(rng.integers(int(rows * 0.15) + max_diameter_px, int(rows * 0.85) - max_diameter_px))
        c = int(rng.integers(int(cols * 0.1) + max_diameter_px, int(cols * 0.9) - max_diameter_px))
        if all((r - r2) ** 2 + (c - c2) ** 2 > (2 * max_diameter_px) ** 2 for r2, c2 in centres):
            centres.append((r, c))
    for r, c in centres:
        rad = rng.uniform(0.6, 1.0) * radius
        disc = (rr - r) ** 2 + (cc - c) ** 2 <= rad**2
        img[disc] = (70, 40, 110)
    return img, np.array(centres, dtype=np.int64)


def write_tiff(path: Path, levels: list[np.ndarray], *, mpp: float | None, tile: int = 128) -> Path:
    """Tiled page-chain pyramidal TIFF (zlib), mpp in the resolution tags when given."""
    import tifffile

    res: dict = {}
    if mpp is not None:
        res = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"}
    with tifffile.TiffWriter(path) as tw:
        for i, lv in enumerate(levels):
            tw.write(lv, tile=(tile, tile), photometric="rgb", compression="zlib",
                     subfiletype=1 if i else 0, **res)
    return path


def half(img: np.ndarray) -> np.ndarray:
    """2x block-mean downsample (dimensions must be even)."""
    r, c = img.shape[0] // 2, img.shape[1] // 2
    blocks = img[: 2 * r, : 2 * c].reshape(r, 2, c, 2, 3).astype(np.float32).mean(axis=(1, 3))
    return np.clip(blocks + 0.5, 0, 255).astype(np.uint8)
