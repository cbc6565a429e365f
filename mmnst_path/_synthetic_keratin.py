"""The body of :func:`mmnst_path.synthetic_tissue.he_keratin_tile` (H&E keratinising squamous carcinoma with pen ink and
dust), moved here unchanged (session 23) to keep :mod:`mmnst_path.synthetic_tissue` under the module size guideline; the
public function and its documentation stay there."""

from __future__ import annotations

import math

import numpy as np

from .synthetic_tissue import TissueTile, _ellipse, _fibres, _he_canvas, _he_rgb, _place, _smooth_noise

__all__ = ["keratin_tile"]

#: OD directions of marker inks (blue, green, black) drawn over slides
_INKS = ((0.62, 0.72, 0.31), (0.72, 0.25, 0.65), (0.577, 0.577, 0.577))


def keratin_tile(seed: int, *, size: int = 384, mpp: float = 0.5) -> TissueTile:
    """:func:`mmnst_path.synthetic_tissue.he_keratin_tile` (see there)."""
    rng, shape, h, e = _he_canvas(seed, size)
    tissue = _smooth_noise(shape, rng.uniform(30, 70) / mpp, rng) > rng.uniform(-1.6, -0.4)
    nest_field = _smooth_noise(shape, rng.uniform(20, 50) / mpp, rng)
    tumour = tissue & (nest_field > np.quantile(nest_field, rng.uniform(0.25, 0.6)))
    stroma = tissue & ~tumour
    # keratin: pearls (concentric lamellae) inside nests, or squame plates (parallel lamellae)
    keratin = np.zeros(shape, bool)
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    lam = rng.uniform(3.0, 6.0) / mpp
    ker_e = rng.uniform(0.3, 0.8)
    rr, cc = np.nonzero(tumour)
    for _ in range(int(rng.integers(1, 5)) if rr.size else 0):
        i = rng.integers(rr.size)
        rad = rng.uniform(15, 60) / mpp
        d = np.hypot(yy - rr[i], xx - cc[i]) * rng.uniform(0.8, 1.2)
        pearl = tumour & (d < rad)
        keratin |= pearl
        e[pearl] = ker_e * (1 + 0.25 * np.cos(2 * np.pi * d[pearl] / lam))
    if rng.random() < 0.4:  # squames: a band of flat keratin plates
        ang = rng.uniform(0, np.pi)
        u = (yy - size / 2) * math.cos(ang) + (xx - size / 2) * math.sin(ang)
        off = rng.uniform(-size / 3, size / 3)
        band = tissue & (np.abs(u - off) < rng.uniform(15, 50) / mpp)
        keratin |= band
        e[band] = ker_e * 0.8 * (1 + 0.3 * np.cos(2 * np.pi * u[band] / lam))
    tumour &= ~keratin
    stroma &= ~keratin
    # squamous tumour: pink cytoplasm, nuclei; stroma: eosin fibres, spindle nuclei
    cyto = np.clip(1 + 0.25 * _smooth_noise(shape, 2.0 / mpp, rng), 0.4, 2)
    e += tumour * cyto * rng.uniform(0.12, 0.3)
    h += tumour * cyto * rng.uniform(0.02, 0.06)
    fib = _fibres(shape, mpp, rng)
    e += stroma * (0.05 + fib * rng.uniform(0.1, 0.35))
    h += stroma * fib * rng.uniform(0.0, 0.04)
    h_nuc = rng.uniform(0.3, 0.7)
    for r, c in _place(tumour, rng.uniform(11, 16) / mpp, rng.uniform(0.5, 0.9), rng):
        a = rng.uniform(3.0, 5.5) / mpp
        _ellipse(h, r, c, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), h_nuc * rng.uniform(0.7, 1.3), rng)
    for r, c in _place(stroma, rng.uniform(14, 28) / mpp, rng.uniform(0.3, 0.9), rng):
        _ellipse(h, r, c, rng.uniform(3.5, 7) / mpp, rng.uniform(1, 1.8) / mpp, rng.uniform(0, np.pi),
                 rng.uniform(0.3, 0.7), rng)
    for r, c in _place(keratin, rng.uniform(25, 60) / mpp, 0.3, rng):  # a few flattened pyknotic nuclei
        _ellipse(h, r, c, rng.uniform(2.5, 4) / mpp, rng.uniform(0.6, 1.0) / mpp, rng.uniform(0, np.pi),
                 rng.uniform(0.3, 0.6), rng)
    junk = np.zeros(shape, bool)  # pen strokes and dust: background wherever they lie
    rgb8 = _he_rgb(h, e, mpp, rng, lambda od: _ink_and_dust(od, junk, tissue, mpp, rng))
    clean = tissue & ~junk
    truth = {"keratin_fraction_pct": 100.0 * float((keratin & clean).sum()) / max(int(clean.sum()), 1)}
    masks = {"tissue": tissue, "tumour": tumour & ~junk, "stroma": stroma & ~junk, "keratin": keratin & ~junk,
             "background": ~tissue | junk}
    return TissueTile(rgb8, float(mpp), "H&E", truth, masks)


def _ink_and_dust(od: np.ndarray, junk: np.ndarray, tissue: np.ndarray, mpp: float, rng: np.random.Generator) -> None:
    """Add to ``od`` ((M, M, 3) OD) in place, in 60 % of the tiles, a pen stroke (blue, green or black ink,
    20-80 µm wide, wobbling) and, on the glass outside ``tissue``, dust specks (1-6 µm, grey); mark both in
    ``junk`` (bool, in place)."""
    shape = tissue.shape
    size = shape[0]
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    if rng.random() < 0.6:
        ink = np.asarray(_INKS[int(rng.integers(len(_INKS)))], np.float32)
        ang = rng.uniform(0, np.pi)
        u = (yy - size / 2) * math.sin(ang) - (xx - size / 2) * math.cos(ang)
        wobble = 8 / mpp * np.sin(2 * np.pi * ((yy * math.cos(ang) + xx * math.sin(ang)) / (rng.uniform(80, 300) / mpp)))
        stroke = np.abs(u - rng.uniform(-size / 3, size / 3) + wobble) < rng.uniform(10, 40) / mpp
        amount = rng.uniform(0.3, 1.2) * np.clip(1 + 0.15 * _smooth_noise(shape, 10 / mpp, rng), 0.5, 1.5)
        od += (stroke * amount)[..., None] * ink
        junk |= stroke
    for r, c in _place(~tissue, rng.uniform(20, 60) / mpp, rng.uniform(0.05, 0.3), rng):  # dust on the glass
        rad = rng.uniform(0.5, 3) / mpp
        speck = np.zeros(shape, np.float32)
        m = _ellipse(speck, r, c, rad, rad * rng.uniform(0.4, 1.0), rng.uniform(0, np.pi), rng.uniform(0.3, 1.5), rng)
        if m is not None:
            od += speck[..., None] * np.float32(0.577)
            junk |= speck > 0.1
