"""Session 43 H3 (#13): dev ablation of class-weight levers for ``tissue_default`` with small forests.

    PYTHONPATH=. python benchmarks/experiments/tissue_weights_dev_s43.py --rows /tmp/s37_h5/base_rows.npz \
        --cache /tmp/s43_h3/dev_cache.npz [--seed 0] NAME SPEC [NAME SPEC ...]
    PYTHONPATH=. python benchmarks/experiments/tissue_weights_dev_s43.py --cache /tmp/s43_h3/dev_cache.npz \
        --model FILE [--model FILE ...] [--scale CLASS=W,...]

``--model``: the same figures for saved tissue models (their whole forests, argmax of the class probabilities; with
``--scale`` the probabilities multiplied per class first: a post-hoc stand-in for a training-time class weight).

Not a validation. Fits ``--trees`` (8) trees on a seeded quarter of the 1.1.0 recipe's cached rows (the BRCA-M2C
val patches left out) with the SPEC edits of :mod:`tissue_recipe_proxy` (``nec`` / ``rep`` / ``thin``), ``cw=CLASS:W`` (a class's
balanced weight times W, as the trainer's ``--class-scale``; before session 43's fix of that option, a per-row
``sample_weight``, which scikit-learn 1.9 uses only for the bootstrap draw and ``balanced_subsample`` re-balances:
the first ``cw`` figures of the report moved nothing but the draw) ``hp=depth:D,leaf:L`` (forest settings) and ``nf=FEATURE:1[,...]`` (features held constant in
training, so that no split uses them),
and reads, without the pipeline's smoothing, on dev tiles only (seeds 7300-7389 are this project's dev seeds; no
gate renderer, no research Ki67 set, no BRCA-M2C test patch, no osteosarcoma validation tile):

- :func:`mmnst_path.synthetic_tissue.he_mimic_tile` seeds 7300-7323 (a generator 1.1.0 never trained on: collagen,
  oedema, blood, mucin, keratin, fat beside tumour and, in about half, four necrosis kinds): per true class, the
  share of its area read necrosis; false necrosis (share of tissue blocks read necrosis on the tiles without
  necrosis); necrosis found (share of true necrosis read necrosis);
- :func:`mmnst_path.synthetic_tissue.he_tissue_tile` seeds 7324-7335 with necrosis (the trained generator, new
  seeds): necrosis found;
- the BRCA-M2C val patches (viable carcinoma, left out of every fit): false necrosis mean and patches > 5 %.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tissue_recipe_proxy as proxy  # noqa: E402

MIMIC_SEEDS = tuple(range(7300, 7324))
TISSUE_SEEDS = tuple(range(7324, 7336))
CLASSES = ("tumour", "stroma", "necrosis", "blood", "mucin", "keratin", "fat")


def _tile_size(s: int) -> tuple[float, int]:
    return (1.0, 384) if s % 2 else (0.5, 640)


def dev_cache(path: Path) -> dict[str, np.ndarray]:
    """Feature rows of the dev tiles and per-block class shares (``w/<class>/<key>``), computed once."""
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    from PIL import Image

    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    out: dict[str, np.ndarray] = {}
    tiles = [(f"mimic/{s}", he_mimic_tile, s) for s in MIMIC_SEEDS] + [(f"tissue/{s}", he_tissue_tile, s)
                                                                      for s in TISSUE_SEEDS]
    for key, gen, s in tiles:
        mpp, size = _tile_size(s)
        t = gen(s, size=size, mpp=mpp) if gen is he_mimic_tile else gen(s, size=size, mpp=mpp,
                                                                           necrosis=("geographic", "comedo", "islands")[s % 3])
        f, _ = proxy.tissue_features(t.rgb, mpp=mpp, settings=proxy.SETTINGS)
        out[key] = f.reshape(-1, f.shape[-1])
        for c in CLASSES:
            if c in t.masks and t.masks[c].any():
                out[f"w/{c}/{key}"] = proxy._mask_weights(t.masks[c], mpp, f.shape[:2])
        print(key, "done", flush=True)
    for n in proxy.brca_dev_names():
        rgb = np.asarray(Image.open(proxy.SHARED / "train" / "brca_m2c" / "mixed" / n).convert("RGB"))
        f, _ = proxy.tissue_features(rgb, mpp=0.5, settings=proxy.SETTINGS)
        out[f"brca/{n}"] = f.reshape(-1, f.shape[-1])
    np.savez(path, **out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=Path, nargs="+", default=None)
    ap.add_argument("--model", type=Path, nargs="+", default=None)
    ap.add_argument("--scale", default=None, metavar="CLASS=W[,...]")
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--trees", type=int, default=8)
    ap.add_argument("--fraction", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("specs", nargs="*", metavar="NAME SPEC")
    args = ap.parse_args(argv)
    from sklearn.ensemble import RandomForestClassifier

    ev = dev_cache(args.cache)
    w = {k[2:]: v for k, v in ev.items() if k.startswith("w/")}
    feats = {k: v for k, v in ev.items() if not k.startswith("w/")}
    if args.model:
        from mmnst_path.classify import load_model

        for path in args.model:
            model = load_model(path, kind="tissue")
            scale = np.ones(len(model.class_names))
            for part in filter(None, (args.scale or "").split(",")):
                c, _, v = part.partition("=")
                scale[model.class_names.index(c)] = float(v)
            pred_of = {k: np.argmax(model.forest.predict_proba(v.astype(np.float32)) * scale, axis=1)
                       for k, v in feats.items()}
            _report(f"{path} ({model.card.get('version')}, scale {args.scale or '-'})", pred_of, w,
                    model.class_names.index("necrosis"), model.class_names.index("background"))
        return 0
    x0, y0, src0, share0 = proxy.training_rows(args.rows, args.fraction, args.seed, leave_out=proxy.brca_dev_names())
    nec, bg = proxy.NECROSIS, proxy.BACKGROUND
    for name, spec in zip(args.specs[::2], args.specs[1::2], strict=True):
        edits = proxy.parse_spec(spec)
        x, y = proxy.edited_rows(x0, y0, src0, edits, None, share0)
        names = [f.name for f in proxy.tissue_feature_specs(proxy.SETTINGS)]
        for f in edits.get("nf", {}):  # a feature held constant in training: no split can use it
            x = x.copy() if f == next(iter(edits["nf"])) else x
            x[:, names.index(f)] = 0.0
        weight: str | dict[int, float] | None = "balanced_subsample"
        if "cw" in edits:  # the trainer's --class-scale: balanced weights x a per-class factor
            from mmnst_path.classify.train import _scaled_class_weight

            weight = _scaled_class_weight(y, proxy.recipe.CLASSES, "balanced_subsample", edits["cw"])
        hp = edits.get("hp", {})  # forest settings: depth, leaf (the recipe's 14, 15 unless given)
        forest = RandomForestClassifier(n_estimators=args.trees, max_depth=int(hp.get("depth", 14)),
                                        min_samples_leaf=int(hp.get("leaf", 15)),
                                        class_weight=weight, random_state=args.seed, n_jobs=1).fit(x, y)
        _report(f"{name} seed {args.seed} [{spec}]", {k: forest.predict(v) for k, v in feats.items()}, w, nec, bg)
    return 0


def _report(name: str, pred_of: dict[str, np.ndarray], w: dict[str, np.ndarray], nec: int, bg: int) -> None:
    """Print the dev figures of one model's block classes ``pred_of`` (dev tile key -> flat class indices)."""
    read: dict[str, list[float]] = {}
    false, brca = [], []
    for key, pred in pred_of.items():
        tissue = pred != bg
        share = 100.0 * float((pred[tissue] == nec).mean()) if tissue.any() else 0.0
        if key.startswith("brca/"):
            brca.append(share)
            continue
        if key.startswith("mimic/") and f"necrosis/{key}" not in w:
            false.append(share)
        for c in CLASSES:
            wk = w.get(f"{c}/{key}")
            if wk is not None and wk.sum() > 20:
                tag = ("found " + key.split("/")[0]) if c == "necrosis" else c
                read.setdefault(tag, []).append(100.0 * float((wk * (pred == nec)).sum() / wk.sum()))
    per = " ".join(f"{k} {np.mean(v):.2f}" for k, v in sorted(read.items()))
    print(f"{name}: mimic false necrosis mean {np.mean(false):.2f} max "
          f"{max(false):.0f} (n {len(false)}); read necrosis %: {per}; BRCA val mean {np.mean(brca):.2f} "
          f"(> 5 %: {sum(v > 5 for v in brca)})", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
