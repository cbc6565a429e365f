"""#13 speed goal: what the tissue classifier adds to a whole slide's CPU (session 37 H9; a measurement).

The goal: "the tissue classifier at <= 1 µm/px analysis resolution adds less than 20 % to the whole
pipeline's time per slide; peak memory stays bounded per tile". ``bench_slide.py --real`` forces Ki67
on H-DAB, where no tissue model runs, so this script runs the pipeline as the CLI does (``stains="auto"``,
the default measures of the stain found: melanin and necrosis for H&E) in arms that differ only in the
necrosis detector:

- ``default``: the shipped tissue model and the intact-nucleus veto fed its learned call (the default);
- ``aa``: the same configuration again, run as a separate arm (the A/A control);
- ``rules``: ``[necrosis] tissue_model = "none"``: the rule-based necrosis detector, no classifier,
  no veto (the same measures and outputs);
- ``nonec``: ``measures = ("melanin",)``: no necrosis measure at all (the whole necrosis measure's cost).

Each run is a fresh, single-threaded process (``OMP`` / ``OPENBLAS`` / ``MKL`` / ``NUMBA`` threads 1),
1 worker (the tiles run in the measuring process): ``analyze_slide`` CPU (``time.process_time``), then
``report.write_result`` of the result into a temporary folder (CPU, separately), the process's
high-water RSS (``ru_maxrss``), and the CPU of the stages (thread CPU, inclusive of what they call):
tile reading, the pigment stage, melanin, the tissue region (``tumour_region``: the classifier and the
necrosis class map), the classifier's feature planes (``base_maps``) and features (``features_from_base``),
the whole ``classify_tissue`` (features + forest + argmax), ``necrosis_labels`` (smoothing, veto, minimum
area), the veto (``_intact_veto``) and its learned call (``intact_calls``), the class maps (``region_mask``),
``measure_necrosis`` (with a model: the mask from the class map; without: the rule detector).

Usage (``PYTHONPATH=.`` from the repository root)::

    python benchmarks/experiments/tissue_cost_s37.py run --slides SLIDE@MPP ... --rounds 3 --out OUT.json
    python benchmarks/experiments/tissue_cost_s37.py table OUT.json
    python benchmarks/experiments/tissue_cost_s37.py picture OUT1.json OUT2.json --png SPLIT.png

``run``: per slide, one discarded warm-up process per arm (numba cache, OS file cache), then ``--rounds``
rounds, the arms in order ``default rules nonec aa`` in odd rounds and reversed in even ones.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARMS = ("default", "rules", "nonec", "aa")
#: (label, module, attribute): the functions timed (thread CPU, inclusive)
STAGES = (
    ("tile", "mmnst_path.pipeline._worker", "analyze_tile"),
    ("read", "mmnst_path.tiling.executor", "read_tile"),
    ("pigment", "mmnst_path.pipeline._worker", "_pigment"),
    ("melanin", "mmnst_path.quantify.melanin", "measure_melanin"),
    ("tissue_region", "mmnst_path.pipeline._worker", "tumour_region"),
    ("classify", "mmnst_path.classify.tissue", "classify_tissue"),
    ("features.base", "mmnst_path.classify.tissue_features", "base_maps"),
    ("features.windows", "mmnst_path.classify.tissue_features", "features_from_base"),
    ("necrosis_labels", "mmnst_path.quantify._necrosis_model", "necrosis_labels"),
    ("veto", "mmnst_path.quantify._necrosis_model", "_intact_veto"),
    ("veto.model", "mmnst_path.quantify._intact_model", "intact_calls"),
    ("class_maps", "mmnst_path.classify.tissue", "region_mask"),
    ("necrosis", "mmnst_path.quantify.necrosis", "measure_necrosis"),
)


def _config(arm: str) -> Any:
    from mmnst_path.pipeline import AnalysisConfig

    if arm in ("default", "aa"):
        return AnalysisConfig(stains="auto")
    if arm == "rules":
        return AnalysisConfig.from_mapping({"stains": "auto", "necrosis": {"tissue_model": "none"}})
    if arm == "nonec":
        return AnalysisConfig(stains="auto", measures=("melanin",))
    msg = f"arm must be one of {list(ARMS)}, got {arm!r}"
    raise ValueError(msg)


def _install() -> dict[str, dict[str, float]]:
    """Wrap :data:`STAGES` (``bench_stages``' wrappers: thread CPU, calls, pixels, high-water rise)."""
    import importlib

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_stages import _replace_everywhere, _resolve, _timed

    for mod in ("mmnst_path.pipeline._worker", "mmnst_path.classify.tissue", "mmnst_path.quantify._necrosis_model",
                "mmnst_path.quantify._intact_model", "mmnst_path.quantify.necrosis", "mmnst_path.quantify.melanin",
                "mmnst_path.tiling.executor", "mmnst_path.report"):
        importlib.import_module(mod)
    totals: dict[str, dict[str, float]] = {}
    for label, module, attr in STAGES:
        found = _resolve(module, attr)
        if found is None:
            continue
        owner, name, fn = found
        rec = totals.setdefault(label, {"cpu": 0.0, "calls": 0.0, "px": 0.0, "hwm_rise": 0.0})
        _replace_everywhere(owner, name, fn, _timed(fn, rec))
    return totals


def child(slide: str, mpp: float | None, arm: str) -> dict[str, Any]:
    """One run in this (fresh) process."""
    from mmnst_path.pipeline import analyze_slide
    from mmnst_path.report import write_result

    cfg = _config(arm)
    totals = _install()
    c0 = time.process_time()
    res = analyze_slide(slide, cfg, mpp=mpp, workers=1)
    cpu = time.process_time() - c0
    hwm_analyse = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        c1 = time.process_time()
        write_result(res, tmp)
        cpu_write = time.process_time() - c1
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    m = res.metrics
    return {"slide": Path(slide).name, "arm": arm, "cpu": cpu, "cpu_write": cpu_write,
            "maxrss_kib_analyse": hwm_analyse, "maxrss_kib": hwm, "stages": totals,
            "timings": res.timings, "tiles": int(res.tiles.core.shape[0]),
            "measures": list(res.measures), "stains": res.config.get("stains"),
            "analysis_mpp": res.analysis_mpp, "mpp": res.mpp,
            "tissue_mm2": m.get("tissue_area_mm2"), "necrosis_pct": m.get("necrosis_fraction_pct"),
            "melanin_pct": m.get("melanin_fraction_pct")}


def _spawn(slide: str, arm: str) -> dict[str, Any]:
    path, _, mpp = slide.partition("@")
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    cmd = [sys.executable, str(Path(__file__).resolve()), "child", path, mpp or "-", arm]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def run(slides: list[str], rounds: int, out: Path, arms: tuple[str, ...] = ARMS) -> None:
    """Warm-up, then ``rounds`` rounds per slide (order reversed every other round); every run to ``out``."""
    got: list[dict[str, Any]] = []
    for slide in slides:
        for arm in arms:  # discarded warm-up: numba cache, OS file cache
            _spawn(slide, arm)
        for i in range(rounds):
            order = arms if i % 2 == 0 else tuple(reversed(arms))
            for arm in order:
                load = os.getloadavg()[0]
                r = _spawn(slide, arm)
                r.update(round=i, load1=load, utc=time.strftime("%H:%M:%S", time.gmtime()))
                got.append(r)
                print(f"{r['utc']} load {load:.2f} {r['slide']} round {i} {arm}: CPU {r['cpu']:.3f} s + write "
                      f"{r['cpu_write']:.3f} s, maxrss {r['maxrss_kib']} KiB, necrosis {r['necrosis_pct']}",
                      file=sys.stderr, flush=True)
                out.write_text(json.dumps(got))


def _med(v: list[float]) -> float:
    return statistics.median(v) if v else float("nan")


def table(path: Path) -> None:
    """Per slide: medians per arm, the ratios, the stage split (means per arm)."""
    runs = json.loads(path.read_text())
    for slide in dict.fromkeys(r["slide"] for r in runs):
        by = {a: [r for r in runs if r["slide"] == slide and r["arm"] == a] for a in ARMS}
        by = {a: v for a, v in by.items() if v}
        print(f"\n{slide} (analysis {by['default'][0]['analysis_mpp']} µm/px, {by['default'][0]['tiles']} tiles, "
              f"stains {by['default'][0]['stains']}, measures {by['default'][0]['measures']})")
        print("| arm | runs | analyse CPU s (each) | median | write CPU s median | analyse + write median | "
              "maxrss KiB (each) | necrosis % |")
        print("|---|---:|---|---:|---:|---:|---|---:|")
        med = {}
        for a, v in by.items():
            cpu = [r["cpu"] for r in v]
            wr = [r["cpu_write"] for r in v]
            both = [r["cpu"] + r["cpu_write"] for r in v]
            med[a] = (_med(cpu), _med(wr), _med(both))
            print(f"| {a} | {len(v)} | {', '.join(repr(x) for x in cpu)} | {med[a][0]!r} | {med[a][1]!r} | "
                  f"{med[a][2]!r} | {', '.join(str(r['maxrss_kib']) for r in v)} | {v[0]['necrosis_pct']!r} |")
        if "default" in med and "aa" in med:
            print(f"A/A aa / default (analyse): {med['aa'][0] / med['default'][0]!r}; "
                  f"(analyse + write): {med['aa'][2] / med['default'][2]!r}")
        for base in ("rules", "nonec"):
            if base in med:
                print(f"default / {base}: analyse {med['default'][0] / med[base][0]!r}, "
                      f"analyse + write {med['default'][2] / med[base][2]!r}")
        labels = [s[0] for s in STAGES]
        print("\n| stage (thread CPU s, mean) | " + " | ".join(by) + " |")
        print("|---|" + "---:|" * len(by))
        for lab in labels:
            vals = []
            for v in by.values():
                xs = [r["stages"][lab]["cpu"] for r in v if lab in r["stages"]]
                vals.append(f"{statistics.mean(xs):.3f}" if xs else "-")
            print(f"| {lab} | " + " | ".join(vals) + " |")
        for name, key in (("whole analyse (process CPU)", "cpu"), ("write", "cpu_write")):
            print(f"| {name} | " + " | ".join(f"{statistics.mean(r[key] for r in v):.3f}" for v in by.values()) + " |")
        print("| outside the tiles (analyse - tile) | " + " | ".join(
            f"{statistics.mean(r['cpu'] - r['stages']['tile']['cpu'] for r in v):.3f}" for v in by.values()) + " |")
        if "default" in by and "nonec" in by:
            _added(by["default"], by["nonec"])


def _split(r: dict[str, Any]) -> dict[str, float]:
    """One run's CPU in exclusive parts (s): the classifier's steps, the other tile work, outside the tiles."""
    s = {k: v["cpu"] for k, v in r["stages"].items()}
    g = s.get
    out = {
        "features (base planes + window features)": g("features.base", 0.0) + g("features.windows", 0.0),
        "forest, context, argmax (classify - features)": g("classify", 0.0) - g("features.base", 0.0)
        - g("features.windows", 0.0),
        "veto (intact_calls: candidates, features, forest)": g("veto.model", 0.0),
        "veto (density, regrowth)": g("veto", 0.0) - g("veto.model", 0.0),
        "smoothing, tissue, minimum area (necrosis_labels - veto)": g("necrosis_labels", 0.0) - g("veto", 0.0),
        "tumour_region rest": g("tissue_region", 0.0) - g("classify", 0.0) - g("necrosis_labels", 0.0),
        "class maps (region_mask)": g("class_maps", 0.0),
        "necrosis area (measure_necrosis)": g("necrosis", 0.0),
        "pigment stage": g("pigment", 0.0),
        "melanin": g("melanin", 0.0),
    }
    out["other tile work (masks, block sums)"] = g("tile", 0.0) - sum(
        g(k, 0.0) for k in ("pigment", "melanin", "tissue_region", "class_maps", "necrosis"))
    out["outside the tiles (reading, tissue detection, plan, models, aggregate)"] = r["cpu"] - g("tile", 0.0)
    return out


def _added(default: list[dict[str, Any]], base: list[dict[str, Any]]) -> None:
    """Where default's added CPU goes: mean per part, default - nonec, and its share of the addition."""
    d = [_split(r) for r in default]
    b = [_split(r) for r in base]
    whole = statistics.mean(r["cpu"] for r in default) - statistics.mean(r["cpu"] for r in base)
    print(f"\nadded analyse CPU, default - nonec (means): {whole!r} s")
    print("| part | default s | nonec s | added s | share of the addition |")
    print("|---|---:|---:|---:|---:|")
    for k in d[0]:
        x, y = statistics.mean(p[k] for p in d), statistics.mean(p[k] for p in b)
        print(f"| {k} | {x:.3f} | {y:.3f} | {x - y:.3f} | {(x - y) / whole:.3f} |")


def picture(files: list[Path], out: Path) -> None:
    """Stacked bars of :func:`_split` (mean per arm; arms nonec, rules, default), one panel per run file."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (660 * len(files) + 80, 760), "white")
    d = ImageDraw.Draw(img)
    try:
        font, small = ImageFont.truetype("DejaVuSans.ttf", 14), ImageFont.truetype("DejaVuSans.ttf", 12)
    except OSError:
        font = small = ImageFont.load_default()
    pal = [(31, 119, 180), (174, 199, 232), (255, 127, 14), (255, 187, 120), (44, 160, 44), (152, 223, 138),
           (214, 39, 40), (255, 152, 150), (148, 103, 189), (197, 176, 213), (140, 86, 75), (127, 127, 127)]
    names = {"nonec": "no necrosis (melanin only)", "rules": "rules (tissue_model none)",
             "default": "default (classifier+veto)"}
    runs_all = [json.loads(f.read_text()) for f in files]
    ymax = max(r["cpu"] for runs in runs_all for r in runs) * 1.15
    base_y, top_y = 560, 60
    scale = (base_y - top_y) / ymax
    parts: list[str] = []
    for p, runs in enumerate(runs_all):
        x0 = 90 + p * 660
        r0 = next(r for r in runs if r["arm"] == "default")
        d.text((x0, 20), f"{r0['slide']}, analysed at {r0['analysis_mpp']} um/px, {r0['tiles']} tiles", fill="black",
               font=font)
        d.line((x0 - 10, base_y, x0 + 560, base_y), fill="black")
        for t in range(0, int(ymax) + 1, 2):
            y = base_y - t * scale
            d.line((x0 - 15, y, x0 - 10, y), fill="black")
            d.text((x0 - 45, y - 7), f"{t} s", fill="black", font=small)
        for i, a in enumerate(("nonec", "rules", "default")):
            sp = [_split(r) for r in runs if r["arm"] == a]
            parts = list(sp[0])
            bx, bottom = x0 + 20 + i * 180, 0.0
            for j, k in enumerate(parts):
                v = max(0.0, statistics.mean(q[k] for q in sp))
                if v > 0:
                    d.rectangle((bx, base_y - (bottom + v) * scale, bx + 130, base_y - bottom * scale), fill=pal[j],
                                outline="black")
                bottom += v
            d.text((bx + 30, base_y - bottom * scale - 20), f"{bottom:.2f} s", fill="black", font=font)
            d.text((bx - 10, base_y + 8), names[a], fill="black", font=small)
    for j, k in enumerate(parts):
        lx, ly = 60 + (j % 3) * 450, 610 + (j // 3) * 30
        d.rectangle((lx, ly, lx + 18, ly + 18), fill=pal[j], outline="black")
        d.text((lx + 25, ly + 2), k, fill="black", font=small)
    d.text((60, 735), "analyze_slide process CPU, mean of the fresh 1-worker processes of each arm; with rules, the "
           "rule detector is 'necrosis area (measure_necrosis)'", fill="black", font=small)
    img.save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("child")
    c.add_argument("slide")
    c.add_argument("mpp")
    c.add_argument("arm", choices=ARMS)
    r = sub.add_parser("run")
    r.add_argument("--slides", nargs="+", required=True, metavar="SLIDE[@MPP]")
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    r.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("table")
    t.add_argument("out", type=Path)
    pic = sub.add_parser("picture")
    pic.add_argument("runs", type=Path, nargs="+")
    pic.add_argument("--png", type=Path, required=True)
    args = parser.parse_args()
    if args.cmd == "child":
        out = child(args.slide, None if args.mpp == "-" else float(args.mpp), args.arm)
        print("RESULT " + json.dumps(out), flush=True)
    elif args.cmd == "run":
        run(args.slides, args.rounds, args.out, tuple(args.arms))
    elif args.cmd == "picture":
        picture(args.runs, args.png)
    else:
        table(args.out)


if __name__ == "__main__":
    main()
