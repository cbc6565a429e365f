"""The rows of one training image for ``scripts/train_tissue_model.py`` (split from it in session 29; imported by
it, which puts the project and ``scripts/`` on ``sys.path``): the class names, the block labels and feature rows of
an image (:func:`tile_maps`), its stain / scanner variants (:func:`augment`), BRCA-M2C region labels from nucleus
points (:func:`brca_labels`) and the cached rows of ``--rows-npz`` (:func:`_cached_rows`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from _context_maps import ImageMap
from _training_data import render_variant

from mmnst_path.classify._image_reference import ImageReference, image_reference
from mmnst_path.classify.tissue_features import (
    TissueFeatureSettings,
    base_maps,
    block_mean,
    features_from_base,
    grid_factors,
    reference_level,
    tissue_feature_specs,
)

CLASSES = ("tumour", "stroma", "necrosis", "inflammatory", "fat", "mucin", "blood", "background")
#: the classes with ``--keratin`` (the same indices, keratin last)
KERATIN_CLASSES = (*CLASSES, "keratin")
#: share of a block that one class of a label image must cover for the block to be its training row (default)
PURE_SHARE = 0.99
#: BRCA-M2C region labels from the nucleus points, µm: tumour within BRCA_EPI_UM of a tumour point and
#: BRCA_MARGIN_UM closer to it than to any other; inflammatory where >= BRCA_LYMPH_MIN lymphocyte points lie within
#: BRCA_LYMPH_UM and a lymphocyte is the nearest point; stroma near a stromal point or far from tumour points
BRCA_MPP = 0.5
BRCA_EPI_UM, BRCA_STROMA_UM, BRCA_FAR_UM, BRCA_MARGIN_UM = 12.0, 12.0, 25.0, 4.0
BRCA_LYMPH_UM, BRCA_LYMPH_MIN = 15.0, 4


def augment(rgb: np.ndarray, mpp: float, rng: np.random.Generator,
            intensity: tuple[float, float] | None = None) -> tuple[np.ndarray, float]:
    """A stain / scanner / compression variant of ``rgb`` and the pixel size to claim for it; ``intensity``
    (low, high) scales both stains by one factor from that range instead of one factor each from 0.6-1.5."""
    from mmnst_path.stain import get_preset, od_from_rgb

    v = np.asarray(get_preset("H&E").vectors, np.float64)
    conc = od_from_rgb(rgb).reshape(-1, 3).astype(np.float64) @ np.linalg.inv(v)
    if intensity is None:
        scale = np.array([rng.uniform(0.6, 1.5), rng.uniform(0.6, 1.5), 1.0])
    else:
        both = rng.uniform(*intensity)
        scale = np.array([both, both, 1.0])
    return render_variant(conc * scale, v, rgb.shape, mpp, rng)


def tile_rows(rgb: np.ndarray, mpp: float, label: np.ndarray | str, settings: TissueFeatureSettings,
              rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` feature rows of one image on the output grid and their class indices.

    ``label`` is a class name for the whole tile (tissue blocks take it, glass blocks become
    background, blocks in between are left out) or an (M, N) int image of class indices (-1
    unlabelled) at the image's pixels.
    """
    feats, sel, y, _ = tile_maps(rgb, mpp, label, settings, rng, n)
    return feats.reshape(-1, feats.shape[-1])[sel], y


def tile_maps(rgb: np.ndarray, mpp: float, label: np.ndarray | str, settings: TissueFeatureSettings,
              rng: np.random.Generator, n: int, reference: ImageReference | None = None,
              min_share: float = PURE_SHARE, shares: list[np.ndarray] | None = None,
              blocks: list[tuple[np.ndarray, np.ndarray]] | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """:func:`tile_rows` with the whole feature map: ((m, n, F) float32 features on the output grid, the flat
    indices of the selected blocks, their class indices, µm per output block); the same random draws as
    :func:`tile_rows`. With ``settings.image_reference`` the features read against ``reference`` (None: the
    image's own, :func:`image_reference` of ``rgb``). With a label image, a block is a row of the class that
    covers the largest share of it when that share is at least ``min_share`` (default :data:`PURE_SHARE`: pure
    blocks only; ``--min-share 0.5`` adds the blocks on class borders, labelled by their majority class).
    ``shares``: a list that receives the share of its block that each selected row's class covers (float32; 1 for
    a tile-wide class name). ``blocks``: a list that receives the whole block label map of the image (int8 class
    index of the class covering the largest share of each block, -1 unlabelled or outside the image; and that share,
    float16), whatever ``min_share``: the mixed blocks an auto-context stage may train on, without changing the
    rows or the random draws."""
    if settings.image_reference and reference is None:
        reference = image_reference(rgb, mpp=mpp, eps_od=settings.eps_od)
    f, k, j = grid_factors(mpp, settings)
    big = f * k * j
    m, n_ = rgb.shape[:2]
    mp, np_ = -(-m // big) * big, -(-n_ // big) * big
    rgb_p = np.pad(rgb, ((0, mp - m), (0, np_ - n_), (0, 0)), mode="reflect")
    base, gm = base_maps(rgb_p, mpp=mpp, stains="H&E", settings=settings, reference=reference)
    feats = block_mean(features_from_base(base, gm, k, settings, reference), j)
    shape = feats.shape[:2]
    valid = np.zeros((mp, np_), np.float32)
    valid[:m, :n_] = 1.0
    inside = block_mean(valid, big)[: shape[0], : shape[1]] >= 0.99
    if isinstance(label, str):
        white = block_mean(base[..., 5], k * j)[: shape[0], : shape[1]]
        cls = np.full(shape, -1, np.int64)
        best = np.ones(shape, np.float32)
        if label in ("fat", "background", "mucin"):
            cls[:] = CLASSES.index(label)
        else:
            cls[white <= 0.9] = CLASSES.index(label)
            cls[white >= 0.98] = CLASSES.index("background")
    else:
        lab = np.pad(np.asarray(label), ((0, mp - m), (0, np_ - n_)), constant_values=-1)
        cls = np.full(shape, -1, np.int64)
        best = np.zeros(shape, np.float32)
        for c in range(len(KERATIN_CLASSES)):
            share = block_mean((lab == c).astype(np.float32), big)[: shape[0], : shape[1]]
            cls[(share >= min_share) & (share > best)] = c
            best = np.maximum(best, share)
    sel = np.flatnonzero((cls.ravel() >= 0) & inside.ravel())
    if blocks is not None:
        if isinstance(label, str):
            whole, whole_share = cls, best
        else:
            whole = np.full(shape, -1, np.int64)
            whole_share = np.zeros(shape, np.float32)
            for c in range(len(KERATIN_CLASSES)):
                share = block_mean((lab == c).astype(np.float32), big)[: shape[0], : shape[1]]
                better = share > whole_share
                whole[better], whole_share[better] = c, share[better]
        blocks.append((np.where(inside, whole, -1).astype(np.int8), whole_share.astype(np.float16)))
    if sel.size > n:
        sel = rng.choice(sel, size=n, replace=False)
    if shares is not None:
        shares.append(best.ravel()[sel].astype(np.float32))
    return feats, sel, cls.ravel()[sel], gm * k * j


def brca_labels(rgb: np.ndarray, points: np.ndarray, mpp: float) -> np.ndarray:
    """(M, N) class indices (-1 unlabelled) of a BRCA-M2C patch from its nucleus points (lines ``y x class``:
    1 lymphocyte, 2 tumour, 3 stromal), with the ``BRCA_*`` distances (see their comment); glass (total OD
    < 0.15 after a 1.5 µm smoothing) farther than 4 µm from every point is background."""
    from scipy import ndimage as ndi

    from mmnst_path.stain import od_from_rgb

    shape = rgb.shape[:2]
    rows = np.clip(np.rint(points[:, 0]).astype(int), 0, shape[0] - 1)
    cols = np.clip(np.rint(points[:, 1]).astype(int), 0, shape[1] - 1)
    kind = points[:, 2].astype(int)

    def dist_um(k: int) -> np.ndarray:
        if not (kind == k).any():
            return np.full(shape, np.inf)
        seeds = np.ones(shape, bool)
        seeds[rows[kind == k], cols[kind == k]] = False
        return ndi.distance_transform_edt(seeds) * mpp

    d_l, d_t, d_s = dist_um(1), dist_um(2), dist_um(3)
    d_any = np.minimum(np.minimum(d_l, d_t), d_s)
    hits = np.zeros(shape, np.float32)
    np.add.at(hits, (rows[kind == 1], cols[kind == 1]), 1.0)
    r = round(BRCA_LYMPH_UM / mpp)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    lymph_n = ndi.convolve(hits, (yy * yy + xx * xx <= r * r).astype(np.float32), mode="constant")
    glass = ndi.gaussian_filter(od_from_rgb(rgb).sum(-1), 1.5 / mpp) < 0.15
    lab = np.full(shape, -1, np.int64)
    stroma = ((d_s <= BRCA_STROMA_UM) & (d_t >= d_s + BRCA_MARGIN_UM)) | (d_t > BRCA_FAR_UM)
    lab[~glass & stroma] = CLASSES.index("stroma")
    inflam = (lymph_n >= BRCA_LYMPH_MIN) & (d_l <= 8.0) & (np.minimum(d_t, d_s) >= d_l + BRCA_MARGIN_UM)
    lab[~glass & inflam] = CLASSES.index("inflammatory")
    lab[~glass & (d_t <= BRCA_EPI_UM) & (np.minimum(d_s, d_l) >= d_t + BRCA_MARGIN_UM)] = CLASSES.index("tumour")
    lab[glass & (d_any > 4.0)] = CLASSES.index("background")
    return lab


def _image_rows(src: str, name: str, held: bool, fsyg: tuple[np.ndarray, np.ndarray, np.ndarray, float],
                maps: list[ImageMap] | None, blocks: list[tuple[np.ndarray, np.ndarray]] | None = None
                ) -> tuple[str, str, np.ndarray, np.ndarray, bool]:
    feats, sel, y, grid_mpp = fsyg
    if maps is not None:
        by, bs = blocks[0] if blocks else (None, None)
        maps.append(ImageMap(src, name, held, feats, sel, y, grid_mpp, by, bs))
    return src, name, feats.reshape(-1, feats.shape[-1])[sel], y, held


def _cached_rows(paths: list[Path], settings: TissueFeatureSettings, *, reference: str | None = None,
                 shares: list[np.ndarray] | None = None) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, bool]]:
    """The rows of ``--rows-npz`` files (``x``, ``y``, ``source``, ``held`` arrays, in the order of
    :func:`feature_rows`). Files written by ``--save-rows`` also hold the column ``names`` and the feature
    ``settings`` (JSON) they were computed with: the columns of these settings are then taken by name, and
    settings that differ in anything but the optional column blocks are refused. Older files (the
    ``benchmarks/lodo_tissue_he.py`` cache) have no names: their first columns are taken (the default columns,
    then the nuclear-detail ones). ``reference="source"``: the image-reference rows re-referenced by
    :func:`source_referenced` (the file must hold the ``image``, ``level`` and ``copy`` arrays). Several files: their
    rows one after the other, in the order given. Files that name each row's image (``image``, written by
    ``--save-rows`` since session 22) yield one part per image and name it; older ones one part per source and held
    flag, named by the file. ``shares``: a list that receives, per part yielded (before it is), its rows' block
    shares (the file's ``share`` array; 1 where it has none)."""
    import json

    names = [f.name for f in tissue_feature_specs(settings)]
    for path in paths:
        with np.load(path, allow_pickle=False) as z:
            x, y, src, held = z["x"], z["y"], z["source"], z["held"]
            image = z["image"] if "image" in z.files else None
            share = z["share"] if "share" in z.files else np.ones(len(y), np.float32)
            saved = [str(v) for v in z["names"]] if "names" in z.files else None
            saved_settings = json.loads(str(z["settings"])) if "settings" in z.files else None
            if reference == "source":
                if "level" not in z.files:
                    raise SystemExit(f"--image-reference source: {path} has no per-row reference levels")
                x = source_referenced(x, [str(v) for v in z["names"]], src, z["image"], z["level"], z["copy"])
            if settings.image_reference and settings.reference_weight != 1.0:
                if "level" not in z.files:
                    raise SystemExit(f"--reference-weight: {path} has no per-row reference levels")
                # rows against the own level l: add l - (w l + (1 - w) L0) to every log_od_ref column
                lev = z["level"].astype(np.float64)
                delta = (lev - np.array([reference_level(v, settings) for v in lev])).astype(np.float32)
                cols = [i for i, n in enumerate(z["names"]) if str(n).startswith("log_od_ref_s")]
                x = np.array(x, np.float32, copy=True)
                x[:, cols] += delta[:, None]
        if saved is not None:
            flags = ("nuclear_detail", "nuclear_morphology", "relative_level", "reference_weight")
            mine = {k: v for k, v in settings.to_mapping().items() if k not in flags}
            # a file written before a setting existed was computed with that setting's default
            defaults = TissueFeatureSettings().to_mapping()
            theirs = {k: v for k, v in {**defaults, **(saved_settings or {})}.items() if k not in flags}
            x, saved = _with_relative_level(x, saved, settings)
            missing = [n for n in names if n not in saved]
            if missing or mine != theirs:
                msg = (f"--rows-npz {path}: its columns were computed with other feature settings "
                       f"(missing columns {missing[:5]}; settings {theirs} vs {mine})")
                raise SystemExit(msg)
            x = x[:, [saved.index(n) for n in names]]
        elif x.shape[1] < len(names) or settings.nuclear_morphology or settings.relative_level:
            msg = (f"--rows-npz {path}: {x.shape[1]} unnamed feature columns, these settings need {len(names)} "
                   "(rows with the nuclear-morphology or relative-level columns must come from --save-rows, which "
                   "names them)")
            raise SystemExit(msg)
        change = (src[1:] != src[:-1]) | (held[1:] != held[:-1])
        if image is not None:
            change |= image[1:] != image[:-1]
        cut = np.flatnonzero(change) + 1
        for lo, hi in zip(np.r_[0, cut], np.r_[cut, len(y)], strict=True):
            if shares is not None:
                shares.append(share[lo:hi])
            name = path.name if image is None else str(image[lo])
            yield str(src[lo]), name, x[lo:hi, : len(names)], y[lo:hi], bool(held[lo])


def _with_relative_level(x: np.ndarray, names: list[str], settings: TissueFeatureSettings
                         ) -> tuple[np.ndarray, list[str]]:
    """Cached rows with the ``log_od_rel_s{S}`` columns of ``relative_level`` appended where the rows hold the
    absolute ``log_od_s{S}`` and context ``log_od_s{C}`` columns they derive from (the same difference
    :func:`features_from_base` takes, up to float32 rounding); other rows unchanged."""
    if not settings.relative_level:
        return x, names
    ctx = f"log_od_s{settings.context_um:g}"
    extra = [n for n in (f.name for f in tissue_feature_specs(settings)) if n.startswith("log_od_rel_s")
             and n not in names and n.replace("_rel", "") in names and ctx in names]
    if not extra:
        return x, names
    level = x[:, names.index(ctx)]
    cols = [x[:, names.index(n.replace("_rel", ""))] - level for n in extra]
    return np.column_stack([x, *cols]).astype(np.float32, copy=False), [*names, *extra]


#: sources whose images show one class each (tiles cut from unknown slides): with ``--image-reference source``
#: their reference level is the source's, not the image's own (which would carry the class)
SOURCE_REFERENCE = ("nct", "kather2016", "osteosarcoma")


def source_referenced(x: np.ndarray, names: list[str], source: np.ndarray, image: np.ndarray, level: np.ndarray,
                      copy: np.ndarray) -> np.ndarray:
    """Rows of ``--image-reference own`` (``log_od_ref_*`` = log OD minus the image's own level) with the
    images of :data:`SOURCE_REFERENCE` re-referenced: their reference becomes the median own level of the
    source's original images (copy 0) plus the copy's own level minus its original's (the stain amount the
    augmentation drew), so that a necrosis or mucin tile keeps its level relative to the source's other
    classes. Other rows unchanged."""
    x = np.array(x, dtype=np.float32, copy=True)
    cols = [i for i, n in enumerate(names) if n.startswith("log_od_ref_s")]
    for src in SOURCE_REFERENCE:
        originals = (source == src) & (copy == 0)
        if not originals.any():
            continue
        own = {str(i): float(v) for i, v in zip(image[originals], level[originals], strict=True)}
        pooled = float(np.median(list(own.values())))
        idx = np.flatnonzero(source == src)
        # new reference pooled + (own copy - own original): the columns move by own original - pooled
        delta = np.array([own[str(image[i])] - pooled for i in idx], np.float32)
        for c in cols:
            x[idx, c] += delta
    return x
