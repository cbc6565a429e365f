"""Train the DAB-vs-AEC model (``mmnst_path/models/stains_dab_aec.json``, issue #14, session 35).

One row per image: :attr:`mmnst_path.stain.guess.StainGuess.dab_features` of its tissue thumbnail (what
``stains="auto"`` looks at), for the images the guess before this model names a single H-DAB with its chromogen
peak redder than :data:`~mmnst_path.stain.chromogen_model.DAB_MODEL_MAX_DEG` (the only ones the model is asked
about), labelled ``aec`` or ``dab`` by the chromogen the tile was rendered with.

Training rows: generated tiles of ``benchmarks/eval_stain_guess.py``'s ``protocol_tile`` (H-DAB and H-AEC: every
pigment family, appearance plain / varied / wide, AEC's vector drawn over the published range from brownish to red,
hematoxylin turned, weak staining on a third), seeds :data:`TRAIN_SEEDS` (the evaluation uses seeds 0-39, the
held-out renderers, the dev seeds 40-63 and the gate seeds of each session). The permissive real DAB tiles of
``../shared/train`` (EndoNuke, CC BY 4.0) lie at +5.5° and browner, where the model is not asked; no permissively
licensed real AEC image exists.

    PYTHONPATH=. .venv/bin/python scripts/train_dab_aec_model.py --features /tmp/dab_aec_rows.npz \\
        [--thumbs /tmp/train.pkl] --out mmnst_path/models/stains_dab_aec.json
    PYTHONPATH=. .venv/bin/python scripts/train_dab_aec_model.py --features /tmp/dev_rows.npz --seeds 100 140

``--thumbs`` reads the thumbnails cached by ``benchmarks/experiments/chromogen_model_s34.py collect`` instead of
rendering them. ``--seeds FIRST LAST`` (without ``--out``) only writes the rows of other seeds (dev rows for
``benchmarks/experiments/dab_aec_model_s35.py grid``).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from train_chromogen_model import _version, fit  # noqa: E402

from mmnst_path.stain import chromogen_model as CM  # noqa: E402
from mmnst_path.stain.guess import guess_stains_detail  # noqa: E402
from mmnst_path.stain.he_model import LinearStainModel  # noqa: E402

#: Generated training seeds (evaluation: 0-39, dev 40-63 and 100-139, gates 18-23, 70-75 and 76-87, the
#: held-out renderers). Session 35 H6 trained on 1000-1019 (45 AEC rows); H9 on 1000-1099.
TRAIN_SEEDS = range(1000, 1100)
PROTOCOLS = ("H-DAB", "H-AEC")
#: Logistic regression's inverse regularisation (standardised features), chosen with AEC_P on dev seeds 40-63
#: and 100-139 (``benchmarks/experiments/dab_aec_model_s35.py grid``, session 35 H9): the most dev AEC rows
#: named H-AEC with no dev DAB row lost and AEC_P at least 0.01 above the largest p of a dev DAB row, of 146
#: asked AEC rows: C 1 +59 (AEC_P 0.95, largest DAB p 0.920), 3 +56 (0.97), 10 +56 (0.98), 30 +47 (0.99).
C = 1.0


def _thumbnails(thumbs: Path | None, seeds: range) -> Iterator[tuple[str, int, int, np.ndarray, np.ndarray, float | None]]:
    """(truth, seed, index, thumbnail, mask, µm per pixel) of the H-DAB and H-AEC tiles of ``seeds``,
    protocol by protocol (cached: in the cache's order)."""
    if thumbs is not None:
        with open(thumbs, "rb") as fh:
            for r in pickle.load(fh):
                if r["truth"] in PROTOCOLS and r["seed"] in seeds:
                    yield r["truth"], r["seed"], r.get("index", -1), r["thumb"], r["mask"], r["tmpp"]
        return
    from eval_stain_guess import protocol_tile, thumbnail

    for p in PROTOCOLS:
        for seed in seeds:
            for i in range(10):
                _, rgb, mpp = protocol_tile(p, seed, i, size=384)
                yield (p, seed, i, *thumbnail(rgb, mpp))


def collect(path: Path, thumbs: Path | None, seeds: range = TRAIN_SEEDS) -> dict[str, np.ndarray]:
    """Rows ``truth``, ``seed``, ``index``, ``deg`` (chromogen peak, degrees from DAB) and ``x`` of the asked
    tiles of ``seeds`` (cached in ``path``)."""
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    got: dict[str, list] = {"truth": [], "seed": [], "index": [], "deg": [], "x": []}
    for t, seed, i, thumb, mask, tmpp in _thumbnails(thumbs, seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = guess_stains_detail(thumb, mask, mpp=tmpp, dab_model=False)
        if g.name == "H-DAB" and not g.marker and g.dab_features is not None:
            for k, v in zip(got, (t, seed, i, g.chromogen_deg, g.dab_features), strict=True):
                got[k].append(v)
    out = {k: np.array(v) for k, v in got.items() if k != "x"}
    out["x"] = np.stack(got["x"]) if got["x"] else np.zeros((0, len(CM.FEATURES)))
    np.savez(path, **out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=Path, required=True, help="row cache (.npz): read if it exists, else written")
    ap.add_argument("--thumbs", type=Path, help="cached thumbnails (chromogen_model_s34.py collect) instead of rendering")
    ap.add_argument("--seeds", type=int, nargs=2, metavar=("FIRST", "LAST"),
                    help="rows of these seeds (LAST excluded) instead of TRAIN_SEEDS; no model is written")
    ap.add_argument("--dev-figures", default="", help="dev figures to record in the card (text)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.seeds:
        rows = collect(args.features, args.thumbs, range(*args.seeds))
        print(f"{len(rows['truth'])} asked rows ({int((rows['truth'] == 'H-AEC').sum())} AEC) -> {args.features}")
        return 0
    rows = collect(args.features, args.thumbs)
    x, y = rows["x"], (rows["truth"] == "H-AEC").astype(np.int64)
    params = fit(x, y, C)
    model = None
    p = 1.0 / (1.0 + np.exp(-np.clip(((x - params[0]) / params[1]) @ params[2] + params[3], -60, 60)))
    train_fig = (f"{int(y.sum())} AEC rows: {int((p[y == 1] >= CM.AEC_P).sum())} named H-AEC; {int((1 - y).sum())} DAB "
                 f"rows: {int((p[y == 0] >= CM.AEC_P).sum())} named H-AEC")
    print("training rows", len(y), "|", train_fig)
    print("coefficients (standardised):",
          {n: round(float(c), 2) for (n, _, _), c in zip(CM.FEATURES, params[2], strict=True)}, "intercept",
          round(params[3], 2))
    if args.out:
        card = {
            "name": "DAB vs AEC (brownish AEC named H-DAB by the colour rules)",
            "task": "probability that a single-stain IHC image (hematoxylin counterstain) the colour rules name H-DAB, "
                    f"with its chromogen peak redder than {CM.DAB_MODEL_MAX_DEG:+g} degrees from DAB, is AEC; "
                    f"it becomes H-AEC at p >= {CM.AEC_P}",
            "model": f"logistic regression (scikit-learn, C={C}) on standardised features",
            "features": f"the chromogen model's 20 features over the chromogen pixels below {CM.DAB_WINDOW_DEG:+g} "
                        f"degrees from DAB (at least {CM.DAB_MIN_PIXELS} such pixels)",
            "licence": "CC BY 4.0 (weights derived from images generated by this project only)",
            "training_data": [
                {"name": "mmnst_path generated tiles (benchmarks/eval_stain_guess.py protocol_tile)",
                 "rows": len(y), "licence": "generated by this project",
                 "seeds": f"{TRAIN_SEEDS.start}-{TRAIN_SEEDS.stop - 1}", "protocols": list(PROTOCOLS)},
            ],
            "not_trained": "no permissively licensed real AEC image exists in the training pack; the real DAB tiles "
                           "there (EndoNuke, CC BY 4.0) lie at +5.5 degrees and browner and are never asked",
            "validation": {"training rows": train_fig, **({"dev seeds 40-63": args.dev_figures}
                                                           if args.dev_figures else {})},
            "settings": {"thumbnail": "mmnst_path.tiling.detect_tissue at AnalysisConfig().tissue_mpp",
                         "residual": "OD against the image's white point, minus its projection on Ruifrok & "
                                     "Johnston's hematoxylin; angles from DAB (mmnst_path.stain.guess)"},
            "version": "1.0",
            "software": {"scikit-learn": _version("scikit-learn"), "numpy": np.__version__},
            "intended_use": "choosing between the H-DAB and H-AEC presets in mmnst_path.stain.guess; "
                            "not a pixel classifier",
        }
        pick = np.random.default_rng(0).choice(len(y), size=min(12, len(y)), replace=False)
        model = LinearStainModel.build(classes=CM.DAB_CLASSES, mean=params[0], scale=params[1], coef=params[2],
                                       intercept=params[3], card=card, test_x=x[pick], features=CM.FEATURES,
                                       expected_classes=CM.DAB_CLASSES)
        model.save(args.out)
        print(f"wrote {args.out} (id {model.model_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
