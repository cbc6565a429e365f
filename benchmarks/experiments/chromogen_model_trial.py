"""A learned chromogen decision (DAB / AEC / Fast Red) tried and not adopted (issue #14, 2026-12-04, session 16).

The colour guess names the chromogen of an IHC image by the reddest peak of its chromogen pixels'
angle histogram (:mod:`mmnst_path.stain.guess`). This trial asked whether a model learned from
features of the whole histogram and of where the chromogen sits would name it better. It did on
the generated evaluation tiles, but it read the real research Ki67 tiles (DAB) as red chromogens,
so nothing was adopted. Figures and the reasons: ``benchmarks/README.md``, "A learned chromogen
decision, tried and not adopted".

One row per image, from the tissue thumbnail the pipeline guesses on (25 features): the log share of
chromogen-dominated tissue pixels; their angle histogram in 11 bins (edges -48, -38, -30, -22, -15,
-9, -4, +1, +6, +12, +30° from DAB); their 5th / 10th / 25th / 50th angle percentiles; the median
residual share and OD norm of the red (< -9°) and brown pixels; and
:func:`mmnst_path.stain.places.chromogen_places` (log red and brown nuclear bodies per mm², the red
bodies' angle, the red ring share, measured or not).

    cd /work/main
    .venv/bin/python benchmarks/experiments/chromogen_model_trial.py rows train 40 46 /tmp/rows_train.pkl
    .venv/bin/python benchmarks/experiments/chromogen_model_trial.py rows eval 0 4 /tmp/rows_eval.pkl
    .venv/bin/python benchmarks/experiments/chromogen_model_trial.py rows dab-rotated 40 46 /tmp/rows_rot.pkl
    .venv/bin/python benchmarks/experiments/chromogen_model_trial.py rows real 0 0 /tmp/rows_real.pkl
    .venv/bin/python benchmarks/experiments/chromogen_model_trial.py fit /tmp/rows_train.pkl /tmp/rows_eval.pkl \\
        /tmp/rows_real.pkl [/tmp/rows_rot.pkl] [--columns 1,2,3,4,5,6,7,8,9,10,11,20,22,23,24] [--override]

``--columns`` fits on those feature columns only (the 15 "density-free" ones above: the 11 histogram bins and
4 of the 5 place columns, brown bodies left out); ``--override`` also reports the rule overridden only where the
logistic model is confident (p >= 0.6 / 0.7 / 0.8 / 0.9).

Generated rows: ``benchmarks/eval_stain_guess.py``'s ``protocol_tile`` (H-DAB, H-AEC, H-FastRed and the
Ki67 / MART-1 and Ki67 / SOX10 double stains, labelled by their red chromogen), 10 tiles per protocol
and seed; ``dab-rotated``: H-DAB tiles whose DAB vector is turned 0-14° browner (as real DAB scans
lie at +5 to +13°), hematoxylin 0-4° and a third weakened. Real rows: the H-DAB sets of
``eval_red_chromogens.real_sets`` (EndoNuke's even tiles train, CC BY 4.0; BCData, SHIDC, DeepLIIF
and scikit-image's IHC image are research-only and only validate).
"""

from __future__ import annotations

import collections
import math
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import eval_stain_guess as E  # noqa: E402

from mmnst_path import synthetic  # noqa: E402
from mmnst_path.stain import guess as G  # noqa: E402
from mmnst_path.stain.places import PLACES_MAX_MPP, chromogen_places  # noqa: E402

EDGES = np.array([-180, -48, -38, -30, -22, -15, -9, -4, 1, 6, 12, 30.0])
LABEL = {"H-DAB": "dab", "H-AEC": "aec", "H-FastRed": "fast_red", "H-DAB-FastRed": "fast_red", "H-DAB-AEC": "aec"}
RULE = {**LABEL, "H&E": "he", "AzureB-DAB": "azure"}


def features(thumb: np.ndarray, mask: np.ndarray | None, tmpp: float | None) -> tuple[np.ndarray, str]:
    """The trial's feature row of one tissue thumbnail, and the shipped guess's name for it."""
    tissue = mask if mask is not None and mask.any() else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        name = G.guess_stains_detail(thumb, tissue, mpp=tmpp).name
        glass, wp, m, theta, norm = G.colour_residuals(thumb, tissue)
        if glass is None and wp != (255.0, 255.0, 255.0):
            wp = (255.0, 255.0, 255.0)
            m, theta, norm = G._residuals(thumb, tissue, wp)
        places = (chromogen_places(thumb, tissue, float(tmpp), wp)
                  if tmpp is not None and tmpp <= PLACES_MAX_MPP else None)
    chrom = (m >= G.CHROMOGEN_MIN_OD) & (m >= G.CHROMOGEN_MIN_SHARE * norm)
    n, nc = max(1, m.shape[0]), int(chrom.sum())
    th, share, od = theta[chrom], (m / np.maximum(norm, 1e-6))[chrom], norm[chrom]
    red, brown = th < -9, th >= -9
    row = [math.log(nc / n + 1e-4), *(np.histogram(th, bins=EDGES)[0] / max(1, nc)),
           *(np.percentile(th, [5, 10, 25, 50]) if nc else np.zeros(4)),
           float(np.median(share[red])) if red.any() else 0.0, float(np.median(share[brown])) if brown.any() else 0.0,
           float(np.median(od[red])) if red.any() else 0.0, float(np.median(od[brown])) if brown.any() else 0.0]
    if places is None:
        row += [0.0, 0.0, -9.0, 0.0, 0.0]
    else:
        row += [math.log1p(places.red_bodies_mm2), math.log1p(places.brown_bodies_mm2),
                places.red_body_deg if math.isfinite(places.red_body_deg) else -9.0, places.red_ring_share, 1.0]
    return np.asarray(row), name


def generated_rows(seeds: range) -> tuple[np.ndarray, np.ndarray, list[str], list[tuple]]:
    X, y, names, tags = [], [], [], []
    for p in LABEL:
        for s in seeds:
            for i in range(10):
                lab, rgb, mpp = E.protocol_tile(p, s, i)
                x, name = features(*E.thumbnail(rgb, mpp))
                X.append(x), y.append(LABEL[p]), names.append(name), tags.append((p, s, i, lab))
    return np.array(X), np.array(y), names, tags


def rotated_dab_rows(seeds: range) -> tuple[np.ndarray, np.ndarray, list[str], list[tuple]]:
    aec = synthetic._CHROMOGEN_VECTORS["aec"]
    X, names, tags = [], [], []
    for s in seeds:
        for i in range(10):
            rng = np.random.default_rng([s, i, 977])
            fam = synthetic.PIGMENT_FAMILIES[i % len(synthetic.PIGMENT_FAMILIES)]
            app = ("plain", "varied", "wide")[int(rng.integers(3))]
            sv = -float(rng.uniform(0, 14.0)) / 8.4  # beyond DAB, away from AEC (8.4° from DAB)
            vh = synthetic.perturb_vector(synthetic._H, rng.uniform(0, 4), rng)
            with E._chromogen_vectors("dab", E.red_vector(aec, sv), vh):
                t = synthetic.pigment_family_tile(s, fam, chromogen="dab", size=384, appearance=app)
            rgb = E._weaken(t.rgb, float(rng.uniform(0.45, 0.8))) if rng.random() < 1 / 3 else t.rgb
            x, name = features(*E.thumbnail(rgb, t.mpp))
            X.append(x), names.append(name), tags.append(("H-DAB-rot", s, i, f"{fam} {app} {sv:.2f}"))
    return np.array(X), np.array(["dab"] * len(X)), names, tags


def real_rows() -> dict[str, tuple[np.ndarray, list[str]]]:
    from eval_red_chromogens import _real_thumbnail, real_sets

    out = {}
    for group, (truth, items) in real_sets().items():
        if truth != "H-DAB":
            continue
        rows, files = [], []
        for path, mpp in items:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows.append(features(*_real_thumbnail(path, mpp))[0])
            files.append(str(path))
        out[group] = (np.array(rows), files)
    return out


def fit(train: Path, evaluation: Path, real: Path, *extra: Path, columns: list[int] | None = None,
        override: bool = False) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    Xt, yt, _, _ = pickle.loads(train.read_bytes())
    Xe, ye, ge, te = pickle.loads(evaluation.read_bytes())
    sets = pickle.loads(real.read_bytes())
    Xen = sets["EndoNuke IHC (train)"][0]
    even = Xen[np.arange(len(Xen)) % 2 == 0]
    parts_x, parts_y = [Xt, even], [yt, np.array(["dab"] * len(even))]
    for p in extra:
        Xr, yr, _, _ = pickle.loads(p.read_bytes())
        parts_x.append(Xr), parts_y.append(yr)
    X, y = np.vstack(parts_x), np.concatenate(parts_y)
    cols = list(range(X.shape[1])) if columns is None else columns
    X, Xe = X[:, cols], Xe[:, cols]
    sets = {k: (Xr[:, cols], files) for k, (Xr, files) in sets.items()}
    mu, sd = X.mean(0), X.std(0) + 1e-9

    def report(name: str, pred: np.ndarray) -> None:
        by: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        for (p, *_), truth, got in zip(te, ye, pred, strict=True):
            by[p][0] += got == truth
            by[p][1] += 1
        cells = ", ".join(f"{k} {a}/{b}" for k, (a, b) in by.items())
        print(f"{name}: {cells}; right {sum(a for a, _ in by.values())}/{len(te)}")

    def real_text(predict) -> str:  # type: ignore[no-untyped-def]
        return "; ".join(f"{k}: {dict(collections.Counter(str(v) for v in predict(Xr)))}" for k, (Xr, _) in sets.items())

    report("shipped rule", np.array([RULE.get(g, g) for g in ge]))
    for c in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
        lr = LogisticRegression(C=c, max_iter=5000).fit((X - mu) / sd, y)
        report(f"logistic C={c}", lr.predict((Xe - mu) / sd))
        print("   real DAB sets read as:", real_text(lambda Z, lr=lr: lr.predict((Z - mu) / sd)))
        if override:  # the rule, unless the model is confident of another chromogen
            prob, names = lr.predict_proba((Xe - mu) / sd), list(lr.classes_)
            for t in (0.6, 0.7, 0.8, 0.9):
                pred = []
                for g, p in zip(ge, prob, strict=True):
                    rule, k = RULE.get(g, g), int(np.argmax(p))
                    pred.append(names[k] if p[k] >= t and rule in names else rule)
                report(f"   rule overridden at p >= {t}", np.array(pred))
    rf = RandomForestClassifier(300, min_samples_leaf=3, random_state=0).fit(X, y)
    report("forest", rf.predict(Xe))
    print("   real DAB sets read as:", real_text(rf.predict))


def main(argv: list[str]) -> int:
    if argv[0] == "fit":
        args = list(argv[1:])
        columns = None
        if "--columns" in args:
            i = args.index("--columns")
            columns = [int(c) for c in args[i + 1].split(",")]
            del args[i:i + 2]
        override = "--override" in args
        fit(*(Path(a) for a in args if a != "--override"), columns=columns, override=override)
        return 0
    _, kind, a, b, out = argv
    seeds = range(int(a), int(b))
    rows = {"train": generated_rows, "eval": generated_rows, "dab-rotated": rotated_dab_rows}
    result = real_rows() if kind == "real" else rows[kind](seeds)
    Path(out).write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
