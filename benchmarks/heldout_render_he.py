"""An independently written H&E renderer for necrosis and its mimics, for evaluation only.

The companion of ``heldout_render.py`` (H-DAB): written without reading the project's generators
(``mmnst_path.synthetic``, ``synthetic_tissue``), never used for training. It renders the classes a
pathologist separates when reading necrosis, with the mimics that fool rules and classifiers:

- ``tumour``: viable epithelioid cells, textured nuclei 7-12 µm with nucleoli (some vesicular),
  eosinophilic cytoplasm with faint cell borders, scattered lymphocytes and mitoses;
- ``collagen``: dense eosinophilic wavy fibre bundles with few thin nuclei (the mimic the external
  evaluation names: "collagen bands with few nuclei look necrotic");
- ``loose``: oedematous stroma, pale wisps, scattered stellate nuclei;
- ``necrosis``: smudged eosinophilic debris, ghost cells (outlines without nuclei), karyorrhectic
  fragments and nuclear dust, a few pyknotic nuclei, sometimes a blue haze ("dirty" necrosis);
- ``keratin``: laminated glassy eosinophilic pearls without nuclei, flattened parakeratotic streaks;
- ``mucin``: pale blue-grey wispy pools with a few floating cells;
- ``blood``: packed red cells with pale centres;
- ``fat``: empty polygonal adipocytes with thin membranes;
- ``glass``: background.

Stain vectors, intensities, section thickness, white balance, blur, noise and JPEG are randomised
per seed. Truth: the class map (necrosis mask, tissue mask).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from heldout_render import _ellipse, _field, _jitter, _lattice, _scatter, _tilt, _unit
from scipy import ndimage as ndi

CLASSES = ("glass", "tumour", "collagen", "loose", "necrosis", "keratin", "mucin", "blood", "fat")
MIMICS = ("collagen", "loose", "keratin", "mucin", "blood", "fat")
_H = np.array([0.65, 0.70, 0.29])
_E = np.array([0.07, 0.99, 0.11])


@dataclass
class HeldoutHE:
    """A rendered H&E tile: ``rgb`` (uint8), ``mpp``, ``classes`` (int8 index into :data:`CLASSES`)."""

    rgb: np.ndarray
    mpp: float
    classes: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def tissue(self) -> np.ndarray:
        return self.classes > 0

    @property
    def necrosis(self) -> np.ndarray:
        return self.classes == CLASSES.index("necrosis")

    @property
    def necrosis_pct(self) -> float:
        """Necrosis share of the tissue (%)."""
        return 100.0 * float(self.necrosis.sum()) / max(1.0, float(self.tissue.sum()))


def _regions(rng: np.random.Generator, shape: tuple[int, int], kinds: list[str], shares: np.ndarray,
             scale_px: float) -> np.ndarray:
    """Organic class map: each kind owns the pixels where its smooth field (biased to its share) wins."""
    fields = np.stack([_field(rng, shape, scale_px) for _ in kinds])
    out = np.zeros(shape, np.int8)
    bias = np.zeros(len(kinds))
    for _ in range(30):  # nudge the biases so each kind gets about its share
        win = np.argmax(fields + bias[:, None, None], axis=0)
        got = np.bincount(win.ravel(), minlength=len(kinds)) / win.size
        bias += 0.8 * (shares - got)
    win = np.argmax(fields + bias[:, None, None], axis=0)
    for i, k in enumerate(kinds):
        out[win == i] = CLASSES.index(k)
    return out


def _fibres(rng: np.random.Generator, shape: tuple[int, int], um: float, wavelength_um: float) -> np.ndarray:
    """Wavy fibre texture in 0-1: bands along a smooth flow direction with a sinusoidal wave."""
    flow = _field(rng, shape, 60 * um) * 0.8
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(float)
    across = -xx * np.sin(flow) + yy * np.cos(flow)
    along = xx * np.cos(flow) + yy * np.sin(flow)
    wave = np.sin(2 * np.pi * across / (wavelength_um * um) + 1.5 * np.sin(2 * np.pi * along / (25 * um)))
    streak = ndi.gaussian_filter(rng.normal(size=shape), (0.7 * um, 0.7 * um))
    streak = (streak - streak.mean()) / (streak.std() + 1e-12)
    return np.clip(0.5 + 0.35 * wave + 0.25 * streak, 0.0, 1.0)


def _blob(plane: np.ndarray, r: float, c: float, a: float, b: float, theta: float, od: float,
          tex: np.ndarray | None = None, edge: float = 0.6, ring: bool = False) -> np.ndarray | None:
    """Add a soft ellipse (or its outline with ``ring``) of ``od`` to ``plane``; returns the cover."""
    s0, s1 = plane.shape
    reach = max(a, b) * 1.3 + 2
    r0, r1, c0, c1 = max(0, int(r - reach)), min(s0, int(r + reach) + 2), max(0, int(c - reach)), min(s1, int(c + reach) + 2)
    if r0 >= r1 or c0 >= c1:
        return None
    yy, xx = np.mgrid[r0:r1, c0:c1]
    cover, rho = _ellipse(yy - r, xx - c, a, b, theta, np.zeros(3), edge)
    if ring:
        cover = np.exp(-(((rho - 1.0) * max(a, b)) ** 2) / (2 * 0.5**2))
    val = od * cover * (1.0 if tex is None else np.clip(tex[r0:r1, c0:c1], 0.2, None))
    plane[r0:r1, c0:c1] += val
    return cover


def render_he(seed: int, *, size: int = 640, necrosis: str = "random", mpp: float | None = None) -> HeldoutHE:
    """Render one H&E tile.

    Parameters
    ----------
    seed : int
    size : int
    necrosis : {"random", "none"}
        ``"random"``: necrosis 10-60 % of the tissue beside viable tumour and 1-3 mimics;
        ``"none"``: viable tumour and 2-4 mimics, no necrosis.
    mpp : float, optional
        µm/px (default 0.5 or 1.0 at random).
    """
    if necrosis not in ("random", "none"):
        msg = f"necrosis={necrosis!r}: expected 'random' or 'none'"
        raise ValueError(msg)
    rng = np.random.default_rng([seed, 6007, 15485863])
    mpp = float(rng.choice([0.5, 1.0])) if mpp is None else float(mpp)
    um = 1.0 / mpp
    shape = (size, size)
    h = np.zeros(shape)
    e = np.zeros(shape)
    red = np.zeros(shape)

    h_vec = _jitter(_H, rng, 8.0)
    e_vec = _jitter(_E, rng, 8.0)
    rbc_vec = _tilt(e_vec, _unit(np.array([0.0, 0.55, 0.83])), rng.uniform(10, 25))
    eosin_level = rng.uniform(0.6, 1.5)  # lab-to-lab eosin strength
    hema_level = rng.uniform(0.7, 1.3)
    thickness = rng.uniform(0.75, 1.35)

    n_mimic = int(rng.integers(1, 4))
    mimics = list(rng.choice(MIMICS, size=n_mimic, replace=False))
    kinds = ["tumour", *mimics] + (["necrosis"] if necrosis == "random" else []) + ["glass"]
    shares = rng.dirichlet(np.ones(len(kinds)) * 2.0)
    shares[-1] = rng.uniform(0.0, 0.12)  # glass
    if necrosis == "random":
        shares[-2] = rng.uniform(0.1, 0.6) * (1 - shares[-1])
        rest = 1 - shares[-1] - shares[-2]
        shares[:-2] = shares[:-2] / shares[:-2].sum() * rest
    else:
        shares[:-1] = shares[:-1] / shares[:-1].sum() * (1 - shares[-1])
    classes = _regions(rng, shape, kinds, shares, rng.uniform(50, 120) * um)
    is_ = {k: classes == CLASSES.index(k) for k in CLASSES}
    chrom = _field(rng, shape, 0.5 * um)

    # -- viable tumour ----------------------------------------------------------------------------
    nuc = rng.uniform(3.6, 5.8)
    spacing = 2 * nuc * rng.uniform(1.4, 1.9)
    e += is_["tumour"] * rng.uniform(0.15, 0.35) * eosin_level * np.clip(1 + 0.2 * chrom, 0.5, None)
    cells = _lattice(rng, is_["tumour"], spacing * um, 0.15, 0.95)
    vesic = rng.uniform(0.0, 0.8)
    for r, c in cells:
        a = nuc * um * rng.uniform(0.85, 1.2)
        b = a * rng.uniform(0.65, 1.0)
        th = rng.uniform(0, math.pi)
        _blob(e, r, c, spacing * um * 0.5, spacing * um * 0.5, 0, 0.06 * eosin_level, ring=True)  # cell border
        hod = rng.uniform(0.3, 0.6) * hema_level
        if rng.random() < vesic:
            _blob(h, r, c, a, b, th, 0.35 * hod, tex=1 + 0.3 * chrom)
            _blob(h, r, c, a, b, th, 0.6 * hod, ring=True)  # chromatin on the membrane
        else:
            _blob(h, r, c, a, b, th, hod, tex=1 + 0.35 * chrom)
        if rng.random() < 0.7:
            _blob(h, r + rng.normal(0, a / 4), c + rng.normal(0, a / 4), 0.5 * um, 0.5 * um, 0, rng.uniform(0.3, 0.6))
        if rng.random() < 0.01:  # mitosis: a dense irregular plate
            _blob(h, r, c, a * 0.9, a * 0.3, th, 1.2 * hema_level, tex=1 + 0.5 * chrom)
    for r, c in _scatter(rng, is_["tumour"], rng.uniform(0.1, 1.5) / 1000 / um**2):
        ra = rng.uniform(2.2, 3.2) * um
        _blob(h, r, c, ra, ra, 0, rng.uniform(0.7, 1.1) * hema_level)

    # -- stroma: dense collagen and loose / oedematous ----------------------------------------------
    fib = _fibres(rng, shape, um, rng.uniform(6, 14))
    bundles = np.clip((fib - 0.2) / 0.25, 0.0, 1.0)  # bundles with clefts between them
    e += is_["collagen"] * eosin_level * rng.uniform(0.3, 0.65) * (0.15 + 0.9 * bundles * (0.8 + 0.4 * fib))
    e += is_["loose"] * eosin_level * rng.uniform(0.04, 0.14) * (0.2 + 1.2 * fib**3)
    for region, dens in ((is_["collagen"], rng.uniform(0.1, 0.8)), (is_["loose"], rng.uniform(0.3, 1.5))):
        for r, c in _scatter(rng, region, dens / 1000 / um**2):
            th = rng.uniform(0, math.pi)
            _blob(h, r, c, rng.uniform(4, 8) * um, rng.uniform(0.8, 1.5) * um, th, rng.uniform(0.4, 0.8) * hema_level)

    # -- necrosis --------------------------------------------------------------------------------
    nec = is_["necrosis"]
    if nec.any():
        smudge = _field(rng, shape, 4 * um)
        e += nec * eosin_level * rng.uniform(0.3, 0.6) * np.clip(1 + 0.25 * smudge, 0.3, None)
        if rng.random() < 0.5:  # dirty necrosis: a blue haze of nuclear debris
            h += nec * rng.uniform(0.05, 0.15) * hema_level * np.clip(1 + 0.4 * smudge, 0, None)
        ghost_share = rng.uniform(0.0, 0.9)
        for r, c in _lattice(rng, nec, spacing * um, 0.2, ghost_share):
            _blob(e, r, c, spacing * um * 0.45, spacing * um * 0.4, rng.uniform(0, math.pi),
                  0.12 * eosin_level, ring=True)  # ghost outline
            if rng.random() < 0.5:  # a faded nucleus
                _blob(h, r, c, nuc * um * 0.9, nuc * um * 0.8, 0, rng.uniform(0.03, 0.1) * hema_level)
        n_frag = rng.uniform(2, 25) / 1000 / um**2
        for r, c in _scatter(rng, nec, n_frag):  # karyorrhexis and nuclear dust
            d = rng.uniform(0.4, 2.0) * um
            _blob(h, r, c, d, d * rng.uniform(0.5, 1), rng.uniform(0, math.pi), rng.uniform(0.5, 1.2) * hema_level)
        for r, c in _scatter(rng, nec, rng.uniform(0.0, 1.0) / 1000 / um**2):  # pyknosis
            d = rng.uniform(1.5, 2.2) * um
            _blob(h, r, c, d, d, 0, rng.uniform(1.0, 1.5) * hema_level)

    # -- keratin pearls ----------------------------------------------------------------------------
    ker = is_["keratin"]
    if ker.any():
        lab, _ = ndi.label(ker)
        yy, xx = np.mgrid[: size, : size]
        lam = np.zeros(shape)
        for i, (sr, sc) in enumerate(ndi.find_objects(lab), start=1):
            cy, cx = (sr.start + sr.stop) / 2, (sc.start + sc.stop) / 2
            rr = np.hypot(yy[sr, sc] - cy, xx[sr, sc] - cx)
            lam[sr, sc] = np.where(lab[sr, sc] == i, 0.5 + 0.5 * np.sin(2 * np.pi * rr / (rng.uniform(3, 7) * um)), lam[sr, sc])
        e += ker * eosin_level * rng.uniform(0.4, 0.8) * (0.6 + 0.5 * lam)
        for r, c in _scatter(rng, ker, rng.uniform(0.0, 0.6) / 1000 / um**2):  # parakeratotic streaks
            _blob(h, r, c, rng.uniform(3, 6) * um, 0.6 * um, rng.uniform(0, math.pi), rng.uniform(0.4, 0.8) * hema_level)

    # -- mucin, blood, fat -------------------------------------------------------------------------
    muc = is_["mucin"]
    if muc.any():
        wisp = _fibres(rng, shape, um, rng.uniform(6, 15)) ** 2
        h += muc * rng.uniform(0.04, 0.14) * (0.4 + wisp)
        e += muc * rng.uniform(0.01, 0.05) * (0.4 + wisp)
        for r, c in _scatter(rng, muc, rng.uniform(0.0, 0.3) / 1000 / um**2):
            _blob(h, r, c, 3 * um, 2.5 * um, 0, rng.uniform(0.3, 0.6) * hema_level)
    bl = is_["blood"]
    if bl.any():
        for r, c in _lattice(rng, bl, rng.uniform(6.5, 8.0) * um, 0.2, 0.98):
            rad = rng.uniform(3.0, 4.0) * um
            cov = _blob(red, r, c, rad, rad * rng.uniform(0.8, 1), rng.uniform(0, math.pi), rng.uniform(0.3, 0.6))
            if cov is not None:
                _blob(red, r, c, rad * 0.45, rad * 0.45, 0, -0.12)  # pale centre
    fat = is_["fat"]
    if fat.any():
        pts = _lattice(rng, fat, rng.uniform(40, 90) * um, 0.25, 1.0)
        if len(pts):
            from scipy.spatial import cKDTree

            yy, xx = np.nonzero(fat)
            d, _ = cKDTree(pts).query(np.column_stack([yy, xx]), k=2)
            membrane = np.exp(-((d[:, 1] - d[:, 0]) / (1.2 * um)) ** 2)
            e[yy, xx] += 0.25 * eosin_level * membrane

    # -- image formation ---------------------------------------------------------------------------
    od = thickness * (h[..., None] * h_vec + e[..., None] * e_vec + np.clip(red, 0, None)[..., None] * rbc_vec)
    glass = np.clip(1.0 - rng.uniform(0.0, 0.09, 3), 0.0, 1.0)
    glass = glass / glass.max() * rng.uniform(0.9, 1.0)
    inten = glass * np.power(10.0, -np.clip(od, 0, None))
    blur = rng.uniform(0.3, 1.2)
    inten = ndi.gaussian_filter(inten, (blur, blur, 0)) * 255.0
    shot = rng.uniform(0.3, 1.5)
    inten += rng.normal(size=inten.shape) * np.sqrt(np.maximum(inten, 0) * shot / 10.0) + rng.normal(scale=0.8, size=inten.shape)
    rgb = np.clip(np.round(inten), 0, 255).astype(np.uint8)
    jpeg = int(rng.integers(55, 96)) if rng.random() < 0.7 else None
    if jpeg is not None:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=jpeg)
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    params = {"seed": seed, "mpp": mpp, "kinds": kinds, "shares": np.round(shares, 3).tolist(),
              "eosin_level": round(eosin_level, 2), "thickness": round(thickness, 2), "blur_px": round(blur, 2),
              "jpeg": jpeg, "h_vec": h_vec.round(3).tolist(), "e_vec": e_vec.round(3).tolist()}
    return HeldoutHE(rgb=rgb, mpp=mpp, classes=classes, params=params)
