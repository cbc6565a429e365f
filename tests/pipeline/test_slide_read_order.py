"""One-process slide runs read the tiles in the grid's order, so the halo a tile shares with the
tile before it comes from the reader's cache of decoded slide tiles: every slide tile is decoded
once, not once per analysis tile whose halo covers it (TCGA: 424 -> 252 JPEG 2000 decodes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmnst_path.io import _tifffile
from mmnst_path.pipeline import AnalysisConfig, analyze_slide

SEG = 128  # the TIFF's tile side, px


@pytest.fixture(scope="module")
def slide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1024 x 512 px tiled pyramidal TIFF at 0.5 µm/px: pink tissue with dark round nuclei on white."""
    import tifffile

    rng = np.random.default_rng(3)
    img = np.full((1024, 512, 3), 255, np.uint8)
    img[100:920, 50:460] = (225, 170, 205)
    rr, cc = np.mgrid[0:1024, 0:512]
    for r, c in zip(rng.integers(120, 900, 40), rng.integers(70, 440, 40), strict=True):
        img[(rr - r) ** 2 + (cc - c) ** 2 <= 36] = (70, 40, 110)
    half = img.reshape(512, 2, 256, 2, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    path = tmp_path_factory.mktemp("order") / "tall.tif"
    with tifffile.TiffWriter(path) as tw:
        for i, level in enumerate((img, half)):
            tw.write(level, tile=(SEG, SEG), photometric="rgb", compression="zlib", subfiletype=1 if i else 0,
                     resolution=(2e4 / (1 + i), 2e4 / (1 + i)), resolutionunit="CENTIMETER")
    return path


def _run(path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> tuple[object, list[int]]:
    """analyze_slide with a decoded-tile cache of 20 slide tiles (a third of the read box of two
    tile rows); the level-0 slide tiles it decoded, in order."""
    decoded: list[int] = []
    plain = _tifffile.TiffSlideReader._segment

    def counting(self, level, page, index, *args):  # type: ignore[no-untyped-def]
        if level == 0 and self._cache.get((level, index)) is None:
            decoded.append(index)
        return plain(self, level, page, index, *args)

    monkeypatch.setattr(_tifffile.TiffSlideReader, "_segment", counting)
    reader = _tifffile.TiffSlideReader(path, cache_bytes=20 * SEG * SEG * 3)
    cfg = AnalysisConfig(stains="H&E", measures=("melanin",), tile_um=64.0)
    try:
        res = analyze_slide(reader, cfg, workers=workers)
    finally:
        reader.close()
        monkeypatch.setattr(_tifffile.TiffSlideReader, "_segment", plain)
    return res, decoded


def test_one_process_decodes_every_slide_tile_once(slide, monkeypatch):
    res, decoded = _run(slide, monkeypatch, workers=1)
    assert len(res.tiles.core) >= 24  # many analysis tiles, each reading a halo of 122 px past its 128 px core
    assert sorted(decoded) == sorted(set(decoded)), "a slide tile was decoded twice"
    assert len(set(decoded)) == (1024 // SEG) * (512 // SEG)


def test_one_process_results_do_not_depend_on_the_order(slide, monkeypatch, assert_same_results):
    """The tiles started costliest first (the pool's order) give the same results."""
    from mmnst_path.tiling import executor

    res, _ = _run(slide, monkeypatch, workers=1)
    plain = executor.map_tiles
    started: list[list[int]] = []

    def costliest(*args, order=None, **kwargs):  # type: ignore[no-untyped-def]
        tiles = args[1]
        forced = [int(i) for i in np.argsort([-t.shape[0] * t.shape[1] for t in tiles], kind="stable")][::-1]
        started.append(forced)
        return plain(*args, order=forced, **kwargs)

    monkeypatch.setattr("mmnst_path.tiling.map_tiles", costliest)
    got = analyze_slide(_tifffile.TiffSlideReader(slide), AnalysisConfig(stains="H&E", measures=("melanin",),
                                                                          tile_um=64.0), workers=1)
    assert started
    assert started[0] != sorted(started[0])  # (not the grid's order)
    assert_same_results(res, got)
