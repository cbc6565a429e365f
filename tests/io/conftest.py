"""Fixtures for the reader tests: pyramidal TIFFs written with tifffile in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def synthetic_tissue(rows: int, cols: int, *, seed: int = 0) -> np.ndarray:
    """(rows, cols, 3) uint8 smooth pink/purple 'tissue' ellipse on white glass.

    Smooth content so that JPEG artefacts stay small and a coarser level is close to the
    area-averaged finer one.
    """
    rng = np.random.default_rng(seed)
    r = np.linspace(-1, 1, rows, dtype=np.float32)[:, None]
    c = np.linspace(-1, 1, cols, dtype=np.float32)[None, :]
    inside = (r / 0.8) ** 2 + (c / 0.7) ** 2 < 1
    phase = rng.uniform(0, 2 * np.pi, 3)
    img = np.empty((rows, cols, 3), dtype=np.float32)
    base = (190, 120, 170)
    for ch in range(3):
        wave = np.sin(7 * r + phase[ch]) * np.cos(5 * c - phase[ch])
        img[..., ch] = np.where(inside, base[ch] + 40 * wave, 255)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def pyramid(level0: np.ndarray, n_levels: int) -> list[np.ndarray]:
    """Level 0 and successive 2x block means (dimensions that do not divide are cropped)."""
    levels = [level0]
    for _ in range(n_levels - 1):
        prev = levels[-1]
        r, c = prev.shape[0] // 2 * 2, prev.shape[1] // 2 * 2
        blocks = prev[:r, :c].reshape(r // 2, 2, c // 2, 2, 3).astype(np.float32).mean(axis=(1, 3))
        levels.append((blocks + 0.5).astype(np.uint8))
    return levels


def write_pyramid_tiff(
    path: Path,
    levels: list[np.ndarray],
    *,
    layout: str,
    mpp: float | None,
    ome: bool = False,
    tile: int = 256,
    compression: str = "jpeg",
) -> Path:
    """Write a tiled pyramidal TIFF in a page-chain (``layout="chain"``) or SubIFD layout."""
    import tifffile

    kwargs: dict = {"tile": (tile, tile), "photometric": "rgb", "compression": compression}
    res: dict = {}
    if mpp is not None and not ome:
        res = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"}
    with tifffile.TiffWriter(path, ome=ome, bigtiff=False) as tw:
        if layout == "chain":
            for i, lv in enumerate(levels):
                tw.write(lv, subfiletype=1 if i else 0, **kwargs, **res)
        elif layout == "subifd":
            meta = {"PhysicalSizeX": mpp, "PhysicalSizeY": mpp, "axes": "YXS"} if ome and mpp else None
            tw.write(levels[0], subifds=len(levels) - 1, metadata=meta, **kwargs, **res)
            for lv in levels[1:]:
                tw.write(lv, subfiletype=1, **kwargs)
        else:
            raise ValueError(layout)
    return path


@pytest.fixture(scope="session")
def tissue_levels() -> list[np.ndarray]:
    """Three levels of a 1000 x 1500 synthetic slide."""
    return pyramid(synthetic_tissue(1000, 1500), 3)


@pytest.fixture(scope="session")
def generated_tiffs(tmp_path_factory: pytest.TempPathFactory, tissue_levels) -> dict[str, Path]:
    """Pyramidal TIFFs in page-chain and SubIFD layouts, with and without mpp."""
    folder = tmp_path_factory.mktemp("tiffs")
    return {
        "chain_mpp": write_pyramid_tiff(folder / "chain_mpp.tif", tissue_levels, layout="chain", mpp=0.25),
        "chain_nompp": write_pyramid_tiff(folder / "chain_nompp.tiff", tissue_levels, layout="chain", mpp=None),
        "subifd_ome": write_pyramid_tiff(
            folder / "sub.ome.tif", tissue_levels, layout="subifd", mpp=0.5, ome=True
        ),
        "subifd_nompp": write_pyramid_tiff(folder / "sub_nompp.tif", tissue_levels, layout="subifd", mpp=None),
    }
