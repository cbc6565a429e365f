"""Leave-one-dataset-out (LODO) validation of the shipped H&E tissue model (``tissue_default.mmnst``).

Usage::

    nice -n 10 .venv/bin/python benchmarks/lodo_tissue_he.py [--out /tmp/h4/lodo_he] [--trees 32]
        [--variants full no-brca_m2c no-kather no-osteosarcoma no-synthetic no-sample_recipe no-tissue] [--nuclear-detail]

The training rows of ``scripts/train_tissue_model.py`` (its ``feature_rows``, imported, not copied; the
options of the shipped default, ``--brca --tissue-tiles --osteo-rows 12``) are collected once, tagged
with their source, and cached under ``OUT/cache`` (with ``--nuclear-detail`` the columns of the
nuclear-detail features follow the others, so one cache serves models with and without them). Then
the model is retrained on all training rows ("full") and once without each source S ("no-S"; Kather
NCT and Kather 2016 together as ``kather``) with the script's forest settings, and every variant is
scored with ``benchmarks/eval_necrosis.py``'s figures on what each source stands for:

==============  ===========================================================================
brca_m2c        false necrosis on the 30 held-out BRCA-M2C test patches (viable breast carcinoma)
kather          accuracy on the held-out quarter of the Kather tiles (blocks), its necrosis rows
osteosarcoma    the 8 osteosarcoma tiles no model trains on: Non-Viable-Tumor necrosis, Viable and
                Non-Tumor false necrosis
synthetic       ``mmnst_path.synthetic`` tiles (seeds 1-34 with ``--random-cases 24``)
sample_recipe   the recipe of ``sample_tiles/generate.py`` (seeds 505-510, 520-543)
tissue          held-out ``he_tissue_tile`` tiles (seeds 1000-1033)
==============  ===========================================================================

For "no-S" the S column is what a new dataset of that kind looks like to the model. Tables go to stdout
and ``OUT/lodo_tissue_he.md``, figures to ``OUT/lodo_tissue_he.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import io
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (ROOT, ROOT / "scripts", HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

#: options of the shipped default (scripts/train_tissue_model.py)
SHIPPED_OPTIONS = ["--brca", "--tissue-tiles", "--trees", "32", "--depth", "14", "--osteo-rows", "12"]
#: LODO groups: name -> sources of scripts/train_tissue_model.sources
GROUPS = {"brca_m2c": ("brca_m2c",), "kather": ("nct", "kather2016"), "osteosarcoma": ("osteosarcoma",),
          "synthetic": ("synthetic",), "sample_recipe": ("sample_recipe",), "tissue": ("tissue",)}


def _script_args(extra: list[str]) -> argparse.Namespace:
    import train_tissue_model as tt

    return tt.parser().parse_args([*SHIPPED_OPTIONS, *extra])


def collect(out: Path, nuclear_detail: bool = True, intensity_aug: bool = False) -> dict[str, np.ndarray]:
    """Feature rows of every training / validation image (cached under ``out/cache`` by the code that makes
    them); with ``nuclear_detail`` the nuclear-detail columns follow the others (models without them use the
    first columns); ``intensity_aug`` adds the script's ``--intensity-aug`` rows (cached apart)."""
    rows = _collect(out, nuclear_detail, False)
    if intensity_aug:
        extra = _collect(out, nuclear_detail, True)
        rows = {k: np.concatenate([rows[k], extra[k]]) for k in rows}
    return rows


def _collect(out: Path, nuclear_detail: bool, intensity_only: bool) -> dict[str, np.ndarray]:
    import train_tissue_model as tt

    args = _script_args((["--nuclear-detail"] if nuclear_detail else []) + (["--intensity-aug"] if intensity_only
                                                                             else []))
    path = cache_path(out, nuclear_detail, intensity_only)
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    t0 = time.perf_counter()
    parts = list(tt.feature_rows(args, tt.settings_of(args), intensity_only=intensity_only))
    rows = {"x": np.concatenate([p[2] for p in parts]).astype(np.float32),
            "y": np.concatenate([p[3] for p in parts]).astype(np.int64),
            "source": np.concatenate([np.full(len(p[3]), p[0], dtype="<U16") for p in parts]),
            "held": np.concatenate([np.full(len(p[3]), p[4], dtype=bool) for p in parts])}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **rows)
    print(f"# {len(rows['y'])} rows in {time.perf_counter() - t0:.0f} s -> {path}", file=sys.stderr)
    return rows


def cache_path(out: Path, nuclear_detail: bool, intensity_only: bool = False) -> Path:
    """Cache file of :func:`collect`, named by a hash of the code that makes the rows."""
    import train_tissue_model as tt

    from mmnst_path.classify import tissue_features as tf

    # the code that makes the rows (not the docs, cards or the rest of the script)
    code = [inspect.getsource(f) for f in (tt.sources, tt.tile_rows, tt.feature_rows, tt.augment, tt.brca_labels,
                                            tt._sample_recipe_tiles, tf.base_maps, tf.features_from_base,
                                            tf._nuclear_features)]
    code += [(ROOT / "scripts" / "_training_data.py").read_text(),
             repr([tt.ROWS_FACTOR, tt.AUG, tt.SAMPLE_RECIPE, tt.TISSUE_SEEDS, tt.SYNTH_SEEDS, tt.OSTEO_TRAIN, tt.NCT,
                   tt.K16, tt.K16_DEBRIS, tt.CLASSES, tf.TissueFeatureSettings()])]
    if intensity_only:
        code.append(repr(tt.INTENSITY_AUG))
    key = hashlib.sha256(json.dumps([SHIPPED_OPTIONS, nuclear_detail, intensity_only, code]).encode()).hexdigest()[:12]
    return out / "cache" / f"he{'-int' if intensity_only else ''}-{key}.npz"


def train_variant(rows: dict[str, np.ndarray], drop: tuple[str, ...], path: Path, *, nuclear_detail: bool,
                  trees: int, depth: int, weights: dict[str, float] | None = None) -> Path:
    """Fit the script's forest on the training rows outside the sources ``drop`` and save it to ``path``.

    ``weights`` (source -> fraction of its rows kept, <= 1) thins sources, for experiments."""
    import train_tissue_model as tt

    from mmnst_path.classify.tissue_features import tissue_feature_specs
    from mmnst_path.classify.train import train_model

    args = _script_args(["--nuclear-detail"] if nuclear_detail else [])
    settings = tt.settings_of(args)
    specs = tissue_feature_specs(settings)
    keep = ~rows["held"] & ~np.isin(rows["source"], drop)
    rng = np.random.default_rng(7)
    for src, frac in (weights or {}).items():
        sel = keep & (rows["source"] == src)
        keep[sel] = rng.random(int(sel.sum())) < frac
    x, y = rows["x"][keep][:, : len(specs)], rows["y"][keep]
    card = {"name": f"LODO variant of the H&E tissue model without {list(drop)} (benchmarks/lodo_tissue_he.py)",
            "version": "0.0.0+lodo"}
    model = train_model(x, y, kind="tissue", classes=tt.CLASSES, features=specs,
                        settings={"features": settings.to_mapping(), "stains": "H&E"}, card=card,
                        n_estimators=trees, max_depth=depth, min_samples_leaf=args.leaf)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace(model).save(path)
    return path


def kather_accuracy(model_path: Path, rows: dict[str, np.ndarray]) -> float:
    """Block accuracy on the held-out quarter of the Kather tiles."""
    from mmnst_path.classify import load_model

    model = load_model(model_path, kind="tissue")
    sel = rows["held"] & np.isin(rows["source"], GROUPS["kather"])
    pred = model.predict(rows["x"][sel][:, : len(model.feature_names)])
    return float(np.mean(pred == rows["y"][sel]))


def evaluate(model_path: Path, rows: dict[str, np.ndarray], random_cases: int) -> dict[str, Any]:
    """Figures of one model on every source (see the module doc)."""
    import eval_necrosis as ev

    figs: dict[str, Any] = {"kather_accuracy": kather_accuracy(model_path, rows)}
    for mode in (["--brca"], [], ["--synthetic", "--random-cases", str(random_cases)]):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            summary = ev.figures([*mode, "--tissue-model", str(model_path)])
        figs.update(summary)
    return figs


def _row(name: str, f: dict[str, Any]) -> str:
    g = f["generators"]

    def gen(k: str) -> str:
        s = g.get(k, {})
        return f"{s.get('mean_abs', float('nan')):.2f} / {s.get('worst', float('nan')):+.1f}"

    return (f"| {name} | {f['brca_mean']:.1f} / {f['brca_over5']} | {f['kather_accuracy']:.3f} | "
            f"{' / '.join(f'{v:.1f}' for v in f['osteo_nvt_held'])}; {f['osteo_viable_max']:.1f}; "
            f"{f['osteo_nontumour_mean']:.1f} | {gen('synthetic')} | {gen('sample')} | {gen('tissue')} "
            f"({g.get('tissue', {}).get('false_max', float('nan')):.1f}) |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/lodo_tissue_he"))
    ap.add_argument("--trees", type=int, default=32)
    ap.add_argument("--depth", type=int, default=14)
    ap.add_argument("--random-cases", type=int, default=24)
    ap.add_argument("--nuclear-detail", action="store_true", help="models with the nuclear-detail features")
    ap.add_argument("--intensity-aug", action="store_true", help="train with the script's --intensity-aug rows")
    ap.add_argument("--variants", nargs="+", default=["shipped", "full", *(f"no-{g}" for g in GROUPS)])
    ap.add_argument("--collect-only", action="store_true")
    args = ap.parse_args(argv)
    rows = collect(args.out, intensity_aug=args.intensity_aug)
    if args.collect_only:
        return 0
    results: dict[str, Any] = {}
    jpath = args.out / "lodo_tissue_he.json"
    if jpath.is_file():
        results = json.loads(jpath.read_text())
    tag = ("nd" if args.nuclear_detail else "base") + ("+int" if args.intensity_aug else "")
    for v in args.variants:
        key = v if v == "shipped" else f"{tag}:{v}"
        if key in results:
            continue
        t0 = time.perf_counter()
        if v == "shipped":
            path = ROOT / "mmnst_path" / "models" / "tissue_default.mmnst"
        else:
            drop = GROUPS[v[3:]] if v.startswith("no-") else ()
            path = train_variant(rows, drop, args.out / "models" / f"{key}.mmnst", nuclear_detail=args.nuclear_detail,
                                 trees=args.trees, depth=args.depth)
        results[key] = evaluate(path, rows, args.random_cases)
        jpath.write_text(json.dumps(results, indent=1))
        print(f"# {key} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    lines = ["| variant | BRCA-M2C test necrosis mean % / patches > 5 % | Kather held-out acc | osteo held out: NVT "
             "(3); Viable max; Non-Tumor mean | synthetic abs err mean / worst pp | recipe | he_tissue_tile "
             "(false max) |", "|---|---|---|---|---|---|---|"]
    lines += [_row(k, f) for k, f in results.items()]
    text = "\n".join(lines)
    print(text)
    (args.out / "lodo_tissue_he.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
