"""Experiment (#13, session 20 H3): rank tissue-model recipe changes with small forests, in minutes.

Not in the default path and not a validation: a full candidate is a 32-tree forest on ~1 M rows (15 CPU minutes)
followed by the checks of the acceptance rule for a new tissue_default (~25 min), which the shared machine could
not afford for every idea (figures and verdict: benchmarks/README.md, session 20 H3's section on the tissue recipe). This script fits ``--trees`` trees (default 8) on a seeded ``--fraction`` (default 1/4) of the
training rows cached by ``scripts/train_tissue_model.py --save-rows`` (the 1.1.0 recipe's rows), with the recipe
edits of a SPEC, and reads the share of non-background 8 µm blocks called necrosis, without the pipeline's
smoothing. ``--sets dev`` (the default; choose candidates with these): the held-out renderer without necrosis, seeds
100-109 (false necrosis), and the sample generator's ``he_necrosis_tile`` seeds 700-703 (error against its truth).
Session 22: rows that name their image (``--save-rows`` since session 22) give a BRCA-M2C dev set too: the official
val split (10 patches, :data:`BRCA_DEV_LIST`), whose rows every fit leaves out (false necrosis, mean and patches >
5 %); ``--rows A B`` takes the rows of several files (e.g. a ``--min-share 0.5`` extraction and the wavy-stroma rows
of ``--wavy-tiles --extra-only``). ``--sets rule``, for the one final candidate only (session 20's first ranking used them, which H5 flagged: its figures cannot select a model):

- the BRCA-M2C test patches (viable breast carcinoma at 0.5 µm/px: false necrosis; mean and patches > 5 %);
- the osteosarcoma tiles ``train_tissue_model.OSTEO_TRAIN`` leaves out (10x, 1 µm/px);
- the bundled sample ``sample_tiles/he_necrosis.tif`` (truth 37.09 % of tissue);
- the held-out renderer (``heldout_render_he.py``) without necrosis, seeds 0-9 (false necrosis).

SPEC: ``;``-separated edits, each ``KEY=SOURCE:VALUE[,SOURCE:VALUE]``: ``rep`` (a source's non-necrosis rows K
times, as ``--repeat-rows``), ``nec`` (its necrosis rows K times, as ``--repeat-necrosis``), ``thin`` (keep a
fraction of a source's rows, as ``--thin``), ``cw`` (``necrosis:W``: the balanced class weight of necrosis times
W), ``border`` (the rows of ``border-rows`` for that source K times), ``drop`` (``SOURCE:1``: leave a source's rows
out), ``pure`` (``SOURCE:F`` or ``all:F``: only the rows whose class covers >= F of their block, e.g. ``all:0.99``
= the pure rows of a ``--min-share 0.5`` extraction); ``-`` for none.

``border-rows``: the output blocks of the sample-recipe training images (``SAMPLE_RECIPE``, originals only) that
``tile_maps`` leaves out because no class covers 99 % of them, labelled by their majority class (>= 50 %). The
1.1.0 recipe trains on pure blocks only, and the bundled sample's missed necrosis lies at the border of the
necrotic area (benchmarks/README.md, session 20 H3).

    PYTHONPATH=$PWD python benchmarks/experiments/tissue_recipe_proxy.py border-rows --out /tmp/border.npz
    PYTHONPATH=$PWD python benchmarks/experiments/tissue_recipe_proxy.py fit --rows ROWS.npz --cache /tmp/dev.npz \\
        [--sets dev|rule] [--border /tmp/border.npz] [--seed 0] NAME SPEC [NAME SPEC ...]

Dev figures (session 20, seeds 0 / 1; benchmarks/README.md, session 20 H3): the 1.1.0 rows read dev renderer false
necrosis 15.9 / 15.7 % and the dev generator -7.6 / -8.2 pp. Border rows x4 (``border=sample_recipe:4``) halve the
generator's under-read (-4.9 / -3.9 pp) but raise the renderer's false necrosis (16.5 / 19.5 %); every change tried
raised it. Proxy noise on the rule's images (``--sets rule``, 1.1.0 rows): BRCA-M2C mean 15.2 / 16.8 %, sample
28.9 / 28.1 %, renderer 29.9 / 27.2 %, A12-27307 18.5 / 17.0 % (pipeline, with smoothing: 9.58, 26.3, 28.5, 11.2).

Dev figures (session 22, seeds 0-3, means; rows of a ``--min-share 0.5`` extraction plus the wavy-stroma rows; BRCA-M2C
val patches left out): the pure rows (``pure=all:0.99``, the 1.1.0 recipe) renderer 19.5 %, generator -8.6 pp, BRCA-M2C
val 11.07 %; all border rows 22.6 / -10.2 / 8.98; + wavy rows x2 (``rep=wavy:2``, the candidate fitted and run through
the rule: not shipped) 12.9 / -8.2 / 9.74; that + ``border=sample_recipe:4`` 13.8 / -4.3 / 8.86 (fitted too: the sample 25.3 %, not
shipped; benchmarks/README.md, session 22 H1).

Session 23: ``--analogue-cache`` adds dev analogues (:data:`DEV_RIM_SEEDS` irregular-border tiles, necrosis read in the
outer :data:`RIM_BAND_UM` of true necrosis; :data:`DEV_OEDEMA_SEEDS` oedematous-stroma tiles, false necrosis; and the
outer-band read of the dev sample-generator seeds). Means over seeds 0-3: bw2 outer band 24.5 %, oedema 2.1 %; + oedema
rows x2 32.2 % / 0.6 %; + oedema x2 + ``border=sample_recipe:4`` 58.0 % / 0.6 % (seeds 0-2). This proxy over-predicts
the border rows: the full bw2rb4 forest read the dev outer band at 35 % (proxy 52 %), the full bw2 + oedema x2 + recipe
border x4 at 41 % (proxy 58 %) and the bundled sample at 28.03 % (rule: >= 28.3; benchmarks/README.md, session 23 H1).

Session 24: ``--stroma-cache`` adds the dense-pink-matrix and clefted-collagen dev tiles (:data:`DEV_MATRIX_SEEDS`,
:data:`DEV_CLEFTED_SEEDS`: false necrosis, true stroma read as tumour, true tumour read as tumour). Means over seeds
0-2: session 23's candidate (bw2 + oedema x2 + ``border=sample_recipe:4``) reads the dev matrix tiles 15.4 % necrotic
(max 34), clefted 1.8 %; + matrix rows x2 + clefted rows x1 (``rep=...,matrix:2``) 6.9 % (max 14) / 1.0 %, renderer
14.2 -> 10.0 %, generator -3.7 -> -3.9 pp, outer band 58 -> 54 %, BRCA-M2C val 7.6 -> 9.1 % (benchmarks/README.md,
session 24 H1).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent / "scripts"))
import train_tissue_model as recipe  # noqa: E402

from mmnst_path.classify.tissue_features import (  # noqa: E402
    TissueFeatureSettings,
    block_mean,
    grid_factors,
    tissue_feature_specs,
    tissue_features,
)

SETTINGS = TissueFeatureSettings()
NECROSIS = recipe.CLASSES.index("necrosis")
BACKGROUND = recipe.CLASSES.index("background")
TUMOUR = recipe.CLASSES.index("tumour")
SHARED = HERE.parent.parent.parent / "shared"


def border_rows(out: Path) -> None:
    """Write the majority-labelled border blocks of the sample-recipe images to ``out`` (x, y, source)."""
    xs, ys = [], []
    rng = np.random.default_rng(0)
    for _src, name, rgb, mpp, label, _held in recipe._sample_recipe_tiles():
        feats, _, _, _ = recipe.tile_maps(rgb, mpp, label, SETTINGS, rng, 10**9)
        f, k, j = grid_factors(mpp, SETTINGS)
        big = f * k * j
        m, n = rgb.shape[:2]
        mp, np_ = -(-m // big) * big, -(-n // big) * big
        lab = np.pad(np.asarray(label), ((0, mp - m), (0, np_ - n)), constant_values=-1)
        shape = feats.shape[:2]
        best = np.zeros(shape, np.float32)
        cls = np.full(shape, -1, np.int64)
        for c in range(len(recipe.KERATIN_CLASSES)):
            share = block_mean((lab == c).astype(np.float32), big)[: shape[0], : shape[1]]
            cls[share > best] = c
            best = np.maximum(best, share)
        valid = np.zeros((mp, np_), np.float32)
        valid[:m, :n] = 1.0
        inside = block_mean(valid, big)[: shape[0], : shape[1]] >= 0.99
        sel = inside & (best >= 0.5) & (best < 0.99)
        xs.append(feats[sel])
        ys.append(cls[sel])
        print(f"{name} ({mpp} µm/px): {int(sel.sum())} border rows, {int((cls[sel] == NECROSIS).sum())} necrosis",
              flush=True)
    y = np.concatenate(ys)
    np.savez(out, x=np.concatenate(xs).astype(np.float32), y=y, source=np.full(len(y), "sample_recipe"))


#: dev sets (``--sets dev``, the default): the held-out renderer seeds and the sample generator's necrosis seeds
#: that no acceptance check reads (the rule uses renderer seeds 0-9 and the sample, seed 505; training uses 600-605)
DEV_RENDERER_SEEDS = tuple(range(100, 110))
DEV_SAMPLE_SEEDS = (700, 701, 702, 703)
#: BRCA-M2C dev patches (session 22): the official val split (10 viable breast carcinoma patches), whose rows every
#: ``fit`` leaves out (rows that name their image: ``train_tissue_model.py --save-rows`` since session 22); the
#: rule's BRCA-M2C figure is the official test split (30), which no proxy fit reads with ``--sets dev``
BRCA_DEV_LIST = SHARED / "train" / "brca_m2c" / "_meta" / "brca_ds_val.txt"


#: dev analogues (session 23): held-out seeds of the irregular-border tiles (``he_tissue_tile(...,
#: necrosis_border="irregular")``; training seeds 1300-1347) and of the oedematous-stroma tiles (``stroma_kind="oedema"``,
#: without necrosis; training seeds 1400-1447); odd seeds at 1 µm/px; rim tiles cycle the layouts as in training
DEV_RIM_SEEDS = tuple(range(1360, 1370))
DEV_OEDEMA_SEEDS = tuple(range(1460, 1470))
#: the outer band of true necrosis (µm from its border) read by the rim figures
RIM_BAND_UM = 10.0


def _band_weights(necrosis: np.ndarray, mpp: float, shape: tuple[int, int]) -> np.ndarray:
    """Per output block (flattened), the share of its pixels in the outer :data:`RIM_BAND_UM` of ``necrosis``."""
    from scipy import ndimage as ndi

    return _mask_weights(necrosis & (ndi.distance_transform_edt(necrosis) * mpp <= RIM_BAND_UM), mpp, shape)


def _mask_weights(band: np.ndarray, mpp: float, shape: tuple[int, int]) -> np.ndarray:
    """Per output block (flattened), the share of its pixels in the bool mask ``band``."""
    f, k, j = grid_factors(mpp, SETTINGS)
    big = f * k * j
    m, n = band.shape
    mp, np_ = -(-m // big) * big, -(-n // big) * big
    padded = np.pad(band.astype(np.float32), ((0, mp - m), (0, np_ - n)))
    return block_mean(padded, big)[: shape[0], : shape[1]].reshape(-1)


def analogue_features(cache: Path) -> dict[str, np.ndarray]:
    """Feature rows of the session-23 dev analogues, with per-block outer-band weights (``band/<key>``) of true
    necrosis for the rim tiles and the dev sample-generator seeds (computed once, then read from ``cache``)."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    from mmnst_path.synthetic_tissue import he_tissue_tile

    out: dict[str, np.ndarray] = {}
    for s in DEV_RIM_SEEDS:
        mpp = 1.0 if s % 2 else 0.5
        t = he_tissue_tile(s, size=384 if mpp == 1.0 else 640, mpp=mpp, necrosis=recipe.RIM_LAYOUTS[(s // 2) % 3],
                           necrosis_border="irregular")
        f, _ = tissue_features(t.rgb, mpp=mpp, settings=SETTINGS)
        out[f"rim/{s}"] = f.reshape(-1, f.shape[-1])
        out[f"band/rim/{s}"] = _band_weights(t.masks["necrosis"], mpp, f.shape[:2])
    for s in DEV_OEDEMA_SEEDS:
        mpp = 1.0 if s % 2 else 0.5
        t = he_tissue_tile(s, size=384 if mpp == 1.0 else 640, mpp=mpp, necrosis="none", stroma_kind="oedema")
        f, _ = tissue_features(t.rgb, mpp=mpp, settings=SETTINGS)
        out[f"oedema/{s}"] = f.reshape(-1, f.shape[-1])
    gen = recipe._sample_generator()
    for s in DEV_SAMPLE_SEEDS:
        rgb, truth = gen.he_necrosis_tile(s)
        f, _ = tissue_features(rgb, mpp=0.5, settings=SETTINGS)
        out[f"band/recipe/{s}"] = _band_weights(truth["masks"]["necrosis"], 0.5, f.shape[:2])
    np.savez(cache, **out)
    return out


#: dev analogues (session 24): held-out seeds of the dense-pink-matrix and clefted-collagen tiles
#: (``he_tissue_tile(..., stroma_kind="matrix" | "clefted")``, without necrosis; training seeds 1500-1547 and
#: 1600-1647); odd seeds at 1 µm/px
DEV_MATRIX_SEEDS = tuple(range(1560, 1570))
DEV_CLEFTED_SEEDS = tuple(range(1660, 1670))


def stroma_analogue_features(cache: Path) -> dict[str, np.ndarray]:
    """Feature rows of the session-24 dev analogues (``matrix/<seed>``, ``clefted/<seed>``) with per-block shares of
    their true stroma (``smask/<key>``) and viable tumour (``tmask/<key>``) (computed once, then read from
    ``cache``)."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    from mmnst_path.synthetic_tissue import he_tissue_tile

    out: dict[str, np.ndarray] = {}
    for kind, seeds in (("matrix", DEV_MATRIX_SEEDS), ("clefted", DEV_CLEFTED_SEEDS)):
        for s in seeds:
            mpp = 1.0 if s % 2 else 0.5
            t = he_tissue_tile(s, size=384 if mpp == 1.0 else 640, mpp=mpp, necrosis="none", stroma_kind=kind)
            f, _ = tissue_features(t.rgb, mpp=mpp, settings=SETTINGS)
            out[f"{kind}/{s}"] = f.reshape(-1, f.shape[-1])
            out[f"smask/{kind}/{s}"] = _mask_weights(t.masks["stroma"], mpp, f.shape[:2])
            out[f"tmask/{kind}/{s}"] = _mask_weights(t.masks["tumour"], mpp, f.shape[:2])
    np.savez(cache, **out)
    return out


def brca_dev_names() -> list[str]:
    """The BRCA-M2C dev patches (:data:`BRCA_DEV_LIST`), sorted."""
    return sorted(BRCA_DEV_LIST.read_text().split())


def dev_features(cache: Path) -> dict[str, np.ndarray]:
    """Feature rows of the dev images, with each sample-generator tile's true necrosis % under
    ``truth/<seed>`` (computed once, then read from ``cache``)."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    from heldout_render_he import render_he

    out: dict[str, np.ndarray] = {}
    for s in DEV_RENDERER_SEEDS:
        t = render_he(s, size=640, necrosis="none")
        f, _ = tissue_features(t.rgb, mpp=t.mpp, settings=SETTINGS)
        out[f"heldout/{s}"] = f.reshape(-1, f.shape[-1])
    gen = recipe._sample_generator()
    for s in DEV_SAMPLE_SEEDS:
        rgb, truth = gen.he_necrosis_tile(s)
        f, _ = tissue_features(rgb, mpp=0.5, settings=SETTINGS)
        out[f"recipe/{s}"] = f.reshape(-1, f.shape[-1])
        out[f"truth/{s}"] = np.array([truth["necrosis_fraction_pct"]])
    from PIL import Image

    for n in brca_dev_names():
        rgb = np.asarray(Image.open(SHARED / "train" / "brca_m2c" / "mixed" / n).convert("RGB"))
        f, _ = tissue_features(rgb, mpp=0.5, settings=SETTINGS)
        out[f"brca/{n}"] = f.reshape(-1, f.shape[-1])
    np.savez(cache, **out)
    return out


def evaluation_features(cache: Path) -> dict[str, np.ndarray]:
    """Feature rows of the acceptance rule's own images (``--sets rule``: for the one final candidate only, never
    to choose between candidates; computed once, then read from ``cache``)."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    import tifffile
    from heldout_render_he import render_he
    from PIL import Image

    def rows(rgb: np.ndarray, mpp: float) -> np.ndarray:
        f, _ = tissue_features(rgb, mpp=mpp, settings=SETTINGS)
        return f.reshape(-1, f.shape[-1])

    brca = SHARED / "train" / "brca_m2c"
    out = {f"brca/{n}": rows(np.asarray(Image.open(brca / "mixed" / n).convert("RGB")), 0.5)
           for n in sorted((brca / "_meta" / "brca_ds_test.txt").read_text().split())}
    for p in sorted((SHARED / "data" / "necrosis").glob("*.jpg")):
        if p.name not in recipe.OSTEO_TRAIN:
            out[f"osteo/{p.name}"] = rows(np.asarray(Image.open(p).convert("RGB")), 1.0)
    out["sample/he_necrosis"] = rows(tifffile.imread(HERE.parent.parent / "sample_tiles" / "he_necrosis.tif"), 0.5)
    for s in range(10):
        t = render_he(s, size=640, necrosis="none")
        out[f"heldout/{s}"] = rows(t.rgb, t.mpp)
    np.savez(cache, **out)
    return out


def parse_spec(spec: str) -> dict[str, dict[str, float]]:
    """``rep=brca_m2c:3;border=sample_recipe:4`` -> {"rep": {"brca_m2c": 3.0}, "border": {...}}."""
    out: dict[str, dict[str, float]] = {}
    for part in filter(None, ("" if spec == "-" else spec).split(";")):
        key, values = part.split("=")
        out[key] = {v.split(":")[0]: float(v.split(":")[1]) for v in values.split(",")}
    return out


def edited_rows(x: np.ndarray, y: np.ndarray, src: np.ndarray, edits: dict[str, dict[str, float]],
                border: Path | None, share: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The training rows with the SPEC's source drops, pure-row selection, repeats, thinning and border rows."""
    base = np.ones(len(y), bool)
    for s in edits.get("drop", {}):
        base &= src != s
    for s, v in edits.get("pure", {}).items():
        if share is None:
            raise SystemExit("a 'pure' edit needs rows with block shares (train_tissue_model.py --save-rows)")
        base &= ~((share < v) & ((src == s) | (s == "all")))
    idx = [np.flatnonzero(base)]
    for s, k in edits.get("rep", {}).items():
        idx += [np.flatnonzero(base & (src == s) & (y != NECROSIS))] * (int(k) - 1)
    for s, k in edits.get("nec", {}).items():
        idx += [np.flatnonzero(base & (src == s) & (y == NECROSIS))] * (int(k) - 1)
    keep = np.concatenate(idx)
    for s, frac in edits.get("thin", {}).items():
        draw = np.random.default_rng(7).random(len(keep))
        keep = keep[~((src[keep] == s) & (draw >= frac))]
    xs, ys = [x[keep]], [y[keep]]
    if "border" in edits:
        if border is None:
            raise SystemExit("a 'border' edit needs --border (written by the border-rows command)")
        with np.load(border, allow_pickle=False) as z:
            for s, k in edits["border"].items():
                sel = z["source"] == s
                xs += [z["x"][sel]] * int(k)
                ys += [z["y"][sel]] * int(k)
    return np.concatenate(xs), np.concatenate(ys)


def training_rows(paths: list[Path], fraction: float, seed: int, leave_out: list[str] = ()
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """A seeded ``fraction`` of the training (not held-out) rows of the ``--save-rows`` files ``paths`` (one after
    the other, each with its own draw), without the rows of the images named in ``leave_out`` (files that name
    their rows' images; older ones are taken whole): rows, classes, sources and block shares (None unless every
    file has them)."""
    names = [s.name for s in tissue_feature_specs(SETTINGS)]
    xs, ys, srcs, shares = [], [], [], []
    for i, path in enumerate(paths):
        with np.load(path, allow_pickle=False) as z:
            cached = [str(n) for n in z["names"]]
            ok = ~z["held"]
            if "image" in z.files and len(leave_out):
                ok &= ~np.isin(z["image"], np.asarray(leave_out))
            train = np.flatnonzero(ok)
            keep = train[np.random.default_rng([seed, i] if i else seed).random(len(train)) < fraction]
            xs.append(z["x"][keep][:, [cached.index(n) for n in names]].astype(np.float32))
            ys.append(z["y"][keep])
            srcs.append(z["source"][keep].astype("<U16"))
            shares.append(z["share"][keep] if "share" in z.files else None)
    share = None if any(s is None for s in shares) else np.concatenate(shares)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(srcs), share


def fit(args: argparse.Namespace) -> None:
    """Fit one small forest per NAME SPEC and print its proxy figures."""
    from sklearn.ensemble import RandomForestClassifier

    ev = dev_features(args.cache) if args.sets == "dev" else evaluation_features(args.cache)
    if args.sets == "dev" and args.analogue_cache is not None:
        ev.update(analogue_features(args.analogue_cache))
    if args.sets == "dev" and args.stroma_cache is not None:
        ev.update(stroma_analogue_features(args.stroma_cache))
    truth = {k: float(ev.pop(k)[0]) for k in [k for k in ev if k.startswith("truth/")]}
    band = {k[len("band/"):]: ev.pop(k) for k in [k for k in ev if k.startswith("band/")]}
    smask = {k[len("smask/"):]: ev.pop(k) for k in [k for k in ev if k.startswith("smask/")]}
    tmask = {k[len("tmask/"):]: ev.pop(k) for k in [k for k in ev if k.startswith("tmask/")]}
    x0, y0, src0, share0 = training_rows(args.rows, args.fraction, args.seed, leave_out=brca_dev_names())
    for name, spec in zip(args.specs[::2], args.specs[1::2], strict=True):
        edits = parse_spec(spec)
        x, y = edited_rows(x0, y0, src0, edits, args.border, share0)
        weight: str | dict[int, float] = "balanced_subsample"
        if "cw" in edits:
            classes, counts = np.unique(y, return_counts=True)
            weight = {int(c): len(y) / (len(classes) * n) * (edits["cw"].get("necrosis", 1.0) if c == NECROSIS else 1.0)
                      for c, n in zip(classes, counts, strict=True)}
        t0 = time.perf_counter()
        forest = RandomForestClassifier(n_estimators=args.trees, max_depth=14, min_samples_leaf=15,
                                        class_weight=weight, random_state=args.seed, n_jobs=1).fit(x, y)
        share, rim, s_tum, t_tum = {}, {}, {}, {}
        for key, rows in ev.items():
            pred = forest.predict(rows)
            tissue = pred != BACKGROUND
            share[key] = 100.0 * float((pred[tissue] == NECROSIS).mean()) if tissue.any() else 0.0
            if key in band:  # necrosis read in the outer band of true necrosis (per pixel, at block resolution)
                rim[key] = 100.0 * float((band[key] * (pred == NECROSIS)).sum() / max(band[key].sum(), 1e-9))
            if key in smask:  # true stroma read as tumour; true tumour read as tumour (per pixel, block resolution)
                s_tum[key] = 100.0 * float((smask[key] * (pred == TUMOUR)).sum() / max(smask[key].sum(), 1e-9))
                t_tum[key] = 100.0 * float((tmask[key] * (pred == TUMOUR)).sum() / max(tmask[key].sum(), 1e-9))
        if args.sets == "dev":
            held = [v for k, v in share.items() if k.startswith("heldout/")]
            err = [share[f"recipe/{s}"] - truth[f"truth/{s}"] for s in DEV_SAMPLE_SEEDS]
            brca = [v for k, v in share.items() if k.startswith("brca/")]
            brca_txt = (f"; dev BRCA-M2C (val split, {len(brca)}) false necrosis mean {np.mean(brca):.2f} max "
                        f"{max(brca):.0f} (> 5 %: {sum(v > 5 for v in brca)})" if brca else "")
            ana_txt = ""
            if rim:
                oed = [v for k, v in share.items() if k.startswith("oedema/")]
                rim_gen = [v for k, v in rim.items() if k.startswith("recipe/")]
                rim_t = [v for k, v in rim.items() if k.startswith("rim/")]
                ana_txt = (f"; dev generator outer {RIM_BAND_UM:g} µm read {np.mean(rim_gen):.1f} % "
                           f"({' '.join(f'{v:.0f}' for v in rim_gen)}); dev rim tiles outer band read {np.mean(rim_t):.1f} "
                           f"% (min {min(rim_t):.0f}); dev oedema false necrosis mean {np.mean(oed):.1f} max {max(oed):.0f}")
            for kind in ("matrix", "clefted"):
                keys = [k for k in s_tum if k.startswith(f"{kind}/")]
                if keys:
                    ana_txt += (f"; dev {kind} false necrosis mean {np.mean([share[k] for k in keys]):.1f} max "
                                f"{max(share[k] for k in keys):.0f}, stroma read tumour "
                                f"{np.mean([s_tum[k] for k in keys]):.1f} %, tumour read tumour "
                                f"{np.mean([t_tum[k] for k in keys]):.1f} %")
            print(f"{name} seed {args.seed} [{spec}] ({len(y)} rows, {args.trees} trees): dev renderer seeds "
                  f"{DEV_RENDERER_SEEDS[0]}-{DEV_RENDERER_SEEDS[-1]} false necrosis mean {np.mean(held):.1f} max "
                  f"{max(held):.0f}; dev sample-generator seeds {DEV_SAMPLE_SEEDS} error pp "
                  f"{' '.join(f'{e:+.1f}' for e in err)} (mean {np.mean(err):+.1f}){brca_txt}{ana_txt}", flush=True)
            continue
        brca = [v for k, v in share.items() if k.startswith("brca/")]
        held = [v for k, v in share.items() if k.startswith("heldout/")]
        osteo = {k.split("Case-")[1][2:11]: round(v, 1) for k, v in share.items() if k.startswith("osteo/")}
        print(f"{name} seed {args.seed} [{spec}] ({len(y)} rows, {args.trees} trees, {time.perf_counter() - t0:.0f} s): "
              f"BRCA-M2C mean {np.mean(brca):.2f} %, > 5 %: {sum(v > 5 for v in brca)}; sample "
              f"{share['sample/he_necrosis']:.1f}; held-out renderer mean {np.mean(held):.1f} max {max(held):.0f}; "
              f"osteosarcoma {osteo}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("border-rows", help="the majority-labelled border blocks of the sample-recipe images")
    b.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit", help="small forests on the cached rows with recipe edits")
    f.add_argument("--rows", type=Path, nargs="+", required=True,
                   help="rows of train_tissue_model.py --save-rows (several files: their rows together)")
    f.add_argument("--cache", type=Path, required=True, help="evaluation feature cache (.npz, written if missing)")
    f.add_argument("--sets", choices=("dev", "rule"), default="dev",
                   help="dev: images no acceptance check reads (choose with these); rule: the acceptance rule's "
                        "own images, for the one final candidate only")
    f.add_argument("--border", type=Path, default=None, help="rows of the border-rows command")
    f.add_argument("--analogue-cache", type=Path, default=None,
                   help="with --sets dev: also the session-23 dev analogues (irregular-border rim tiles, oedematous "
                        "stroma, the dev generator's outer necrosis band); feature cache (.npz, written if missing)")
    f.add_argument("--stroma-cache", type=Path, default=None,
                   help="with --sets dev: also the session-24 dev analogues (dense pink matrix and clefted collagen "
                        "stroma: false necrosis, stroma read as tumour); feature cache (.npz, written if missing)")
    f.add_argument("--trees", type=int, default=8)
    f.add_argument("--fraction", type=float, default=0.25)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("specs", nargs="+", metavar="NAME SPEC")
    args = ap.parse_args(argv)
    if args.command == "border-rows":
        border_rows(args.out)
    else:
        if len(args.specs) % 2:
            ap.error("give NAME SPEC pairs")
        fit(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
