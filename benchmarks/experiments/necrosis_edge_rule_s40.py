"""Session 40 H8 (#13, D9): the lead's rule for the tissue stage reading the slide cut at its edge (HEAD vs CAND).

Session 39 H3's design (``necrosis_edge_s39.patch``) re-applied onto 9b58f94 under session 40's rule
(/work/notes/s40/h8_brief.md; the tumour-region melanin field may move). The candidate (``pipeline._class_window.TISSUE_INSIDE_SLIDE``): a pipeline tile's tissue stage (class map, tumour
region, necrosis) reads the tile image cut at the slide's edge, as a call on the bare image does, instead of the
white margin past it. Steps, in this order, stop at the first failure (/work/notes/s40/h8_report.md, "Rule"):

1. ``sample``: the README job (``python -m mmnst_path quantify sample_tiles``) in each tree: he_necrosis.tif |err|
   vs truth.json <= HEAD - 1.5 pp; every Ki67 figure (every summary field named ki67_* or h_score) and every
   melanin_* field but ``melanin_tumour_fraction_pct`` identical (==); ``melanin_tumour_fraction_pct`` within 0.5 pp
   of HEAD on every row (None == None).
2. ``syn``: ``eval_necrosis``'s four families on seeds 4150-4157 (parameters drawn as ``tissue_rule_s36.syn_cases``)
   and its three viable sets (he_necrosis_tile with no necrosis, he_tissue_tile / he_mimic_tile ``necrosis="none"``,
   1 µm/px odd seeds, 0.5 even), written as lossless TIFF files with their µm/px, read by ``quantify``: mean over
   the families of each one's mean |err| (tiles with true necrosis) <= HEAD - 0.3 pp; mean over the three viable
   sets of each set's mean necrosis % <= HEAD + 0.3 pp.
3. ``real``: ``eval_necrosis.py --slides`` TCGA @1.0 and CMU-1 @0.499 each <= HEAD + 1.0 and < 5 %; the 30 BRCA-M2C
   test patches as TIFF files at 0.5 µm/px through ``quantify``: mean necrosis % <= HEAD + 0.3, patches > 5 % not
   more than HEAD's; the 15 osteosarcoma tiles as TIFF files at 1.0 µm/px through ``quantify``: every Viable tile
   <= its HEAD + 2 pp, Non-Viable-Tumor mean >= HEAD - 2 pp; (D9) the Viable tiles' mean ``stroma_fraction_pct`` <
   HEAD's (a tile without a stroma figure in either arm is left out of both means, and listed).
4. ``tiling``: CMU-1 @0.5 (``analyze_slide``, stains auto, default measures, 1 worker) necrosis % at tile_um 16000,
   512, 384: the candidate's |T - 16000| for T = 512, 384 each <= HEAD's spread (max - min of its three).
5. ``speed``: CPU (``time.process_time`` around ``analyze_slide``) of the default H&E run of CMU-1 @0.5 in fresh
   1-worker processes, arms head / cand / aa (a second HEAD copy), one warm-up each, 6 rounds alternating
   (head cand aa / aa cand head): median(cand) / median(head) <= 1.05; A/A median(aa) / median(head) outside
   [0.95, 1.05]: void (stop, not passed).

An input whose stain guess is not H&E has no necrosis figure: it counts as 0 % (the user gets none) in both arms.

    SCRATCH=/tmp/s40_h8 python necrosis_edge_rule_s40.py chain [STEP ...]
    python necrosis_edge_rule_s40.py write_syn DIR | write_real DIR | tiling OUT.json | speed_one   (internal)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WT = HERE.parents[1]
SCRATCH = Path(os.environ.get("SCRATCH", "/tmp/s40_h8"))
HEAD_TREE = Path(os.environ.get("HEAD_TREE", str(SCRATCH / "head")))
AA_TREE = Path(os.environ.get("AA_TREE", str(SCRATCH / "headcopy")))
OUT = SCRATCH / "rule"
PY = "/work/main/.venv/bin/python"
SEEDS = tuple(range(4150, 4158))
STEPS = ("sample", "syn", "real", "tiling", "speed")
DATA = Path("/work/shared/data")
CMU = DATA / "wsi" / "CMU-1-Small-Region.svs"
ENV1 = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def _run(tree: Path, args: list[str], log: Path) -> str:
    env = {**os.environ, **ENV1, "PYTHONPATH": str(tree)}
    t0 = time.time()
    p = subprocess.run([PY, *args], cwd=tree, env=env, capture_output=True, text=True)
    log.write_text(p.stdout + "\n--- stderr ---\n" + p.stderr)
    print(f"  {tree.name} {' '.join(args[:3])}: rc {p.returncode}, {time.time() - t0:.0f} s", flush=True)
    return p.stdout


def _write_tiff(path: Path, rgb: np.ndarray, mpp: float) -> None:
    import tifffile

    px_per_cm = 1e4 / mpp
    tifffile.imwrite(path, np.ascontiguousarray(rgb), photometric="rgb", compression="zlib",
                     resolution=(px_per_cm, px_per_cm), resolutionunit="CENTIMETER", metadata=None)


def write_syn(folder: Path) -> None:
    """The generated tiles as files, with truth.json ({name: {family, truth_pct, necrotic}})."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    sys.path.insert(0, str(HERE))
    import eval_necrosis as en
    import tissue_rule_s36 as s36

    from mmnst_path import synthetic
    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    folder.mkdir(parents=True, exist_ok=True)
    gen = en._sample_generator()
    truth: dict = {}
    for kind, name, kw in s36.syn_cases(SEEDS):
        if kind == "synthetic":
            t = synthetic.he_necrosis_tile(**kw)
            rgb, mpp, pct, mask = t.rgb, t.mpp, t.truth["necrosis_fraction_pct"], t.masks["necrosis"]
        elif kind in ("tissue", "mimic"):
            tt = (he_tissue_tile if kind == "tissue" else he_mimic_tile)(kw["seed"], size=kw["size"], mpp=kw["mpp"])
            rgb, mpp, pct, mask = tt.rgb, tt.mpp, tt.truth["necrosis_fraction_pct"], tt.masks["necrosis"]
        else:
            rgb, mpp, pct, mask = en.sample_recipe_tile(gen, **kw)
        fname = f"{kind}_{name}.tif"
        _write_tiff(folder / fname, rgb, mpp)
        truth[fname] = {"family": kind, "truth_pct": float(pct), "necrotic": bool(np.asarray(mask).any()), "mpp": mpp}
    for seed in SEEDS:
        mpp = 1.0 if seed % 2 else 0.5
        size = 384 if mpp == 1.0 else 640
        t = synthetic.he_necrosis_tile(seed, mpp=mpp, size=size, necrosis_fraction=0.0)
        _write_tiff(folder / f"synthetic_none_seed{seed}.tif", t.rgb, mpp)
        truth[f"synthetic_none_seed{seed}.tif"] = {"family": "synthetic_none", "truth_pct": 0.0, "necrotic": False,
                                                   "mpp": mpp}
        for kind, fn in (("tissue_none", he_tissue_tile), ("mimic_none", he_mimic_tile)):
            tt = fn(seed, size=size, mpp=mpp, necrosis="none")
            _write_tiff(folder / f"{kind}_seed{seed}.tif", tt.rgb, mpp)
            truth[f"{kind}_seed{seed}.tif"] = {"family": kind, "truth_pct": 0.0,
                                               "necrotic": bool(np.asarray(tt.masks["necrosis"]).any()), "mpp": mpp}
    (folder / "truth.json").write_text(json.dumps(truth, indent=1))


def write_real(folder: Path) -> None:
    """BRCA-M2C test patches (0.5 µm/px) and osteosarcoma tiles (1.0 µm/px) as lossless TIFF files."""
    from PIL import Image

    brca = Path("/work/shared/train/brca_m2c")
    for sub in ("brca", "osteo"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for name in sorted((brca / "_meta" / "brca_ds_test.txt").read_text().split()):
        rgb = np.asarray(Image.open(brca / "mixed" / name).convert("RGB"))
        _write_tiff(folder / "brca" / (Path(name).stem + ".tif"), rgb, 0.5)
    for path in sorted((DATA / "necrosis").glob("*.jpg")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        _write_tiff(folder / "osteo" / (path.stem + ".tif"), rgb, 1.0)


def _quantify(tree: Path, folder: Path, tag: str) -> dict:
    out = OUT / tag
    if out.exists():
        shutil.rmtree(out)
    _run(tree, ["-m", "mmnst_path", "quantify", str(folder), "--out", str(out), "--workers", "1"], OUT / f"{tag}.log")
    rows = json.loads((out / "summary.json").read_text())["rows"]
    return {Path(r["input"]).name: r for r in rows}


def _nec(row: dict) -> float:
    v = row.get("necrosis_fraction_pct")
    return 0.0 if v is None else float(v)


def tiling(out: Path) -> None:
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    res = {}
    for tu in (16000.0, 512.0, 384.0):
        r = analyze_slide(CMU, AnalysisConfig(stains="auto", tile_um=tu), workers=1)
        res[str(tu)] = float(r.metrics["necrosis_fraction_pct"])
        print(tu, res[str(tu)], flush=True)
    out.write_text(json.dumps(res))


def speed_one() -> None:
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    t0 = time.process_time()
    r = analyze_slide(CMU, AnalysisConfig(stains="auto"), workers=1)
    cpu = time.process_time() - t0
    print(json.dumps({"cpu": cpu, "necrosis": r.metrics.get("necrosis_fraction_pct")}))


def step(name: str) -> list[tuple[str, float, float, bool]]:
    """Run ``name`` on HEAD and CAND; return (figure, got, limit, pass) rows."""
    checks: list[tuple[str, float, float, bool]] = []
    trees = (("head", HEAD_TREE), ("cand", WT))
    if name == "sample":
        res = {tag: _quantify(tree, WT / "sample_tiles", f"{tag}_sample") for tag, tree in trees}
        truth = json.loads((WT / "sample_tiles" / "truth.json").read_text())["he_necrosis.tif"]["necrosis_fraction_pct"]
        h = abs(_nec(res["head"]["he_necrosis.tif"]) - truth)
        c = abs(_nec(res["cand"]["he_necrosis.tif"]) - truth)
        checks.append((f"he_necrosis |err| vs {truth} (head {_nec(res['head']['he_necrosis.tif'])!r}, |err| {h!r}; "
                       f"cand {_nec(res['cand']['he_necrosis.tif'])!r})", c, h - 1.5, c <= h - 1.5))
        differ, n, moved = [], 0, []
        for tile, row in res["head"].items():
            for key, hv in row.items():
                cv = res["cand"][tile].get(key)
                if key == "melanin_tumour_fraction_pct":
                    d = 0.0 if hv is None and cv is None else (abs(cv - hv) if None not in (hv, cv) else float("inf"))
                    moved.append((d, f"{tile}:{key} {hv!r} -> {cv!r}"))
                elif key.startswith(("ki67", "melanin", "h_score")):
                    n += 1
                    if cv != hv:
                        differ.append(f"{tile}:{key} {hv!r} -> {cv!r}")
        print("  Ki67 / melanin figures differing:", differ or "none", f"({n} compared)")
        print("  melanin_tumour_fraction_pct:", [m for _, m in moved])
        print("  he_melanin necrosis % head", res["head"]["he_melanin.tif"].get("necrosis_fraction_pct"),
              "cand", res["cand"]["he_melanin.tif"].get("necrosis_fraction_pct"))
        checks.append((f"ki67_* / h_score / melanin_* (but tumour) summary fields differing (of {n})",
                       float(len(differ)), 0.0, not differ))
        worst = max(moved)
        checks.append((f"melanin_tumour_fraction_pct largest |cand - head| ({worst[1]}; {len(moved)} rows)",
                       worst[0], 0.5, worst[0] <= 0.5))
    elif name == "syn":
        folder = SCRATCH / "syn_tiles"
        if not (folder / "truth.json").exists():
            _run(HEAD_TREE, [str(HERE / "necrosis_edge_rule_s40.py"), "write_syn", str(folder)], OUT / "write_syn.log")
        truth = json.loads((folder / "truth.json").read_text())
        res = {tag: _quantify(tree, folder, f"{tag}_syn") for tag, tree in trees}
        fig = {}
        for tag in ("head", "cand"):
            errs: dict = {}
            false: dict = {}
            for fname, t in truth.items():
                v = _nec(res[tag][fname])
                if t["family"].endswith("_none"):
                    false.setdefault(t["family"], []).append(v)
                elif t["necrotic"]:
                    errs.setdefault(t["family"], []).append(abs(v - t["truth_pct"]))
                else:
                    print(f"  {tag} drawn case without necrosis {fname}: {v!r} % (not in the figures)")
            fig[tag] = {"per": {k: float(np.mean(v)) for k, v in errs.items()},
                        "false_per": {k: float(np.mean(v)) for k, v in false.items()}}
            fig[tag]["mae"] = float(np.mean(list(fig[tag]["per"].values())))
            fig[tag]["false"] = float(np.mean(list(fig[tag]["false_per"].values())))
        (OUT / "syn.json").write_text(json.dumps({"fig": fig, "tiles": {t: {k: _nec(r[k]) for k in r}
                                                                          for t, r in res.items()}}, indent=1))
        h, c = fig["head"], fig["cand"]
        checks.append((f"generated necrosis mean |err| via quantify (head {h['mae']!r}; per family head {h['per']} "
                       f"cand {c['per']})", c["mae"], h["mae"] - 0.3, c["mae"] <= h["mae"] - 0.3))
        checks.append((f"generated false necrosis via quantify (head {h['false']!r}; per set head {h['false_per']} "
                       f"cand {c['false_per']})", c["false"], h["false"] + 0.3, c["false"] <= h["false"] + 0.3))
    elif name == "real":
        folder = SCRATCH / "real_tiles"
        if not (folder / "osteo").exists():
            _run(HEAD_TREE, [str(HERE / "necrosis_edge_rule_s40.py"), "write_real", str(folder)], OUT / "write_real.log")
        res: dict = {}
        for tag, tree in trees:
            # (--wsi named: the script's default, ROOT/../shared/data/wsi, does not exist beside a HEAD archive)
            out = _run(tree, ["benchmarks/eval_necrosis.py", "--slides", "--wsi", str(DATA / "wsi")],
                       OUT / f"{tag}_slides.log")
            sl = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+\.svs)\s+\S+\s+([\d.]+)", out, re.M)}
            brca = {k: _nec(v) for k, v in _quantify(tree, folder / "brca", f"{tag}_brca").items()}
            orows = _quantify(tree, folder / "osteo", f"{tag}_osteo")
            osteo = {k: _nec(v) for k, v in orows.items()}
            stroma = {k: v.get("stroma_fraction_pct") for k, v in orows.items()}
            res[tag] = {"slides": sl, "brca": brca, "osteo": osteo, "stroma": stroma}
        (OUT / "real.json").write_text(json.dumps(res, indent=1))
        h, c = res["head"], res["cand"]
        for s in ("tcga-cr-7395-01a-01-ts1.svs", "CMU-1-Small-Region.svs"):  # (a slide missing in an arm: fail)
            hv, cv = h["slides"].get(s, float("nan")), c["slides"].get(s, float("nan"))
            checks.append((f"slide {s} necrosis % (head {hv!r}, printed 0.01)", cv, min(hv + 1.0, 5.0),
                           cv <= hv + 1.0 and cv < 5.0))
        hb, cb = float(np.mean(list(h["brca"].values()))), float(np.mean(list(c["brca"].values())))
        checks.append((f"BRCA-M2C test false necrosis mean % via quantify (head {hb!r})", cb, hb + 0.3, cb <= hb + 0.3))
        ho, co = sum(v > 5.0 for v in h["brca"].values()), sum(v > 5.0 for v in c["brca"].values())
        checks.append((f"BRCA-M2C test patches > 5 % (head {ho})", float(co), float(ho), co <= ho))
        for t, cv in c["osteo"].items():
            if t.startswith("Viable"):
                hv = h["osteo"][t]
                checks.append((f"osteo {t} % (head {hv!r})", cv, hv + 2.0, cv <= hv + 2.0))
        hn = float(np.mean([v for t, v in h["osteo"].items() if t.startswith("Non-Viable-Tumor")]))
        cn = float(np.mean([v for t, v in c["osteo"].items() if t.startswith("Non-Viable-Tumor")]))
        checks.append((f"osteo NVT mean % via quantify (head {hn!r})", cn, hn - 2.0, cn >= hn - 2.0))
        viable = [t for t in h["osteo"] if t.startswith("Viable")]
        kept = [t for t in viable if h["stroma"].get(t) is not None and c["stroma"].get(t) is not None]
        print("  Viable tiles without a stroma figure (left out):", sorted(set(viable) - set(kept)) or "none")
        print("  Viable stroma % head", {t: h["stroma"][t] for t in kept}, "cand", {t: c["stroma"][t] for t in kept})
        hs = float(np.mean([h["stroma"][t] for t in kept]))
        cs = float(np.mean([c["stroma"][t] for t in kept]))
        checks.append((f"(D9) osteo Viable mean stroma % via quantify ({len(kept)} tiles; head {hs!r})", cs, hs,
                       cs < hs))
    elif name == "tiling":
        res = {}
        for tag, tree in trees:
            f = OUT / f"{tag}_tiling.json"
            _run(tree, [str(HERE / "necrosis_edge_rule_s40.py"), "tiling", str(f)], OUT / f"{tag}_tiling.log")
            res[tag] = json.loads(f.read_text())
        spread = max(res["head"].values()) - min(res["head"].values())
        for tu in ("512.0", "384.0"):
            d = abs(res["cand"][tu] - res["cand"]["16000.0"])
            checks.append((f"CMU-1 necrosis % tile_um {tu} vs 16000 (head {res['head']}, cand {res['cand']}; "
                           f"HEAD spread {spread!r})", d, spread, d <= spread))
    elif name == "speed":
        arms = (("head", HEAD_TREE), ("cand", WT), ("aa", AA_TREE))
        cpu: dict = {a: [] for a, _ in arms}
        script = str(HERE / "necrosis_edge_rule_s40.py")
        for a, tree in arms:  # warm-up (numba caches), not counted
            _run(tree, [script, "speed_one"], OUT / f"speed_warm_{a}.log")
        for i in range(6):
            for a, tree in (arms if i % 2 == 0 else arms[::-1]):
                out = _run(tree, [script, "speed_one"], OUT / f"speed_{a}_{i}.log")
                cpu[a].append(json.loads(out.strip().splitlines()[-1])["cpu"])
        (OUT / "speed.json").write_text(json.dumps(cpu, indent=1))
        med = {a: statistics.median(v) for a, v in cpu.items()}
        aa = med["aa"] / med["head"]
        print(f"  CPU runs {cpu}; medians {med}")
        checks.append(("A/A median(aa)/median(head) (in [0.95, 1.05] or void)", aa, 1.05, 0.95 <= aa <= 1.05))
        r = med["cand"] / med["head"]
        checks.append(("CPU median(cand)/median(head), CMU-1 default run", r, 1.05, r <= 1.05))
    return checks


def main() -> None:
    warnings.simplefilter("ignore")
    internal = {"write_syn": write_syn, "write_real": write_real, "tiling": tiling}
    if len(sys.argv) >= 3 and sys.argv[1] in internal:
        internal[sys.argv[1]](Path(sys.argv[2]))
        return
    if len(sys.argv) == 2 and sys.argv[1] == "speed_one":
        speed_one()
        return
    if len(sys.argv) < 2 or sys.argv[1] != "chain":
        raise SystemExit(__doc__)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:] or list(STEPS):
        print(f"{time.strftime('%H:%M:%S')} step {name}", flush=True)
        checks = step(name)
        for fig, got, lim, ok in checks:
            print(f"GATE {name}: {fig}: {got!r} (limit {lim!r}) {'pass' if ok else 'FAIL'}", flush=True)
        if not all(ok for *_, ok in checks):
            print(f"{time.strftime('%H:%M:%S')} STOP at {name}", flush=True)
            return
    print(f"{time.strftime('%H:%M:%S')} all steps passed", flush=True)


if __name__ == "__main__":
    main()
