"""Generated H&E tiles where dense eosinophilic necrosis and collagen share one stain level (#13, session 37).

The project's other H&E generators draw necrosis paler or darker than their stroma often enough that a classifier
can tell them apart by the eosin level alone; the tissue model learnt that, and reads dense pink coagulative
necrosis with few nuclear remnants as stroma (benchmarks/README.md, "#13: why generated necrosis under-reads"). Here
both are drawn from one eosin level per tile, so only their structure tells them apart:

- coagulative necrosis: a smooth, mottled eosinophilic sheet (no fibres), ghost cell outlines (faint hematoxylin
  rims and slightly denser cell borders), karyorrhectic fragments (0.3-1.5 µm, 0.05-2 per 100 µm²) and nuclear
  dust;
- collagen: fibres (one or two crossing directions, contrast drawn per tile), sparse spindle nuclei, white
  clefts in some tiles, oedematous loose patches in others (labelled stroma);
- viable tumour nests beside them (vesicular to dark nuclei in pale to eosinophilic cytoplasm);
- rendering drawn per tile: stain vectors (hematoxylin up to 10°, eosin hue from :func:`stain_vectors`), stain amount
  (section thickness) x0.6-1.5 per stain, then the camera of :func:`mmnst_path.synthetic_tissue._camera` (blur, white
  point and balance, noise, JPEG).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = ["he_dense_necrosis_tile"]


def he_dense_necrosis_tile(seed: int, *, size: int = 384, mpp: float = 0.5):
    """H&E tile of viable tumour, collagen and dense coagulative necrosis at one eosin level (module doc).

    Parameters
    ----------
    seed : int
    size : int
        Side in pixels.
    mpp : float
        µm per pixel (0.25-1).

    Returns
    -------
    mmnst_path.synthetic_tissue.TissueTile
        ``masks``: ``tissue``, ``tumour``, ``stroma`` (collagen, clefts and oedema inside it), ``necrosis``,
        ``background``; ``truth``: ``necrosis_fraction_pct`` (of tissue), ``eosin_level`` (the shared OD),
        ``necrosis_to_stroma`` (the ratio of the two eosin levels).
    """
    from ._synthetic_mimics import _dots, _noise, stain_vectors
    from .synthetic_tissue import _H, TissueTile, _camera, _ellipse, _fibres, _place, _rotated, _smooth_noise

    if not 0.25 <= mpp <= 1.0:
        msg = f"he_dense_necrosis_tile: mpp must be 0.25-1 µm/px, got {mpp}"
        raise ValueError(msg)
    if size < 64:
        msg = f"he_dense_necrosis_tile: size must be >= 64 px, got {size}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    shape = (size, size)
    h = np.zeros(shape, np.float32)
    e = np.zeros(shape, np.float32)
    tissue = _smooth_noise(shape, rng.uniform(40, 90) / mpp, rng) > rng.uniform(-2.2, -0.8)
    nest = _smooth_noise(shape, rng.uniform(20, 50) / mpp, rng)
    tumour = tissue & (nest > np.quantile(nest, rng.uniform(0.55, 0.85)))
    split = _smooth_noise(shape, rng.uniform(25, 70) / mpp, rng) + np.linspace(-1, 1, size)[None, :] * rng.choice([-1, 1])
    rest = tissue & ~tumour
    nec = rest & (split > np.quantile(split[rest], 1 - rng.uniform(0.3, 0.7))) if rest.any() else rest
    stroma = rest & ~nec
    level = float(np.exp(rng.uniform(np.log(0.12), np.log(0.6))))  # the shared eosin level
    ratio = float(rng.uniform(0.8, 1.25))
    # collagen: fibre bands, sparse spindle nuclei, clefts, oedema
    fib = np.maximum(_fibres(shape, mpp, rng), rng.uniform(0.0, 0.8) * _fibres(shape, mpp, rng))
    contrast = rng.uniform(0.15, 0.6)
    e += stroma * level * (1 + contrast * (fib - 0.5) * 2)
    h += stroma * rng.uniform(0.0, 0.04)
    if rng.random() < 0.4:  # white clefts between bundles
        e *= np.where(stroma & (fib < rng.uniform(0.05, 0.15)), rng.uniform(0.0, 0.3), 1.0).astype(np.float32)
    if rng.random() < 0.3:  # oedematous patches: paler, gappy
        loose = stroma & (_noise(shape, rng.uniform(15, 40) / mpp, rng) > rng.uniform(0.3, 1.0))
        gaps = _noise(shape, rng.uniform(1.5, 4) / mpp, rng) > rng.uniform(-0.2, 0.6)
        e *= np.where(loose, np.where(gaps, 0.15, rng.uniform(0.3, 0.6)), 1.0).astype(np.float32)
    for r, c in _place(stroma, rng.uniform(25, 60) / mpp, rng.uniform(0.3, 0.9), rng):
        _ellipse(h, r, c, rng.uniform(4, 8) / mpp, rng.uniform(0.8, 1.6) / mpp, rng.uniform(0, np.pi),
                 rng.uniform(0.3, 0.7), rng)
    # tumour: cytoplasm and nuclei
    cyto = np.clip(1 + 0.25 * _smooth_noise(shape, 2.0 / mpp, rng), 0.4, 2)
    e += tumour * cyto * rng.uniform(0.08, 0.4)
    h += tumour * cyto * rng.uniform(0.02, 0.07)
    r_lo = rng.uniform(3.0, 4.5)
    r_hi = r_lo + rng.uniform(0.5, 2.5)
    spacing = (r_lo + r_hi) * rng.uniform(1.0, 1.5)
    nuclei = np.zeros(shape, np.float32)
    h_nuc = rng.uniform(0.35, 0.8)
    for r, c in _place(tumour, spacing / mpp, rng.uniform(0.5, 1.0), rng):
        a = rng.uniform(r_lo, r_hi) / mpp
        _ellipse(nuclei, r, c, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), h_nuc * rng.uniform(0.7, 1.3), rng)
    np.maximum(h, nuclei, out=h)
    nec &= ~(nuclei > 0.1)
    # dense coagulative necrosis: smooth mottled sheet, ghost outlines, karyorrhexis, dust
    mottle = np.clip(1 + rng.uniform(0.05, 0.3) * _smooth_noise(shape, rng.uniform(1.5, 6) / mpp, rng), 0.4, 1.8)
    e += nec * level * ratio * mottle
    h += nec * rng.uniform(0.0, 0.05) * mottle
    if rng.random() < 0.8:  # ghost cells: faint nuclear rims, slightly denser cell borders
        ghost_h = np.zeros(shape, np.float32)
        ghost_e = np.zeros(shape, np.float32)
        cell = spacing * rng.uniform(1.0, 1.8)
        for r, c in _place(nec, cell / mpp, rng.uniform(0.3, 1.0), rng):
            a = rng.uniform(r_lo, r_hi) / mpp
            _ellipse(ghost_h, r, c, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), rng.uniform(0.04, 0.16), rng)
            b = 0.5 * cell / mpp
            _ellipse(ghost_e, r, c, b, b * rng.uniform(0.75, 1.0), rng.uniform(0, np.pi), 1.0, rng)
        rim = ghost_h - ndi.grey_erosion(ghost_h, size=max(2, round(rng.uniform(0.6, 1.5) / mpp)))
        h += ndi.gaussian_filter(rim * rng.uniform(0.5, 1.0) + ghost_h * rng.uniform(0.0, 0.5),
                                 rng.uniform(0.3, 0.8) / mpp) * nec
        border = ndi.morphological_gradient(ghost_e, size=3) > 0.3
        e += nec * ndi.gaussian_filter(border.astype(np.float32), 0.4 / mpp) * level * rng.uniform(0.05, 0.3)
    frag = _dots(shape, nec, float(np.exp(rng.uniform(np.log(0.05), np.log(2.0)))), (0.3, 1.5), mpp, rng)
    h += frag * rng.uniform(0.4, 0.9) * nec
    h += nec * rng.uniform(0.0, 0.1) * (_noise(shape, 0.8 / mpp, rng) > 1.0)
    vh = _rotated(_H, rng.uniform(0, 10), rng).astype(np.float32)
    ve, _ = stain_vectors(rng)
    od = h[..., None] * vh * rng.uniform(0.6, 1.5) + e[..., None] * ve * rng.uniform(0.6, 1.5)
    rgb8 = _camera(od, mpp, rng)
    n_tis = max(int(tissue.sum()), 1)
    truth = {"necrosis_fraction_pct": 100.0 * float(nec.sum()) / n_tis, "eosin_level": level,
             "necrosis_to_stroma": ratio}
    masks = {"tissue": tissue, "tumour": tissue & ~(stroma | nec), "stroma": stroma, "necrosis": nec,
             "background": ~tissue}
    return TissueTile(rgb8, float(mpp), "H&E", truth, masks)

