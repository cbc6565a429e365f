"""Session 43 H3 (#13): the lead's rule for tissue_default 1.2.0 (the necrosis class's training weight scaled,
``train_tissue_model.py --class-scale``), HEAD tree (9f88682) vs candidate (a copy of session 42 H3's
tissue_collagen_mucin_rule_s42.py with session 43's seeds, limits and steps).

The rule (/work/notes/s43/h3_report.md) in steps, run in this order, stop at the first failure; each tree runs its
own code, one after the other on this machine:

1. ``heldout``: ``eval_heldout_he.py --first-seed 11200 --seeds 16 --necrosis random none --csv``: false necrosis =
   mean meas_pct of the ``none`` tiles <= HEAD x 0.80; necrosis error = mean |err| of the ``random`` tiles <= HEAD.
2. ``real``: ``eval_necrosis.py --slides``: TCGA (@1.0) and CMU-1-Small-Region necrosis each < 5 % and <= HEAD +
   1.0; ``eval_tissue_kather.py --brca`` (run for the log; its block confusion recounted exactly by
   ``tissue_mimics_rule_s40.py kather_run``, each tree's shipped model): share of the BRCA-M2C test blocks read
   necrosis <= HEAD + 0.5; ``eval_necrosis.py --brca``: test patches with necrosis > 5 % not more than HEAD's;
   ``eval_necrosis.py`` osteosarcoma tiles not trained on (validation): every Viable <= max(5, its HEAD), mean of
   the Non-Viable-Tumor tiles >= HEAD's - 3, mean of the Non-Tumor tiles <= max(10, HEAD's).
3. ``syn``: seeds 11220-11227 of eval_necrosis's four generator families as ``necrosis_border_rule_s39.syn_run``
   draws them: mean over the families of each one's mean |err| <= HEAD + 0.5; false necrosis <= HEAD + 0.5 under
   both readings (a) the three viable sets, (b) with the drawn no-necrosis cases added.
4. ``readme``: ``python -m mmnst_path quantify sample_tiles --out DIR`` in each tree: he_necrosis.tif
   |necrosis_fraction_pct - 37.09| <= HEAD's + 0.5; every key naming melanin of he_melanin.tif within 0.3 pp of HEAD;
   every key naming ki67 of every sample identical (``==``).
5. ``speed``: model file size <= 1.5 x HEAD's; CMU-1-Small-Region default H&E run (``analyze_slide`` through
   ``tissue_cost_s37.py child``: what ``quantify`` runs, 1 worker, fresh process, ``time.process_time``), arms head /
   cand / aa (aa: the HEAD tree again), one discarded warm-up each, 6 rounds, order reversed every other round:
   median(cand) / median(head) <= 1.10 with A/A = median(aa) / median(head) in [0.95, 1.05] (else void, not passed).
   Then (by hand, in the report) targeted tests, ruff, mypy, lint-imports.

    SCRATCH=/tmp/s43_h3 python tissue_class_scale_rule_s43.py chain [STEP ...]
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
SCRATCH = Path(os.environ.get("SCRATCH", "/tmp/s43_h3"))
HEAD_TREE = Path(os.environ.get("HEAD_TREE", str(SCRATCH / "head")))
OUT = SCRATCH / "rule"
PY = "/work/main/.venv/bin/python"
SYN = ("11220", "11227")
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
            _run(tree, ["benchmarks/eval_heldout_he.py", "--first-seed", "11200", "--seeds", "16", "--necrosis",
                        "random", "none", "--csv", str(f)],
                 OUT / f"{tag}_heldout.log")
        with f.open() as fh:
            rows = list(csv.DictReader(fh))
        res[tag] = {"false": float(np.mean([float(r["meas_pct"]) for r in rows if r["necrosis"] == "none"])),
                    "mae": float(np.mean([abs(float(r["err"])) for r in rows if r["necrosis"] == "random"]))}
    (OUT / "heldout.json").write_text(json.dumps(res, indent=1))
    h, c = res["head"], res["cand"]
    return [(f"held-out false necrosis mean % (head {h['false']!r})", c["false"], h["false"] * 0.80,
             c["false"] <= h["false"] * 0.80),
            (f"held-out necrosis mean |err| pp (head {h['mae']!r})", c["mae"], h["mae"], c["mae"] <= h["mae"])]


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
        res[tag] = {"slides": sl, "brca_mean": float(np.mean(brca_tiles)), "brca_n": len(brca_tiles),
                    "brca_over5": int(np.sum(np.asarray(brca_tiles) > 5.0)), "kather_brca_necrosis": kather,
                    "osteo": osteo}
    (OUT / "real.json").write_text(json.dumps(res, indent=1))
    h, c = res["head"], res["cand"]
    checks = []
    for pre, name in (("tcga", "TCGA @1.0"), ("CMU-1", "CMU-1")):
        hv = next(v for k, v in h["slides"].items() if k.startswith(pre))
        cv = next(v for k, v in c["slides"].items() if k.startswith(pre))
        lim = min(5.0, hv + 1.0)
        checks.append((f"{name} necrosis % (< 5 and <= head {hv!r} + 1.0)", cv, lim, cv < 5.0 and cv <= hv + 1.0))
    checks.append((f"BRCA-M2C test patches read ({c['brca_n']}; per-patch mean, information: head "
                   f"{h['brca_mean']!r} cand {c['brca_mean']!r})", c["brca_n"], 30, c["brca_n"] == 30 == h["brca_n"]))
    checks.append((f"BRCA-M2C test patches > 5 % (head {h['brca_over5']!r})", c["brca_over5"], h["brca_over5"],
                   c["brca_over5"] <= h["brca_over5"]))
    checks.append((f"eval_tissue_kather --brca blocks read necrosis % (head {h['kather_brca_necrosis']!r})",
                   c["kather_brca_necrosis"], h["kather_brca_necrosis"] + 0.5,
                   c["kather_brca_necrosis"] <= h["kather_brca_necrosis"] + 0.5))
    hv = {t: p for lab, p, t, tr in h["osteo"] if not tr}
    cval = [(lab, p, t) for lab, p, t, tr in c["osteo"] if not tr]
    for lab, p, t in cval:
        if lab == "Viable":
            lim = max(5.0, hv[t])
            checks.append((f"osteo Viable {t} % (head {hv[t]!r})", p, lim, p <= lim))
    for lab, sign, name in (("Non-Viable-Tumor", 1, "NVT"), ("Non-Tumor", -1, "Non-Tumor")):
        cm = float(np.mean([p for la, p, _ in cval if la == lab]))
        hm = float(np.mean([hv[t] for la, _, t in cval if la == lab]))
        if sign > 0:
            checks.append((f"osteo {name} mean of the validation tiles % (head {hm!r})", cm, hm - 3.0, cm >= hm - 3.0))
        else:
            lim = max(10.0, hm)
            checks.append((f"osteo {name} mean of the validation tiles % (head {hm!r})", cm, lim, cm <= lim))
    if len(cval) != 8 or len(hv) != 8:
        checks.append(("osteo validation tiles parsed", len(cval), 8, False))
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
    return checks


def _readme() -> list:
    s = {tag: _sample(tag, tree) for tag, tree in TREES}
    he, ce = (abs(float(s[t]["he_necrosis.tif"]["necrosis_fraction_pct"]) - 37.09) for t in ("head", "cand"))
    checks = [(f"he_necrosis.tif |necrosis % - 37.09| (head {he!r}; cand read "
               f"{s['cand']['he_necrosis.tif']['necrosis_fraction_pct']!r})", ce, he + 0.5, ce <= he + 0.5)]
    for tile, row in s["head"].items():
        crow = s["cand"][tile]
        for key in sorted(set(row) | set(crow)):
            hv, cv = row.get(key), crow.get(key)
            if tile == "he_melanin.tif" and "melanin" in key and isinstance(hv, float | int) and not isinstance(hv, bool):
                d = abs(float(cv) - float(hv))
                checks.append((f"{tile} {key} (head {hv!r}, cand {cv!r}) |diff|", d, 0.3, d <= 0.3))
            elif "ki67" in key:
                checks.append((f"{tile} {key} (head {hv!r}) identical", cv, hv, cv == hv))
    return checks


def _speed() -> list:
    sys.path.insert(0, str(HERE))
    from tissue_window_speed_s38 import _spawn

    rel = "mmnst_path/models/tissue_default.mmnst"
    size = {t: (tree / rel).stat().st_size for t, tree in TREES}
    trees = {"head": HEAD_TREE, "cand": WT}
    slide = "/work/shared/data/wsi/CMU-1-Small-Region.svs"
    arms = ("head", "cand", "aa")
    got = []
    for arm in arms:
        _spawn(trees, slide, arm)
    for i in range(6):
        for arm in arms if i % 2 == 0 else tuple(reversed(arms)):
            load = os.getloadavg()[0]
            r = _spawn(trees, slide, arm)
            r.update(arm=arm, round=i, load1=load, utc=time.strftime("%H:%M:%S", time.gmtime()))
            got.append(r)
            print(f"  {r['utc']} load {load:.2f} round {i} {arm}: CPU {r['cpu']!r} s, maxrss analyse "
                  f"{r['maxrss_kib_analyse']} KiB, necrosis {r['necrosis_pct']!r}", flush=True)
            (OUT / "speed.json").write_text(json.dumps(got))
    med = {a: statistics.median(r["cpu"] for r in got if r["arm"] == a) for a in arms}
    aa = med["aa"] / med["head"]
    ratio = med["cand"] / med["head"]
    return [(f"model file size bytes (head {size['head']})", size["cand"], 1.5 * size["head"],
             size["cand"] <= 1.5 * size["head"]),
            (f"A/A aa / head (medians {med!r})", aa, 1.05, 0.95 <= aa <= 1.05),
            ("CMU-1 CPU cand / head", ratio, 1.10, ratio <= 1.10)]


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
