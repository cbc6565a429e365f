"""Session 35 H3 (#13): why 1.1.0 reads viable breast carcinoma as necrosis, on dev data only, and the veto-detector grid.

Dev data: the BRCA-M2C train + val patches (90, 0.5 µm/px, annotated nuclei; BSD-3-Clause), the osteosarcoma training
tiles (``scripts/_tissue_recipe.OSTEO_TRAIN``) upsampled x2 to 0.5 µm/px, and generated tiles (seeds >= 40). The
BRCA-M2C test split and the held-out renderer are never read.

    python tissue_veto_dev_s35.py patches OUT.json     per dev patch: necrosis % with / without the veto, HEAD's
                                                       detector counts (candidates, intact) and annotated nuclei
    python tissue_veto_dev_s35.py oracle PATCHES.json  the veto fed the annotated nuclei (with / without regrowth)
    python tissue_veto_dev_s35.py attrib PATCHES.json  which feature groups make the forest call the worst patches
                                                       necrosis (each set to its median on well-read tumour blocks)
    python tissue_veto_dev_s35.py grid PATCHES.json OUT.json NAME=CONTRAST,SURROUND,TISSUE ...
                                                       dev figures of veto-detector settings (B, O, G, T, Y)
Session 35's figures: benchmarks/README.md, "#13: why viable carcinoma reads necrosis".
"""

import json
import re
import sys
import warnings
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
BRCA = Path("/work/shared/train/brca_m2c")
OSTEO = Path("/work/shared/data/necrosis")


def _rgb(name: str) -> np.ndarray:
    return np.asarray(Image.open(BRCA / "mixed" / name).convert("RGB"))


def _points(name: str) -> np.ndarray:
    return np.loadtxt(BRCA / "mixed" / (name[:-4] + "_gt_class_coords.txt"), ndmin=2)


def _nec(rgb: np.ndarray, mpp: float, params: object) -> float:
    from mmnst_path.quantify.necrosis import measure_necrosis, necrosis_metrics

    return float(necrosis_metrics(measure_necrosis(rgb, mpp=mpp, params=params)[0])["necrosis_fraction_pct"])


def patches(out: Path) -> None:
    from mmnst_path.quantify._intact_nuclei import nucleus_extent_um, nucleus_peaks
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
    from mmnst_path.stain import load_stains, od_from_rgb

    names = sorted((BRCA / "_meta/brca_ds_train.txt").read_text().split()
                   + (BRCA / "_meta/brca_ds_val.txt").read_text().split())
    p0 = NecrosisParams()
    rows = []
    for name in names:
        rgb = _rgb(name)
        nuc = nucleus_peaks(rgb, mpp=0.5)
        keep = nuc.intact(contrast_od=p0.intact_contrast_od, min_surround_tissue=p0.intact_surround_tissue,
                          min_fill=p0.intact_min_fill)
        od = od_from_rgb(rgb, background=load_stains("H&E").background)
        ext = nucleus_extent_um(od, nuc.row[keep], nuc.col[keep], mpp=0.5) if keep.any() else np.zeros(0)
        per1000 = rgb.shape[0] * rgb.shape[1] * 0.25 / 1000
        m0 = necrosis_metrics(measure_necrosis(rgb, mpp=0.5, params=p0)[0])
        rows.append({"name": name, "nec": float(m0["necrosis_fraction_pct"]), "tumour": float(m0["tumour_fraction_pct"]),
                     "nec_noveto": _nec(rgb, 0.5, replace(p0, intact_veto_density=0.0)),
                     "n_cand": len(nuc.row), "n_intact": int((ext >= p0.intact_min_extent_um).sum()),
                     "gt_per1000": len(_points(name)) / per1000,
                     "intact_per1000": float((ext >= p0.intact_min_extent_um).sum()) / per1000,
                     "med_contrast": float(np.median(nuc.contrast_od)) if len(nuc.row) else 0.0})
        print(f"{rows[-1]['nec']:7.3f} {rows[-1]['nec_noveto']:7.3f} {name}", flush=True)
    out.write_text(json.dumps(rows, indent=1))


def oracle(rows: list[dict]) -> None:
    import mmnst_path.quantify._necrosis_model as nm
    from mmnst_path.quantify._intact_nuclei import intact_density
    from mmnst_path.quantify.necrosis import NecrosisParams

    state: dict = {}

    def fed(rgb, od, mpp, stains, tis, tmap, params, necrosis):
        dens = intact_density(state["pts"], tis, block_mpp=tmap.mpp, sigma_um=params.intact_sigma_um,
                              factor=tmap.factor)
        veto = necrosis & (dens >= params.intact_veto_density)
        r = nm.INTACT_REGROW_SIGMAS * params.intact_sigma_um / tmap.mpp
        if state["regrow"] and veto.any() and r >= 1:
            yy, xx = np.mgrid[-int(r): int(r) + 1, -int(r): int(r) + 1]
            veto &= ~ndi.binary_dilation(necrosis & ~veto, structure=yy * yy + xx * xx <= r * r)
        return veto

    real = nm._intact_veto
    sums = defaultdict(float)
    try:
        nm._intact_veto = fed
        for r in rows:
            if r["nec_noveto"] <= 1:
                continue  # the veto only removes necrosis: these stay at their figure (<= 1, 0 for all 90 here)
            rgb, state["pts"] = _rgb(r["name"]), _points(r["name"])[:, :2].astype(float)
            figs = {}
            for regrow in (True, False):
                state["regrow"] = regrow
                figs["annotated" + ("" if regrow else "_noregrow")] = _nec(rgb, 0.5, NecrosisParams())
            for k, v in figs.items():
                sums[k] += v / len(rows)
            print(f"head {r['nec']:7.3f}  " + "  ".join(f"{k} {v:7.3f}" for k, v in figs.items()), r["name"][:24])
    finally:
        nm._intact_veto = real
    print("mean over", len(rows), "patches:", {k: round(v, 4) for k, v in sums.items()},
          "HEAD", round(sum(r["nec"] for r in rows) / len(rows), 4))


def attrib(rows: list[dict]) -> None:
    from mmnst_path.classify import resolve_model
    from mmnst_path.classify.tissue import grid_factors, tissue_feature_settings
    from mmnst_path.classify.tissue_features import base_maps, block_mean, features_from_base

    model = resolve_model("default", "tissue", "H&E")
    names = [s.name for s in model.features] if not hasattr(model, "feature_names") else list(model.feature_names)
    groups = defaultdict(list)
    for i, n in enumerate(names):
        groups[re.sub(r"_(s|t)\d+$", "", n)].append(i)
    st = tissue_feature_settings(model)

    def feats(name: str) -> np.ndarray:
        rgb = _rgb(name)
        f, k, j = grid_factors(0.5, st)
        big = f * k * j
        m, n = rgb.shape[:2]
        rgb = np.pad(rgb, ((0, -(-m // big) * big - m), (0, -(-n // big) * big - n), (0, 0)), mode="edge")
        base, fm = base_maps(rgb, mpp=0.5, stains="H&E", settings=st, reference=None)
        x = block_mean(features_from_base(base, fm, k, st, None), j)
        return x.reshape(-1, x.shape[-1])

    ci, ti = model.class_names.index("necrosis"), model.class_names.index("tumour")
    good = [feats(r["name"]) for r in rows if r["nec_noveto"] == 0 and r["tumour"] > 30]
    ref = np.median(np.concatenate([x[model.predict_proba(x).argmax(1) == ti] for x in good]), 0)
    worst = [r["name"] for r in sorted(rows, key=lambda r: -r["nec_noveto"])[:8]]
    xb = np.concatenate([x[model.predict_proba(x).argmax(1) == ci] for x in map(feats, worst)])
    out = []
    for g, idx in groups.items():
        x2 = xb.copy()
        x2[:, idx] = ref[idx]
        out.append((float((model.predict_proba(x2).argmax(1) == ci).mean()), g))
    print(f"{len(xb)} necrosis-read blocks of", [w[:20] for w in worst])
    for share, g in sorted(out):
        print(f"  {share:.4f} still necrosis with {g} at the tumour median; blocks' median",
              np.round(np.median(xb[:, groups[g]], 0), 3), "tumour", np.round(ref[groups[g]], 3))


def _dev_images(rows: list[dict]):
    import _tissue_recipe as recipe

    from mmnst_path.synthetic import he_necrosis_tile
    from mmnst_path.synthetic_tissue import he_tissue_tile

    for r in rows:
        if r["nec_noveto"] > 1:
            yield "B", r["name"][:24], _rgb(r["name"]), 0.5, None
    for n in sorted(recipe.OSTEO_TRAIN):
        img = Image.open(OSTEO / n).convert("RGB")
        yield "O", n, np.asarray(img.resize((img.width * 2, img.height * 2), Image.Resampling.BICUBIC)), 0.5, None
    gen = recipe._sample_generator()
    for s in (700, 701, 702, 703, 720, 721, 722, 723, 724, 725):
        rgb, truth = gen.he_necrosis_tile(s)
        yield "G", str(s), rgb, 0.5, float(truth["necrosis_fraction_pct"])
    for s in range(40, 56):
        t = he_tissue_tile(s)
        yield "T", str(s), t.rgb, t.mpp, float(t.truth["necrosis_fraction_pct"])
    for s in range(40, 48):
        t = he_necrosis_tile(s, mpp=0.5)
        yield "Y", str(s), t.rgb, t.mpp, float(t.truth["necrosis_fraction_pct"])


def grid(rows: list[dict], out: Path, variants: dict[str, tuple[float, float, float]]) -> None:
    from mmnst_path.quantify.necrosis import NecrosisParams

    res: dict = {v: {} for v in variants}
    for kind, key, rgb, mpp, truth in _dev_images(rows):
        for v, (c, s, t) in variants.items():
            p = NecrosisParams(intact_contrast_od=c, intact_surround_tissue=s, intact_tissue_min_od=t)
            res[v][f"{kind}/{key}"] = {"nec": _nec(rgb, mpp, p), "truth": truth}
        print(kind, key, " ".join(f"{res[v][f'{kind}/{key}']['nec']:.4f}" for v in variants), flush=True)
    out.write_text(json.dumps(res))
    for v, r in res.items():
        b = sum(x["nec"] for k, x in r.items() if k.startswith("B/")) / len(rows)
        err = {g: float(np.mean([abs(x["nec"] - x["truth"]) for k, x in r.items() if k.startswith(g + "/")]))
               for g in "GTY"}
        nvt = [x["nec"] for k, x in r.items() if k.startswith("O/Non-Viable")]
        print(f"{v}: B {b:.4f} NVT {nvt} " + " ".join(f"{g} {e:.4f}" for g, e in err.items()))


def main() -> None:
    warnings.simplefilter("ignore")
    if len(sys.argv) < 3 or sys.argv[1] not in ("patches", "oracle", "attrib", "grid"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "patches":
        patches(Path(sys.argv[2]))
        return
    rows = json.loads(Path(sys.argv[2]).read_text())
    if sys.argv[1] == "oracle":
        oracle(rows)
    elif sys.argv[1] == "attrib":
        attrib(rows)
    else:
        variants = {a.split("=")[0]: tuple(float(x) for x in a.split("=")[1].split(",")) for a in sys.argv[4:]}
        grid(rows, Path(sys.argv[3]), variants)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
