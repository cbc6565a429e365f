"""An independently written H-DAB renderer, for evaluation only (never for training).

Every model and threshold in mmnst_path was trained or tuned on images rendered by
``mmnst_path.synthetic``, ``synthetic_ki67`` and ``synthetic_tissue``. A second rendering of the
world, written from the pathology rather than from those modules, tells whether what was learned
transfers: the external evaluation of this project uses such a generator too. This module was
written without reading the project's generators, and nothing in ``mmnst_path`` imports it.

Physics: Beer-Lambert in optical density (OD) per stain, summed per pixel and turned into RGB
against a tinted glass; section thickness scales every stain; optical blur acts on intensity;
shot and read noise; optional JPEG. Biology: tumour nests in stroma (tissue and nests from
smoothed noise fields), epithelioid tumour cells on a jittered lattice with irregular,
textured, sometimes vesicular nuclei and nucleoli; Ki67 positives diffuse or granular
(nucleolar dots, G1 pattern) from faint tan to saturated brown, with the haematoxylin partly
masked; stromal spindles aligned with the fibres, plump fibroblasts, lymphocytes (dense, round,
small), macrophages; melanin granules along a brown-black OD vector 3-12 degrees from DAB and
more neutral, in seven morphologies (dusty, coarse, perinuclear, over the nucleus,
melanophages, confluent sheets, pigmented spindle cells).

Truth per nucleus (centroid, kind, Ki67 grade, hidden-by-pigment), melanin and tissue masks,
the Ki67 index over all tumour nuclei and over the assessable ones (not hidden).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi

KINDS = ("tumour", "lymphocyte", "stroma", "macrophage")
MORPHOLOGIES = ("dusty", "coarse", "perinuclear", "over_nucleus", "melanophage", "confluent", "spindle")
_H = np.array([0.65, 0.70, 0.29])
_DAB = np.array([0.27, 0.57, 0.78])
#: Ki67 chromogen OD directions (Ruifrok & Johnston 2001, Anal Quant Cytol Histol 23:291, table 1)
CHROMOGENS = {"dab": _DAB, "aec": np.array([0.2743, 0.6796, 0.6803]), "fast_red": np.array([0.2139, 0.851, 0.4794])}


@dataclass
class HeldoutTile:
    """A rendered tile and its truth.

    Attributes
    ----------
    rgb : (S, S, 3) uint8
    mpp : float
        µm per pixel.
    nuclei : dict of str to ndarray
        ``row``, ``col`` (centroids, px), ``kind`` (index into :data:`KINDS`), ``grade`` (0
        negative, 1 weak, 2 moderate, 3 strong; tumour only), ``hidden`` (melanin covers most
        of the nucleus).
    labels : (S, S) int32
        Nucleus label image (0 background, i + 1 for nucleus i; later nuclei paint over earlier).
    melanin, tissue : (S, S) bool
    params : dict
        The random choices (stain vectors, blur, JPEG quality...), for the table and debugging.
    """

    rgb: np.ndarray
    mpp: float
    nuclei: dict[str, np.ndarray]
    labels: np.ndarray
    melanin: np.ndarray
    tissue: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def ki67_index_pct(self) -> float:
        """Positive share of all tumour nuclei (%)."""
        t = self.nuclei["kind"] == 0
        return 100.0 * float((self.nuclei["grade"][t] > 0).mean()) if t.any() else math.nan

    @property
    def ki67_assessable_index_pct(self) -> float:
        """Positive share of the tumour nuclei not hidden by melanin (%)."""
        t = (self.nuclei["kind"] == 0) & ~self.nuclei["hidden"]
        return 100.0 * float((self.nuclei["grade"][t] > 0).mean()) if t.any() else math.nan

    @property
    def melanin_pct(self) -> float:
        """Melanin share of the tissue (%)."""
        return 100.0 * float((self.melanin & self.tissue).sum()) / max(1.0, float(self.tissue.sum()))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _tilt(v: np.ndarray, toward: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate unit ``v`` by ``degrees`` in the plane it spans with ``toward``."""
    v = _unit(v)
    w = _unit(toward - v @ toward * v)
    a = math.radians(degrees)
    return _unit(math.cos(a) * v + math.sin(a) * w)


def _jitter(v: np.ndarray, rng: np.random.Generator, degrees: float) -> np.ndarray:
    return _tilt(v, _unit(rng.normal(size=3) + v), rng.uniform(0.0, degrees))


def _field(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Smooth noise with unit standard deviation."""
    f = ndi.gaussian_filter(rng.normal(size=shape), sigma_px, mode="wrap")
    return (f - f.mean()) / (f.std() + 1e-12)


class _Canvas:
    """OD planes (haematoxylin, DAB, melanin) painted by stamping small patches."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.h = np.zeros((size, size))
        self.d = np.zeros((size, size))
        self.m = np.zeros((size, size))
        self.labels = np.zeros((size, size), np.int32)

    def window(self, r: float, c: float, reach: float) -> tuple[slice, slice, np.ndarray, np.ndarray] | None:
        r0, r1 = max(0, int(r - reach)), min(self.size, int(r + reach) + 2)
        c0, c1 = max(0, int(c - reach)), min(self.size, int(c + reach) + 2)
        if r0 >= r1 or c0 >= c1:
            return None
        yy, xx = np.mgrid[r0:r1, c0:c1]
        return slice(r0, r1), slice(c0, c1), yy - r, xx - c


def _ellipse(dy: np.ndarray, dx: np.ndarray, a: float, b: float, theta: float, wobble: np.ndarray,
             edge_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Soft ellipse coverage (0-1) and normalised radius of each pixel."""
    ct, st = math.cos(theta), math.sin(theta)
    u = dx * ct + dy * st
    v = -dx * st + dy * ct
    phi = np.arctan2(v, u)
    k = np.arange(1, len(wobble) + 1)
    mod = 1.0 + (wobble[None, None, :] * np.cos(k[None, None, :] * phi[..., None] + k)).sum(-1)
    rho = np.sqrt((u / a) ** 2 + (v / b) ** 2) / mod
    cover = np.clip((1.0 - rho) * min(a, b) / edge_px + 0.5, 0.0, 1.0)
    return cover, rho


def _granules(cv: _Canvas, rng: np.random.Generator, rows: np.ndarray, cols: np.ndarray, diam_px: np.ndarray,
              od: np.ndarray) -> None:
    """Stamp melanin granules (Gaussian blobs; sub-pixel ones keep their mass)."""
    for r, c, dpx, o in zip(rows, cols, diam_px, od, strict=True):
        sigma = max(dpx / 2.6, 0.45)
        w = cv.window(r, c, 3.0 * sigma + 1)
        if w is None:
            continue
        sr, sc, dy, dx = w
        mass = o * min(1.0, (dpx / (2.6 * sigma)) ** 2)
        cv.m[sr, sc] += mass * np.exp(-(dy**2 + dx**2) / (2 * sigma**2))


def _lattice(rng: np.random.Generator, mask: np.ndarray, spacing: float, jitter: float, keep: float) -> np.ndarray:
    """Jittered hexagonal lattice points inside ``mask`` ((n, 2) row, col)."""
    s = mask.shape[0]
    pts = []
    for i, r in enumerate(np.arange(spacing / 2, s, spacing * math.sqrt(3) / 2)):
        off = spacing / 2 if i % 2 else 0.0
        for c in np.arange(off, s, spacing):
            pts.append((r, c))
    p = np.asarray(pts) + rng.normal(scale=jitter * spacing, size=(len(pts), 2))
    p = p[(p >= 0).all(1) & (p < s - 1).all(1)]
    p = p[mask[p[:, 0].astype(int), p[:, 1].astype(int)]]
    return p[rng.random(len(p)) < keep]


def _scatter(rng: np.random.Generator, mask: np.ndarray, per_px: float) -> np.ndarray:
    n = rng.poisson(per_px * mask.sum())
    idx = np.flatnonzero(mask.ravel())
    if not idx.size or not n:
        return np.zeros((0, 2))
    pick = rng.choice(idx, size=n)
    return np.column_stack(np.unravel_index(pick, mask.shape)).astype(float) + rng.random((n, 2))


def render(seed: int, *, size: int = 512, pigment: str | None = "random", mpp: float | None = None,
           chromogen: str = "dab") -> HeldoutTile:
    """Render one H-DAB Ki67 tile.

    Parameters
    ----------
    seed : int
    size : int
        Tile side (px).
    pigment : {"random", "none"} or a morphology of :data:`MORPHOLOGIES`
        ``"random"``: 1-3 morphologies, melanin 1-25 % of tissue; ``"none"``: no melanin.
    mpp : float, optional
        µm/px (default uniform 0.4-0.6).
    chromogen : {"dab", "aec", "fast_red"}
        The Ki67 chromogen; melanin stays brown-black (near DAB, more neutral) whatever it is.
        The same seed draws the same tissue with every chromogen.
    """
    if chromogen not in CHROMOGENS:
        msg = f"chromogen={chromogen!r}: expected one of {sorted(CHROMOGENS)}"
        raise ValueError(msg)
    rng = np.random.default_rng([seed, 7919, 104729])
    mpp = float(rng.uniform(0.4, 0.6)) if mpp is None else float(mpp)
    um = 1.0 / mpp  # px per µm
    shape = (size, size)
    cv = _Canvas(size)

    # -- stains, glass, optics ------------------------------------------------------------------
    h_vec = _jitter(_H, rng, 8.0)
    brown = _jitter(_DAB, rng, 8.0)
    side = np.random.default_rng([seed, 31])  # its own stream: the tissue does not depend on the chromogen
    d_vec = brown if chromogen == "dab" else _tilt(CHROMOGENS[chromogen], _unit(side.normal(size=3) + 1), 4.0)
    m_angle = rng.uniform(3.0, 12.0)
    m_vec = _tilt(brown, np.ones(3) / math.sqrt(3), m_angle)
    thickness = rng.uniform(0.7, 1.4)
    glass = np.clip(1.0 - rng.uniform(0.0, 0.09, 3), 0.0, 1.0)
    glass = glass / glass.max() * rng.uniform(0.9, 1.0)
    blur = rng.uniform(0.3, 1.2)
    shot = rng.uniform(0.3, 1.5)
    jpeg = int(rng.integers(55, 96)) if rng.random() < 0.7 else None

    # -- tissue layout ---------------------------------------------------------------------------
    tf = _field(rng, shape, 40 * um)
    tissue = tf > np.quantile(tf, rng.uniform(0.0, 0.2))
    tissue = ndi.binary_opening(tissue, iterations=3) | (tf > np.quantile(tf, 0.5))
    nest_share = rng.uniform(0.35, 0.75)
    nf = _field(rng, shape, 25 * um)
    nest = (nf > np.quantile(nf, 1.0 - nest_share)) & tissue
    stroma = tissue & ~nest
    flow = _field(rng, shape, 30 * um) * math.pi  # fibre direction field

    # stroma and cytoplasm background OD (haematoxylin-ish haze, fibrous in stroma)
    fib = ndi.gaussian_filter(rng.normal(size=shape), (0.6 * um, 0.6 * um))
    fib = (fib - fib.mean()) / (fib.std() + 1e-12)
    cv.h += stroma * np.clip(rng.uniform(0.02, 0.07) * (1 + 0.6 * fib), 0, None)
    cv.h += nest * rng.uniform(0.03, 0.08)
    cv.d += tissue * rng.uniform(0.0, 0.03)  # non-specific DAB background

    chrom = _field(rng, shape, 0.5 * um)  # chromatin texture, shared by all nuclei

    rows: list[float] = []
    cols: list[float] = []
    kinds: list[int] = []
    grades: list[int] = []
    radii: list[float] = []

    def nucleus(r: float, c: float, a_um: float, b_um: float, theta: float, h_od: float, kind: int, grade: int,
                *, vesicular: bool = False, dab: float = 0.0, granular: bool = False) -> None:
        a, b = a_um * um, b_um * um
        w = cv.window(r, c, max(a, b) * 1.3 + 2)
        if w is None:
            return
        sr, sc, dy, dx = w
        wob = rng.normal(scale=0.04, size=4) if kind == 0 else rng.normal(scale=0.015, size=3)
        cover, rho = _ellipse(dy, dx, a, b, theta, wob, 0.6)
        tex = 1.0 + rng.uniform(0.15, 0.4) * chrom[sr, sc]
        prof = (0.55 + 0.45 * np.clip(rho, 0, 1) ** 2) if vesicular else 1.0
        h = h_od * cover * np.clip(tex * prof, 0.2, None)
        if dab > 0:
            h *= rng.uniform(0.35, 0.75)  # DAB masks the haematoxylin
            if granular:
                dots = np.zeros_like(cover)
                for _ in range(int(rng.integers(2, 6))):
                    oy, ox = rng.normal(scale=0.35 * min(a, b), size=2)
                    dots += np.exp(-((dy - oy) ** 2 + (dx - ox) ** 2) / (2 * (0.45 * um) ** 2))
                d = dab * 2.5 * np.clip(dots, 0, 1) * cover + 0.25 * dab * cover
            else:
                d = dab * cover * np.clip(1.0 + 0.25 * chrom[sr, sc], 0.3, None)
            cv.d[sr, sc] += d
        if kind == 0 and rng.random() < 0.7:  # nucleolus
            oy, ox = rng.normal(scale=0.25 * min(a, b), size=2)
            h += rng.uniform(0.1, 0.3) * np.exp(-((dy - oy) ** 2 + (dx - ox) ** 2) / (2 * (0.45 * um) ** 2)) * cover
        cv.h[sr, sc] += h
        lab = cv.labels[sr, sc]
        lab[cover > 0.5] = len(rows) + 1
        rows.append(r)
        cols.append(c)
        kinds.append(kind)
        grades.append(grade)
        radii.append(max(a, b))

    # -- tumour cells ----------------------------------------------------------------------------
    nuc_um = rng.uniform(3.6, 5.8)  # mean semi-axis: epithelioid nuclei 7-12 µm across
    spacing_um = 2.0 * nuc_um * rng.uniform(1.3, 1.7)
    cells = _lattice(rng, nest, spacing_um * um, 0.18, rng.uniform(0.8, 0.97))
    pos_share = rng.choice([rng.uniform(0.02, 0.12), rng.uniform(0.15, 0.6)])
    weak_share = rng.uniform(0.1, 0.6)
    h_tumour = rng.uniform(0.22, 0.5)
    vesicular_share = rng.uniform(0.0, 0.8)
    for r, c in cells:
        a = nuc_um * rng.uniform(0.85, 1.2)
        b = a * rng.uniform(0.65, 1.0)
        grade = 0
        dab = 0.0
        if rng.random() < pos_share:
            grade = 1 if rng.random() < weak_share else int(rng.integers(2, 4))
            dab = {1: rng.uniform(0.12, 0.25), 2: rng.uniform(0.25, 0.5), 3: rng.uniform(0.5, 1.1)}[grade]
        nucleus(r, c, a, b, rng.uniform(0, math.pi), h_tumour * rng.uniform(0.8, 1.25), 0, grade,
                vesicular=rng.random() < vesicular_share, dab=dab, granular=grade == 1 and rng.random() < 0.5)

    # -- stroma: spindles, plump fibroblasts, lymphocytes, macrophages -----------------------------
    for r, c in _scatter(rng, stroma, rng.uniform(0.8, 3.0) / 1000 / um**2):
        th = float(flow[int(r), int(c)])
        if rng.random() < rng.uniform(0.0, 0.5):
            nucleus(r, c, rng.uniform(3.0, 5.0), rng.uniform(1.8, 2.8), th, rng.uniform(0.2, 0.4), 2, 0)
        else:
            nucleus(r, c, rng.uniform(4.5, 8.0), rng.uniform(0.9, 1.6), th, rng.uniform(0.35, 0.7), 2, 0)
    lymph_density = rng.uniform(0.3, 6.0) / 1000 / um**2
    for region, share in ((stroma, 1.0), (nest, 0.1)):
        for r, c in _scatter(rng, region, lymph_density * share):
            ra = rng.uniform(2.2, 3.3)
            nucleus(r, c, ra, ra * rng.uniform(0.85, 1.0), rng.uniform(0, math.pi), rng.uniform(0.6, 1.0), 1, 0)
    macs = _scatter(rng, stroma, rng.uniform(0.0, 0.25) / 1000 / um**2)
    for r, c in macs:
        nucleus(r, c, rng.uniform(3.5, 5.0), rng.uniform(2.5, 3.5), rng.uniform(0, math.pi), rng.uniform(0.25, 0.45), 3, 0)

    # -- melanin -----------------------------------------------------------------------------------
    if pigment == "random":
        morph = list(rng.choice(MORPHOLOGIES, size=int(rng.integers(1, 4)), replace=False))
        target = rng.uniform(0.01, 0.25)
    elif pigment in (None, "none"):
        morph, target = [], 0.0
    elif pigment in MORPHOLOGIES:
        morph, target = [pigment], rng.uniform(0.03, 0.2)
    else:
        msg = f"pigment={pigment!r}: expected 'random', 'none' or one of {MORPHOLOGIES}"
        raise ValueError(msg)
    n = len(rows)
    r_arr, c_arr, k_arr = np.asarray(rows), np.asarray(cols), np.asarray(kinds)
    tumour_idx = np.flatnonzero(k_arr[:n] == 0) if n else np.zeros(0, int)
    tissue_px = max(1.0, float(tissue.sum()))
    dark = rng.uniform(0.6, 2.0)
    for mname in morph:
        share = target / len(morph)
        m_before = cv.m.copy()
        goal_px = share * tissue_px
        tries = 0
        while ((cv.m - m_before) > 0.2).sum() < goal_px and tries < 4000:
            tries += 1
            if mname == "confluent":
                r, c = rng.uniform(0, size, 2)
                rad = rng.uniform(6, 20) * um
                w = cv.window(r, c, rad * 1.2)
                if w is None:
                    continue
                sr, sc, dy, dx = w
                cover, _ = _ellipse(dy, dx, rad, rad * rng.uniform(0.5, 1), rng.uniform(0, math.pi),
                                    rng.normal(scale=0.1, size=4), 2.0)
                grain = np.clip(1 + 0.5 * chrom[sr, sc], 0.2, None)
                cv.m[sr, sc] += dark * rng.uniform(0.7, 1.3) * cover * grain * tissue[sr, sc]
                continue
            if mname in ("melanophage", "spindle"):
                pool = macs if mname == "melanophage" and len(macs) and rng.random() < 0.5 else None
                if pool is not None:
                    r, c = pool[rng.integers(len(pool))]
                else:
                    where = np.flatnonzero((stroma if stroma.any() else tissue).ravel())
                    if not where.size:
                        break
                    r, c = (np.array(np.unravel_index(rng.choice(where), shape), float) + rng.random(2))
                if mname == "melanophage":
                    rad = rng.uniform(7, 13) * um
                    k = int(rng.integers(40, 160))
                    ang, rr = rng.uniform(0, 2 * math.pi, k), rad * np.sqrt(rng.random(k))
                    gr, gc = r + rr * np.sin(ang), c + rr * np.cos(ang)
                    dia = rng.uniform(1.0, 3.0, k) * um
                else:
                    th = float(flow[int(min(r, size - 1)), int(min(c, size - 1))])
                    length = rng.uniform(15, 40) * um
                    k = int(rng.integers(15, 60))
                    t = rng.uniform(-0.5, 0.5, k) * length
                    off = rng.normal(scale=1.2 * um, size=k)
                    gr = r + t * math.sin(th) + off * math.cos(th)
                    gc = c + t * math.cos(th) - off * math.sin(th)
                    dia = rng.uniform(0.4, 1.5, k) * um
                    if rng.random() < 0.7:  # the spindle cell's own nucleus
                        nucleus(r, c, rng.uniform(4.5, 7.0), rng.uniform(1.0, 1.7), th, rng.uniform(0.3, 0.6), 2, 0)
                _granules(cv, rng, gr, gc, dia, dark * rng.uniform(0.6, 1.4, k))
                continue
            if not tumour_idx.size:
                break
            i = int(rng.choice(tumour_idx))
            r, c, rad_n = r_arr[i], c_arr[i], radii[i]
            cell_r = spacing_um * um * 0.5
            if mname in ("dusty", "coarse"):
                k = int(rng.integers(15, 70) if mname == "dusty" else rng.integers(6, 25))
                ang = rng.uniform(0, 2 * math.pi, k)
                rr = rng.uniform(rad_n * 1.05, max(rad_n * 1.1, cell_r), k)
                dia = (rng.uniform(0.3, 0.8, k) if mname == "dusty" else rng.uniform(1.0, 3.0, k)) * um
            elif mname == "perinuclear":
                k = int(rng.integers(20, 60))
                ang = rng.uniform(0, 2 * math.pi, k)
                rr = rad_n * rng.uniform(1.0, 1.35, k)
                dia = rng.uniform(0.4, 1.5, k) * um
            else:  # over_nucleus
                k = int(rng.integers(20, 70))
                ang = rng.uniform(0, 2 * math.pi, k)
                rr = rad_n * np.sqrt(rng.random(k)) * 1.1
                dia = rng.uniform(0.4, 1.8, k) * um
            _granules(cv, rng, r + rr * np.sin(ang), c + rr * np.cos(ang), dia, dark * rng.uniform(0.5, 1.4, k))

    # -- truth -------------------------------------------------------------------------------------
    melanin = (cv.m > 0.2) & tissue
    n = len(rows)
    lab = cv.labels
    counts = np.bincount(lab.ravel(), minlength=n + 1)
    under = np.bincount(lab.ravel(), weights=melanin.ravel().astype(float), minlength=n + 1)
    hidden = (under[1:] / np.maximum(counts[1:], 1)) > 0.5

    # -- image formation ---------------------------------------------------------------------------
    od = thickness * (cv.h[..., None] * h_vec + cv.d[..., None] * d_vec + cv.m[..., None] * m_vec)
    inten = glass * np.power(10.0, -od)
    inten = ndi.gaussian_filter(inten, (blur, blur, 0))
    inten = inten * 255.0
    inten = inten + rng.normal(size=inten.shape) * np.sqrt(np.maximum(inten, 0) * shot / 10.0) + rng.normal(
        scale=0.8, size=inten.shape)
    rgb = np.clip(np.round(inten), 0, 255).astype(np.uint8)
    if jpeg is not None:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=jpeg)
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))

    nuclei = {"row": np.asarray(rows, float), "col": np.asarray(cols, float), "kind": np.asarray(kinds, np.int8),
              "grade": np.asarray(grades, np.int8), "hidden": hidden}
    params = {"seed": seed, "mpp": mpp, "h_vec": h_vec.round(3).tolist(), "chromogen": chromogen, "chromogen_vec": d_vec.round(3).tolist(),
              "melanin_angle_deg": round(m_angle, 1), "melanin_dark": round(dark, 2), "thickness": round(thickness, 2),
              "glass": (glass * 255).round(1).tolist(), "blur_px": round(blur, 2), "jpeg": jpeg,
              "positive_share": round(float(pos_share), 3), "weak_share": round(weak_share, 2),
              "morphologies": morph, "melanin_target_pct": round(100 * target, 1)}
    return HeldoutTile(rgb=rgb, mpp=mpp, nuclei=nuclei, labels=lab, melanin=melanin, tissue=tissue, params=params)
