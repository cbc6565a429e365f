"""Session 37 H5 (#13): why generated necrosis under-reads and viable tiles over-read, on dev data only.

Dev data: seeds 760-779 of the four generators the ``syn`` step of ``tissue_rule_s36.py`` uses (``synthetic``
he_necrosis_tile, the ``sample`` recipe, ``tissue`` he_tissue_tile, ``mimic`` he_mimic_tile; parameters drawn from the
seed as ``tissue_rule_s36.syn_cases`` draws them); viable dev tiles: the same seeds of he_necrosis_tile with no
necrosis, he_tissue_tile / he_mimic_tile with ``necrosis="none"``, and the BRCA-M2C train + val patches (90, 0.5
µm/px); the Kather tiles of the trainer (its own training data). The held-out renderer, BRCA-M2C test and the
research-only Ki67 sets are never read.

    python tissue_diag_s37.py dev MODEL OUT.json         per tile: truth / ours, where true necrosis goes (smoothed
                                                         class of each truth-necrosis pixel), what viable truth reads
                                                         necrosis (per truth class), the viable dev tiles
    python tissue_diag_s37.py attrib MODEL OUT.json      forest attribution on missed necrosis blocks (true necrosis,
                                                         read another class): the share that flips to necrosis when one
                                                         feature group is set to its median on well-read necrosis blocks
    python tissue_diag_s37.py kather MODEL               the trainer's Kather tiles: class shares read per tile class
    python tissue_diag_s37.py panels MODEL PNG KIND:SEED ...  tile | truth border + necrosis read | classes
MODEL: ``default`` or a model file.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
DEV_SEEDS = tuple(range(760, 780))
BRCA = Path("/work/shared/train/brca_m2c")


def _cases(seeds: tuple[int, ...]) -> list[tuple[str, str, dict]]:
    import tissue_rule_s36 as s36

    return s36.syn_cases(seeds)


def _tile(kind: str, kw: dict, gen) -> tuple[np.ndarray, float, float, np.ndarray, dict]:
    """rgb, mpp, truth %, necrosis truth, other truth masks (class name -> bool) of one case."""
    import eval_necrosis as en

    from mmnst_path import synthetic
    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    if kind == "synthetic":
        t = synthetic.he_necrosis_tile(**kw)
        tis = t.masks.get("tissue")
        other = {"viable": (tis & ~t.masks["necrosis"]) if tis is not None else ~t.masks["necrosis"]}
        return t.rgb, t.mpp, float(t.truth["necrosis_fraction_pct"]), t.masks["necrosis"], other
    if kind in ("tissue", "mimic", "tissue_none", "mimic_none"):
        fn = he_tissue_tile if kind.startswith("tissue") else he_mimic_tile
        extra = {"necrosis": "none"} if kind.endswith("_none") else {}
        tt = fn(kw["seed"], size=kw["size"], mpp=kw["mpp"], **extra)
        other = {k: v for k, v in tt.masks.items() if k not in ("tissue", "necrosis", "background") and v.any()}
        return tt.rgb, tt.mpp, float(tt.truth["necrosis_fraction_pct"]), tt.masks["necrosis"], other
    rgb, mpp, truth_pct, truth = en.sample_recipe_tile(gen, **kw)
    return rgb, mpp, float(truth_pct), truth, {"viable": ~truth}


def _read(rgb: np.ndarray, mpp: float, params) -> tuple[float, np.ndarray, np.ndarray, tuple[str, ...], object]:
    """Necrosis %, final necrosis mask (image px), smoothed class labels (image px), class names, tissue map."""
    from mmnst_path.classify.tissue import classify_tissue, smoothed_labels
    from mmnst_path.quantify.necrosis import mask_to_tile, measure_necrosis, necrosis_metrics

    model = params.model()
    tmap = classify_tissue(rgb, mpp=mpp, model=model, stains=params.stains)
    counts, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp, params=params, tissue_map=tmap)
    pct = float(necrosis_metrics(counts)["necrosis_fraction_pct"])
    big = mask_to_tile(mask, rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp)
    lab = smoothed_labels(tmap, smooth_um=params.smooth_um)
    lab = np.repeat(np.repeat(lab, tmap.factor, 0), tmap.factor, 1)[: rgb.shape[0], : rgb.shape[1]]
    return pct, big, lab, model.class_names, tmap


def _params(model: str):
    from mmnst_path.quantify.necrosis import NecrosisParams

    return NecrosisParams(tissue_model=model)


def dev(model: str, out: Path) -> None:
    import eval_necrosis as en

    params = _params(model)
    gen = en._sample_generator()
    res: dict = {"cases": [], "viable": []}
    for kind, name, kw in _cases(DEV_SEEDS):
        rgb, mpp, truth_pct, truth, other = _tile(kind, kw, gen)
        pct, big, lab, names, _ = _read(rgb, mpp, params)
        row = {"kind": kind, "name": name, "mpp": mpp, "truth": truth_pct, "ours": pct,
               "kw": {k: v for k, v in kw.items() if k != "seed"}}
        if truth.any():
            n = int(truth.sum())
            row["nec_px"] = n
            row["nec_read_nec"] = float((big & truth).sum() / n)
            row["nec_as_class"] = {c: float((lab[truth] == i).sum() / n) for i, c in enumerate(names)}
        row["false_by_class"] = {c: [int(m.sum()), float((big & m).sum() / max(int(m.sum()), 1))]
                                 for c, m in other.items()}
        res["cases"].append(row)
        print(f"{kind:9s} {name:8s} mpp {mpp} truth {truth_pct:6.2f} ours {pct:6.2f} "
              + (" ".join(f"{c}:{v:.2f}" for c, v in row.get("nec_as_class", {}).items() if v >= 0.02)), flush=True)
    # viable dev tiles
    from mmnst_path import synthetic

    for seed in DEV_SEEDS:
        mpp = 1.0 if seed % 2 else 0.5
        size = 384 if mpp == 1.0 else 640
        t = synthetic.he_necrosis_tile(seed, mpp=mpp, size=size, necrosis_fraction=0.0)
        pct = _read(t.rgb, t.mpp, params)[0]
        res["viable"].append({"kind": "synthetic_none", "name": f"seed{seed}", "ours": pct})
        for kind in ("tissue_none", "mimic_none"):
            rgb, mp, _, _, other = _tile(kind, {"seed": seed, "mpp": mpp, "size": size}, gen)
            pct, big, _, _, _ = _read(rgb, mp, params)
            res["viable"].append({"kind": kind, "name": f"seed{seed}", "ours": pct,
                                  "false_by_class": {c: [int(m.sum()), float((big & m).sum() / max(int(m.sum()), 1))]
                                                     for c, m in other.items()}})
    from PIL import Image

    names = sorted((BRCA / "_meta/brca_ds_train.txt").read_text().split()
                   + (BRCA / "_meta/brca_ds_val.txt").read_text().split())
    for name in names:
        rgb = np.asarray(Image.open(BRCA / "mixed" / name).convert("RGB"))
        res["viable"].append({"kind": "brca_dev", "name": name, "ours": _read(rgb, 0.5, params)[0]})
    out.write_text(json.dumps(res, indent=1))
    summary(res)


def summary(res: dict) -> None:
    by = defaultdict(list)
    for r in res["cases"]:
        if r["truth"] > 0:
            by[r["kind"]].append(r)
    for kind, rows in by.items():
        err = [r["ours"] - r["truth"] for r in rows]
        cls = defaultdict(float)
        w = sum(r["nec_px"] for r in rows)
        for r in rows:
            for c, v in r["nec_as_class"].items():
                cls[c] += v * r["nec_px"] / w
        print(f"{kind:9s} n {len(rows)} mean|err| {np.mean(np.abs(err))!r} mean err {np.mean(err):+.3f}; true necrosis "
              "read as: " + ", ".join(f"{c} {v:.3f}" for c, v in sorted(cls.items(), key=lambda x: -x[1]) if v >= 0.005))
    means = [np.mean([abs(r["ours"] - r["truth"]) for r in rows]) for rows in by.values()]
    print(f"generated mean |err| over the generators {np.mean(means)!r}")
    fb = defaultdict(lambda: [0, 0.0])
    for r in res["cases"] + res["viable"]:
        for c, (n, f) in r.get("false_by_class", {}).items():
            fb[c][0] += n
            fb[c][1] += n * f
    print("viable truth read necrosis (pixel share, all dev tiles): "
          + ", ".join(f"{c} {v[1] / max(v[0], 1):.4f}" for c, v in fb.items()))
    vb = defaultdict(list)
    for r in res["viable"]:
        vb[r["kind"]].append(r["ours"])
    for k, v in vb.items():
        print(f"viable {k:15s} n {len(v)} false necrosis mean {np.mean(v)!r} max {max(v):.2f}")
    print(f"viable dev generated mean (synthetic/tissue/mimic none) "
          f"{np.mean([np.mean(vb[k]) for k in ('synthetic_none', 'tissue_none', 'mimic_none')])!r}")


def _feats(rgb: np.ndarray, mpp: float, model) -> tuple[np.ndarray, int]:
    from mmnst_path.classify.tissue import grid_factors, tissue_feature_settings
    from mmnst_path.classify.tissue_features import base_maps, block_mean, features_from_base

    st = tissue_feature_settings(model)
    f, k, j = grid_factors(mpp, st)
    big = f * k * j
    m, n = rgb.shape[:2]
    rgb = np.pad(rgb, ((0, -(-m // big) * big - m), (0, -(-n // big) * big - n), (0, 0)), mode="edge")
    base, fm = base_maps(rgb, mpp=mpp, stains="H&E", settings=st, reference=None)
    return block_mean(features_from_base(base, fm, k, st, None), j), big


def _block_truth(mask: np.ndarray, big: int, shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros((shape[0] * big, shape[1] * big), np.float32)
    m[: mask.shape[0], : mask.shape[1]] = mask
    return m.reshape(shape[0], big, shape[1], big).mean((1, 3))


def attrib(model_name: str, out: Path) -> None:
    """Missed true-necrosis blocks: which feature group, set to its median on well-read necrosis blocks of the same
    generator, flips them to necrosis; and the class they read."""
    import eval_necrosis as en

    params = _params(model_name)
    model = params.model()
    names = list(model.feature_names)
    groups = defaultdict(list)
    for i, n in enumerate(names):
        groups[re.sub(r"_(s|t)\d+$", "", n)].append(i)
    nec = model.class_names.index("necrosis")
    gen = en._sample_generator()
    per_kind: dict = defaultdict(lambda: {"good": [], "miss": [], "miss_cls": []})
    for kind, _name, kw in _cases(DEV_SEEDS):
        rgb, mpp, _, truth, _ = _tile(kind, kw, gen)
        if not truth.any():
            continue
        x, big = _feats(rgb, mpp, model)
        bt = _block_truth(truth, big, x.shape[:2]).ravel()
        x = x.reshape(-1, x.shape[-1])
        sel = bt >= 0.99
        if not sel.any():
            continue
        p = model.predict_proba(x[sel])
        lab = p.argmax(1)
        per_kind[kind]["good"].append(x[sel][lab == nec])
        per_kind[kind]["miss"].append(x[sel][lab != nec])
        per_kind[kind]["miss_cls"].append(lab[lab != nec])
    out_d: dict = {}
    for kind, d in per_kind.items():
        good, miss = np.concatenate(d["good"]), np.concatenate(d["miss"])
        cls = np.concatenate(d["miss_cls"])
        ref = np.concatenate([np.concatenate(v["good"]) for v in per_kind.values()])
        med = np.median(ref, 0)
        res = {"n_good": len(good), "n_miss": len(miss),
               "miss_as": {model.class_names[c]: int((cls == c).sum()) for c in np.unique(cls)}}
        if len(miss):
            flips = {}
            for g, idx in groups.items():
                xx = miss.copy()
                xx[:, idx] = med[idx]
                flips[g] = float((model.predict_proba(xx).argmax(1) == nec).mean())
            res["flip"] = dict(sorted(flips.items(), key=lambda t: -t[1]))
            res["miss_median"] = {n: float(v) for n, v in zip(names, np.median(miss, 0), strict=True)
                                  if re.sub(r"_(s|t)\d+$", "", n) in list(res["flip"])[:4]}
            res["good_median"] = {n: float(med[i]) for i, n in enumerate(names) if n in res["miss_median"]}
        out_d[kind] = res
        print(kind, json.dumps({k: v for k, v in res.items() if k != "flip"}), flush=True)
        if "flip" in res:
            print("   flip:", ", ".join(f"{g} {v:.3f}" for g, v in list(res["flip"].items())[:8]), flush=True)
    out.write_text(json.dumps(out_d, indent=1))


def kather(model_name: str) -> None:
    from PIL import Image

    params = _params(model_name)
    root = Path("/work/shared/train")
    for sub, mpp in (("kather_nct_crc_he", 0.5), ("kather_texture_2016", 0.331)):
        for d in sorted((root / sub).iterdir()):
            if d.name.startswith("_") or not d.is_dir():
                continue
            acc = defaultdict(float)
            files = sorted(p for p in d.iterdir() if p.suffix.lower() in (".tif", ".png", ".jpg", ".jpeg"))
            for p in files:
                rgb = np.asarray(Image.open(p).convert("RGB"))
                _, big, lab, cnames, _ = _read(rgb, mpp, params)
                for i, c in enumerate(cnames):
                    acc[c] += float((lab == i).mean()) / len(files)
                acc["NECROSIS_FINAL"] += float(big.mean()) / len(files)
            print(f"{sub:20s} {d.name:12s} n {len(files):2d} " + " ".join(f"{c[:5]} {v:.2f}" for c, v in acc.items()
                                                                        if v >= 0.01), flush=True)


def panels(model_name: str, png: Path, specs: list[str]) -> None:
    import eval_necrosis as en
    from PIL import Image
    from scipy import ndimage as ndi

    params = _params(model_name)
    gen = en._sample_generator()
    cases = {(k, n): kw for k, n, kw in _cases(DEV_SEEDS)}
    rows = []
    for spec in specs:
        kind, seed = spec.split(":")
        kw = cases[(kind, f"seed{seed}")]
        rgb, mpp, truth_pct, truth, _ = _tile(kind, kw, gen)
        pct, big, lab, _, _ = _read(rgb, mpp, params)
        ov = rgb.copy()
        ov[big] = (0.5 * ov[big] + [0, 127, 0]).astype(np.uint8)
        edge = truth & ~ndi.binary_erosion(truth, iterations=max(1, round(1.5 / mpp)))
        ov[edge] = (0, 0, 255)
        model = params.model()
        col = np.array([c.colour for c in model.classes], np.uint8)[lab]
        cls = (0.5 * col + 0.5 * rgb).astype(np.uint8)
        row = np.concatenate([rgb, ov, cls], 1)
        row = np.asarray(Image.fromarray(row).resize((1536, 512)))
        rows.append(row)
        print(f"{spec}: truth {truth_pct:.2f} ours {pct:.2f}")
    Image.fromarray(np.concatenate(rows, 0)).save(png)


def main() -> None:
    warnings.simplefilter("ignore")
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    mode = sys.argv[1]
    if mode == "dev":
        dev(sys.argv[2], Path(sys.argv[3]))
    elif mode == "summary":
        summary(json.loads(Path(sys.argv[2]).read_text()))
    elif mode == "attrib":
        attrib(sys.argv[2], Path(sys.argv[3]))
    elif mode == "kather":
        kather(sys.argv[2])
    elif mode == "panels":
        panels(sys.argv[2], Path(sys.argv[3]), sys.argv[4:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
