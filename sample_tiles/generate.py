"""Generate the bundled sample tiles with known truth (deterministic, seeded).

Run ``python sample_tiles/generate.py`` from the project root: it rewrites the TIFF tiles of this
folder and ``truth.json``. Every tile is rendered with the Beer–Lambert law: each stain has a
concentration map (log10 optical density units along its unit OD vector) and the RGB image is
``I = 255 * 10 ** -(sum_i c_i v_i)``. To keep the tiles from being trivially easy, every tile
uses stain vectors rotated by a few degrees from the reference presets, textured nuclei of
varying size and shape that touch and overlap, stroma, glass, blur, sensor noise and JPEG
compression.

Realism choices that matter for the measured values (see ``ki67_tile`` and ``he_background``):
in Ki67 IHC the collagen stroma takes almost no hematoxylin, so it is rendered near white with a
faint blue tint and a bounded fibrillar texture (never nucleus-dark streaks), holding sparse
spindle fibroblast nuclei that the truth counts as Ki67-negative; a positive nucleus's DAB and
hematoxylin counterstain are painted in one shared nuclear contour (``NucleusShape``), as on a
real slide. In H&E, collagen is confined to the stroma, not drawn over tumour cell sheets.

Tiles (0.5 µm/px, 1024 x 1024 px = 512 x 512 µm, stored as JPEG-compressed TIFF whose
resolution tags carry the pixel size, so no ``--mpp`` is needed):

- ``ki67_primary.tif`` – Ki67 IHC (hematoxylin + DAB), about 6 % positive tumour nuclei;
- ``ki67_recurrence.tif`` – Ki67 IHC, about 40 % positive;
- ``ki67_pigmented.tif`` – Ki67 IHC, about 15 % positive, with melanin granules and
  melanophages over negative cells (the brown that must not count);
- ``he_melanin.tif`` – H&E with melanin pigment (true melanin fraction of tissue);
- ``he_necrosis.tif`` – H&E with a necrotic area (true necrosis fraction of tissue).

The true values are computed from the rendered objects (not chosen by hand) and written to
``truth.json``; ``README.md`` lists them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

MPP = 0.5
SIZE = 1024
HERE = Path(__file__).resolve().parent

# reference OD vectors (Ruifrok & Johnston 2001; QuPath's eosin); melanin: brown-black, a few
# degrees from DAB and more achromatic (no published vector exists)
H_REF = (0.650, 0.704, 0.286)
DAB_REF = (0.268, 0.570, 0.776)
EOSIN_REF = (0.2159, 0.8012, 0.5581)
MELANIN_REF = (0.36, 0.58, 0.73)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def perturb(vector: tuple[float, float, float], degrees: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate a unit OD vector by ``degrees`` towards a random direction (kept non-negative)."""
    v = _unit(np.asarray(vector, dtype=np.float64))
    while True:
        d = rng.normal(size=3)
        d -= d.dot(v) * v
        d = _unit(d)
        out = math.cos(math.radians(degrees)) * v + math.sin(math.radians(degrees)) * d
        if np.all(out > 0.02):
            return _unit(out)


def smooth_noise(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian-smoothed white noise rescaled to zero mean and unit std, float32."""
    field = ndi.gaussian_filter(rng.normal(size=shape).astype(np.float32), sigma_px)
    return (field - field.mean()) / (field.std() + 1e-9)


@dataclass(frozen=True)
class Nucleus:
    row: float
    col: float
    radius_px: float
    positive: bool


def place_nuclei(
    region: np.ndarray, n_target: int, rng: np.random.Generator, *, radius_um: tuple[float, float] = (3.2, 5.5)
) -> list[tuple[float, float, float]]:
    """Random centres inside ``region`` whose discs touch but barely overlap (dart throwing)."""
    rows, cols = region.shape
    placed: list[tuple[float, float, float]] = []
    grid: dict[tuple[int, int], list[int]] = {}
    cell = 2 * radius_um[1] / MPP
    for _ in range(n_target * 40):
        if len(placed) >= n_target:
            break
        rad = rng.uniform(*radius_um) / MPP
        r, c = rng.uniform(1.3 * rad + 3, rows - 1.3 * rad - 3), rng.uniform(1.3 * rad + 3, cols - 1.3 * rad - 3)
        if not region[int(r), int(c)]:
            continue
        key = (int(r // cell), int(c // cell))
        ok = True
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for j in grid.get((key[0] + dr, key[1] + dc), ()):
                    r2, c2, rad2 = placed[j]
                    if math.hypot(r - r2, c - c2) < 0.92 * (rad + rad2):
                        ok = False
                        break
        if ok:
            grid.setdefault(key, []).append(len(placed))
            placed.append((r, c, rad))
    return placed


@dataclass(frozen=True)
class NucleusShape:
    """One nucleus's contour and chromatin texture on a local box (level-0 px).

    ``edge`` is the soft (~1 px) nuclear mask in [0, 1] and ``profile`` the chromatin texture times
    the slightly darker nuclear membrane, both ``(2 * half + 1, 2 * half + 1)`` float32 arrays whose
    pixel (0, 0) sits at image pixel ``(r0, c0)``. Every stain of the nucleus (hematoxylin
    counterstain and, for a Ki67-positive nucleus, DAB) is painted with the same ``edge``, so both
    occupy the same nuclear contour, as they do on a real slide.
    """

    r0: int
    c0: int
    edge: np.ndarray
    profile: np.ndarray


def nucleus_shape(
    row: float, col: float, radius: float, rng: np.random.Generator, *, aspect: tuple[float, float] = (0.7, 1.0)
) -> NucleusShape:
    """Draw a random textured, slightly irregular elliptical nucleus of mean radius ``radius`` px.

    ``aspect`` is the range of the minor/major axis ratio (spindle fibroblast nuclei ~0.2-0.35).
    """
    ratio = rng.uniform(*aspect)
    angle = rng.uniform(0, math.pi)
    a, b = radius / math.sqrt(ratio), radius * math.sqrt(ratio)
    half = math.ceil(a) + 3
    r0, c0 = int(row) - half, int(col) - half
    rr, cc = np.mgrid[r0 : r0 + 2 * half + 1, c0 : c0 + 2 * half + 1].astype(np.float32)
    dr, dc = rr - row, cc - col
    u = dr * math.cos(angle) + dc * math.sin(angle)
    v = -dr * math.sin(angle) + dc * math.cos(angle)
    theta = np.arctan2(v, u)
    wobble = 1 + 0.06 * np.sin(3 * theta + rng.uniform(0, 6)) + 0.04 * np.sin(5 * theta + rng.uniform(0, 6))
    dist = np.sqrt((u / a) ** 2 + (v / b) ** 2) / wobble
    edge = np.clip((1.0 - dist) * min(a, b) / 1.2 + 0.5, 0, 1)  # ~1 px soft edge
    rim = 1 + 0.25 * np.clip(dist - 0.7, 0, 0.3) / 0.3  # nuclear membrane slightly darker
    return NucleusShape(r0, c0, edge.astype(np.float32), (_texture(dist.shape, rng) * rim).astype(np.float32))


def _texture(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Granular chromatin texture around 1 (fine noise plus ~1 µm clumps), clipped to [0.4, 1.8]."""
    t = 1 + 0.18 * rng.normal(size=shape) + 0.25 * ndi.gaussian_filter(rng.normal(size=shape), 1.2)
    return np.clip(t, 0.4, 1.8)


def paint(conc: np.ndarray, shape: NucleusShape, density: float, texture: np.ndarray | None = None) -> None:
    """Max-composite ``density * edge * texture`` of ``shape`` into ``conc`` (clipped to the image).

    ``texture`` defaults to the shape's own chromatin profile; pass another texture of the same
    box shape to give a second stain its own granularity inside the same contour.
    """
    patch = density * shape.edge * (shape.profile if texture is None else texture)
    r0, c0 = shape.r0, shape.c0
    pr0, pc0 = max(0, -r0), max(0, -c0)
    pr1 = min(patch.shape[0], conc.shape[0] - r0)
    pc1 = min(patch.shape[1], conc.shape[1] - c0)
    view = conc[r0 + pr0 : r0 + pr1, c0 + pc0 : c0 + pc1]
    np.maximum(view, patch[pr0:pr1, pc0:pc1].astype(np.float32), out=view)


def paint_nucleus(
    conc: np.ndarray, row: float, col: float, radius: float, density: float, rng: np.random.Generator
) -> NucleusShape:
    """Add one textured nucleus of a single stain to ``conc``; return its shape."""
    shape = nucleus_shape(row, col, radius, rng)
    paint(conc, shape, density)
    return shape


def render(concs: list[np.ndarray], vectors: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Beer–Lambert RGB from stain concentrations, with optical blur and sensor noise."""
    od = np.zeros((*concs[0].shape, 3), dtype=np.float32)
    for c, v in zip(concs, vectors, strict=True):
        od += c[..., None] * v.astype(np.float32)
    od = ndi.gaussian_filter(od, sigma=(0.8, 0.8, 0))
    background = np.array([242.0, 240.0, 245.0]) + rng.normal(0, 2, size=3)
    rgb = background * 10.0 ** (-od)
    rgb += rng.normal(0, 2.5, size=rgb.shape)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def tissue_layout(rng: np.random.Generator, glass_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(tissue, tumour) masks: glass holes and stroma bands from thresholded smooth noise."""
    shape = (SIZE, SIZE)
    g = smooth_noise(shape, 60, rng)
    tissue = g > np.quantile(g, glass_fraction)
    s = smooth_noise(shape, 45, rng)
    tumour = tissue & (s > np.quantile(s, 0.25))
    return tissue, tumour


def collagen(region: np.ndarray, rng: np.random.Generator, level: float, contrast: float) -> np.ndarray:
    """Collagen concentration with a faint, bounded fibrillar texture inside ``region``.

    Values stay within ``level * (1 ± contrast)``: collagen bundles are a smooth, pale material
    whose fibres differ little in stain uptake, not streaks as dark as a nucleus.
    """
    fib = ndi.gaussian_filter(rng.normal(size=region.shape).astype(np.float32), (1.0, 7.0))
    fib = np.tanh(fib / (fib.std() + 1e-9))
    return (level * (1 + contrast * fib) * region).astype(np.float32)


def fibroblast_sites(stroma_region: np.ndarray, tumour: np.ndarray, rng: np.random.Generator) -> list:
    """Sparse stromal fibroblast centres: ~1 per 1500 µm² of stroma, >= 12 µm from tumour and glass.

    Kept away from the tumour so a spindle nucleus never overlaps a tumour nucleus.
    """
    away = ndi.distance_transform_edt(stroma_region & ~tumour) * MPP >= 12.0
    n = int(away.sum() * MPP**2 / 1500.0)
    return place_nuclei(away, n, rng, radius_um=(2.6, 3.4)) if n else []


def ki67_tile(seed: int, positive_fraction: float, *, pigment: bool = False) -> tuple[np.ndarray, dict]:
    """A Ki67 IHC tile and its truth (positive / negative nucleus counts).

    Rendering (hematoxylin counterstain + DAB, no eosin):
    - tumour: sheets of touching nuclei over pale counterstained cytoplasm (H 0.05, DAB 0.02 OD);
      a negative nucleus is hematoxylin only (0.32-0.6 OD); a positive nucleus is DAB (1+/2+/3+)
      plus a light hematoxylin counterstain (0.15 OD) painted inside the *same* contour, as on a
      real slide where both stains fill the nucleus;
    - stroma: collagen takes almost no hematoxylin, so it is near white with a faint blue tint
      (H ~0.025 ± 40 % OD, fine fibrillar texture) and holds sparse spindle fibroblast nuclei
      (12 x 3 µm, H 0.35-0.55 OD, always Ki67-negative);
    - glass holes, slight non-specific DAB everywhere on tissue (0.015-0.02 OD).
    Truth: the analysed content is the whole tile, and the tool counts every nucleus in it, so the
    stromal fibroblasts are counted as negatives in ``ki67_negative`` / ``ki67_index_pct``; the
    tumour-only index (what a pathologist drawing a tumour ROI would get) is
    ``ki67_tumour_index_pct``.
    """
    rng = np.random.default_rng(seed)
    h_vec, dab_vec = perturb(H_REF, 3.0, rng), perturb(DAB_REF, 3.0, rng)
    tissue, tumour = tissue_layout(rng, 0.08)
    stroma_region = tissue & ~tumour
    hem = collagen(stroma_region, rng, 0.025, 0.4)
    hem += (0.05 * (1 + 0.15 * smooth_noise(tissue.shape, 6, rng)) * tumour).astype(np.float32)
    dab = (0.02 * tissue * (1 + 0.3 * smooth_noise(tissue.shape, 8, rng))).astype(np.float32)
    dab -= 0.005 * stroma_region
    dab = np.clip(dab, 0, None)
    centres = place_nuclei(tumour, 1100, rng)
    positives = rng.random(len(centres)) < positive_fraction
    nuc_h = np.zeros_like(hem)
    nuc_d = np.zeros_like(hem)
    for (r, c, rad), pos in zip(centres, positives, strict=True):
        shape = nucleus_shape(r, c, rad, rng)
        if pos:
            intensity = rng.choice([0.45, 0.75, 1.1], p=[0.35, 0.4, 0.25]) * rng.uniform(0.85, 1.15)
            paint(nuc_d, shape, intensity)
            paint(nuc_h, shape, 0.15, _texture(shape.edge.shape, rng))
        else:
            paint(nuc_h, shape, rng.uniform(0.32, 0.6))
    fibroblasts = fibroblast_sites(stroma_region, tumour, rng)
    for r, c, rad in fibroblasts:
        paint(nuc_h, nucleus_shape(r, c, rad, rng, aspect=(0.2, 0.35)), rng.uniform(0.35, 0.55))
    concs, vecs = [hem + nuc_h, dab + nuc_d], [h_vec, dab_vec]
    n_pos, n_tumour_neg = int(positives.sum()), int((~positives).sum())
    truth: dict = {
        "stains": "H-DAB",
        "ki67_positive": n_pos,
        "ki67_negative": n_tumour_neg + len(fibroblasts),
        "ki67_tumour_negative": n_tumour_neg,
        "stromal_nuclei": len(fibroblasts),
    }
    if pigment:
        mel_vec = perturb(MELANIN_REF, 2.0, rng)
        mel = melanin_granules(tumour, rng, centres=[c for c, p in zip(centres, positives, strict=True) if not p])
        concs.append(mel)
        vecs.append(mel_vec)
        truth["melanin_fraction_pct"] = round(100 * float((mel > 0.15).sum()) / float(tissue.sum()), 2)
    truth["ki67_index_pct"] = round(100 * n_pos / (n_pos + truth["ki67_negative"]), 2)
    truth["ki67_tumour_index_pct"] = round(100 * n_pos / (n_pos + n_tumour_neg), 2)
    truth["tissue_fraction_pct"] = round(100 * float(tissue.mean()), 2)
    return render(concs, vecs, rng), truth


def melanin_granules(
    region: np.ndarray, rng: np.random.Generator, *, centres: list | None = None, n_cells: int = 70
) -> np.ndarray:
    """Melanin concentration: granule clusters in cytoplasm around cells and large melanophages."""
    mel = np.zeros(region.shape, dtype=np.float32)
    seeds = np.zeros(region.shape, dtype=bool)
    # (row, col, outer radius px, inner fraction of the area left free, granule count range)
    coords: list[tuple[float, float, float, float, tuple[int, int]]] = []
    if centres:  # pigmented tumour cells: a ring of granules in the cytoplasm, around the nucleus
        pick = rng.choice(len(centres), size=min(n_cells, len(centres)), replace=False)
        coords += [(centres[i][0], centres[i][1], centres[i][2] * 2.0, 0.35, (40, 120)) for i in pick]
    rr, cc = np.nonzero(region)
    for i in rng.choice(len(rr), size=12, replace=False):  # melanophages: big, densely packed, filled
        coords.append((float(rr[i]), float(cc[i]), rng.uniform(10, 16) / MPP, 0.0, (150, 300)))
    for r, c, spread, inner, count in coords:
        n = int(rng.integers(*count))
        ang = rng.uniform(0, 2 * math.pi, n)
        dist = spread * np.sqrt(rng.uniform(inner, 1.0, n))
        gr = np.clip((r + dist * np.sin(ang)).astype(int), 0, region.shape[0] - 1)
        gc = np.clip((c + dist * np.cos(ang)).astype(int), 0, region.shape[1] - 1)
        seeds[gr, gc] = True
    # granules 0.5-2 µm: dilate seeds by 1-2 px discs with random density
    grains = ndi.binary_dilation(seeds, iterations=1) | ndi.binary_dilation(
        seeds & (rng.random(region.shape) < 0.3), iterations=2
    )
    dens = rng.uniform(0.8, 1.6, size=region.shape).astype(np.float32)
    mel[grains] = dens[grains]
    return ndi.gaussian_filter(mel, 0.6) * region


def he_background(tissue: np.ndarray, tumour: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(eosin, hematoxylin) of H&E tissue without nuclei: tumour cytoplasm and collagen stroma.

    Tumour cytoplasm is smooth pale pink-purple (eosin 0.15 ± 15 %, hematoxylin 0.03 OD); the
    stroma (``tissue & ~tumour``) is collagen, denser pink with a faint fibrillar texture (eosin
    0.30 ± 30 %, hematoxylin 0.02 OD). Collagen is not drawn over the tumour cell sheets.
    """
    stroma_region = tissue & ~tumour
    eos = collagen(stroma_region, rng, 0.30, 0.3)
    eos += (0.15 * (1 + 0.15 * smooth_noise(tissue.shape, 6, rng)) * tumour).astype(np.float32)
    hem = (0.02 * stroma_region + 0.03 * tumour).astype(np.float32)
    return np.clip(eos, 0, None), hem


def add_fibroblasts(hem: np.ndarray, stroma_region: np.ndarray, avoid: np.ndarray, rng: np.random.Generator) -> None:
    """Paint sparse spindle fibroblast nuclei (12 x 3 µm, H 0.35-0.55 OD) into the stroma."""
    for r, c, rad in fibroblast_sites(stroma_region, avoid, rng):
        paint(hem, nucleus_shape(r, c, rad, rng, aspect=(0.2, 0.35)), rng.uniform(0.35, 0.55))


def he_melanin_tile(seed: int) -> tuple[np.ndarray, dict]:
    """H&E tile with melanin granules; truth = melanin pixels / tissue pixels."""
    rng = np.random.default_rng(seed)
    h_vec, e_vec, m_vec = perturb(H_REF, 3.0, rng), perturb(EOSIN_REF, 3.0, rng), perturb(MELANIN_REF, 2.0, rng)
    tissue, tumour = tissue_layout(rng, 0.12)
    eos, hem = he_background(tissue, tumour, rng)
    centres = place_nuclei(tumour, 900, rng)
    for r, c, rad in centres:
        paint_nucleus(hem, r, c, rad, rng.uniform(0.35, 0.65), rng)
    add_fibroblasts(hem, tissue & ~tumour, tumour, rng)
    mel = melanin_granules(tumour, rng, centres=centres, n_cells=140)
    img = render([hem, eos, mel], [h_vec, e_vec, m_vec], rng)
    melanin = mel > 0.15
    truth = {
        "stains": "H&E",
        "melanin_fraction_pct": round(100 * float(melanin.sum()) / float(tissue.sum()), 2),
        "melanin_area_mm2": round(float(melanin.sum()) * MPP**2 / 1e6, 5),
        "tissue_fraction_pct": round(100 * float(tissue.mean()), 2),
    }
    return img, truth


def he_necrosis_tile(
    seed: int, *, eosin: float = 0.38, angle_deg: float = 3.0, fraction: float = 0.38
) -> tuple[np.ndarray, dict]:
    """H&E tile with a necrotic area (eosinophilic, nuclear debris, no viable nuclei).

    ``eosin`` is the necrotic eosin level (log10 OD), ``angle_deg`` the random rotation of the
    stain vectors and ``fraction`` the necrotic share of the tissue (the bundled tile uses the
    defaults). The truth also carries the boolean masks under ``"masks"`` (``necrosis``,
    ``tissue``), which ``main`` does not write to truth.json.
    """
    rng = np.random.default_rng(seed)
    h_vec, e_vec = perturb(H_REF, angle_deg, rng), perturb(EOSIN_REF, angle_deg, rng)
    tissue, tumour = tissue_layout(rng, 0.10)
    n = smooth_noise(tissue.shape, 90, rng) + np.linspace(-0.8, 0.8, SIZE)[None, :]
    necrotic = tissue & (n > np.quantile(n[tissue], 1.0 - fraction))
    viable = tissue & ~necrotic
    eos, hem = he_background(viable, tumour & viable, rng)
    eos += (eosin * (1 + 0.15 * smooth_noise(tissue.shape, 3, rng)) * necrotic).astype(np.float32)
    nuclei = np.zeros_like(hem)  # viable nuclei (max-composited into hem, same as painting there)
    for r, c, rad in place_nuclei(tumour & viable, 1300, rng):
        paint_nucleus(nuclei, r, c, rad, rng.uniform(0.35, 0.65), rng)
    np.maximum(hem, nuclei, out=hem)
    # a viable nucleus centred near the border reaches up to its radius into the necrotic layout
    # region; its pixels are viable tissue, not necrosis (as in mmnst_path.synthetic)
    necrotic_truth = necrotic & ~(nuclei > 0.15)
    add_fibroblasts(hem, viable & ~tumour, tumour | necrotic, rng)
    # karyorrhexis: small dense hematoxylin fragments scattered in the necrotic area
    debris = necrotic & (rng.random(tissue.shape) < 0.004)
    debris = ndi.binary_dilation(debris, iterations=1)
    hem += (0.55 * debris + 0.06 * necrotic * (smooth_noise(tissue.shape, 4, rng) > 0.8)).astype(np.float32)
    img = render([hem, np.clip(eos, 0, None)], [h_vec, e_vec], rng)
    truth = {
        "stains": "H&E",
        "necrosis_fraction_pct": round(100 * float(necrotic_truth.sum()) / float(tissue.sum()), 2),
        "necrosis_area_mm2": round(float(necrotic_truth.sum()) * MPP**2 / 1e6, 5),
        "tissue_fraction_pct": round(100 * float(tissue.mean()), 2),
        "masks": {"necrosis": necrotic_truth, "tissue": tissue},
    }
    return img, truth


def write_tile(path: Path, rgb: np.ndarray) -> None:
    """JPEG-compressed TIFF (quality 90) with the pixel size in its resolution tags (px/cm)."""
    import tifffile

    px_per_cm = 1e4 / MPP
    tifffile.imwrite(
        path,
        rgb,
        photometric="rgb",
        compression="jpeg",
        compressionargs={"level": 90},
        resolution=(px_per_cm, px_per_cm),
        resolutionunit="CENTIMETER",
        tile=(256, 256),
        description=f"mmnst_path sample tile, {MPP} um/px",
        metadata=None,
    )


def _ki67_truth(t: dict, stains: str) -> dict:
    out = {"stains": stains, "ki67_positive": int(t["ki67_positive"]), "ki67_negative": int(t["ki67_negative"]),
           "ki67_index_pct": round(float(t["ki67_index_pct"]), 2)}
    if "melanin_drawn_pct" in t:  # the melanin as drawn, before the optical blur (as ki67_pigmented.tif)
        out["melanin_fraction_pct"] = round(float(t["melanin_drawn_pct"]), 2)
        out["hidden_nuclei"] = int(t["hidden_nuclei"])
    return out


def aec_pigmented_tile(seed: int) -> tuple[np.ndarray, dict]:
    """Ki67 in AEC (red) with hematoxylin, melanin in a ring around tumour nuclei (the project's pigment generator)."""
    from mmnst_path.synthetic import pigment_family_tile

    t = pigment_family_tile(seed, "perinuclear", chromogen="aec", size=SIZE, mpp=MPP, positive_fraction=0.15,
                            drawn_melanin=True)
    return t.rgb, _ki67_truth(t.truth, "H-AEC")


def azure_b_pigmented_tile(seed: int) -> tuple[np.ndarray, dict]:
    """Ki67 in DAB with an azure B counterstain: melanin filling whole cells turns green-blue."""
    from mmnst_path.synthetic_azure import azure_b_tile

    t = azure_b_tile(seed, "whole_cell", size=SIZE, mpp=MPP, positive_fraction=0.15, drawn_melanin=True)
    return t.rgb, _ki67_truth(t.truth, "AzureB-DAB")


def mart1_double_tile(seed: int) -> tuple[np.ndarray, dict]:
    """Ki67 (DAB, nuclear) / MART-1 (Fast Red, cytoplasmic) double stain: the melanocyte-restricted index."""
    from mmnst_path.synthetic_double import double_stain_tile

    t = double_stain_tile(seed, marker="cytoplasmic", chromogen="fast_red", size=SIZE, mpp=MPP)
    truth = t.truth
    return t.rgb, {"stains": "H-DAB-FastRed", "ki67_positive": int(truth["positive"]),
                   "ki67_negative": int(truth["cells"] - truth["positive"]),
                   "ki67_index_pct": round(float(truth["ki67_index_pct"]), 2),
                   "melanocytes": int(truth["melanocytes"]),
                   "ki67_melanocytic_positive": int(truth["melanocytic_positive"]),
                   "ki67_melanocytic_index_pct": round(float(truth["melanocytic_index_pct"]), 2)}


TILES = {
    "ki67_primary.tif": lambda: ki67_tile(101, 0.06),
    "ki67_recurrence.tif": lambda: ki67_tile(202, 0.40),
    "ki67_pigmented.tif": lambda: ki67_tile(303, 0.15, pigment=True),
    "he_melanin.tif": lambda: he_melanin_tile(404),
    "he_necrosis.tif": lambda: he_necrosis_tile(505),
    # the other protocols of pigmented tumours (issue #14), drawn by the package's own generators (seed 1 each)
    "ki67_aec_pigmented.tif": lambda: aec_pigmented_tile(1),
    "ki67_azure_b.tif": lambda: azure_b_pigmented_tile(1),
    "ki67_mart1_fastred.tif": lambda: mart1_double_tile(1),
}


def main(out_dir: Path = HERE) -> dict:
    """Write every tile and ``truth.json`` into ``out_dir``; return the truth table."""
    truth: dict = {}
    for name, make in TILES.items():
        rgb, t = make()
        t.pop("masks", None)
        write_tile(out_dir / name, rgb)
        truth[name] = {"mpp": MPP, "shape": list(rgb.shape[:2]), **t}
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


if __name__ == "__main__":
    for name, values in main().items():
        print(name, values)
