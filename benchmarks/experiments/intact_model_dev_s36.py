"""Session 36 H3 (#13, dev only): a per-nucleus intact-vs-ghost model for the intact-nucleus veto, with
patch-relative features (session 35 H10's proposal).

Dev gates fixed before any run (/work/notes/s36/h3_report.md):
1. per nucleus, out-of-fold (5 folds of whole patches / tile quadrants / seeds): at the threshold giving 90 % intact
   recall on the pooled BRCA-M2C dev nuclei, ghosts passed <= 1 % on each source (osteosarcoma NVT, generated) and
   site-A8 intact recall >= 85 %;
2. the veto fed the model: BRCA dev mean <= 1.0 %, osteosarcoma training NVT >= HEAD - 2, generated |err| <= HEAD + 0.1.

The rule (the lead's, copied before any gate runs; only if both dev gates pass): session 35's chain as
``tissue_rule_s36.py`` with ``syn`` on fresh seeds 370-377 (CAND mean |err| <= HEAD + 0.10 pp), ``heldout``
<= HEAD + 0.50, ``brca`` (first) <= HEAD - 2.0, every other step as in s35; stop at the first failure.

Data (dev only): BRCA-M2C train + val, osteosarcoma TRAINING tiles, he_necrosis_tile seeds 40-47 and 360-369 (mine).
Candidates and H10's 17 features come from ``intact_vs_ghost_s35.candidates``; this adds patch-relative features:
each candidate's contrast, hematoxylin, edge and local OD against the same image's candidate distribution (ratio to
the image median and rank within the image), and against its 30 µm surround of candidates (ratio to their median).

    python intact_model_dev_s36.py features OUT.npz     candidates + features (H10's + relative)
    python intact_model_dev_s36.py model OUT.npz        grouped 5-fold CV, gate 1 per feature set
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import intact_vs_ghost_s35 as h10  # noqa: E402

GEN_SEEDS = tuple(range(40, 48)) + tuple(range(360, 370))
BASE = ["contrast_od", "hematoxylin_od", "edge", "local_od", "gran", "tex_std"]
PATCH_REL = [f"{k}_pmed" for k in BASE] + [f"{k}_prank" for k in BASE] + [f"{k}_nmed" for k in BASE]
NEIGH_UM = 30.0


COLOUR = ["core_h_share", "excess_h_share", "excess_cos_h", "core_blue"]


def colour(rgb: np.ndarray, f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Scale-free colour of each candidate (unchanged when the slide fades, i.e. when OD is scaled): the H share of
    the core's stain OD, the H share of the core's excess over its 5-8 µm ring, the cosine between that excess OD
    vector and the hematoxylin vector, and the core's blue-over-red OD ratio."""
    from mmnst_path.stain import load_stains, od_from_rgb

    m = load_stains("H&E")
    od = od_from_rgb(rgb).astype(np.float32)
    h = np.maximum(od @ m.inverse[:, 0], 0)
    e = np.maximum(od @ m.inverse[:, 1], 0)
    r = np.clip(np.round(f["row"]).astype(int), 0, rgb.shape[0] - 1)
    c = np.clip(np.round(f["col"]).astype(int), 0, rgb.shape[1] - 1)
    core, ring = h10._disc(1.5), h10._disc(8.0, 5.0)
    hc, hr = h10._windows(h, r, c)[:, core].mean(1), h10._windows(h, r, c)[:, ring].mean(1)
    ec, er = h10._windows(e, r, c)[:, core].mean(1), h10._windows(e, r, c)[:, ring].mean(1)
    odc = np.stack([h10._windows(od[..., k], r, c)[:, core].mean(1) for k in range(3)], 1)
    odr = np.stack([h10._windows(od[..., k], r, c)[:, ring].mean(1) for k in range(3)], 1)
    ex = odc - odr
    hv = np.asarray(m.vectors[0] if hasattr(m, "vectors") else m.matrix[0], np.float64)
    hv = hv / np.linalg.norm(hv)
    out = {"core_h_share": hc / np.maximum(hc + ec, 1e-3),
           "excess_h_share": (hc - hr) / np.maximum(np.abs(hc - hr) + np.abs(ec - er), 1e-3),
           "excess_cos_h": ex @ hv / np.maximum(np.linalg.norm(ex, axis=1), 1e-3),
           "core_blue": odc[:, 0] / np.maximum(odc[:, 2], 1e-3)}
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


def patch_relative(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Ratios of each candidate's value to its image's candidate median, its rank in the image, and its ratio to the
    median of the candidates within NEIGH_UM µm (itself included)."""
    out = {}
    n = len(f["row"])
    pts = np.column_stack([f["row"], f["col"]]) * h10.MPP
    nb = cKDTree(pts).query_ball_point(pts, NEIGH_UM) if n else []
    for k in BASE:
        v = f[k]
        med = np.median(v) if n else 1.0
        out[f"{k}_pmed"] = v / max(abs(med), 1e-3)
        out[f"{k}_prank"] = (np.argsort(np.argsort(v)) + 0.5) / max(n, 1)
        nm = np.array([np.median(v[j]) for j in nb]) if n else np.zeros(0)
        out[f"{k}_nmed"] = v / np.maximum(np.abs(nm), 1e-3)
    return out


def _images():
    import _tissue_recipe as recipe

    from mmnst_path.synthetic import he_necrosis_tile

    for name in h10._dev_names():
        yield "brca", name, h10._rgb(name), h10._points(name), None, None
    for n, cls in sorted(recipe.OSTEO_TRAIN.items()):
        if n.startswith(("Non-Viable", "Viable")):
            rgb = h10._osteo(n)
            whole = np.ones(rgb.shape[:2], bool)
            yield "osteo", n, rgb, None, whole if cls == "necrosis" else None, None if cls == "necrosis" else whole
    for s in GEN_SEEDS:
        t = he_necrosis_tile(s, mpp=h10.MPP)
        nec, tis = t.masks["necrosis"], t.masks["tissue"]
        er = int(4.0 / h10.MPP)
        yield ("gen", f"he_necrosis_tile/{s}", t.rgb, None, ndi.binary_erosion(nec, iterations=er),
               ndi.binary_erosion(tis & ~nec, iterations=er))


def features(out: Path) -> None:
    keys = [*h10.FEATURES, *COLOUR, *PATCH_REL, "row", "col"]
    cols: dict[str, list] = {k: [] for k in [*keys, "label", "source", "group"]}
    for src, grp, rgb, pts, ghost, viable in _images():
        f = h10.candidates(rgb)
        f.update(colour(rgb, f))
        f.update(patch_relative(f))
        n = len(f["row"])
        label = np.full(n, -1)
        r = np.clip(np.round(f["row"]).astype(int), 0, rgb.shape[0] - 1)
        c = np.clip(np.round(f["col"]).astype(int), 0, rgb.shape[1] - 1)
        if pts is not None and len(pts):
            d = np.hypot(f["row"][:, None] - pts[None, :, 0], f["col"][:, None] - pts[None, :, 1])
            label[d.min(1) * h10.MPP <= 4.0] = 1
        if ghost is not None:
            label[ghost[r, c]] = 0
        if viable is not None:
            label[viable[r, c]] = 2 if src == "gen" else 3
        for k in keys:
            cols[k].append(f[k])
        cols["label"].append(label)
        cols["source"].append(np.full(n, src))
        g = np.full(n, grp, dtype=object)
        if src == "osteo":
            q = (r >= rgb.shape[0] // 2) * 2 + (c >= rgb.shape[1] // 2)
            g = np.array([f"{grp}#q{x}" for x in q], dtype=object)
        cols["group"].append(g.astype(str))
        print(f"{src:5s} {grp[:30]:30s} cand {n:5d} intact {(label == 1).sum():5d} ghost {(label == 0).sum():5d}",
              flush=True)
    np.savez_compressed(out, **{k: np.concatenate(v) for k, v in cols.items()})


def gate1(d: dict, score: np.ndarray, name: str) -> dict:
    y, src = d["label"], d["source"]
    thr = float(np.quantile(score[y == 1], 0.10))
    a8 = np.char.startswith(d["group"].astype(str), "TCGA-A8")
    res = {"thr": thr,
           "osteo": float((score[(y == 0) & (src == "osteo")] >= thr).mean()),
           "gen": float((score[(y == 0) & (src == "gen")] >= thr).mean()),
           "a8": float((score[(y == 1) & a8] >= thr).mean()),
           "other": float((score[(y == 1) & ~a8 & (src == "brca")] >= thr).mean()),
           "a07g": float((score[(y == 1) & np.char.startswith(d["group"].astype(str), "TCGA-A8-A07G")] >= thr).mean()),
           "gen_viable": float((score[y == 2] >= thr).mean()), "osteo_viable": float((score[y == 3] >= thr).mean())}
    ok = res["osteo"] <= 0.01 and res["gen"] <= 0.01 and res["a8"] >= 0.85
    print(f"{name}: thr {thr:.4f} ghosts passed osteo {res['osteo']!r} gen {res['gen']!r}; intact recall A8 "
          f"{res['a8']!r} other {res['other']!r} A07G {res['a07g']!r}; viable passed gen {res['gen_viable']:.4f} osteo "
          f"{res['osteo_viable']:.4f}  gate1 {'PASS' if ok else 'fail'}", flush=True)
    return res


def model(npz: Path) -> None:
    d = dict(np.load(npz, allow_pickle=False))
    y = d["label"]
    print(f"intact {(y == 1).sum()} ghost osteo {((y == 0) & (d['source'] == 'osteo')).sum()} gen "
          f"{((y == 0) & (d['source'] == 'gen')).sum()}")
    lab = (y == 0) | (y == 1)
    for k in PATCH_REL:
        print(f"  AUC {k:22s} {h10._auc(y[lab], d[k][lab]):.4f}")
    sets = {"h10_relative": h10.RELATIVE, "h10_all": h10.FEATURES, "rel+patch": h10.RELATIVE + PATCH_REL,
            "all+patch": h10.FEATURES + PATCH_REL}
    make = h10._models()["forest"]
    for fname, feats in sets.items():
        for seed in (0, 1):
            score, _, _ = h10._cv(d, feats, make, seed)
            gate1(d, score, f"forest {fname:12s} fold-seed {seed}")


FADE_SEED = 36


def fade(rgb: np.ndarray, factor: float, background: np.ndarray) -> np.ndarray:
    """The image with its optical density scaled by ``factor`` (a faded slide: same stains, less of them)."""
    from mmnst_path.stain import od_from_rgb

    od = od_from_rgb(rgb, background=background).astype(np.float64) * factor
    return np.clip(np.round(background[None, None, :] * 10.0 ** (-od)), 0, 255).astype(np.uint8)


def features_faded(out: Path) -> None:
    """Faded copies of the 90 BRCA-M2C dev patches (OD x U(0.45, 0.8), one draw per patch from FADE_SEED): their
    candidates near annotated nuclei are extra intact examples, grouped with their source patch."""
    bg = np.full(3, 255.0)
    rng = np.random.default_rng(FADE_SEED)
    keys = [*h10.FEATURES, *COLOUR, *PATCH_REL, "row", "col"]
    cols: dict[str, list] = {k: [] for k in [*keys, "label", "source", "group"]}
    for name in h10._dev_names():
        factor = float(rng.uniform(0.45, 0.8))
        rgb, pts = fade(h10._rgb(name), factor, bg), h10._points(name)
        f = h10.candidates(rgb)
        f.update(colour(rgb, f))
        f.update(patch_relative(f))
        n = len(f["row"])
        label = np.full(n, -1)
        if len(pts) and n:
            d = np.hypot(f["row"][:, None] - pts[None, :, 0], f["col"][:, None] - pts[None, :, 1])
            label[d.min(1) * h10.MPP <= 4.0] = 1
        for k in keys:
            cols[k].append(f[k])
        cols["label"].append(label)
        cols["source"].append(np.full(n, "fade"))
        cols["group"].append(np.full(n, name).astype(str))
        print(f"fade {factor:.3f} {name[:30]:30s} cand {n:5d} intact {(label == 1).sum():5d}", flush=True)
    np.savez_compressed(out, **{k: np.concatenate(v) for k, v in cols.items()})


SCALE_FREE = ["rel_contrast", "surround_tissue", "fill", "sharpness", "tex_rel", "gran_rel", "area_um2", "ecc",
              "centre_dip"]


def model_faded(npz: Path, npz_fade: Path) -> None:
    """Gate 1 with the faded BRCA-M2C copies added to the training folds as intact (their source patch's fold);
    the threshold and recalls are read on the original dev nuclei only."""
    d0 = dict(np.load(npz, allow_pickle=False))
    d1 = dict(np.load(npz_fade, allow_pickle=False))
    d = {k: np.concatenate([d0[k], d1[k]]) for k in d0}
    orig = d["source"] != "fade"
    y = d["label"]
    lab = orig & ((y == 0) | (y == 1))
    for k in COLOUR:
        print(f"  AUC {k:22s} {h10._auc(y[lab], d[k][lab]):.4f}  (osteo ghosts only "
              f"{h10._auc(y[lab & (d['source'] != 'gen')], d[k][lab & (d['source'] != 'gen')]):.4f}, gen only "
              f"{h10._auc(y[lab & (d['source'] != 'osteo')], d[k][lab & (d['source'] != 'osteo')]):.4f})", flush=True)
    make = h10._models()["forest"]
    sets = {"colour+scale_free": COLOUR + SCALE_FREE, "colour+h10_relative": COLOUR + h10.RELATIVE,
            "colour+h10_all": COLOUR + h10.FEATURES}
    for fname, feats in sets.items():
        for seed in (0, 1):
            score, _, _ = h10._cv(d, feats, make, seed)
            gate1({k: v[orig] for k, v in d.items()}, score[orig], f"forest+fade {fname:12s} fold-seed {seed}")


DESIGN = COLOUR + h10.RELATIVE  # the design that passed gate 1 (forest, with the faded copies)
DENSITIES = (1.0, 1.5, 2.0)


def oracle(npz: Path, npz_fade: Path, out: Path) -> None:
    """Gate 2: the shipped veto (regrowth included, no extent test) fed the out-of-fold intact calls of DESIGN (fold
    draw 0; threshold at 90 % intact recall on the original dev nuclei) at DENSITIES, against HEAD (1.1.0 defaults):
    every BRCA-M2C dev patch, the osteosarcoma training NVT tiles, he_necrosis_tile GEN_SEEDS (|err|)."""
    import _tissue_recipe as recipe

    import mmnst_path.quantify._intact_nuclei as inu
    from mmnst_path.quantify._intact_nuclei import IntactNuclei
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
    from mmnst_path.synthetic import he_necrosis_tile

    d0 = dict(np.load(npz, allow_pickle=False))
    d1 = dict(np.load(npz_fade, allow_pickle=False))
    d = {k: np.concatenate([d0[k], d1[k]]) for k in d0}
    orig = d["source"] != "fade"
    score, _, _ = h10._cv(d, DESIGN, h10._models()["forest"], 0)
    d = {k: v[orig] for k, v in d.items()}
    score = score[orig]
    thr = gate1(d, score, "oracle design")["thr"]
    group = d["group"].astype(str)

    def nec(rgb: np.ndarray, prefix: str, density: float) -> float:
        sel = np.char.startswith(group, prefix) & (score >= thr)
        calls = IntactNuclei(d["row"][sel], d["col"][sel], *(np.ones(int(sel.sum()), np.float32),) * 4)
        params = NecrosisParams(intact_min_extent_um=0.0, intact_veto_density=density) if density else NecrosisParams()
        real = inu.nucleus_peaks
        try:
            if density:
                inu.nucleus_peaks = lambda *a, **k: calls  # type: ignore[assignment]
            return float(necrosis_metrics(measure_necrosis(rgb, mpp=h10.MPP, params=params)[0])["necrosis_fraction_pct"])
        finally:
            inu.nucleus_peaks = real

    images = [("B", n, h10._rgb(n), None) for n in h10._dev_names()]
    images += [("O", n, h10._osteo(n), None) for n, cls in sorted(recipe.OSTEO_TRAIN.items()) if cls == "necrosis"]
    for s in GEN_SEEDS:
        t = he_necrosis_tile(s, mpp=h10.MPP)
        images.append(("Y", f"he_necrosis_tile/{s}", t.rgb, float(t.truth["necrosis_fraction_pct"])))
    res = []
    for kind, name, rgb, truth in images:
        head = nec(rgb, name, 0.0)
        fed = [nec(rgb, name, v) for v in DENSITIES]
        res.append({"kind": kind, "name": name, "head": head, "fed": fed, "truth": truth})
        print(f"{kind} {name[:32]:32s} HEAD {head!r} fed {fed}" + (f" truth {truth!r}" if truth is not None else ""),
              flush=True)
    out.write_text(json.dumps(res, indent=1))
    b = [r for r in res if r["kind"] == "B"]
    y = [r for r in res if r["kind"] == "Y"]
    o = [r for r in res if r["kind"] == "O"]
    hb, hy = np.mean([r["head"] for r in b]), np.mean([abs(r["head"] - r["truth"]) for r in y])
    print(f"HEAD: BRCA dev mean {hb!r}; generated |err| {hy!r}; NVT {[r['head'] for r in o]}")
    for i, v in enumerate(DENSITIES):
        fb = float(np.mean([r["fed"][i] for r in b]))
        fy = float(np.mean([abs(r["fed"][i] - r["truth"]) for r in y]))
        nvt_ok = all(r["fed"][i] >= r["head"] - 2 for r in o)
        ok = fb <= 1.0 and nvt_ok and fy <= hy + 0.1
        print(f"density {v}: BRCA dev mean {fb!r} (<= 1.0); generated |err| {fy!r} (<= {hy + 0.1!r}); NVT "
              f"{[r['fed'][i] for r in o]} (>= HEAD - 2); gate2 {'PASS' if ok else 'fail'}", flush=True)


def main() -> None:
    warnings.simplefilter("ignore")
    cmds = {"features": features, "model": model, "faded": features_faded, "model_faded": model_faded, "oracle": oracle}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](*(Path(a) for a in sys.argv[2:]))


if __name__ == "__main__":
    main()
