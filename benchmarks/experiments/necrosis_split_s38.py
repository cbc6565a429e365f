"""Session 38 H7 (#13): where the bundled necrosis sample's 10.5 pp go (exact split, no library change).

For the bundled ``sample_tiles/he_necrosis.tif`` (read from the TIFF, truth masks from ``generate.he_necrosis_tile(505)``)
and dev tiles of the same recipe (seeds 2600-2615, parameters drawn from the seed as
``tissue_rule_s36.syn_cases`` draws its ``sample`` cases: necrotic eosin, 0.5 / 1.0 µm/px, stain rotation, JPEG,
necrotic share; and the same seeds at the bundled tile's defaults), the measured necrosis % of tissue is split,
pixel for pixel, into

- the denominator: truth tissue vs the necrosis stage's tissue (``tissue_min_od`` and not ``background``);
- truth necrosis outside the measured tissue;
- truth necrosis the model's raw (unsmoothed) argmax reads as another class, per class, and within / beyond
  ``EDGE_UM`` of the truth border; viable pixels it reads necrosis;
- what the class-probability smoothing, the intact-nucleus veto and the minimum area change (truth / viable);

all in pp of the measured tissue, so that the parts sum exactly to measured - truth (the check is printed). Also the
block quantisation (8 µm blocks at >= 50 % truth) that any block classifier meets.

    PYTHONPATH=. python benchmarks/experiments/necrosis_split_s38.py split OUT.json [sample] [dev] [default]
    PYTHONPATH=. python benchmarks/experiments/necrosis_split_s38.py summary OUT.json   means per group and path
    PYTHONPATH=. python benchmarks/experiments/necrosis_split_s38.py panels PNG CASE ... [--cand]
        (CASE: sample, dev:SEED, def:SEED; HEAD's necrosis stage, or with --cand the branch's defaults: rim growth)
"""

from __future__ import annotations

import itertools
import json
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
DEV_SEEDS = tuple(range(2600, 2616))
#: NecrosisParams changes of the diagnosis: HEAD's necrosis stage (0e7a436 has no rim growth); ``--cand`` clears it
NECROSIS = {"rim_grow_um": 0.0}
EDGE_UM = 8.0
BANDS_UM = (0.0, 40.0, 80.0, 160.0, 1e9)


def _gen():
    import eval_necrosis as en

    return en._sample_generator()


def dev_kwargs(seed: int) -> dict:
    """The ``sample`` case of ``seed`` as ``tissue_rule_s36.syn_cases`` draws it."""
    r = np.random.default_rng(seed)
    eos, mpp = round(float(r.uniform(0.1, 0.6)), 2), float(r.choice([0.5, 1.0]))
    ang, q = round(float(r.uniform(2, 7)), 1), None if r.random() < 0.3 else int(r.integers(55, 96))
    frac = round(float(r.uniform(0.1, 0.6)), 2)
    return {"seed": seed, "eosin": eos, "mpp": mpp, "angle_deg": ang, "jpeg_quality": q, "fraction": frac}


def case(name: str, gen) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, dict]:
    """rgb, mpp, truth necrosis (px), truth tissue (px), kwargs of a case: ``sample``, ``dev:SEED``, ``def:SEED``."""
    import eval_necrosis as en

    if name == "sample":
        import tifffile

        rgb = tifffile.imread(ROOT / "sample_tiles" / "he_necrosis.tif")
        _, t = gen.he_necrosis_tile(505)
        return rgb, 0.5, t["masks"]["necrosis"] & t["masks"]["tissue"], t["masks"]["tissue"], {"seed": 505}
    kind, seed = name.split(":")
    kw = dev_kwargs(int(seed)) if kind == "dev" else {"seed": int(seed)}
    rgb, mpp, _, nec = en.sample_recipe_tile(gen, **kw)
    _, t = gen.he_necrosis_tile(kw["seed"], **{k: kw[k] for k in ("eosin", "angle_deg", "fraction") if k in kw})
    tis = t["masks"]["tissue"]
    if mpp == 1.0:
        tis = tis.reshape(512, 2, 512, 2).mean((1, 3)) >= 0.5
    return rgb, mpp, nec, tis, kw


def _mirrored(tile_rgb: np.ndarray, tile, shape: tuple[int, int]) -> np.ndarray:
    """The tile image with its margins past the image's edge mirrored from the image (symmetric), not white."""
    r0, c0 = max(0, -tile.read.row), max(0, -tile.read.col)
    r1 = min(tile_rgb.shape[0], shape[0] - tile.read.row)
    c1 = min(tile_rgb.shape[1], shape[1] - tile.read.col)
    inner = tile_rgb[r0:r1, c0:c1]
    pad = ((r0, tile_rgb.shape[0] - r1), (c0, tile_rgb.shape[1] - c1), (0, 0))
    return np.ascontiguousarray(np.pad(inner, pad, mode="symmetric"))


def pipeline_call(rgb: np.ndarray, mpp: float, *, mirror: bool = False) -> tuple[float, dict]:
    """The necrosis % of tissue ``analyze_slide`` (stains "auto", as ``mmnst-path quantify``; one worker, an
    in-memory reader) reports for ``rgb``, and the arguments of its one ``measure_necrosis`` call (tile image with
    its halo, owned region, stain matrix, origin, class map) with the tile's read box."""
    import mmnst_path.pipeline._slide as ps
    import mmnst_path.quantify.necrosis as qn
    from mmnst_path.io import ArrayReader
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    cap: dict = {}
    orig_m, orig_t = qn.measure_necrosis, ps.analyze_tile

    def measure(tile_rgb, **kw):
        cap.setdefault("calls", []).append((tile_rgb, kw, cap["tile"]))
        return orig_m(tile_rgb, **kw)

    def tile_call(tile_rgb, tile, job):
        cap["tile"] = tile
        if mirror:  # (a what-if of the diagnosis: every measure of the tile reads the mirrored margins)
            tile_rgb = _mirrored(tile_rgb, tile, rgb.shape[:2])
        return orig_t(tile_rgb, tile, job)

    qn.measure_necrosis, ps.analyze_tile = measure, tile_call
    try:
        cfg = AnalysisConfig().replace(stains="auto")
        cfg = cfg.replace(necrosis={**cfg.necrosis.to_mapping(), **NECROSIS})
        res = analyze_slide(ArrayReader(rgb, mpp=mpp), cfg, workers=1)
    finally:
        qn.measure_necrosis, ps.analyze_tile = orig_m, orig_t
    if "calls" not in cap:  # the stain guess of "auto" chose stains without necrosis (an IHC)
        return float("nan"), {"stains": res.config["stains"]}
    if len(cap["calls"]) != 1:
        raise RuntimeError(f"expected one tile, got {len(cap['calls'])}")
    return float(res.metrics["necrosis_fraction_pct"]), cap["calls"][0]


def stages(rgb: np.ndarray, mpp: float, *, tmap=None, stains=None, region=None, origin=None) -> dict:
    """The necrosis stage's intermediate block maps (exactly as ``_necrosis_model.necrosis_labels``) and its
    result; ``tmap``, ``stains``, ``region``, ``origin`` as the pipeline passed them (None: a direct call)."""
    from mmnst_path.classify.tissue import classify_tissue, smoothed_labels
    from mmnst_path.classify.tissue_features import block_mean
    from mmnst_path.quantify._necrosis_model import _intact_veto
    from mmnst_path.quantify.necrosis import NecrosisParams, _tissue, measure_necrosis, necrosis_metrics
    from mmnst_path.stain import load_stains, od_from_rgb

    params = NecrosisParams(**NECROSIS)
    model = params.model()
    stains = stains if stains is not None else params.stains
    if tmap is None:
        tmap = classify_tissue(rgb, mpp=mpp, model=model, stains=stains, origin=origin)
    if origin is not None and any(int(v) % tmap.factor for v in origin):
        raise NotImplementedError("origin off the block grid")
    counts, mask, _ = measure_necrosis(rgb, mpp=mpp, params=params, tissue=region, stains=stains, origin=origin,
                                       tissue_map=tmap)
    matrix = load_stains(stains)
    od = od_from_rgb(rgb, background=matrix.background)
    shape = tmap.labels.shape
    tis0 = _tissue(block_mean(od, tmap.factor)[: shape[0], : shape[1]], tmap.mpp, params)
    classes = tmap.classes
    nec = classes.index("necrosis")
    l1 = smoothed_labels(tmap, smooth_um=params.smooth_um)
    tis = tis0 & (l1 != classes.index("background"))
    veto = np.zeros(shape, bool)
    l2 = l1
    if params.intact_veto_density > 0 and mpp <= params.intact_max_mpp_um:
        veto = _intact_veto(rgb, od, mpp, stains, tis, tmap, params, l1 == nec)
        l2 = smoothed_labels(tmap, smooth_um=params.smooth_um, not_necrosis=veto)
    m2 = (l2 == nec) & tis
    lab, n = ndi.label(m2)
    m3 = m2
    if n:
        keep = np.bincount(lab.ravel(), minlength=n + 1) * tmap.mpp**2 >= params.min_area_um2
        keep[0] = False
        m3 = keep[lab]
    if params.rim_grow_um > 0 and m3.any():
        from mmnst_path.quantify._necrosis_model import grow_rim

        m3 = grow_rim(m3, tmap, params, tis & ~veto)
    assert np.array_equal(m3, mask), "replicated stages differ from measure_necrosis"
    raw = tmap.labels
    return {"tmap": tmap, "classes": classes, "raw": raw, "l1": l1, "l2": l2, "tis0": tis0, "tis": tis,
            "m0": (raw == nec) & tis, "m1": (l1 == nec) & tis, "m2": m2, "m3": m3, "veto": veto,
            "pct": float(necrosis_metrics(counts)["necrosis_fraction_pct"]), "counts": counts}


def _up(a: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    return np.repeat(np.repeat(a, f, 0), f, 1)[: shape[0], : shape[1]]


def split(rgb: np.ndarray, mpp: float, nec: np.ndarray, ttis: np.ndarray, *, path: str = "cli") -> dict:
    """The exact split of measured - truth (pp of measured tissue, and the denominator part) of one tile.

    ``path`` "cli": as ``mmnst-path quantify`` measures (the pipeline: a white halo around the image, the owned
    region, counted with the region's block weights); "direct": ``measure_necrosis(rgb, mpp=mpp)`` (as
    ``eval_necrosis.py --synthetic`` measures); "mirror": the pipeline with the tile's margins past the image's
    edge mirrored from the image instead of white (a what-if, no library change).
    """
    truth_pct = 100.0 * nec.sum() / ttis.sum()
    if path in ("cli", "mirror"):
        cli_pct, call = pipeline_call(rgb, mpp, mirror=path == "mirror")
        if isinstance(call, dict):
            return {"path": path, "mpp": mpp, "truth_pct": float(truth_pct), "no_necrosis_stage": True, **call}
        trgb, kw, tile = call
        st = stages(trgb, mpp, tmap=kw["tissue_map"], stains=kw["stains"], region=kw["tissue"], origin=kw["origin"])
        assert st["pct"] == cli_pct, (st["pct"], cli_pct)
        r0, c0 = -tile.read.row, -tile.read.col
        pad = ((r0, trgb.shape[0] - r0 - nec.shape[0]), (c0, trgb.shape[1] - c0 - nec.shape[1]))
        nec, ttis = np.pad(nec, pad), np.pad(ttis, pad)
        owned = np.asarray(kw["tissue"], bool)
        rgb = trgb
    else:
        st = stages(rgb, mpp)
        owned = np.ones(rgb.shape[:2], bool)
    f, shape, classes = st["tmap"].factor, rgb.shape[:2], st["classes"]
    up = {k: _up(st[k], f, shape) for k in ("raw", "l1", "l2")}
    up.update({k: _up(st[k], f, shape) & owned for k in ("tis0", "tis", "m0", "m1", "m2", "m3", "veto")})
    tis = up["tis"]
    d = float(tis.sum())
    t = nec & owned
    pp = 100.0 / d
    ours = float(up["m3"].sum()) * pp
    edge = t & (ndi.distance_transform_edt(nec) * mpp <= EDGE_UM)
    out: dict = {"path": path, "mpp": mpp, "truth_pct": float(truth_pct), "ours_pct": st["pct"], "ours_px_pct": ours,
                 "truth_tissue_px": int(ttis.sum()), "meas_tissue_px": int(d), "owned_px": int(owned.sum()),
                 "truth_nec_outside_owned_px": int((nec & ~owned).sum()),
                 "tissue_glass_read_tissue_px": int((tis & ~ttis).sum()),
                 "tissue_truth_not_read_px": int((ttis & owned & ~tis).sum()),
                 "tissue_read_background_px": int((up["tis0"] & ~tis).sum())}
    # 1. denominator (and truth necrosis outside the owned region)
    out["denominator_pp"] = 100.0 * nec.sum() / d - truth_pct
    out["truth_outside_owned_pp"] = -float((nec & ~owned).sum()) * pp
    # 2. truth necrosis outside the measured tissue
    out["truth_outside_tissue_pp"] = -float((t & ~tis).sum()) * pp
    # 3. raw argmax: missed truth per class (edge / interior), viable read necrosis
    tin = t & tis
    missed = tin & ~up["m0"]
    out["raw_missed_by_class_pp"] = {c: -float((missed & (up["raw"] == i)).sum()) * pp for i, c in enumerate(classes)
                                     if (missed & (up["raw"] == i)).any()}
    out["raw_missed_edge_pp"] = -float((missed & edge).sum()) * pp
    out["raw_missed_interior_pp"] = -float((missed & ~edge).sum()) * pp
    out["raw_false_pp"] = float((up["m0"] & ~t).sum()) * pp
    # 4. stage deltas (truth part: necrosis gained/lost on true necrosis; false part: on viable)
    for a, b, name in (("m0", "m1", "smoothing"), ("m1", "m2", "veto"), ("m2", "m3", "min_area")):
        gain_t = float((t & ~up[a] & up[b]).sum()) * pp
        loss_t = float((t & up[a] & ~up[b]).sum()) * pp
        gain_f = float((~t & ~up[a] & up[b]).sum()) * pp
        loss_f = float((~t & up[a] & ~up[b]).sum()) * pp
        out[f"{name}_truth_pp"] = gain_t - loss_t
        out[f"{name}_false_pp"] = gain_f - loss_f
        out[f"{name}_detail"] = {"truth_gain": gain_t, "truth_loss": loss_t, "false_gain": gain_f, "false_loss": loss_f}
    # 5. final: missed truth per final class, false necrosis
    fin_missed = t & tis & ~up["m3"]
    lab_final = up["l2"]
    out["final_missed_by_class_pp"] = {c: -float((fin_missed & (lab_final == i)).sum()) * pp
                                       for i, c in enumerate(classes) if (fin_missed & (lab_final == i)).any()}
    out["final_false_pp"] = float((up["m3"] & ~t).sum()) * pp
    out["final_missed_edge_pp"] = -float((fin_missed & edge).sum()) * pp
    out["final_missed_interior_pp"] = -float((fin_missed & ~edge).sum()) * pp
    # identity: measured - truth = denominator + outside owned + outside tissue + raw (missed + false) + stages
    parts = (out["denominator_pp"] + out["truth_outside_owned_pp"] + out["truth_outside_tissue_pp"]
             + sum(out["raw_missed_by_class_pp"].values()) + out["raw_false_pp"]
             + sum(out[f"{n}_truth_pp"] + out[f"{n}_false_pp"] for n in ("smoothing", "veto", "min_area")))
    out["err_pp"] = st["pct"] - float(truth_pct)
    out["parts_sum_pp"] = parts
    # block quantisation: 8 µm blocks labelled necrosis at >= 50 % truth, over the measured tissue
    from mmnst_path.classify.tissue_features import block_mean

    q = block_mean(nec.astype(np.float32)[..., None], f)[..., 0][: st["m3"].shape[0], : st["m3"].shape[1]] >= 0.5
    out["block_quantisation_pp"] = float((_up(q, f, shape) & tis).sum()) * pp - 100.0 * float(t.sum()) / d
    out["veto_blocks"] = int(st["veto"].sum())
    # where the misses lie: distance of each pixel to the image border (µm), bands of BANDS_UM
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    if path != "direct":
        rr, cc = rr - r0, cc - c0
    h = ttis.shape[0] - 2 * r0 if path != "direct" else nec.shape[0]
    w = ttis.shape[1] - 2 * c0 if path != "direct" else nec.shape[1]
    border = np.minimum(np.minimum(rr, h - 1 - rr), np.minimum(cc, w - 1 - cc)) * mpp
    bands = {}
    for lo, hi in itertools.pairwise(BANDS_UM):
        b = (border >= lo) & (border < hi)
        bands[f"{lo:g}-{hi:g}"] = {"truth_pp": float((t & b).sum()) * pp, "missed_pp": -float((fin_missed & b).sum()) * pp,
                                   "false_pp": float((up["m3"] & ~t & b).sum()) * pp}
    out["border_bands"] = bands
    return out


def run_split(out_path: Path, which: list[str], paths: tuple[str, ...] = ("cli", "direct", "mirror")) -> None:
    gen = _gen()
    names = []
    if "sample" in which:
        names.append("sample")
    if "dev" in which:
        names += [f"dev:{s}" for s in DEV_SEEDS]
    if "default" in which:
        names += [f"def:{s}" for s in DEV_SEEDS[:8]]
    res = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in names:
        if name in res and all(p in res[name] for p in paths):
            continue
        rgb, mpp, nec, ttis, kw = case(name, gen)
        res.setdefault(name, {"kw": kw})
        for path in paths:
            if path in res[name]:
                continue
            row = split(rgb, mpp, nec, ttis, path=path)
            res[name][path] = row
            if row.get("no_necrosis_stage"):
                print(f"{name:9s} {path:6s} no necrosis stage: stains {row['stains']!r}", flush=True)
                continue
            print(f"{name:9s} {path:6s} {json.dumps({k: v for k, v in kw.items() if k != 'seed'})} truth "
                  f"{row['truth_pct']:.3f} ours {row['ours_pct']:.3f} err {row['err_pp']:+.3f} (sum "
                  f"{row['parts_sum_pp']:+.3f}) den {row['denominator_pp']:+.3f} owned "
                  f"{row['truth_outside_owned_pp']:+.3f} tis {row['truth_outside_tissue_pp']:+.3f} raw "
                  + " ".join(f"{c}:{v:+.2f}" for c, v in row["raw_missed_by_class_pp"].items())
                  + f" false {row['raw_false_pp']:+.3f} smooth {row['smoothing_truth_pp']:+.3f}/"
                  f"{row['smoothing_false_pp']:+.3f} veto {row['veto_truth_pp']:+.3f}/{row['veto_false_pp']:+.3f} "
                  f"minarea {row['min_area_truth_pp']:+.3f}/{row['min_area_false_pp']:+.3f} quant "
                  f"{row['block_quantisation_pp']:+.3f}", flush=True)
        out_path.write_text(json.dumps(res, indent=1))


def _image_maps(rgb: np.ndarray, mpp: float, path: str) -> dict:
    """Raw and final class labels and the necrosis read, on the image's pixels, for ``path`` "cli" or "direct"."""
    if path == "cli":
        _, call = pipeline_call(rgb, mpp)
        trgb, kw, tile = call
        st = stages(trgb, mpp, tmap=kw["tissue_map"], stains=kw["stains"], region=kw["tissue"], origin=kw["origin"])
        r0, c0 = -tile.read.row, -tile.read.col
    else:
        st, trgb, r0, c0 = stages(rgb, mpp), rgb, 0, 0
    f = st["tmap"].factor
    cut = (slice(r0, r0 + rgb.shape[0]), slice(c0, c0 + rgb.shape[1]))
    return {k: _up(st[k], f, trgb.shape[:2])[cut] for k in ("raw", "l2", "m3")}


def panels(png: Path, names: list[str]) -> None:
    """Per case: tile with the truth border (blue) | raw classes, CLI path | final classes, CLI path, necrosis read
    bordered green | final classes, direct call (as ``eval_necrosis``)."""
    from PIL import Image

    from mmnst_path.quantify.necrosis import NecrosisParams

    gen = _gen()
    colours = np.array([c.colour for c in NecrosisParams().model().classes], np.uint8)
    rows = []

    def border(m: np.ndarray) -> np.ndarray:
        return m & ~ndi.binary_erosion(m, iterations=3)

    for name in names:
        rgb, mpp, nec, _, _ = case(name, gen)
        cli, direct = _image_maps(rgb, mpp, "cli"), _image_maps(rgb, mpp, "direct")
        a = rgb.copy()
        a[border(nec)] = (0, 0, 255)
        cols = [a]
        for maps, key in ((cli, "raw"), (cli, "l2"), (direct, "l2")):
            c = (0.6 * colours[maps[key]] + 0.4 * rgb).astype(np.uint8)
            if key == "l2":
                c[border(maps["m3"])] = (0, 255, 0)
            c[border(nec)] = (0, 0, 255)
            cols.append(c)
        sep = np.full((rgb.shape[0], 8, 3), 255, np.uint8)
        row = np.concatenate([x for c in cols for x in (c, sep)][:-1], 1)
        scale = 512 / row.shape[0]
        rows.append(np.asarray(Image.fromarray(row).resize((round(row.shape[1] * scale), 512), Image.BILINEAR)))
        rows.append(np.full((8, rows[-1].shape[1], 3), 255, np.uint8))
    Image.fromarray(np.concatenate(rows[:-1], 0)).save(png)
    print("classes:", [(c.name, c.colour) for c in NecrosisParams().model().classes])


COMPONENTS = ("denominator_pp", "truth_outside_owned_pp", "truth_outside_tissue_pp", "raw_missed_stroma",
              "raw_missed_tumour", "raw_missed_inflammatory", "raw_missed_other", "raw_false_pp", "smoothing_truth_pp",
              "smoothing_false_pp", "veto_truth_pp", "veto_false_pp", "min_area_truth_pp", "min_area_false_pp")


def _components(row: dict) -> dict[str, float]:
    raw = row["raw_missed_by_class_pp"]
    out = {k: row[k] for k in COMPONENTS if k in row}
    for c in ("stroma", "tumour", "inflammatory"):
        out[f"raw_missed_{c}"] = raw.get(c, 0.0)
    out["raw_missed_other"] = sum(v for c, v in raw.items() if c not in ("stroma", "tumour", "inflammatory"))
    return out


def summary(path: Path) -> None:
    """Mean split per group (sample; dev seeds; default-recipe seeds) and path, unrounded."""
    res = json.loads(path.read_text())
    groups = {"sample": ["sample"], "dev": [k for k in res if k.startswith("dev:")],
              "def": [k for k in res if k.startswith("def:")]}
    table: dict = {}
    for g, names in groups.items():
        for p in ("cli", "direct", "mirror"):
            rows = [res[n][p] for n in names if p in res[n] and not res[n][p].get("no_necrosis_stage")]
            skipped = [n for n in names if p in res[n] and res[n][p].get("no_necrosis_stage")]
            if not rows:
                continue
            comp = {k: float(np.mean([_components(r)[k] for r in rows])) for k in COMPONENTS}
            bands = {b: {k: float(np.mean([r["border_bands"][b][k] for r in rows])) for k in ("truth_pp", "missed_pp")}
                     for b in rows[0]["border_bands"]}
            entry = {"tiles": len(rows), "skipped": skipped, "err": float(np.mean([r["err_pp"] for r in rows])),
                     "abs_err": float(np.mean([abs(r["err_pp"]) for r in rows])),
                     "parts_sum": float(np.mean([r["parts_sum_pp"] for r in rows])), **comp,
                     "quantisation": float(np.mean([r["block_quantisation_pp"] for r in rows])),
                     "final_missed_edge": float(np.mean([r["final_missed_edge_pp"] for r in rows])),
                     "final_missed_interior": float(np.mean([r["final_missed_interior_pp"] for r in rows])),
                     "bands": bands}
            table[f"{g}/{p}"] = entry
            print(f"{g}/{p}: " + json.dumps(entry))
    (path.parent / (path.stem + "_summary.json")).write_text(json.dumps(table, indent=1))


def main() -> None:
    warnings.simplefilter("ignore")
    if len(sys.argv) < 3 or sys.argv[1] not in ("split", "panels", "summary"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "summary":
        summary(Path(sys.argv[2]))
    elif sys.argv[1] == "split":
        run_split(Path(sys.argv[2]), sys.argv[3:] or ["sample", "dev", "default"])
    else:
        if "--cand" in sys.argv:  # the branch's defaults (rim growth on)
            NECROSIS.clear()
        panels(Path(sys.argv[2]), [a for a in sys.argv[3:] if a != "--cand"])


if __name__ == "__main__":
    main()
