"""Fixtures of the stain tests."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest

from mmnst_path.io import ArrayReader
from mmnst_path.stain.guess import AmbiguousStainsWarning, StainGuess, guess_stains_detail
from mmnst_path.tiling import detect_tissue


def _guess_on_thumbnail(rgb: np.ndarray, mpp: float) -> StainGuess:
    """The stain guess as the pipeline makes it: on the tissue thumbnail (8 µm/px, finer for a small
    image) of the image, with the thumbnail's pixel size."""
    t = detect_tissue(ArrayReader(rgb, mpp=mpp), mask_mpp=8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousStainsWarning)
        return guess_stains_detail(t.thumbnail, t.mask, mpp=t.mask_mpp)


@pytest.fixture
def guess_on_thumbnail() -> Callable[[np.ndarray, float], StainGuess]:
    """``guess_on_thumbnail(rgb, mpp)``: the :class:`StainGuess` of an image, made on its tissue thumbnail."""
    return _guess_on_thumbnail
