"""Session 39 H7 (#13): the lead's rule for the learned necrotic-border candidate, HEAD tree against the candidate.

Steps, in this order, stop at the first failure (/work/notes/s39/h7_report.md, "The rule"):

1. ``sample``: ``python -m mmnst_path quantify sample_tiles --out DIR`` in each tree; he_necrosis.tif |err| against
   truth.json's 37.09 <= HEAD - 3.0 pp; every other figure of the summary (Ki67 %, melanin %, necrosis % of each
   tile) identical or within 0.1 pp.
2. ``syn``: seeds 3050-3057 of the four generators as ``tissue_rule_s36.syn_cases`` draws them (``eval_necrosis``'s
   families); mean over the generators of each one's mean |err| (tiles with true necrosis) <= HEAD - 1.0 pp; false
   necrosis (tiles without necrosis) <= HEAD + 0.5 pp under both readings: (a) mean over the three viable sets
   (he_necrosis_tile with no necrosis, he_tissue_tile and he_mimic_tile with ``necrosis="none"``, the same seeds,
   1 µm/px odd / 0.5 even) of each set's mean %; (b) the same with each family's drawn cases without necrosis added
   to its set (synthetic -> synthetic_none, tissue -> tissue_none, mimic -> mimic_none).
3. ``real``: ``eval_necrosis.py --slides`` TCGA @1.0 and CMU-1-Small-Region @0.499 each <= HEAD + 1.0 and < 5 %;
   ``eval_necrosis.py --brca`` per-patch mean <= HEAD + 0.3 and the number of patches > 5 % not more than HEAD's;
   ``eval_necrosis.py`` (osteosarcoma, 1 µm/px) every Viable tile <= its HEAD + 2 pp and the Non-Viable-Tumor mean
   >= HEAD - 2 pp.
4. ``heldout``: ``eval_heldout_he.py`` (its defaults: seeds 0-7, necrosis random and none): false necrosis mean (none)
   <= HEAD + 1.0, necrosis MAE (random) <= HEAD + 0.5.
5. speed and 6. hygiene: run by hand (the report).

    SCRATCH=/tmp/s39_h7 python necrosis_border_rule_s39.py chain [STEP ...]
    python necrosis_border_rule_s39.py syn_run OUT.json [FIRST LAST [BORDER]]   (the syn figures of the package on
        sys.path for seeds FIRST..LAST, default 3050-3057; BORDER: NecrosisParams.border_model, else its default)
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WT = HERE.parents[1]
SCRATCH = Path(os.environ.get("SCRATCH", "/tmp/s39_h7"))
HEAD_TREE = Path(os.environ.get("HEAD_TREE", str(SCRATCH / "head")))
OUT = SCRATCH / "rule"
PY = "/work/main/.venv/bin/python"
SYN_SEEDS = tuple(range(3050, 3058))
STEPS = ("sample", "syn", "real", "heldout")


def _run(tree: Path, args: list[str], log: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.time()
    p = subprocess.run([PY, *args], cwd=tree, env=env, capture_output=True, text=True)
    log.write_text(p.stdout + "\n--- stderr ---\n" + p.stderr)
    print(f"  {tree.name} {' '.join(args[:3])}: rc {p.returncode}, {time.time() - t0:.0f} s", flush=True)
    return p.stdout


def syn_run(out: Path, seeds: tuple[int, ...] = SYN_SEEDS, border: str | None = None) -> None:
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    sys.path.insert(0, str(HERE))
    import eval_necrosis as en
    import tissue_rule_s36 as s36

    from mmnst_path import synthetic
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    params = NecrosisParams() if border is None else NecrosisParams(border_model=border)
    gen = en._sample_generator()

    def pct(rgb, mpp) -> float:
        return float(necrosis_metrics(measure_necrosis(rgb, mpp=mpp, params=params)[0])["necrosis_fraction_pct"])

    res: dict = {"gen": {}, "viable": {}}
    for kind, name, kw in s36.syn_cases(seeds):
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
    for seed in seeds:
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
    drawn = {k: list(res["gen"].get(k.removesuffix("_none"), {}).get("false", [])) for k in res["viable"]}
    res["false_mean_b"] = float(np.mean([np.mean(v + drawn[k]) for k, v in res["viable"].items()]))
    out.write_text(json.dumps(res, indent=1))


def _summary_rows(out_dir: Path) -> dict:
    rows = json.loads((out_dir / "summary.json").read_text())["rows"]
    return {Path(r["input"]).name: r for r in rows}


def step(name: str) -> list[tuple[str, float, float, bool]]:
    """Run ``name`` on HEAD and CAND; return (figure, got, limit, pass) rows."""
    checks: list[tuple[str, float, float, bool]] = []
    trees = (("head", HEAD_TREE), ("cand", WT))
    if name == "sample":
        res = {}
        for tag, tree in trees:
            d = OUT / f"{tag}_sample"
            _run(tree, ["-m", "mmnst_path", "quantify", str(WT / "sample_tiles"), "--out", str(d)],
                 OUT / f"{tag}_sample.log")
            res[tag] = _summary_rows(d)
        truth = json.loads((WT / "sample_tiles" / "truth.json").read_text())["he_necrosis.tif"]["necrosis_fraction_pct"]
        h = abs(res["head"]["he_necrosis.tif"]["necrosis_fraction_pct"] - truth)
        c = abs(res["cand"]["he_necrosis.tif"]["necrosis_fraction_pct"] - truth)
        checks.append((f"he_necrosis |err| vs {truth} (head {h!r})", c, h - 3.0, c <= h - 3.0))
        for tile, row in res["head"].items():
            for key in ("ki67_index_pct", "melanin_fraction_pct", "necrosis_fraction_pct"):
                if tile == "he_necrosis.tif" and key == "necrosis_fraction_pct":
                    continue
                hv, cv = row.get(key), res["cand"][tile].get(key)
                if hv is None and cv is None:
                    continue
                diff = abs(float(cv) - float(hv)) if hv is not None and cv is not None else float("inf")
                checks.append((f"{tile} {key} (head {hv!r}, cand {cv!r}) |diff|", diff, 0.1, diff <= 0.1))
    elif name == "syn":
        res = {}
        for tag, tree in trees:
            f = OUT / f"{tag}_syn.json"
            _run(tree, [str(HERE / "necrosis_border_rule_s39.py"), "syn_run", str(f)], OUT / f"{tag}_syn.log")
            res[tag] = json.loads(f.read_text())
        h, c = res["head"], res["cand"]
        per = "; ".join(f"{k} head {h['gen'][k]['mean_abs']!r} cand {c['gen'][k]['mean_abs']!r}" for k in h["gen"])
        checks.append((f"generated mean |err| ({per})", c["mean_abs"], h["mean_abs"] - 1.0,
                       c["mean_abs"] <= h["mean_abs"] - 1.0))
        per = "; ".join(f"{k} head {np.mean(h['viable'][k])!r} cand {np.mean(c['viable'][k])!r}" for k in h["viable"])
        checks.append((f"generated false necrosis mean (a) ({per})", c["false_mean"], h["false_mean"] + 0.5,
                       c["false_mean"] <= h["false_mean"] + 0.5))
        checks.append((f"generated false necrosis mean (b, drawn cases added; head {h['false_mean_b']!r})",
                       c["false_mean_b"], h["false_mean_b"] + 0.5, c["false_mean_b"] <= h["false_mean_b"] + 0.5))
    elif name == "real":
        res: dict = {}
        for tag, tree in trees:
            out = _run(tree, ["benchmarks/eval_necrosis.py", "--slides"], OUT / f"{tag}_slides.log")
            sl = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+\.svs)\s+\S+\s+([\d.]+)", out, re.M)}
            out = _run(tree, ["benchmarks/eval_necrosis.py", "--brca"], OUT / f"{tag}_brca.log")
            brca = float(re.search(r"necrosis mean ([\d.]+) %", out).group(1))
            brca_tiles = [float(v) for v in re.findall(r"^\s*([\d.]+) % necrosis", out, re.M)]
            out = _run(tree, ["benchmarks/eval_necrosis.py"], OUT / f"{tag}_osteo.log")
            osteo = [(m.group(1), float(m.group(2)), m.group(3)) for m in
                     re.finditer(r"^(Viable|Non-Viable-Tumor|Non-Tumor)\s+([\d.]+)\s.*?\s(\S+\.jpg)", out, re.M)]
            res[tag] = {"slides": sl, "brca": brca, "brca_exact": float(np.mean(brca_tiles)),
                        "brca_over5": int(np.sum(np.asarray(brca_tiles) > 5.0)), "osteo": osteo}
        (OUT / "real.json").write_text(json.dumps(res, indent=1))
        h, c = res["head"], res["cand"]
        for s, hv in h["slides"].items():
            cv = c["slides"][s]
            checks.append((f"slide {s} necrosis % (head {hv!r})", cv, min(hv + 1.0, 5.0), cv <= hv + 1.0 and cv < 5.0))
        checks.append((f"BRCA-M2C test false necrosis mean % (per-patch mean, printed 0.1: head {h['brca_exact']!r})",
                       c["brca_exact"], h["brca_exact"] + 0.3, c["brca_exact"] <= h["brca_exact"] + 0.3))
        checks.append((f"BRCA-M2C test patches > 5 % (head {h['brca_over5']!r})", c["brca_over5"], h["brca_over5"],
                       c["brca_over5"] <= h["brca_over5"]))
        hv = {t: p for lab, p, t in h["osteo"]}
        for lab, p, t in c["osteo"]:
            if lab == "Viable":
                checks.append((f"osteo Viable {t} % (head {hv[t]!r}, printed 0.1)", p, hv[t] + 2.0, p <= hv[t] + 2.0))
        hn = float(np.mean([p for lab, p, _ in h["osteo"] if lab == "Non-Viable-Tumor"]))
        cn = float(np.mean([p for lab, p, _ in c["osteo"] if lab == "Non-Viable-Tumor"]))
        checks.append((f"osteo NVT mean % (head {hn!r}, tiles printed 0.1)", cn, hn - 2.0, cn >= hn - 2.0))
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
        checks.append((f"held-out necrosis MAE pp (head {h['mae']!r})", c["mae"], h["mae"] + 0.5,
                       c["mae"] <= h["mae"] + 0.5))
    return checks


def main() -> None:
    warnings.simplefilter("ignore")
    if len(sys.argv) >= 3 and sys.argv[1] == "syn_run":
        seeds = tuple(range(int(sys.argv[3]), int(sys.argv[4]) + 1)) if len(sys.argv) >= 5 else SYN_SEEDS
        syn_run(Path(sys.argv[2]), seeds, sys.argv[5] if len(sys.argv) >= 6 else None)
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
            sys.exit(1)
    print(f"{time.strftime('%H:%M:%S')} all steps passed", flush=True)


if __name__ == "__main__":
    main()
