"""Generated tiles with tissue-class truth, for training and checking the tissue (pixel) classifiers.

Rendered like :mod:`mmnst_path.synthetic` (Beer–Lambert from stain concentration maps, stain
vectors rotated a few degrees from the presets, optical blur, sensor noise, scanner white
balance, JPEG), with every appearance parameter drawn at random per tile so that a classifier
trained on them learns the architecture (nuclear density, size and shape, fibres) rather than one
colour. The truth is the class map the concentrations were painted from.

Public API
----------
``ihc_tissue_tile(seed, *, size=384, mpp=0.5, chromogen="dab")``
    Hematoxylin + chromogen (DAB, AEC or Fast Red) IHC with nuclear positivity: tumour nests
    (dense, large, round nuclei, a random share of them positive, faint cytoplasm) in stroma
    (pale fibres, sparse spindle nuclei, scattered lymphocytes), with glass. ``masks``:
    ``tissue``, ``tumour``, ``stroma``; ``truth``: ``tumour_fraction_pct`` (of tissue),
    ``positive_fraction``; ``stains``: the preset to analyse it with.
``he_keratin_tile(seed, *, size=384, mpp=0.5)``
    H&E keratinising squamous carcinoma (keratin pearls / squames), stroma, glass, pen ink, dust.
``he_tissue_tile(seed, *, size=384, mpp=0.5, necrosis=None)``
    H&E tumour nests, dense or oedematous stroma, lymphocyte aggregates and necrosis of many
    appearances (layouts :data:`NECROSIS_LAYOUTS`; pale to hypereosinophilic, ghost nuclei,
    karyorrhexis, haemorrhage), glass; ``masks`` per class, ``truth["necrosis_fraction_pct"]``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi

__all__ = ["CHROMOGEN_STAINS", "NECROSIS_BORDERS", "NECROSIS_LAYOUTS", "TissueTile", "he_keratin_tile", "he_mimic_tile", "he_squamous_sheet_tile", "he_tissue_tile",
           "ihc_tissue_tile"]

_H = (0.650, 0.704, 0.286)
#: chromogen -> (reference OD vector, stain preset to analyse the tile with)
CHROMOGEN_STAINS = {
    "dab": ((0.268, 0.570, 0.776), "H-DAB"),
    "aec": ((0.2743, 0.6796, 0.6803), "H-AEC"),
    "fast_red": ((0.2141, 0.8517, 0.4783), "H-FastRed"),
}


@dataclass(frozen=True)
class TissueTile:
    """A generated tile: ``rgb`` (M, N, 3) uint8 at ``mpp`` µm/px, the stain preset, truth numbers and masks."""

    rgb: np.ndarray
    mpp: float
    stains: str
    truth: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)


def _rotated(vector: tuple[float, ...], degrees: float, rng: np.random.Generator) -> np.ndarray:
    v = np.asarray(vector, np.float64)
    v = v / np.linalg.norm(v)
    d = rng.normal(size=3)
    d -= d.dot(v) * v
    d /= np.linalg.norm(d)
    out = np.abs(math.cos(math.radians(degrees)) * v + math.sin(math.radians(degrees)) * d)
    return out / np.linalg.norm(out)


def _smooth_noise(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    f = ndi.gaussian_filter(rng.normal(size=shape).astype(np.float32), sigma_px, mode="wrap")
    return (f - f.mean()) / (f.std() + 1e-9)


def _fibres(shape: tuple[int, int], mpp: float, rng: np.random.Generator) -> np.ndarray:
    """Oriented fibre texture in [0, 1]: noise stretched along a slowly turning direction."""
    n = rng.normal(size=shape).astype(np.float32)
    ang = rng.uniform(0, np.pi)
    long_px, short_px = rng.uniform(6, 15) / mpp, rng.uniform(0.5, 1.2) / mpp
    # anisotropic smoothing along a rotated axis: rotate, filter along rows / cols, rotate back
    rot = ndi.rotate(n, math.degrees(ang), reshape=True, order=1, mode="wrap")
    rot = ndi.gaussian_filter(rot, (short_px, long_px))
    back = ndi.rotate(rot, -math.degrees(ang), reshape=False, order=1)
    r0 = (back.shape[0] - shape[0]) // 2
    c0 = (back.shape[1] - shape[1]) // 2
    out = back[r0 : r0 + shape[0], c0 : c0 + shape[1]]
    out = (out - out.mean()) / (out.std() + 1e-9)
    return np.clip(0.5 + 0.35 * out, 0, 1).astype(np.float32)


def _place(region: np.ndarray, spacing_px: float, fill: float, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) centres inside ``region``, at least ``spacing_px`` apart (dart throwing), about ``fill`` of the
    densest packing."""
    rr, cc = np.nonzero(region)
    if rr.size == 0:
        return np.zeros((0, 2))
    target = int(fill * rr.size / (0.9 * spacing_px * spacing_px))
    cell = max(1.0, spacing_px / math.sqrt(2))
    grid: dict[tuple[int, int], tuple[float, float]] = {}
    out: list[tuple[float, float]] = []
    for i in rng.permutation(rr.size)[: max(target * 8, 1)]:
        if len(out) >= target:
            break
        r, c = rr[i] + rng.uniform(-0.5, 0.5), cc[i] + rng.uniform(-0.5, 0.5)
        gr, gc = int(r // cell), int(c // cell)
        ok = True
        for dr in (-2, -1, 0, 1, 2):
            for dc in (-2, -1, 0, 1, 2):
                q = grid.get((gr + dr, gc + dc))
                if q is not None and (q[0] - r) ** 2 + (q[1] - c) ** 2 < spacing_px * spacing_px:
                    ok = False
                    break
            if not ok:
                break
        if ok:
            grid[(gr, gc)] = (r, c)
            out.append((r, c))
    return np.asarray(out, np.float64).reshape(-1, 2)


def _ellipse(plane: np.ndarray, r: float, c: float, a_px: float, b_px: float, ang: float, dens: float,
             rng: np.random.Generator) -> np.ndarray | None:
    """Paint a textured ellipse (semi-axes ``a_px`` along ``ang``, ``b_px`` across) with max(); its mask."""
    half = int(max(a_px, b_px)) + 2
    r0, c0 = int(r) - half, int(c) - half
    yy, xx = np.mgrid[r0 : r0 + 2 * half + 1, c0 : c0 + 2 * half + 1].astype(np.float32)
    u = (yy - r) * math.cos(ang) + (xx - c) * math.sin(ang)
    v = -(yy - r) * math.sin(ang) + (xx - c) * math.cos(ang)
    d = np.sqrt((u / a_px) ** 2 + (v / b_px) ** 2)
    inside = np.clip((1 - d) * min(a_px, b_px) + 0.5, 0, 1)
    tex = np.clip(1 + 0.25 * rng.normal(size=d.shape), 0.4, 1.7)
    patch = (dens * inside * tex).astype(np.float32)
    sr0, sc0 = max(0, -r0), max(0, -c0)
    sr1, sc1 = min(patch.shape[0], plane.shape[0] - r0), min(patch.shape[1], plane.shape[1] - c0)
    if sr1 <= sr0 or sc1 <= sc0:
        return None
    view = plane[r0 + sr0 : r0 + sr1, c0 + sc0 : c0 + sc1]
    np.maximum(view, patch[sr0:sr1, sc0:sc1], out=view)
    return inside[sr0:sr1, sc0:sc1] > 0.5


def _camera(od: np.ndarray, mpp: float, rng: np.random.Generator) -> np.ndarray:
    """RGB uint8 of an (M, N, 3) OD image through the optics and camera: blur (sigma 0.3-1 µm), white
    point 225-250 with a white balance of 0.93-1 per channel, sensor noise (sd 0.5-4 grey
    levels) and, for 70 % of the tiles, JPEG at quality 50-95; drawn in that order."""
    blur = rng.uniform(0.3, 1.0) / mpp
    od = ndi.gaussian_filter(od, (blur, blur, 0))
    white = rng.uniform(225, 250) * rng.uniform(0.93, 1.0, size=3)
    rgb = white * np.power(10.0, -od) + rng.normal(0, rng.uniform(0.5, 4), od.shape)
    rgb8 = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb8).save(buf, format="JPEG", quality=int(rng.integers(50, 96)))
        rgb8 = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    return rgb8


def _he_canvas(seed: int, size: int) -> tuple[np.random.Generator, tuple[int, int], np.ndarray, np.ndarray]:
    """The start of an H&E tile: its generator (seeded ``seed``), shape (``size`` x ``size`` px) and zeroed
    hematoxylin and eosin concentration maps (OD, float32)."""
    shape = (size, size)
    return np.random.default_rng(seed), shape, np.zeros(shape, np.float32), np.zeros(shape, np.float32)


def _he_rgb(h: np.ndarray, e: np.ndarray, mpp: float, rng: np.random.Generator,
            before_camera: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
    """RGB uint8 of hematoxylin and eosin concentration maps (OD): the H&E vectors rotated up to 8° each, the
    stain amount (section thickness) x0.7-1.3, then ``before_camera(od)`` (what lies on the slide over the
    stains, added in place to the (M, N, 3) OD) and the camera of :func:`_camera`; drawn in that order."""
    vh, ve = _rotated(_H, rng.uniform(0, 8), rng), _rotated(_E, rng.uniform(0, 8), rng)
    od = h[..., None] * vh.astype(np.float32) + e[..., None] * ve.astype(np.float32)
    od *= rng.uniform(0.7, 1.3)
    if before_camera is not None:
        before_camera(od)
    return _camera(od, mpp, rng)


def ihc_tissue_tile(seed: int, *, size: int = 384, mpp: float = 0.5, chromogen: str = "dab") -> TissueTile:
    """An IHC tile of tumour nests in stroma with glass; every appearance parameter drawn from ``seed``.

    Parameters
    ----------
    seed, size, mpp
        As in :func:`he_tissue_tile` (side in pixels; µm per pixel, 0.25-1).
    chromogen : {"dab", "aec", "fast_red"}

    Returns
    -------
    TissueTile
        ``masks["tumour"]`` / ``["stroma"]`` / ``["tissue"]`` (bool, the painted regions).
    """
    if chromogen not in CHROMOGEN_STAINS:
        msg = f"chromogen must be one of {sorted(CHROMOGEN_STAINS)}, got {chromogen!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    shape = (size, size)
    h = np.zeros(shape, np.float32)
    chrom = np.zeros(shape, np.float32)
    # layout: glass holes, tumour nests (blobs of 40-150 µm), the rest stroma
    tissue = _smooth_noise(shape, rng.uniform(25, 60) / mpp, rng) > rng.uniform(-1.6, -0.3)
    nest_field = _smooth_noise(shape, rng.uniform(15, 45) / mpp, rng)
    tumour = tissue & (nest_field > np.quantile(nest_field, rng.uniform(0.3, 0.8)))
    tumour = ndi.binary_opening(tumour, iterations=max(1, round(3 / mpp)))
    stroma = tissue & ~tumour
    # stroma: pale fibres (counterstain, faint chromogen background), sparse spindle nuclei
    fib = _fibres(shape, mpp, rng)
    h += stroma * fib * rng.uniform(0.02, 0.12) + stroma * rng.uniform(0.01, 0.04)
    chrom += stroma * fib * rng.uniform(0.0, 0.15)
    # tumour: faint cytoplasm (counterstain + chromogen background), dense large nuclei
    cyto = np.clip(1 + 0.3 * _smooth_noise(shape, 1.5 / mpp, rng), 0.3, 2)
    h += tumour * cyto * rng.uniform(0.03, 0.12)
    chrom += tumour * cyto * rng.uniform(0.0, 0.1)
    # positivity is drawn for the whole tile and, in half of the tiles, applies to the stromal and
    # inflammatory cells too: a classifier must not learn "positive = tumour"
    pos_frac = float(rng.choice([rng.uniform(0.0, 0.15), rng.uniform(0.15, 0.8)]))
    stroma_pos = pos_frac if rng.random() < 0.5 else rng.uniform(0.0, 0.1)
    r_lo, r_hi = rng.uniform(2.5, 4.0), rng.uniform(4.2, 6.5)
    centres = _place(tumour, (r_lo + r_hi) / mpp * rng.uniform(0.9, 1.3), rng.uniform(0.5, 1.0), rng)
    h_nuc = rng.uniform(0.15, 0.6)
    n_pos = 0
    for r, c in centres:
        a = rng.uniform(r_lo, r_hi) / mpp
        b = a * rng.uniform(0.7, 1.0)
        if rng.random() < pos_frac:
            n_pos += 1
            _ellipse(chrom, r, c, a, b, rng.uniform(0, np.pi), rng.uniform(0.3, 1.0), rng)
            _ellipse(h, r, c, a, b, 0.0, h_nuc * 0.3, rng)
        else:
            _ellipse(h, r, c, a, b, rng.uniform(0, np.pi), h_nuc * rng.uniform(0.7, 1.3), rng)
    # stroma nuclei: spindle fibroblasts and scattered round lymphocytes
    spindles = _place(stroma, rng.uniform(12, 25) / mpp, rng.uniform(0.3, 0.9), rng)
    for r, c in spindles:
        a, b = rng.uniform(3.5, 7.0) / mpp, rng.uniform(1.0, 1.8) / mpp
        plane = chrom if rng.random() < stroma_pos else h
        _ellipse(plane, r, c, a, b, rng.uniform(0, np.pi), rng.uniform(0.3, 0.8), rng)
    lymphs = _place(stroma, rng.uniform(10, 30) / mpp, rng.uniform(0.1, 0.6), rng)
    for r, c in lymphs:
        rad = rng.uniform(2.2, 3.2) / mpp
        plane = chrom if rng.random() < stroma_pos else h
        _ellipse(plane, r, c, rad, rad * rng.uniform(0.85, 1.0), 0.0, rng.uniform(0.5, 0.9), rng)
    # render: rotated vectors, white balance, blur, noise, JPEG
    chrom_ref, stains = CHROMOGEN_STAINS[chromogen]
    vh, vc = _rotated(_H, rng.uniform(0, 8), rng), _rotated(chrom_ref, rng.uniform(0, 8), rng)
    od = h[..., None] * vh.astype(np.float32) + chrom[..., None] * vc.astype(np.float32)
    od *= rng.uniform(0.7, 1.3)
    rgb8 = _camera(od, mpp, rng)
    n_tis = max(int(tissue.sum()), 1)
    truth = {"tumour_fraction_pct": 100.0 * float(tumour.sum()) / n_tis,
             "positive_fraction": n_pos / max(len(centres), 1), "tumour_nuclei": len(centres)}
    return TissueTile(rgb8, float(mpp), stains, truth, {"tissue": tissue, "tumour": tumour, "stroma": stroma})


_E = (0.0721, 0.9918, 0.1052)  # eosin, as the project's H&E preset


def he_keratin_tile(seed: int, *, size: int = 384, mpp: float = 0.5) -> TissueTile:
    """H&E squamous carcinoma with keratin pearls / squames, stroma, glass, pen ink and dust.

    Keratin is glassy, lamellated eosin (concentric whorls of 15-60 µm radius inside the tumour
    nests, or flat plates of squames) with almost no nuclei; pen strokes (blue, green or black ink,
    20-80 µm wide) over glass and tissue, and dust specks (1-6 µm, grey) on the glass count as
    background. ``masks``: ``tissue``, ``tumour``, ``stroma``, ``keratin``, ``background`` (glass,
    pen, dust); ``truth``: ``keratin_fraction_pct`` (of the tissue outside pen and dust).
    """
    from ._synthetic_keratin import keratin_tile

    return keratin_tile(seed, size=size, mpp=mpp)


def he_squamous_sheet_tile(seed: int, *, size: int = 512, mpp: float = 1.0) -> TissueTile:
    """H&E wide sheets of viable, maturing squamous carcinoma between thin lymphocyte-rich septa, no necrosis.

    Large polygonal cells (14-24 µm apart) with abundant pink cytoplasm, keratinised (eosin) cell borders and
    sparse, pale nuclei that fade and drop out with a smooth maturity field; septa 8-30 µm wide of collagen and
    lymphocytes. A dev analogue (#13, session 27) of the squamous tumour in which a two-stage tissue model grew
    false necrosis. ``masks``: ``tissue``, ``tumour``, ``stroma``, ``background``; ``truth``:
    ``tumour_fraction_pct`` (of the tissue), ``necrosis_fraction_pct`` (0).
    """
    from ._synthetic_squamous import squamous_sheet_tile

    return squamous_sheet_tile(seed, size=size, mpp=mpp)


#: necrosis layouts of :func:`he_tissue_tile`: none (viable only), geographic (a wide area over nests and stroma),
#: comedo (the centres of tumour nests), islands (small foci inside the tumour)
NECROSIS_LAYOUTS = ("none", "geographic", "comedo", "islands")


def _necrosis_layout(kind: str, tissue: np.ndarray, tumour: np.ndarray, mpp: float,
                     rng: np.random.Generator) -> np.ndarray:
    """The necrotic region of :func:`he_tissue_tile` for a layout of :data:`NECROSIS_LAYOUTS`."""
    shape = tissue.shape
    if kind == "geographic":  # a smooth front across nests and stroma, 10-60 % of the tissue
        field = _smooth_noise(shape, rng.uniform(40, 100) / mpp, rng)
        field += rng.uniform(0, 1.2) * np.linspace(-1, 1, shape[1], dtype=np.float32)[None, :] * rng.choice([-1, 1])
        return tissue & (field > np.quantile(field[tissue], 1 - rng.uniform(0.1, 0.6))) if tissue.any() else tissue
    if kind == "comedo":  # nest centres farther than 10-30 µm from the nest's border
        depth = ndi.distance_transform_edt(tumour) * mpp
        return tumour & (depth > rng.uniform(10, 30))
    if kind == "islands":  # foci of 15-50 µm inside the tumour
        field = _smooth_noise(shape, rng.uniform(8, 20) / mpp, rng)
        return tumour & (field > rng.uniform(1.0, 1.8))
    return np.zeros(shape, bool)


#: stroma kinds of :func:`he_tissue_tile`: default (dense collagen of long oriented fibres, or loose oedematous
#: stroma), wavy (:func:`mmnst_path._synthetic_wavy.wavy_stroma`: short wavy, weakly oriented or unoriented
#: collagen, dense bundles with clefts or a loose fine mesh, sparse spindle / wavy nuclei; opt-in, #13 session 22),
#: oedema (:func:`mmnst_path._synthetic_oedema.oedema_stroma`: pale wispy widely spaced fibres with clear space
#: between them, sparse stellate / spindle nuclei, no scattered lymphocytes; opt-in, #13 session 23), matrix and
#: clefted (:mod:`mmnst_path._synthetic_matrix`: dense pink matrix with short random fibres and small vessels; coarse
#: collagen bundles with white clefts; opt-in, #13 session 24)
STROMA_KINDS = ("default", "wavy", "oedema", "matrix", "clefted")
#: necrosis borders of :func:`he_tissue_tile`: default (the layout's smooth front), irregular
#: (:mod:`mmnst_path._synthetic_rim`: viable tumour interdigitating with necrosis and a transition zone of dying
#: hypereosinophilic cells with pyknotic / karyorrhectic nuclei and ghost cells; opt-in, #13 session 23)
NECROSIS_BORDERS = ("default", "irregular")


def he_tissue_tile(seed: int, *, size: int = 384, mpp: float = 0.5, necrosis: str | None = None,
                   stroma_kind: str = "default", necrosis_border: str = "default") -> TissueTile:
    """H&E tumour with stroma, lymphocyte aggregates, necrosis of many appearances and glass.

    Every appearance parameter is drawn per tile, so that a tissue classifier trained on these
    tiles learns what separates the classes rather than one generator's colours:

    - tumour nests (20-60 µm blobs): nuclei 3-7 µm in radius, pale (vesicular) to dark, packed
      loosely to densely, in pale to deeply eosinophilic (squamous-like) cytoplasm;
    - stroma: dense collagen (eosin fibres) or loose oedematous stroma (pale, gaps), spindle
      nuclei; scattered lymphocytes; in most tiles lymphocyte aggregates (class ``inflammatory``);
    - necrosis (layout drawn from :data:`NECROSIS_LAYOUTS` unless ``necrosis`` names one):
      eosin from pale (0.04 OD) to hypereosinophilic (0.6 OD) with a mottled texture, ghost
      nuclei (faded and blurred, 0-100 % of the tumour's nuclear density), karyorrhectic debris (dense
      fragments of 0.4-2 µm at 0.02-1.5 per 100 µm²), nuclear dust, and in some tiles
      haemorrhage (erythrocytes);
    - stain vectors rotated up to 8°, stain amount (section thickness) x0.7-1.3, then the camera
      of :func:`_camera` (blur, white point and balance, noise, JPEG).

    Parameters
    ----------
    seed : int
    size : int
        Side in pixels.
    mpp : float
        µm per pixel (0.25-1).
    necrosis : str or None
        One of :data:`NECROSIS_LAYOUTS`; None draws it (a quarter of the tiles without necrosis).
    stroma_kind : str
        One of :data:`STROMA_KINDS`. ``"wavy"`` paints the stroma with
        :func:`mmnst_path._synthetic_wavy.wavy_stroma` (its own generator, seeded from ``seed``) instead; the rest of
        the tile (layout, nuclei, necrosis, stains, camera) is the default tile's. ``"oedema"`` paints it with
        :func:`mmnst_path._synthetic_oedema.oedema_stroma` (generator seeded ``(seed, 23)``) and leaves out the
        scattered lymphocytes of the stroma (their draws still happen; lymphocyte aggregates stay). ``"matrix"``
        (dense pink matrix, short random fibres, small vessels) and ``"clefted"`` (coarse collagen bundles with
        white clefts) paint it with :mod:`mmnst_path._synthetic_matrix` (generator seeded ``(seed, 25)``) and leave
        out the scattered lymphocytes as ``"oedema"`` does.
    necrosis_border : str
        One of :data:`NECROSIS_BORDERS`. ``"irregular"`` makes the necrotic region's border irregular
        (:func:`mmnst_path._synthetic_rim.irregular_necrosis`, within the tissue, or the tumour for the comedo and
        islands layouts) and paints a transition zone of dying cells on its necrotic side
        (:func:`mmnst_path._synthetic_rim.paint_dying_zone`), both from a generator seeded ``(seed, 24)``.

    Returns
    -------
    TissueTile
        ``masks``: ``tissue``, ``tumour`` (viable), ``stroma``, ``inflammatory``, ``necrosis``,
        ``background`` (the first four and the last partition the tile); ``truth``:
        ``necrosis_fraction_pct`` (of tissue), ``layout``.
    """
    if necrosis is not None and necrosis not in NECROSIS_LAYOUTS:
        msg = f"necrosis must be one of {NECROSIS_LAYOUTS} or None, got {necrosis!r}"
        raise ValueError(msg)
    if stroma_kind not in STROMA_KINDS:
        msg = f"he_tissue_tile: stroma_kind must be one of {STROMA_KINDS}, got {stroma_kind!r}"
        raise ValueError(msg)
    if necrosis_border not in NECROSIS_BORDERS:
        msg = f"he_tissue_tile: necrosis_border must be one of {NECROSIS_BORDERS}, got {necrosis_border!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    layout = str(rng.choice(NECROSIS_LAYOUTS, p=(0.25, 0.35, 0.2, 0.2))) if necrosis is None else necrosis
    shape = (size, size)
    um2_px = 1.0 / (mpp * mpp)
    h = np.zeros(shape, np.float32)
    e = np.zeros(shape, np.float32)
    tissue = _smooth_noise(shape, rng.uniform(30, 80) / mpp, rng) > rng.uniform(-1.8, -0.5)
    nest_field = _smooth_noise(shape, rng.uniform(20, 60) / mpp, rng)
    tumour = tissue & (nest_field > np.quantile(nest_field, rng.uniform(0.3, 0.75)))
    nec = _necrosis_layout(layout, tissue, tumour, mpp, rng)
    rng_rim = np.random.default_rng((seed, 24)) if necrosis_border == "irregular" else None
    if rng_rim is not None:  # (its own generator: the draws of the default path are made as they are)
        from ._synthetic_rim import irregular_necrosis

        nec = irregular_necrosis(nec, tumour if layout in ("comedo", "islands") else tissue, mpp, rng_rim)
    stroma = tissue & ~tumour
    inflam = np.zeros(shape, bool)
    if rng.random() < 0.7:  # lymphocyte aggregates in the stroma
        agg = _smooth_noise(shape, rng.uniform(10, 30) / mpp, rng)
        inflam = stroma & ~nec & (agg > rng.uniform(0.6, 1.5))
    tumour &= ~nec
    stroma &= ~nec & ~inflam
    # stroma: dense collagen or loose oedematous matrix, spindle nuclei
    fib = _fibres(shape, mpp, rng)
    if rng.random() < 0.35:  # loose / oedematous
        e += stroma * (rng.uniform(0.02, 0.06) + fib * rng.uniform(0.03, 0.12))
        e *= np.where(stroma, _smooth_noise(shape, 3 / mpp, rng) > -1.0, 1).astype(np.float32)
    else:
        e += stroma * (rng.uniform(0.05, 0.2) + fib * rng.uniform(0.1, 0.4))
    h += stroma * fib * rng.uniform(0.0, 0.04)
    for r, c in _place(stroma, rng.uniform(12, 30) / mpp, rng.uniform(0.3, 0.9), rng):
        _ellipse(h, r, c, rng.uniform(3.5, 7) / mpp, rng.uniform(0.9, 1.8) / mpp, rng.uniform(0, np.pi),
                 rng.uniform(0.3, 0.7), rng)
    if stroma_kind == "wavy":  # h and e hold only the stroma so far: repaint it (the draws above keep the rest as is)
        from ._synthetic_wavy import wavy_stroma

        h, e = wavy_stroma(stroma, mpp, np.random.default_rng((seed, 22)))
    elif stroma_kind == "oedema":
        from ._synthetic_oedema import oedema_stroma

        h, e = oedema_stroma(stroma, mpp, np.random.default_rng((seed, 23)))
    elif stroma_kind in ("matrix", "clefted"):
        from ._synthetic_matrix import clefted_stroma, matrix_stroma

        paint = matrix_stroma if stroma_kind == "matrix" else clefted_stroma
        h, e = paint(stroma, mpp, np.random.default_rng((seed, 25)))
    lym_h = rng.uniform(0.45, 0.9)
    # oedema / matrix / clefted: the stroma's scattered lymphocytes are drawn (the rest of the tile stays the
    # default's) but not painted
    lym_planes = (h if stroma_kind in ("default", "wavy") else np.zeros(shape, np.float32), h)
    for plane, region, spacing in zip(lym_planes, (stroma, inflam), (rng.uniform(12, 40), rng.uniform(5.5, 8.0)),
                                      strict=True):
        for r, c in _place(region, spacing / mpp, rng.uniform(0.4, 1.0), rng):
            rad = rng.uniform(2.2, 3.3) / mpp
            _ellipse(plane, r, c, rad, rad * rng.uniform(0.85, 1.0), 0.0, lym_h * rng.uniform(0.8, 1.2), rng)
    e += inflam * rng.uniform(0.03, 0.1)
    # tumour: cytoplasm and nuclei
    cyto = np.clip(1 + 0.25 * _smooth_noise(shape, 2.0 / mpp, rng), 0.4, 2)
    e_cyto = rng.uniform(0.08, 0.35)
    e += tumour * cyto * e_cyto
    h += tumour * cyto * rng.uniform(0.02, 0.07)
    r_lo = rng.uniform(3.0, 4.5)
    r_hi = r_lo + rng.uniform(0.5, 2.5)
    spacing = (r_lo + r_hi) * rng.uniform(1.0, 1.5)
    h_nuc = rng.uniform(0.35, 0.8)  # viable nuclei stay darker and crisper than the ghosts of necrosis
    nuclei = np.zeros(shape, np.float32)
    for r, c in _place(tumour, spacing / mpp, rng.uniform(0.5, 1.0), rng):
        a = rng.uniform(r_lo, r_hi) / mpp
        _ellipse(nuclei, r, c, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), h_nuc * rng.uniform(0.7, 1.3), rng)
    np.maximum(h, nuclei, out=h)
    nec &= ~(nuclei > 0.1)  # a viable nucleus reaching over the drawn border is viable tissue
    # necrosis: eosin matrix, ghost nuclei, karyorrhectic debris, nuclear dust, haemorrhage
    if nec.any():
        e_nec = float(np.exp(rng.uniform(np.log(0.04), np.log(0.6))))
        mottle = np.clip(1 + rng.uniform(0.1, 0.35) * _smooth_noise(shape, rng.uniform(1.5, 5) / mpp, rng), 0.3, 2)
        e += nec * mottle * e_nec
        h += nec * mottle * rng.uniform(0.0, 0.05)
        ghost_h = np.zeros(shape, np.float32)
        for r, c in _place(nec, spacing * rng.uniform(1.0, 3.0) / mpp, rng.uniform(0.0, 1.0), rng):
            a = rng.uniform(r_lo, r_hi) / mpp
            _ellipse(ghost_h, r, c, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), rng.uniform(0.03, 0.15), rng)
        h += ndi.gaussian_filter(ghost_h, rng.uniform(0.4, 1.0) / mpp) * nec  # ghosts: faded, blurred outlines
        per_px = rng.uniform(0.02, 1.5) / 100.0 / um2_px
        frag = nec & (rng.random(shape) < per_px)
        frag_h = np.zeros(shape, np.float32)
        frag_h[frag] = rng.uniform(0.4, 1.0, size=int(frag.sum()))
        frag_h = ndi.grey_dilation(frag_h, size=max(1, round(rng.uniform(0.4, 2.0) / mpp)))
        h += ndi.gaussian_filter(frag_h, 0.3 / mpp) * nec
        h += nec * (rng.uniform(0.0, 0.12) * (_smooth_noise(shape, 0.8 / mpp, rng) > 1.0))
        if rng.random() < 0.3:  # haemorrhagic necrosis: erythrocytes (eosin-dense discs)
            for r, c in _place(nec, rng.uniform(7, 14) / mpp, rng.uniform(0.2, 0.8), rng):
                rad = rng.uniform(3.0, 4.0) / mpp
                _ellipse(e, r, c, rad, rad * rng.uniform(0.8, 1.0), 0.0, rng.uniform(0.5, 0.9), rng)
    if rng_rim is not None:
        from ._synthetic_rim import paint_dying_zone

        paint_dying_zone(h, e, nec, tumour, mpp, rng_rim, radius_um=(r_lo, r_hi))
    rgb8 = _he_rgb(h, e, mpp, rng)
    n_tis = max(int(tissue.sum()), 1)
    truth = {"necrosis_fraction_pct": 100.0 * float(nec.sum()) / n_tis, "layout": layout}
    # tumour: the nests and the viable nuclei that reach over the drawn necrosis border
    masks = {"tissue": tissue, "tumour": tissue & ~(stroma | inflam | nec), "stroma": stroma, "inflammatory": inflam,
             "necrosis": nec, "background": ~tissue}
    return TissueTile(rgb8, float(mpp), "H&E", truth, masks)


def he_mimic_tile(seed: int, *, size: int = 384, mpp: float = 0.5, necrosis: str | None = None) -> TissueTile:
    """H&E with the tissues that look necrotic and are not, beside viable tumour and (in some tiles) necrosis.

    The tile is split into regions (smooth-noise fields, 25-80 µm) of viable tumour (in 70 % of the
    tiles; squamous-like in 40 % of them: cells 12-22 µm with dense eosinophilic cytoplasm, 0.2-0.55 OD,
    one intact nucleus each, so dense pink tissue with intact nuclei is viable) and two to four mimics of :data:`mmnst_path._synthetic_mimics.MIMIC_KINDS` (dense or
    hyalinised collagen with clefts, oedematous stroma, packed or lysed blood, mucin, keratin, fat),
    with necrosis (coagulative with ghost cells, dirty with karyorrhectic dust, liquefactive, or a dense
    hypereosinophilic sheet with fine dust) in 55 % of the tiles unless ``necrosis`` says. Hematoxylin is
    rotated up to 10°; eosin and haemoglobin come from
    :func:`mmnst_path._synthetic_mimics.stain_vectors` (eosin hue anywhere from magenta-pink to red-pink,
    haemoglobin orange-red at least 12° from it); the stain amount (section thickness) x0.6-1.4 per stain,
    then the camera of :func:`_camera` (blur, white point and balance, noise, JPEG).

    Parameters
    ----------
    seed, size, mpp
        As in :func:`he_tissue_tile` (side in pixels; µm per pixel, 0.25-1).
    necrosis : str or None
        ``"none"``, one of :data:`mmnst_path._synthetic_mimics.NECROSIS_KINDS`, or None to draw.

    Returns
    -------
    TissueTile
        ``masks``: ``tissue``, ``tumour``, ``stroma`` (collagen, oedema), ``necrosis``, ``blood``,
        ``mucin``, ``keratin``, ``fat``, ``background``; ``truth``: ``necrosis_fraction_pct`` (of
        tissue), ``kinds`` (the regions drawn), ``necrosis_kind``.
    """
    from ._synthetic_mimics import (
        MIMIC_KINDS,
        NECROSIS_KINDS,
        _cells,
        paint_mimic,
        paint_necrosis,
        stain_vectors,
    )

    if necrosis is not None and necrosis != "none" and necrosis not in NECROSIS_KINDS:
        msg = f"necrosis must be 'none', one of {NECROSIS_KINDS} or None, got {necrosis!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    nec_kind = (str(rng.choice(NECROSIS_KINDS)) if rng.random() < 0.55 else "none") if necrosis is None else necrosis
    shape = (size, size)
    kinds = [str(k) for k in rng.choice(sorted(MIMIC_KINDS), size=int(rng.integers(2, 5)), replace=False)]
    regions = kinds + (["tumour"] if rng.random() < 0.7 else []) + ([nec_kind] if nec_kind != "none" else [])
    scale = rng.uniform(25, 80) / mpp
    fields = np.stack([_smooth_noise(shape, scale * rng.uniform(0.7, 1.3), rng) + rng.normal(0, 0.3)
                       for _ in regions])
    which = np.argmax(fields, axis=0)
    tissue = _smooth_noise(shape, rng.uniform(40, 90) / mpp, rng) > rng.uniform(-2.5, -0.6)
    h = np.zeros(shape, np.float32)
    e = np.zeros(shape, np.float32)
    r = np.zeros(shape, np.float32)
    masks = {name: np.zeros(shape, bool) for name in ("tumour", "stroma", "necrosis", "blood", "mucin", "keratin", "fat")}
    r_lo = rng.uniform(3.0, 4.5)
    r_hi = r_lo + rng.uniform(0.5, 2.5)
    spacing = (r_lo + r_hi) * rng.uniform(1.0, 1.5)
    for i, kind in enumerate(regions):
        region = tissue & (which == i)
        if kind == "tumour":
            cyto = np.clip(1 + 0.25 * _smooth_noise(shape, 2.0 / mpp, rng), 0.4, 2)
            squamous = rng.random() < 0.4  # large cells, abundant dense eosinophilic cytoplasm, cell borders
            cell_um = rng.uniform(12, 22) if squamous else spacing
            e += region * cyto * (rng.uniform(0.2, 0.55) if squamous else rng.uniform(0.08, 0.35))
            h += region * cyto * rng.uniform(0.02, 0.07)
            if squamous:
                _, edge = _cells(shape, cell_um, mpp, rng)
                border = ndi.gaussian_filter(edge.astype(np.float32), 0.4 / mpp)
                e += region * border / max(float(border.max()), 1e-6) * rng.uniform(-0.15, 0.15)
            nuclei = np.zeros(shape, np.float32)
            h_nuc = rng.uniform(0.35, 0.8)
            for rr, cc in _place(region, cell_um / mpp, rng.uniform(0.5, 1.0), rng):
                a = rng.uniform(r_lo, r_hi) / mpp
                _ellipse(nuclei, rr, cc, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi),
                         h_nuc * rng.uniform(0.7, 1.3), rng)
            np.maximum(h, nuclei * region, out=h)
            masks["tumour"] |= region
        elif kind in NECROSIS_KINDS:
            paint_necrosis(kind, h, e, r, region, mpp, rng, spacing_um=spacing, radius_um=(r_lo, r_hi))
            masks["necrosis"] |= region
        else:
            paint_mimic(kind, h, e, r, region, mpp, rng)
            masks[MIMIC_KINDS[kind]] |= region
    vh = _rotated(_H, rng.uniform(0, 10), rng).astype(np.float32)
    ve, vr = stain_vectors(rng)
    od = (h[..., None] * vh * rng.uniform(0.6, 1.4) + e[..., None] * ve * rng.uniform(0.6, 1.4)
          + r[..., None] * vr * rng.uniform(0.7, 1.3))
    rgb8 = _camera(od, mpp, rng)
    n_tis = max(int(tissue.sum()), 1)
    truth = {"necrosis_fraction_pct": 100.0 * float(masks["necrosis"].sum()) / n_tis, "kinds": regions,
             "necrosis_kind": nec_kind}
    return TissueTile(rgb8, float(mpp), "H&E", truth, {"tissue": tissue, **masks, "background": ~tissue})
