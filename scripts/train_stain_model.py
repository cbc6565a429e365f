"""Train the H&E-vs-IHC stain model (``mmnst_path/models/stains_he.json``, issue #14).

One row per image: :func:`mmnst_path.stain.he_model.he_features` of its tissue thumbnail (what
``stains="auto"`` looks at: :func:`mmnst_path.tiling.detect_tissue` at the pipeline's tissue
resolution), labelled ``he`` (H&E) or ``ihc`` (hematoxylin with a chromogen or azure B).

Training rows (all redistributable):

- generated tiles of every protocol of ``benchmarks/eval_stain_guess.py`` (H-DAB, H-AEC, H-FastRed,
  H&E, AzureB-DAB, Ki67 / MART-1 and Ki67 / SOX10 double stains; stain vectors, weak staining,
  tinted glass, black level and six of the ten pigment families), seeds 40.. (the evaluation uses
  seeds 0-5 and the held-out renderers);
- BRCA-M2C (BSD-3) H&E patches of its *train* and *val* splits (the 30 *test* patches validate);
- EndoNuke ER/PR DAB tiles with an even index (``mixed/``: CC BY 4.0; ``staining_ds/``: the hosting
  repository's Apache-2.0); the odd ones validate;
- NCT-CRC-HE (Kather et al. 2018, CC BY 4.0) H&E tiles and the even-index Kather 2016 texture tiles
  (CC BY 4.0), both without their adipose and background classes (:data:`BLANK_CLASSES`).

Validation only: the odd Kather 2016 tiles, the BRCA-M2C test split, the odd EndoNuke tiles, and the research-only sets of ``../shared/data``
(BCData, SHIDC, DeepLIIF Ki67; scikit-image IHC; osteosarcoma H&E; CMU-1 and TCGA slides), which
never train. ``--lodo`` also reports each real training dataset left out of training.

    PYTHONPATH=. .venv/bin/python scripts/train_stain_model.py --features /tmp/stain_rows.npz   # rows (cached)
    PYTHONPATH=. .venv/bin/python scripts/train_stain_model.py --features /tmp/stain_rows.npz --lodo
    PYTHONPATH=. .venv/bin/python scripts/train_stain_model.py --features /tmp/stain_rows.npz \\
        --out mmnst_path/models/stains_he.json
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from mmnst_path.stain.guess import colour_residuals  # noqa: E402
from mmnst_path.stain.he_model import FEATURES, LinearStainModel, he_features  # noqa: E402

TRAIN = ROOT.parent / "shared" / "train"
DATA = ROOT.parent / "shared" / "data"
CLASSES = ("ihc", "he")
#: Generated training seeds (evaluation: 0-5 and the held-out renderers).
TRAIN_SEEDS = range(40, 48)
PROTOCOLS = ("H-DAB", "H-AEC", "H-FastRed", "H&E", "AzureB-DAB", "H-DAB-FastRed", "H-DAB-AEC")
#: Tissue classes of the Kather sets left out: fat and glass hold too little stained tissue to tell
#: anything by (an IHC slide's fat looks the same); the guess on such an image is reported, not trained.
BLANK_CLASSES = ("ADI", "BACK", "07_ADIPOSE", "08_EMPTY")
#: Logistic regression's inverse regularisation (standardised features). Chosen 2026-12-04 on the
#: cached rows with each real training set left out in turn and the odd half of the generated rows
#: held out of every fit: C 0.03 and 0.3 both 11 errors, the stronger regularisation taken.
#: ``--lodo`` here keeps every generated row in the fits and adds the project's other generators
#: (never trained on) instead: C 0.03 15 + 7 errors, 0.1 14 + 8, 0.3 13 + 8, 1 28 + 10. A model
#: on 21 features (three absolute residual levels added) made 7 + 8 at C 1 but failed the generated
#: acceptance fixed before it was run (``eval_stain_guess.py --seeds 6``: H-FastRed 46 -> 44,
#: H-DAB-FastRed 25 -> 23 of 60, where at most one fewer was allowed) and was not shipped.
#: Research-only sets were not used to choose.
C = 0.03
#: The grid ``--lodo`` reports.
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: Real rows count this much more than a generated one in the fit: ~300 real vs ~400 generated
#: rows, and the real ones are what the model is for.
REAL_WEIGHT = 2.0


def _row(thumb: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    if mask is not None and not np.any(mask):
        mask = None
    _, _, m, theta, norm = colour_residuals(thumb, mask)
    return he_features(m, theta, norm)


def generated_rows(per_seed: int):
    from eval_stain_guess import protocol_tile, thumbnail

    for p in PROTOCOLS:
        for seed in TRAIN_SEEDS:
            for i in range(per_seed):
                label, rgb, mpp = protocol_tile(p, seed, i, size=384)
                thumb, mask, _ = thumbnail(rgb, mpp)
                yield "generated " + p, "generated", int(p == "H&E"), label, _row(thumb, mask)


#: Tiles of each of the project's other generators (training seed ranges of their own models).
OTHER_PER_GENERATOR = 16


def other_generator_rows():
    """Validation rows (never trained: adding them to training raised the left-out errors from 11 to
    15) from the project's other generators, each randomising stain vectors and amounts, blur,
    noise, white balance and JPEG in its own way: H&E tissue with necrosis and lymphocytes
    (``he_tissue_tile``, seeds 400..), H&E necrosis mimics (``he_mimic_tile``, 700..), keratinising
    H&E (``he_keratin_tile``, 200..), IHC tissue in DAB / AEC / Fast Red (``ihc_tissue_tile``,
    400..) and Ki67 cells (``ki67_cells_tile``, 5000..)."""
    from eval_stain_guess import thumbnail

    from mmnst_path.synthetic_ki67 import ki67_cells_tile
    from mmnst_path.synthetic_tissue import he_keratin_tile, he_mimic_tile, he_tissue_tile, ihc_tissue_tile

    n = OTHER_PER_GENERATOR
    makers = [("he_tissue_tile", 1, lambda i: he_tissue_tile(400 + i)),
              ("he_mimic_tile", 1, lambda i: he_mimic_tile(700 + i)),
              ("he_keratin_tile", 1, lambda i: he_keratin_tile(200 + i)),
              ("ihc_tissue_tile", 0, lambda i: ihc_tissue_tile(400 + i, chromogen=("dab", "aec", "fast_red")[i % 3])),
              ("ki67_cells_tile", 0, lambda i: ki67_cells_tile(5000 + i))]
    for name, y, make in makers:
        for i in range(n):
            t = make(i)
            thumb, mask, _ = thumbnail(t.rgb, t.mpp)
            yield "other generator " + name, "validate", y, f"{name} {i}", _row(thumb, mask)


def _brca(split: str) -> list[tuple[Path, float]]:
    names = set((TRAIN / "brca_m2c" / "_meta" / f"brca_ds_{split}.txt").read_text().split())
    return [(p, 0.5) for p in sorted((TRAIN / "brca_m2c" / "mixed").glob("*.png")) if p.name in names]


def _endonuke(parity: int) -> list[tuple[Path, float]]:
    """EndoNuke tiles of one index parity over ``mixed/`` (CC BY 4.0) and ``staining_ds/`` (the EndoNet
    test subset, covered by the hosting repository's Apache-2.0 only), sorted by path. Neighbouring
    ids may come from one slide, so the odd half is a weak validation of the even half."""
    files = sorted((TRAIN / "endonuke").glob("*/*.png"))
    return [(p, 0.5) for i, p in enumerate(files) if i % 2 == parity]


def real_sets() -> dict[str, tuple[str, int, list[tuple[Path, float | None]]]]:
    """name -> (role 'train' / 'validate', label, [(file, mpp)])."""
    def files(pattern: str, root: Path, mpp: float | None) -> list[tuple[Path, float | None]]:
        return [(p, mpp) for p in sorted(root.glob(pattern))]

    kather = [(p, 0.5) for p in sorted((TRAIN / "kather_nct_crc_he").glob("*/*"))
              if p.suffix in (".tif", ".jpg", ".png") and p.parent.name not in BLANK_CLASSES]
    k16 = [(p, 0.331) for p in sorted((TRAIN / "kather_texture_2016").glob("*/*.png"))
           if p.parent.name not in BLANK_CLASSES]
    return {
        "BRCA-M2C train+val": ("train", 1, _brca("train") + _brca("val")),
        "EndoNuke even": ("train", 0, _endonuke(0)),
        "Kather NCT-CRC": ("train", 1, kather),
        "Kather 2016 even": ("train", 1, k16[0::2]),
        "BRCA-M2C test": ("validate", 1, _brca("test")),
        "EndoNuke odd": ("validate", 0, _endonuke(1)),
        "Kather 2016 odd": ("validate", 1, k16[1::2]),
        "BCData": ("validate", 0, files("ki67/bcdata/*.png", DATA, 0.25)),
        "SHIDC": ("validate", 0, files("ki67/shidc/*.jpg", DATA, 0.21)),
        "DeepLIIF": ("validate", 0, files("ki67/deepliif/*.png", DATA, 0.31)),
        "skimage IHC": ("validate", 0, files("ihc/*.png", DATA, 0.5)),
        "osteosarcoma": ("validate", 1, files("necrosis/*.jpg", DATA, 1.0)),
        "slides CMU-1 TCGA": ("validate", 1, [(DATA / "wsi" / "CMU-1-Small-Region.svs", None),
                                              (DATA / "wsi" / "tcga-cr-7395-01a-01-ts1.svs", 0.5)]),
    }


def real_rows():
    from eval_red_chromogens import _real_thumbnail

    for name, (role, label, items) in real_sets().items():
        for path, mpp in items:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    thumb, mask, _ = _real_thumbnail(path, mpp)
                except Exception as exc:
                    print(f"skipped {path}: {exc}", file=sys.stderr)
                    continue
            yield name, role, label, path.name, _row(thumb, mask)


def collect(path: Path, per_seed: int) -> dict[str, np.ndarray]:
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    rows = []
    t0 = time.perf_counter()
    for r in real_rows():
        rows.append(r)
    for name, label, y, lab, x in generated_rows(per_seed):
        rows.append((name, label, y, lab, x))
    rows.extend(other_generator_rows())
    rows = [r for r in rows if r[4] is not None]
    out = {"group": np.array([r[0] for r in rows]), "role": np.array([r[1] for r in rows]),
           "y": np.array([r[2] for r in rows], np.int64), "label": np.array([r[3] for r in rows]),
           "x": np.stack([r[4] for r in rows])}
    np.savez(path, **out)
    print(f"{len(rows)} rows in {time.perf_counter() - t0:.0f} s -> {path}", file=sys.stderr)
    return out


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale <= 1e-9] = 1.0
    lr = LogisticRegression(C=C, max_iter=5000)
    lr.fit((x - mean) / scale, y, sample_weight=w)
    return mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0])


def _p(params: tuple[np.ndarray, np.ndarray, np.ndarray, float], x: np.ndarray) -> np.ndarray:
    mean, scale, coef, b = params
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + b)))


def report(rows: dict[str, np.ndarray], params, groups: list[str]) -> list[dict[str, object]]:
    out = []
    for g in groups:
        sel = rows["group"] == g
        if not sel.any():
            continue
        p = _p(params, rows["x"][sel])
        y = rows["y"][sel]
        right = (p >= 0.5) == (y == 1)
        amb = np.abs(p - 0.5) < 0.2
        wrong = [str(lab) for lab, ok in zip(rows["label"][sel], right, strict=True) if not ok][:4]
        out.append({"group": g, "truth": CLASSES[int(y[0])], "n": int(sel.sum()), "right": int(right.sum()),
                    "ambiguous": int(amb.sum()), "wrong": wrong})
    return out


def _print(table: list[dict[str, object]]) -> None:
    print("| rows | truth | n | right | within 0.2 of p = 0.5 | wrong (examples) |")
    print("|---|---|---:|---:|---:|---|")
    for r in table:
        print(f"| {r['group']} | {r['truth']} | {r['n']} | {r['right']} | {r['ambiguous']} | {'; '.join(r['wrong'])} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=Path, required=True, help="row cache (.npz): read if it exists, else written")
    ap.add_argument("--per-seed", type=int, default=6)
    ap.add_argument("--lodo", action="store_true", help="also leave each real training dataset out")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rows = collect(args.features, args.per_seed)
    train = rows["role"] != "validate"
    real = rows["role"] == "train"
    w = np.where(real, REAL_WEIGHT, 1.0)
    params = fit(rows["x"][train], rows["y"][train], w[train])
    groups = list(dict.fromkeys(rows["group"].tolist()))
    table = report(rows, params, groups)
    _print(table)
    print()
    print("coefficients (standardised):", {n: round(float(c), 2) for (n, _, _), c in zip(FEATURES, params[2], strict=True)},
          "intercept", round(params[3], 2))
    if args.lodo:
        global C
        chosen = C
        other = np.char.startswith(rows["group"].astype(str), "other generator")
        real_groups = [g for g in groups if (rows["group"] == g)[real].any()]
        print("\n| C | held-out errors | " + " | ".join(f"{g} left out" for g in real_groups)
              + " | other generators |")
        print("|---:|---:|" + "---:|" * (len(real_groups) + 1))
        for c in C_GRID:
            C = c
            errs = []
            for g in real_groups:
                keep = train & (rows["group"] != g)
                r = report(rows, fit(rows["x"][keep], rows["y"][keep], w[keep]), [g])[0]
                errs.append(int(r["n"]) - int(r["right"]))
            p = _p(fit(rows["x"][train], rows["y"][train], w[train]), rows["x"][other])
            oerr = int(np.sum((p >= 0.5) != (rows["y"][other] == 1)))
            print(f"| {c} | {sum(errs) + oerr} | " + " | ".join(map(str, errs)) + f" | {oerr} |")
        C = chosen
    if args.out:
        role = {str(g): str(r) for g, r in zip(rows["group"], rows["role"], strict=True)}
        val = {r["group"]: f"{r['right']} / {r['n']}" for r in table if role[str(r["group"])] == "validate"}
        fitted = {r["group"]: f"{r['right']} / {r['n']}" for r in table if role[str(r["group"])] != "validate"}
        card = {
            "name": "H&E vs IHC (stain auto-detection)",
            "task": "probability that an image is H&E (eosin counterstain) rather than hematoxylin with a "
                    "chromogen (DAB, AEC, Fast Red) or azure B; one row per image thumbnail",
            "model": f"logistic regression (scikit-learn, C={C}) on standardised features; real rows weight {REAL_WEIGHT}",
            "licence": "BSD-3-Clause (the model, as mmnst_path); training data licences and attribution below: "
                       "CC BY 4.0 (EndoNuke mixed/, NCT-CRC-HE-100K / CRC-VAL-HE-7K, Kather 2016), BSD-3-Clause "
                       "(BRCA-M2C: Copyright (c) 2022, TopoXLab, its notice and disclaimer kept in the training data's "
                       "_meta/LICENSE), Apache-2.0 (EndoNuke staining_ds/) — give the attributions below",
            "training_data": [
                {"name": "mmnst_path generated tiles", "rows": int((train & ~real).sum()),
                 "licence": "generated by this project", "seeds": f"{TRAIN_SEEDS.start}-{TRAIN_SEEDS.stop - 1}",
                 "protocols": list(PROTOCOLS)},
                {"name": "BRCA-M2C (Abousamra et al., Multi-Class Cell Detection Using Spatial Context "
                         "Representation, ICCV 2021; Copyright (c) 2022, TopoXLab), train and val splits",
                 "licence": "BSD-3-Clause",
                 "rows": int((rows["group"] == "BRCA-M2C train+val").sum())},
                {"name": "EndoNuke (Naumov et al., Data 2022, 7(6), 75; doi:10.3390/data7060075; files from "
                         "ispras/endonet), even-index tiles of mixed/ and staining_ds/",
                 "licence": "CC BY 4.0 (mixed/); Apache-2.0 of the hosting repository (staining_ds/, 5 of the rows)",
                 "rows": int((rows["group"] == "EndoNuke even").sum())},
                {"name": "NCT-CRC-HE-100K / CRC-VAL-HE-7K (Kather et al. 2018, doi:10.5281/zenodo.1214456; "
                         "PLoS Med 16(1): e1002730, 2019), "
                         "all classes but ADI and BACK", "licence": "CC BY 4.0",
                 "rows": int((rows["group"] == "Kather NCT-CRC").sum())},
                {"name": "Kather et al. 2016 colorectal textures (Sci Rep 6, 27988, doi:10.1038/srep27988; data "
                         "doi:10.5281/zenodo.53169), even-index tiles of "
                         "the six tissue classes (not adipose, not empty)", "licence": "CC BY 4.0",
                 "rows": int((rows["group"] == "Kather 2016 even").sum())},
            ],
            "validation": {"held-out rows right (p >= 0.5 is H&E) per set, never trained; research-only sets "
                           "(BCData, SHIDC, DeepLIIF, scikit-image IHC, osteosarcoma, CMU-1, TCGA) validate only": val,
                           "leave_one_dataset_out": "scripts/train_stain_model.py --lodo (benchmarks/README.md)"},
            "training_fit": fitted,
            "settings": {"thumbnail": "mmnst_path.tiling.detect_tissue at AnalysisConfig().tissue_mpp",
                         "residual": "OD against the image's white point, minus its projection on Ruifrok & "
                                     "Johnston's hematoxylin; angles from DAB (mmnst_path.stain.guess)"},
            "version": "1.1",
            "software": {"scikit-learn": _version("scikit-learn"), "numpy": np.__version__},
            "intended_use": "whole-image stain auto-detection (mmnst_path.stain.guess); not a pixel classifier",
        }
        rng = np.random.default_rng(0)
        pick = rng.choice(int(train.sum()), size=12, replace=False)
        model = LinearStainModel.build(classes=CLASSES, mean=params[0], scale=params[1], coef=params[2],
                                       intercept=params[3], card=card, test_x=rows["x"][train][pick])
        model.save(args.out)
        print(f"wrote {args.out} (id {model.model_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
