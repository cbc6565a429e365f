"""The second stage's band (``band_um``, ``band_min_width_um``) through the tiled path (#13, session 28).

A slide is classified in tiles that carry :func:`tissue_halo_um` of context. A band wider than the stage's
3-sigma pooling reaches farther than the pooling: the halo must grow with it, or a block near a tile's edge
misses the first-stage necrosis that puts it inside the band.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path import synthetic
from mmnst_path.classify.tissue import classify_tissue, tissue_halo_um
from mmnst_path.classify.tissue_context import ContextSettings, wide_necrosis

NECROSIS = 1  # class index in the conftest two-stage models ("tumour", "necrosis")


def _tile(rgb: np.ndarray, model, core0: tuple[int, int], n_blocks: int, big: int, halo: int) -> np.ndarray:
    """Probabilities of the ``n_blocks`` x ``n_blocks`` blocks from pixel ``core0`` (block-aligned), classified
    from a tile cut with ``halo`` pixels around them."""
    r0, c0 = core0
    size = n_blocks * big
    sub = rgb[r0 - halo: r0 + size + halo, c0 - halo: c0 + size + halo]
    origin = (r0 - halo, c0 - halo)
    part = classify_tissue(sub, mpp=1.0, model=model, origin=origin)
    i0 = r0 // big - (origin[0] - origin[0] % big) // big
    j0 = c0 // big - (origin[1] - origin[1] % big) // big
    return part.proba[i0: i0 + n_blocks, j0: j0 + n_blocks]


def _blobs(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """First / second-stage probabilities (tumour, stroma, necrosis) of a block map with necrotic regions of every
    width, from single blocks to wide blobs; the second stage reads necrosis a little more widely."""
    field = ndi.gaussian_filter(rng.random(shape), 3.0)
    nec = field > np.quantile(field, 0.8)
    nec |= rng.random(shape) < 0.01
    first = np.where(nec[..., None], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]).astype(np.float32)
    grown = ndi.binary_dilation(nec, iterations=3)
    second = np.where(grown[..., None], [0.1, 0.05, 0.85], [0.3, 0.6, 0.1]).astype(np.float32)
    return first, second


@pytest.mark.parametrize(("band", "width"), [(100.0, 0.0), (16.0, 64.0), (40.0, 48.0)])
def test_band_tiles_on_the_block_grid_with_the_stage_halo_equal_the_whole_map(band, width) -> None:
    """:func:`combine_stages` on tiles cut with :meth:`ContextSettings.halo_um` of blocks around them equals the whole
    map, for a band wider than the 3-sigma pooling and for the opening of ``band_min_width_um``."""
    from mmnst_path.classify.tissue_context import combine_stages

    grid = 8.0
    rng = np.random.default_rng(5)
    first, second = _blobs(rng, (120, 120))
    cs = ContextSettings((16.0,), 0.6, band_um=band, necrosis_only=True, band_min_width_um=width)
    whole = combine_stages(first, second, necrosis=2, settings=cs, grid_mpp=grid)
    assert not np.array_equal(whole, first)
    assert not np.array_equal(whole, second)
    if width:  # the width acts: specks no longer seed the band
        plain = combine_stages(first, second, necrosis=2, settings=replace(cs, band_min_width_um=0.0), grid_mpp=grid)
        assert not np.array_equal(whole, plain)
    halo = math.ceil(cs.halo_um() / grid)
    core = 10
    for r0 in range(halo, 120 - halo - core, 7):
        for c0 in range(halo, 120 - halo - core, 11):
            sl = np.s_[r0 - halo: r0 + core + halo, c0 - halo: c0 + core + halo]
            part = combine_stages(first[sl], second[sl], necrosis=2, settings=cs, grid_mpp=grid)
            np.testing.assert_array_equal(part[halo: halo + core, halo: halo + core],
                                          whole[r0: r0 + core, c0: c0 + core])


def test_wide_necrosis_keeps_only_regions_a_disk_fits_in() -> None:
    """Specks and strips narrower than the width go; a region at least that wide stays, but for the corners a disk
    cannot reach; a region at the map's edge is not narrowed by the edge."""
    nec = np.zeros((40, 40), bool)
    nec[5, 5] = True                 # one block
    nec[10:12, 3:30] = True          # a strip 2 blocks wide
    nec[20:30, 20:30] = True         # 10 x 10 blocks
    nec[37:40, :] = True             # 3 blocks wide along the edge of the map
    kept = wide_necrosis(nec, 5.0)   # a disk of radius 2
    assert not kept[5, 5]
    assert not kept[10:12].any()
    assert kept[22:28, 20:30].all()
    assert kept[20:30, 22:28].all()
    assert not kept[20, 20]
    assert not (kept & ~nec).any()
    assert kept[37:40].all()
    assert np.array_equal(wide_necrosis(nec, 1.5), nec)  # below 2 blocks nothing is removed


def test_wide_band_tiles_with_the_halo_equal_the_whole_image(two_stage_model) -> None:
    """A necrotising second stage limited to a band wider than its 3-sigma pooling (48 µm): tiles cut with
    :func:`tissue_halo_um` give the whole image's probabilities, on blocks whose nearest first-stage necrosis
    lies beyond the 3-sigma halo but inside the band's reach; a tile cut with the 3-sigma halo alone does not."""
    band, width = 100.0, 16.0
    two, first = two_stage_model(0.25, "necrosis")
    assert two.context is not None
    settings = ContextSettings((16.0,), band_um=band, band_min_width_um=width)
    model = replace(two, context=replace(two.context, settings=settings.to_mapping()))
    assert settings.halo_um() == band + width > 3.0 * 16.0
    assert tissue_halo_um(model) == pytest.approx(tissue_halo_um(two) - 48.0 + band + width)

    rgb = synthetic.he_necrosis_tile(33, size=720, necrosis_fraction=0.25).rgb
    whole = classify_tissue(rgb, mpp=1.0, model=model, origin=(0, 0))
    p1 = classify_tissue(rgb, mpp=1.0, model=first, origin=(0, 0))
    big = whole.factor
    nec = p1.labels == NECROSIS
    if width:
        nec = wide_necrosis(nec, width / p1.mpp)
    dist = ndi.distance_transform_edt(~nec) * p1.mpp
    halo = math.ceil(tissue_halo_um(model))
    m0, m1 = whole.labels.shape
    edge = halo // big + 2
    inner = np.zeros_like(nec)
    inner[edge: m0 - edge, edge: m1 - edge] = True
    # blocks the second stage made necrotic, the farthest from the first stage's (wide) necrosis: the band's reach
    added = inner & (whole.labels == NECROSIS) & (p1.labels != NECROSIS)
    assert added.sum() > 5
    i, j = np.unravel_index(np.argmax(np.where(added, dist, -1.0)), dist.shape)
    assert dist[i, j] > 0.6 * band
    want = whole.proba[i: i + 1, j: j + 1]
    got = _tile(rgb, model, (i * big, j * big), 1, big, halo)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_set_context_limits_writes_the_band_width(project_module, tmp_path, capsys, toy_context_images) -> None:
    """``scripts/set_context_limits.py --band-min-width``: written with the band, read back by the model; without a
    band it is refused (exit 2, the message names the setting)."""
    from mmnst_path.classify import load_model
    from mmnst_path.classify.train_tissue import train_context_stage

    tool = project_module("scripts/set_context_limits.py")
    images, first = toy_context_images(7)
    two = train_context_stage(images, first, settings=ContextSettings((16.0,), 0.7), n_estimators=2, max_depth=4,
                              fold_scheme="alternate")
    src = two.save(tmp_path / "two.mmnst")
    out = tmp_path / "w.mmnst"
    assert tool.main([str(src), str(out), "--version", "9.9.9-w", "--band-um", "16", "--band-min-width", "32"]) == 0
    got = load_model(out, kind="tissue")
    assert got.context is not None
    assert ContextSettings.from_mapping(got.context.settings) == ContextSettings((16.0,), band_um=16.0,
                                                                                 band_min_width_um=32.0)
    assert got.card["auto_context"]["settings"]["band_min_width_um"] == 32.0
    assert tool.main([str(src), str(tmp_path / "x.mmnst"), "--version", "9", "--band-min-width", "32"]) == 2
    assert "band_min_width_um" in capsys.readouterr().err
    assert not (tmp_path / "x.mmnst").exists()


def test_squamous_context_maps_label_keratin_as_tumour(project_module, tmp_path) -> None:
    """``scripts/squamous_context_maps.py``: maps of a squamous-sheet and a keratin tile in the ``--save-maps`` format,
    first-stage feature columns, rows of tumour / stroma / background only; keratin pixels are labelled tumour."""
    from mmnst_path.classify import default_model_path, load_model
    from mmnst_path.synthetic_tissue import he_keratin_tile

    tool = project_module("scripts/squamous_context_maps.py")
    cmaps = project_module("scripts/_context_maps.py")
    out = tmp_path / "sq.npz"
    assert tool.main([str(out), "--first-stage", str(default_model_path("tissue")), "--squamous-seeds", "3001",
                      "--keratin-seeds", "3101", "--copies", "0"]) == 0
    maps = cmaps.load_maps(out)
    assert [(m.source, m.name) for m in maps] == [("squamous", "seed3001"), ("keratin", "seed3101")]
    n_feats = len(load_model(default_model_path("tissue"), kind="tissue").features)
    classes = tool.CLASSES
    for m in maps:
        assert m.feats.shape[-1] == n_feats
        assert len(m.sel) > 100
        assert set(np.unique(m.y)) <= {classes.index("tumour"), classes.index("stroma"), classes.index("background")}
    (_, _, _, lab), = tool.squamous_sources("keratin", (3101,))
    kt = he_keratin_tile(3101, size=384, mpp=1.0)
    assert kt.masks["keratin"].sum() > 1000
    assert (lab[kt.masks["keratin"]] == classes.index("tumour")).all()
    assert (lab[kt.masks["stroma"] & ~kt.masks["keratin"]] == classes.index("stroma")).all()
