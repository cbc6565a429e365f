"""Area-averaging resampling of RGB uint8 images (used for thumbnails and analysis resolution)."""

from __future__ import annotations

import numpy as np

__all__ = ["resize_area"]


def resize_area(img: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
    """Resize an (M, N, C) or (M, N) uint8 image to ``out_shape`` by area averaging.

    Integer downsampling factors take an exact block-mean fast path; other factors use
    scikit-image's anti-aliased resize. The dtype is preserved.
    """
    rows, cols = img.shape[:2]
    o_rows, o_cols = int(out_shape[0]), int(out_shape[1])
    if (rows, cols) == (o_rows, o_cols):
        return img
    fr, fc = rows / o_rows, cols / o_cols
    if fr == int(fr) and fc == int(fc) and fr >= 1 and fc >= 1:
        fr_i, fc_i = int(fr), int(fc)
        shape = (o_rows, fr_i, o_cols, fc_i, *img.shape[2:])
        blocks = img.reshape(shape).astype(np.float32)
        out = blocks.mean(axis=(1, 3))
        return np.clip(out + 0.5, 0, 255).astype(img.dtype) if img.dtype == np.uint8 else out.astype(img.dtype)
    from skimage.transform import resize

    anti = fr > 1 or fc > 1
    out = resize(
        img, (o_rows, o_cols, *img.shape[2:]), order=1, mode="edge", anti_aliasing=anti,
        preserve_range=True,
    )
    if img.dtype == np.uint8:
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return out.astype(img.dtype)
