"""The right half of scipy's normalised Gaussian kernel, computed once per (sigma, truncate).

Shared by nucleus detection (:mod:`mmnst_path.detect._morphology`) and tissue detection
(:mod:`mmnst_path.tiling.tissue`), whose compiled Gaussians take it; it sits outside the package
layers so that both may use it. Callers that may write into it take a copy.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["gaussian_half_kernel"]


@functools.lru_cache(maxsize=64)
def gaussian_half_kernel(sigma: float, truncate: float) -> np.ndarray:
    """Right half (centre first) of ``scipy.ndimage``'s normalised Gaussian kernel of ``sigma``
    (pixels) truncated at ``truncate`` sigma, float64 (the cached array: do not write into it)."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x**2)
    phi = phi / phi.sum()
    return np.ascontiguousarray(phi[radius:])
