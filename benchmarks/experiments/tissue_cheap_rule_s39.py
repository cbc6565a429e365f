"""Session 39 H6 (#13 speed): gates 2-6 of the lead's rule for the cheaper tissue features, HEAD tree against this one.

The rule is in ``tissue_cheap_rule_s39.md`` (next to this file; gate 1, the speed, and gate 7 are run by
``tissue_speed_s39.py`` and by hand). Steps, in the rule's order; ``chain`` stops at the first failure:

``syn`` (gate 2)
    seeds 3040-3047 of the four generators as ``tissue_rule_s36.syn_cases`` draws them: necrosis mean |err| (mean over
    the generators of each one's mean |err| on tiles with true necrosis) <= HEAD + 0.25 pp; false necrosis (mean over
    the viable he_necrosis_tile / he_tissue_tile / he_mimic_tile sets of each set's mean %) <= HEAD + 0.3 pp.
``brca`` (gate 3)
    ``eval_necrosis.brca_mode`` (BRCA-M2C test): false necrosis mean <= HEAD + 0.3 pp, patches > 5 % <= HEAD's; the
    Kather tiles of ``eval_tissue_kather`` (accuracy = tile-weighted share read as the truth; necrosis recall and
    precision, tile-weighted, every labelled row), its held-out target rows' mean and its BRCA-M2C block accuracy,
    each >= HEAD - 0.01.
``real`` (gate 4)
    TCGA @1.0 and CMU-1 @0.5 necrosis (median ``necrosis_pct`` of the speed runs' head / cand arms, ``--speed
    JSON``) < 5 % and <= HEAD + 1.0; ``eval_necrosis_20x.py`` osteosarcoma: every Viable tile <= HEAD + 2 pp,
    Non-Viable-Tumor mean >= HEAD - 2 pp.
``heldout`` (gate 5)
    ``eval_heldout_he.py`` (seeds 0-7, necrosis random and none): false necrosis <= HEAD + 1.0, MAE <= HEAD + 0.5.
``sample`` (gate 6)
    ``quantify sample_tiles``: he_necrosis |err| <= HEAD + 0.5 pp; every other figure within 0.1 pp.

    SCRATCH=/tmp/s39_h6 python tissue_cheap_rule_s39.py chain [--speed RUNS.json] [STEP ...]
    python tissue_cheap_rule_s39.py syn_run|brca_run|kather_run OUT.json   (internal: the package on sys.path)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WT = HERE.parents[1]
SCRATCH = Path(os.environ.get("SCRATCH", "/tmp/s39_h6"))
HEAD_TREE = Path(os.environ.get("HEAD_TREE", str(SCRATCH / "head")))
OUT = SCRATCH / "rule"
PY = "/work/main/.venv/bin/python"
SYN_SEEDS = tuple(range(3040, 3048))
STEPS = ("syn", "brca", "real", "heldout", "sample")
TRAIN = Path("/work/shared/train")


def _run(tree: Path, args: list[str], log: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    t0 = time.time()
    p = subprocess.run([PY, *args], cwd=tree, env=env, capture_output=True, text=True, check=False)
    log.write_text(p.stdout + "\n--- stderr ---\n" + p.stderr)
    print(f"  {tree.name} {' '.join(args[:3])}: rc {p.returncode}, {time.time() - t0:.0f} s", flush=True)
    return p.stdout


def syn_run(out: Path) -> None:
    """Gate 2's figures of the package on sys.path (session 38 H7's ``syn_run`` on this rule's seeds)."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    sys.path.insert(0, str(HERE))
    import eval_necrosis as en
    import tissue_rule_s36 as s36

    from mmnst_path import synthetic
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    params = NecrosisParams()
    gen = en._sample_generator()

    def pct(rgb: np.ndarray, mpp: float) -> float:
        return float(necrosis_metrics(measure_necrosis(rgb, mpp=mpp, params=params)[0])["necrosis_fraction_pct"])

    res: dict = {"gen": {}, "viable": {}}
    for kind, name, kw in s36.syn_cases(SYN_SEEDS):
        if kind == "synthetic":
            t = synthetic.he_necrosis_tile(**kw)
            rgb, mpp, truth_pct, truth = t.rgb, t.mpp, t.truth["necrosis_fraction_pct"], t.masks["necrosis"]
        elif kind in ("tissue", "mimic"):
            tt = (he_tissue_tile if kind == "tissue" else he_mimic_tile)(kw["seed"], size=kw["size"], mpp=kw["mpp"])
            rgb, mpp, truth_pct, truth = tt.rgb, tt.mpp, tt.truth["necrosis_fraction_pct"], tt.masks["necrosis"]
        else:
            rgb, mpp, truth_pct, truth = en.sample_recipe_tile(gen, **kw)
        ours = pct(rgb, mpp)
        st = res["gen"].setdefault(kind, {"errors": [], "false": [], "cases": []})
        st["cases"].append({"name": name, "truth": float(truth_pct), "ours": ours})
        (st["errors"] if truth.any() else st["false"]).append(ours - float(truth_pct))
        print(f"{kind:9s} {name} truth {float(truth_pct):.3f} ours {ours:.3f}", flush=True)
    for seed in SYN_SEEDS:
        mpp = 1.0 if seed % 2 else 0.5
        size = 384 if mpp == 1.0 else 640
        t = synthetic.he_necrosis_tile(seed, mpp=mpp, size=size, necrosis_fraction=0.0)
        res["viable"].setdefault("synthetic_none", []).append(pct(t.rgb, t.mpp))
        for kind, fn in (("tissue_none", he_tissue_tile), ("mimic_none", he_mimic_tile)):
            tt = fn(seed, size=size, mpp=mpp, necrosis="none")
            res["viable"].setdefault(kind, []).append(pct(tt.rgb, tt.mpp))
    for st in res["gen"].values():
        st["mean_abs"] = float(np.mean(np.abs(st["errors"]))) if st["errors"] else float("nan")
    res["mean_abs"] = float(np.mean([st["mean_abs"] for st in res["gen"].values()]))
    res["false_mean"] = float(np.mean([np.mean(v) for v in res["viable"].values()]))
    out.write_text(json.dumps(res, indent=1))


def brca_run(out: Path) -> None:
    """Gate 3's BRCA-M2C false necrosis (``eval_necrosis.brca_mode``, unrounded) of the package on sys.path."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import argparse

    import eval_necrosis as en

    from mmnst_path.quantify.necrosis import NecrosisParams

    summary: dict = {}
    en.brca_mode(argparse.Namespace(train=TRAIN, out=None), NecrosisParams(), summary)
    out.write_text(json.dumps(summary, indent=1))


def kather_run(out: Path) -> None:
    """Gate 3's Kather figures (``eval_tissue_kather``'s tiles and reading, unrounded) of the package on sys.path."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import eval_tissue_kather as ek
    from PIL import Image

    from mmnst_path.classify import resolve_model
    from mmnst_path.classify.tissue import classify_tissue

    model = resolve_model("default", "tissue", "H&E")
    rows = []
    for source, folder, path, truth, held, mpp in ek.tiles(TRAIN):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tmap = classify_tissue(rgb, mpp=mpp, model=model)
        counts = np.bincount(tmap.labels.ravel().astype(np.int64), minlength=len(tmap.classes))
        share = dict(zip(tmap.classes, (counts / counts.sum()).tolist(), strict=True))
        rows.append({"source": source, "folder": folder, "truth": truth, "held": bool(held), "share": share})
    lab = [r for r in rows if r["truth"] in r["share"]]
    nec_t = [r for r in lab if r["truth"] == "necrosis"]
    target = [float(np.mean([r["share"][r["truth"]] for r in lab if r["held"] and (r["source"], r["folder"]) == key]))
              for key in ek.TARGET_ROWS]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ek.brca_blocks(model, TRAIN)
    acc = float(re.search(r"block accuracy ([\d.]+)", buf.getvalue()).group(1))
    res = {"accuracy": float(np.mean([r["share"][r["truth"]] for r in lab])),
           "necrosis_recall": float(np.mean([r["share"]["necrosis"] for r in nec_t])),
           "necrosis_precision": float(sum(r["share"]["necrosis"] for r in nec_t)
                                       / max(sum(r["share"]["necrosis"] for r in lab), 1e-12)),
           "held_out_target_mean": float(np.mean(target)), "brca_block_accuracy": acc, "tiles": len(rows)}
    out.write_text(json.dumps(res, indent=1))


def _summary_rows(out_dir: Path) -> dict:
    rows = json.loads((out_dir / "summary.json").read_text())["rows"]
    return {Path(r["input"]).name: r for r in rows}


def _internal(name: str) -> dict:
    res = {}
    for tag, tree in (("head", HEAD_TREE), ("cand", WT)):
        f = OUT / f"{tag}_{name}.json"
        _run(tree, [str(HERE / "tissue_cheap_rule_s39.py"), f"{name}_run", str(f)], OUT / f"{tag}_{name}.log")
        res[tag] = json.loads(f.read_text())
    return res


def step(name: str, speed: Path | None) -> list[tuple[str, float, float, bool]]:
    """Run ``name`` on HEAD and the candidate; (figure, got, limit, pass) rows."""
    checks: list[tuple[str, float, float, bool]] = []
    trees = (("head", HEAD_TREE), ("cand", WT))
    if name == "syn":
        h, c = (r := _internal("syn"))["head"], r["cand"]
        per = "; ".join(f"{k} head {h['gen'][k]['mean_abs']!r} cand {c['gen'][k]['mean_abs']!r}" for k in h["gen"])
        checks.append((f"generated necrosis mean |err| ({per})", c["mean_abs"], h["mean_abs"] + 0.25,
                       c["mean_abs"] <= h["mean_abs"] + 0.25))
        per = "; ".join(f"{k} head {np.mean(h['viable'][k])!r} cand {np.mean(c['viable'][k])!r}" for k in h["viable"])
        checks.append((f"generated false necrosis mean ({per})", c["false_mean"], h["false_mean"] + 0.3,
                       c["false_mean"] <= h["false_mean"] + 0.3))
    elif name == "brca":
        h, c = (r := _internal("brca"))["head"], r["cand"]
        checks.append((f"BRCA-M2C test false necrosis mean % (head {h['brca_mean']!r})", c["brca_mean"],
                       h["brca_mean"] + 0.3, c["brca_mean"] <= h["brca_mean"] + 0.3))
        checks.append(("BRCA-M2C test patches > 5 %", c["brca_over5"], h["brca_over5"], c["brca_over5"] <= h["brca_over5"]))
        h, c = (r := _internal("kather"))["head"], r["cand"]
        for key in ("accuracy", "necrosis_recall", "necrosis_precision", "held_out_target_mean", "brca_block_accuracy"):
            checks.append((f"Kather {key} (head {h[key]!r})", c[key], h[key] - 0.01, c[key] >= h[key] - 0.01))
    elif name == "real":
        if speed is None:
            raise SystemExit("step real needs --speed RUNS.json (the gate-1 runs)")
        runs = json.loads(speed.read_text())
        for slide in dict.fromkeys(r["slide"] for r in runs):
            hv = statistics.median(r["necrosis_pct"] for r in runs if r["slide"] == slide and r["arm"] == "head")
            cv = statistics.median(r["necrosis_pct"] for r in runs if r["slide"] == slide and r["arm"] == "cand")
            checks.append((f"slide {slide} necrosis % (head {hv!r})", cv, min(hv + 1.0, 5.0), cv <= hv + 1.0 and cv < 5.0))
        res = {}
        for tag, tree in trees:
            f = OUT / f"{tag}_osteo.json"
            _run(tree, ["benchmarks/eval_necrosis_20x.py", "--data", "/work/shared/data/necrosis", "--json", str(f)],
                 OUT / f"{tag}_osteo.log")
            res[tag] = {r["tile"]: (r["label"], r["necrosis_pct"]) for r in json.loads(f.read_text())["rows"]}
        h, c = res["head"], res["cand"]
        for tile, (lab, p) in c.items():
            if lab == "Viable":
                checks.append((f"osteo Viable {tile} % (head {h[tile][1]!r})", p, h[tile][1] + 2.0, p <= h[tile][1] + 2.0))
        hn = float(np.mean([p for lab, p in h.values() if lab == "Non-Viable-Tumor"]))
        cn = float(np.mean([p for lab, p in c.values() if lab == "Non-Viable-Tumor"]))
        checks.append((f"osteo NVT mean % (head {hn!r})", cn, hn - 2.0, cn >= hn - 2.0))
    elif name == "heldout":
        res = {}
        for tag, tree in trees:
            f = OUT / f"{tag}_heldout.csv"
            _run(tree, ["benchmarks/eval_heldout_he.py", "--csv", str(f)], OUT / f"{tag}_heldout.log")
            with f.open() as fh:
                rows = list(csv.DictReader(fh))
            res[tag] = {"false": float(np.mean([float(r["meas_pct"]) for r in rows if r["necrosis"] == "none"])),
                        "mae": float(np.mean([abs(float(r["err"])) for r in rows if r["necrosis"] == "random"]))}
        (OUT / "heldout.json").write_text(json.dumps(res, indent=1))
        h, c = res["head"], res["cand"]
        checks.append((f"held-out false necrosis mean % (head {h['false']!r})", c["false"], h["false"] + 1.0,
                       c["false"] <= h["false"] + 1.0))
        checks.append((f"held-out necrosis MAE pp (head {h['mae']!r})", c["mae"], h["mae"] + 0.5, c["mae"] <= h["mae"] + 0.5))
    elif name == "sample":
        res = {}
        for tag, tree in trees:
            d = OUT / f"{tag}_sample"
            _run(tree, ["-m", "mmnst_path", "quantify", str(WT / "sample_tiles"), "--out", str(d), "--overwrite"],
                 OUT / f"{tag}_sample.log")
            res[tag] = _summary_rows(d)
        truth = json.loads((WT / "sample_tiles" / "truth.json").read_text())["he_necrosis.tif"]["necrosis_fraction_pct"]
        h = abs(res["head"]["he_necrosis.tif"]["necrosis_fraction_pct"] - truth)
        c = abs(res["cand"]["he_necrosis.tif"]["necrosis_fraction_pct"] - truth)
        checks.append((f"he_necrosis |err| vs {truth} (head {h!r})", c, h + 0.5, c <= h + 0.5))
        for tile, row in res["head"].items():
            for key in ("ki67_index_pct", "melanin_fraction_pct", "necrosis_fraction_pct"):
                if tile == "he_necrosis.tif" and key == "necrosis_fraction_pct":
                    continue
                hv, cv = row.get(key), res["cand"][tile].get(key)
                if hv is None and cv is None:
                    continue
                diff = abs(float(cv) - float(hv)) if hv is not None and cv is not None else float("inf")
                checks.append((f"{tile} {key} (head {hv!r}, cand {cv!r}) |diff|", diff, 0.1, diff <= 0.1))
    return checks


def main() -> None:
    warnings.simplefilter("ignore")
    if len(sys.argv) >= 3 and sys.argv[1] in ("syn_run", "brca_run", "kather_run"):
        {"syn_run": syn_run, "brca_run": brca_run, "kather_run": kather_run}[sys.argv[1]](Path(sys.argv[2]))
        return
    if len(sys.argv) < 2 or sys.argv[1] != "chain":
        raise SystemExit(__doc__)
    args = sys.argv[2:]
    speed = None
    if args[:1] == ["--speed"]:
        speed, args = Path(args[1]), args[2:]
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args or list(STEPS):
        print(f"{time.strftime('%H:%M:%S')} step {name}", flush=True)
        checks = step(name, speed)
        for fig, got, lim, ok in checks:
            print(f"GATE {name}: {fig}: {got!r} (limit {lim!r}) {'pass' if ok else 'FAIL'}", flush=True)
        if not all(ok for *_, ok in checks):
            print(f"{time.strftime('%H:%M:%S')} STOP at {name}", flush=True)
            sys.exit(1)
    print(f"{time.strftime('%H:%M:%S')} all steps passed", flush=True)


if __name__ == "__main__":
    main()
