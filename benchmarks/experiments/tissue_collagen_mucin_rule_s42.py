"""Session 42 H3 (#13): the lead's rule for tissue_default 1.2.0 (collagen and mucin drawn wider, kept out of
necrosis), HEAD tree vs candidate (a copy of session 41 H1's keratinising_rule_s41.py, seeds and limits of session
42's rule).

The rule (/work/notes/s42/h3_report.md) in steps, run in this order,
stop at the first failure; each tree runs its own code, one after the other on this machine:

1. ``heldout``: ``eval_heldout_he.py --first-seed 7400 --seeds 16 --csv``: false necrosis = mean meas_pct of the
   ``none`` tiles <= HEAD x 0.75; necrosis error = mean |err| of the ``random`` tiles <= HEAD + 0.5.
2. ``real``: ``eval_necrosis.py --slides``: TCGA @1.0 <= 2.89 %, CMU-1-Small-Region (@0.499) <= 5 %;
   ``eval_necrosis.py --brca`` (per-patch necrosis % of tissue of the 30 test patches): patches > 5 % not more
   than HEAD's (their mean printed for information); ``eval_tissue_kather.py --brca`` (the command the rule
   names; its block confusion recounted exactly by ``kather_run``, each tree's own model): the share of the test
   blocks read ``necrosis`` <= HEAD + 0.5;
   ``eval_necrosis.py`` (osteosarcoma at 1 µm/px, tiles as printed at 0.1): every Non-Viable-Tumor tile >= its HEAD
   - 2, every Viable tile <= 5, Non-Tumor mean of the tiles not trained on (the goal's set) <= 10;
   ``eval_necrosis_20x.py --json``: mean of the Viable tiles <= HEAD + 0.5.
3. ``syn``: seeds 7420-7427 of eval_necrosis's four generator families as ``necrosis_border_rule_s39.syn_run`` draws
   them: mean over the families of each one's mean |err| <= HEAD + 0.5; false necrosis <= HEAD + 0.5 under both
   readings (a) the three viable sets, (b) with the drawn no-necrosis cases added; then ``sample``: ``python -m
   mmnst_path quantify sample_tiles --out DIR``: he_necrosis.tif necrosis_fraction_pct >= HEAD - 1.0.
4. ``readme``: from the same sample runs, every summary.json figure whose key names ki67 or melanin identical, except
   he_melanin.tif melanin_tumour_fraction_pct within 0.5 pp.
5. ``speed``: TCGA @1.0 default run, ``tissue_cost_s37.py child`` fresh 1-worker processes of arms head / cand / aa
   (aa: the HEAD tree again), one discarded warm-up each, 3 rounds, order reversed every other round;
   median(cand) / median(head) <= 1.10 with A/A = median(aa) / median(head) in [0.95, 1.05] (else void); peak
   ``maxrss_kib_analyse`` of every cand run <= 500 MiB (512000 KiB).

    SCRATCH=/tmp/s42_h3 python tissue_collagen_mucin_rule_s42.py chain [STEP ...]
    python tissue_mimics_rule_s40.py kather_run OUT.json      (run in a tree's root with that tree on PYTHONPATH)
"""

from __future__ import annotations

import csv
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WT = HERE.parents[1]
SCRATCH = Path(os.environ.get("SCRATCH", "/tmp/s42_h3"))
HEAD_TREE = Path(os.environ.get("HEAD_TREE", str(SCRATCH / "head")))
OUT = SCRATCH / "rule"
PY = "/work/main/.venv/bin/python"
SYN = ("7420", "7427")
STEPS = ("heldout", "real", "syn", "readme", "speed")
TREES = (("head", HEAD_TREE), ("cand", WT))


def _run(tree: Path, args: list[str], log: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.time()
    p = subprocess.run([PY, *args], cwd=tree, env=env, capture_output=True, text=True)
    log.write_text(p.stdout + "\n--- stderr ---\n" + p.stderr)
    print(f"  {tree} {' '.join(args[:3])}: rc {p.returncode}, {time.time() - t0:.0f} s", flush=True)
    return p.stdout


def _heldout() -> list:
    res = {}
    for tag, tree in TREES:
        f = OUT / f"{tag}_heldout.csv"
        if not f.exists():
            _run(tree, ["benchmarks/eval_heldout_he.py", "--first-seed", "7400", "--seeds", "16", "--csv", str(f)],
                 OUT / f"{tag}_heldout.log")
        with f.open() as fh:
            rows = list(csv.DictReader(fh))
        res[tag] = {"false": float(np.mean([float(r["meas_pct"]) for r in rows if r["necrosis"] == "none"])),
                    "mae": float(np.mean([abs(float(r["err"])) for r in rows if r["necrosis"] == "random"]))}
    (OUT / "heldout.json").write_text(json.dumps(res, indent=1))
    h, c = res["head"], res["cand"]
    return [(f"held-out false necrosis mean % (head {h['false']!r})", c["false"], h["false"] * 0.75,
             c["false"] <= h["false"] * 0.75),
            (f"held-out necrosis mean |err| pp (head {h['mae']!r})", c["mae"], h["mae"] + 0.5,
             c["mae"] <= h["mae"] + 0.5)]


def kather_run(out: Path) -> None:
    """The BRCA-M2C test blocks of ``eval_tissue_kather.brca_blocks`` (same labels, blocks >= 99 % one class, the
    shipped tissue model of the tree on ``PYTHONPATH``), their exact counts read as each class: written to ``out``."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import warnings

    from eval_tissue_kather import BRCA_MPP, TRAIN, brca_labels
    from PIL import Image

    from mmnst_path.classify import resolve_model
    from mmnst_path.classify.tissue import classify_tissue

    model = resolve_model("default", "tissue", "H&E")
    root = TRAIN / "brca_m2c"
    names = sorted((root / "_meta" / "brca_ds_test.txt").read_text().split())
    classes = model.class_names
    conf = np.zeros((len(classes), len(classes)), np.int64)
    for name in names:
        p = root / "mixed" / name
        rgb = np.asarray(Image.open(p).convert("RGB"))
        lab = brca_labels(rgb, np.loadtxt(p.with_name(p.stem + "_gt_class_coords.txt"), ndmin=2), BRCA_MPP)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tmap = classify_tissue(rgb, mpp=BRCA_MPP, model=model)
        big = tmap.factor
        m, n = tmap.labels.shape
        for c in range(len(classes)):
            hit = np.zeros((m * big, n * big), np.float32)
            sub = (lab == c).astype(np.float32)
            hit[: sub.shape[0], : sub.shape[1]] = sub
            share = hit.reshape(m, big, n, big).mean(axis=(1, 3))
            full = np.zeros((m, n), bool)
            full[: sub.shape[0] // big, : sub.shape[1] // big] = True
            sel = full & (share >= 0.99)
            conf[c] += np.bincount(tmap.labels[sel].astype(np.int64), minlength=len(classes))
    nec = classes.index("necrosis")
    out.write_text(json.dumps({"classes": list(classes), "conf": conf.tolist(), "patches": len(names),
                               "necrosis_pct": 100.0 * float(conf[:, nec].sum()) / float(conf.sum())}, indent=1))


def _real() -> list:
    res: dict = {}
    for tag, tree in TREES:
        out = _run(tree, ["benchmarks/eval_necrosis.py", "--slides"], OUT / f"{tag}_slides.log")
        sl = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+\.svs)\s+\S+\s+([\d.]+)", out, re.M)}
        out = _run(tree, ["benchmarks/eval_necrosis.py", "--brca"], OUT / f"{tag}_brca.log")
        brca_tiles = [float(v) for v in re.findall(r"^\s*([\d.]+) % necrosis", out, re.M)]
        _run(tree, ["benchmarks/eval_tissue_kather.py", "--brca"], OUT / f"{tag}_kather.log")  # for the report
        kj = OUT / f"{tag}_kather.json"
        _run(tree, [str(WT / "benchmarks/experiments/tissue_mimics_rule_s40.py"), "kather_run", str(kj)],
             OUT / f"{tag}_kather_run.log")
        kather = json.loads(kj.read_text())["necrosis_pct"]
        out = _run(tree, ["benchmarks/eval_necrosis.py"], OUT / f"{tag}_osteo.log")
        osteo = [(m.group(1), float(m.group(2)), m.group(3), bool(m.group(4))) for m in
                 re.finditer(r"^(Viable|Non-Viable-Tumor|Non-Tumor)\s+([\d.]+)\s.*?\s(\S+\.jpg)(  \(trained on\))?$",
                             out, re.M)]
        j = OUT / f"{tag}_20x.json"
        _run(tree, ["benchmarks/eval_necrosis_20x.py", "--json", str(j)], OUT / f"{tag}_20x.log")
        v20 = [r["necrosis_pct"] for r in json.loads(j.read_text())["rows"] if r["label"] == "Viable"]
        res[tag] = {"slides": sl, "brca_mean": float(np.mean(brca_tiles)), "brca_n": len(brca_tiles),
                    "brca_over5": int(np.sum(np.asarray(brca_tiles) > 5.0)), "kather_brca_necrosis": kather,
                    "osteo": osteo, "viable20x_mean": float(np.mean(v20)), "viable20x": v20}
    (OUT / "real.json").write_text(json.dumps(res, indent=1))
    h, c = res["head"], res["cand"]
    checks = []
    tc = next(v for k, v in c["slides"].items() if k.startswith("tcga"))
    cm = next(v for k, v in c["slides"].items() if k.startswith("CMU-1"))
    checks.append((f"TCGA @1.0 necrosis % (head {h['slides']!r})", tc, 2.89, tc <= 2.89))
    checks.append(("CMU-1 @0.5 necrosis %", cm, 5.0, cm <= 5.0))
    checks.append((f"BRCA-M2C test patches read ({c['brca_n']}; per-patch mean, information: head "
                   f"{h['brca_mean']!r} cand {c['brca_mean']!r})", c["brca_n"], 30, c["brca_n"] == 30 == h["brca_n"]))
    checks.append((f"BRCA-M2C test patches > 5 % (head {h['brca_over5']!r})", c["brca_over5"], h["brca_over5"],
                   c["brca_over5"] <= h["brca_over5"]))
    checks.append((f"eval_tissue_kather --brca blocks read necrosis % (head {h['kather_brca_necrosis']!r})",
                   c["kather_brca_necrosis"], h["kather_brca_necrosis"] + 0.5,
                   c["kather_brca_necrosis"] <= h["kather_brca_necrosis"] + 0.5))
    hv = {t: p for _, p, t, _ in h["osteo"]}
    for lab, p, t, _ in c["osteo"]:
        if lab == "Non-Viable-Tumor":
            checks.append((f"osteo NVT {t} % (head {hv[t]!r})", p, hv[t] - 2.0, p >= hv[t] - 2.0))
        elif lab == "Viable":
            checks.append((f"osteo Viable {t} %", p, 5.0, p <= 5.0))
    non = [p for lab, p, _, tr in c["osteo"] if lab == "Non-Tumor" and not tr]
    checks.append((f"osteo Non-Tumor mean of {len(non)} tiles not trained on %", float(np.mean(non)), 10.0,
                   float(np.mean(non)) <= 10.0))
    checks.append((f"viable 20x tiles mean % (head {h['viable20x_mean']!r})", c["viable20x_mean"],
                   h["viable20x_mean"] + 0.5, c["viable20x_mean"] <= h["viable20x_mean"] + 0.5))
    if len(c["osteo"]) != 15 or len(h["osteo"]) != 15:
        checks.append(("osteo tiles parsed", len(c["osteo"]), 15, False))
    return checks


def _sample(tag: str, tree: Path) -> dict:
    d = OUT / f"{tag}_sample"
    if not (d / "summary.json").exists():
        _run(tree, ["-m", "mmnst_path", "quantify", str(WT / "sample_tiles"), "--out", str(d)], OUT / f"{tag}_sample.log")
    rows = json.loads((d / "summary.json").read_text())["rows"]
    return {Path(r["input"]).name: r for r in rows}


def _syn() -> list:
    res = {}
    for tag, tree in TREES:
        f = OUT / f"{tag}_syn.json"
        _run(tree, [str(tree / "benchmarks/experiments/necrosis_border_rule_s39.py"), "syn_run", str(f), *SYN],
             OUT / f"{tag}_syn.log")
        res[tag] = json.loads(f.read_text())
    h, c = res["head"], res["cand"]
    per = "; ".join(f"{k} head {h['gen'][k]['mean_abs']!r} cand {c['gen'][k]['mean_abs']!r}" for k in h["gen"])
    checks = [(f"generated mean |err| ({per})", c["mean_abs"], h["mean_abs"] + 0.5, c["mean_abs"] <= h["mean_abs"] + 0.5)]
    per = "; ".join(f"{k} head {np.mean(h['viable'][k])!r} cand {np.mean(c['viable'][k])!r}" for k in h["viable"])
    checks.append((f"generated false necrosis (a) ({per})", c["false_mean"], h["false_mean"] + 0.5,
                   c["false_mean"] <= h["false_mean"] + 0.5))
    checks.append((f"generated false necrosis (b) (head {h['false_mean_b']!r})", c["false_mean_b"],
                   h["false_mean_b"] + 0.5, c["false_mean_b"] <= h["false_mean_b"] + 0.5))
    s = {tag: _sample(tag, tree) for tag, tree in TREES}
    hn, cn = (s[t]["he_necrosis.tif"]["necrosis_fraction_pct"] for t in ("head", "cand"))
    checks.append((f"sample he_necrosis.tif necrosis % (head {hn!r})", cn, hn - 1.0, cn >= hn - 1.0))
    return checks


def _readme() -> list:
    s = {tag: _sample(tag, tree) for tag, tree in TREES}
    checks = []
    for tile, row in s["head"].items():
        crow = s["cand"][tile]
        for key in sorted(set(row) | set(crow)):
            if "ki67" not in key and "melanin" not in key:
                continue
            hv, cv = row.get(key), crow.get(key)
            if tile == "he_melanin.tif" and key == "melanin_tumour_fraction_pct":
                d = abs(float(cv) - float(hv))
                checks.append((f"{tile} {key} (head {hv!r}, cand {cv!r}) |diff|", d, 0.5, d <= 0.5))
            else:
                checks.append((f"{tile} {key} (head {hv!r}) identical", cv, hv, cv == hv))
    return checks


def _speed() -> list:
    sys.path.insert(0, str(HERE))
    from tissue_window_speed_s38 import _spawn

    trees = {"head": HEAD_TREE, "cand": WT}
    slide = "/work/shared/data/wsi/tcga-cr-7395-01a-01-ts1.svs@1.0"
    arms = ("head", "cand", "aa")
    got = []
    for arm in arms:
        _spawn(trees, slide, arm)
    for i in range(3):
        for arm in arms if i % 2 == 0 else tuple(reversed(arms)):
            load = os.getloadavg()[0]
            r = _spawn(trees, slide, arm)
            r.update(arm=arm, round=i, load1=load, utc=time.strftime("%H:%M:%S", time.gmtime()))
            got.append(r)
            print(f"  {r['utc']} load {load:.2f} round {i} {arm}: CPU {r['cpu']!r} s, maxrss analyse "
                  f"{r['maxrss_kib_analyse']} / {r['maxrss_kib']} KiB, necrosis {r['necrosis_pct']!r}", flush=True)
            (OUT / "speed.json").write_text(json.dumps(got))
    med = {a: statistics.median(r["cpu"] for r in got if r["arm"] == a) for a in arms}
    aa = med["aa"] / med["head"]
    ratio = med["cand"] / med["head"]
    peak = max(r["maxrss_kib_analyse"] for r in got if r["arm"] == "cand")
    return [(f"A/A aa / head (medians {med!r})", aa, 1.05, 0.95 <= aa <= 1.05),
            ("TCGA CPU cand / head", ratio, 1.10, ratio <= 1.10),
            ("cand peak maxrss analysing KiB", peak, 512000, peak <= 512000)]


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "kather_run":
        kather_run(Path(sys.argv[2]))
        return
    if len(sys.argv) < 2 or sys.argv[1] != "chain":
        raise SystemExit(__doc__)
    OUT.mkdir(parents=True, exist_ok=True)
    steps = {"heldout": _heldout, "real": _real, "syn": _syn, "readme": _readme, "speed": _speed}
    for name in sys.argv[2:] or list(STEPS):
        print(f"{time.strftime('%H:%M:%S')} step {name}", flush=True)
        checks = steps[name]()
        for fig, got, lim, ok in checks:
            print(f"GATE {name}: {fig}: {got!r} (limit {lim!r}) {'pass' if ok else 'FAIL'}", flush=True)
        if not all(ok for *_, ok in checks):
            print(f"{time.strftime('%H:%M:%S')} STOP at {name}", flush=True)
            sys.exit(1)
    print(f"{time.strftime('%H:%M:%S')} all steps passed", flush=True)


if __name__ == "__main__":
    main()
