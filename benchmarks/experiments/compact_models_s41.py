"""Session 41 H2 (#14, every model): the shipped model files rewritten compact (format version 3) and checked.

    PYTHONPATH=. python benchmarks/experiments/compact_models_s41.py rewrite [--models DIR]
    PYTHONPATH=. python benchmarks/experiments/compact_models_s41.py steps --models DIR
    PYTHONPATH=. python benchmarks/experiments/compact_models_s41.py capture --out ROWS.npz --work DIR
    PYTHONPATH=. python benchmarks/experiments/compact_models_s41.py predict --models DIR --rows ROWS.npz --out P.npz
    PYTHONPATH=. python benchmarks/experiments/compact_models_s41.py compare A.npz B.npz
    PYTHONPATH=. python benchmarks/experiments/compact_models_s41.py outputs DIR_A DIR_B --trees TREE_A TREE_B
    python benchmarks/experiments/compact_models_s41.py loadtime TREE [TREE ...] --runs 5

``rewrite``: every ``*.mmnst`` of ``--models`` (default the shipped folder) loaded and saved compact in place;
refuses to write one whose expanded arrays or model id would change. ``steps``: the deflated size of a model's
arrays after each compaction step, cumulative (what each step gains). ``capture``: the feature rows every forest
is asked about in real runs (the README job on ``sample_tiles``, one BCData and one SHIDC tile, a CMU-1 crop; the
two real tiles and the README's pigmented Ki67 tile again read as H-AEC, for the red-chromogen models),
in this process (one worker), at most ``--per-model`` rows a model, by the model file's name. ``predict``:
each model of ``--models`` on its captured rows and its own test rows (probabilities), its model id and the
SHA-256 of its expanded arrays; run with each tree's own code. ``compare``: bitwise. ``outputs``: two ``quantify``
output folders file by file (read by type; times and the trees' paths listed, not counted). ``loadtime``: in a fresh
process per run, the CPU seconds of ``load_model`` (read, check, self-test) of every shipped model of each tree
(its own code and files), trees interleaved run by run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

DATA = Path("/work/shared/data")


def _deflated(arrays: dict[str, np.ndarray]) -> int:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    return len(buf.getvalue())


def cmd_rewrite(models: Path) -> int:
    from mmnst_path.classify.model import load_model

    total = [0, 0]
    for path in sorted(models.glob("*.mmnst")):
        old = load_model(path)
        before = path.stat().st_size
        with tempfile.TemporaryDirectory() as tmp:
            new_path = old.save(Path(tmp) / path.name)
            new = load_model(new_path)
            same = all(a.dtype == b.dtype and a.tobytes() == b.tobytes()
                       for a, b in zip(old._arrays().values(), new._arrays().values(), strict=True))
            if not same or new.model_id != old.model_id or old._arrays().keys() != new._arrays().keys():
                print(f"{path.name}: the compact file would change the model: not written", file=sys.stderr)
                return 1
            new_path.replace(path)
        after = path.stat().st_size
        total[0] += before
        total[1] += after
        print(f"{path.name:28s} {before:>9d} -> {after:>9d} bytes ({after / before:.4f}) {old.model_id}")
    print(f"{'total':28s} {total[0]:>9d} -> {total[1]:>9d} bytes ({total[1] / total[0]:.4f})")
    return 0


def cmd_steps(models: Path) -> int:
    """Cumulative deflated array bytes after each step (every forest of the folder together)."""
    from mmnst_path.classify._forest_pack import _floor32, _last_guess, _narrow, _planes
    from mmnst_path.classify.model import load_model

    names = ["expanded (versions 1, 2)", "values of leaves only", "features of inner nodes, narrowest uint",
             "thresholds of inner nodes (float64)", "children + roots -> one leaf bit a node",
             "threshold = float32 below + rest (int64)", "threshold: rest narrowest int",
             "threshold: byte planes", "last class from the others + rest"]
    sums = np.zeros(len(names), np.int64)
    for path in sorted(models.glob("*.mmnst")):
        f = load_model(path).forest
        leaf, inner = f.left < 0, f.left >= 0
        t = f.threshold[inner]
        t32 = _floor32(t)
        rest = t.view(np.int64) - t32.astype(np.float64).view(np.int64)
        head = f.value[leaf][:, :-1]
        vrest = f.value[leaf][:, -1].view(np.int32).astype(np.int64) - _last_guess(head).view(np.int32)
        a: dict[str, np.ndarray] = dict(f.arrays())
        steps = [dict(a)]
        a["value"] = f.value[leaf]
        steps.append(dict(a))
        a["feature"] = _narrow(f.feature[inner].astype(np.int64), signed=False)
        steps.append(dict(a))
        a["threshold"] = t
        steps.append(dict(a))
        for k in ("left", "right", "roots"):
            a.pop(k)
        a["leaf_bits"] = np.packbits(leaf)
        steps.append(dict(a))
        a.pop("threshold")
        a["t32"], a["rest"] = t32, rest
        steps.append(dict(a))
        a["rest"] = _narrow(rest, signed=True)
        steps.append(dict(a))
        a["t32"], a["rest"] = _planes(t32), _planes(a["rest"])
        steps.append(dict(a))
        a["value"], a["vrest"] = head, _narrow(vrest, signed=True)
        steps.append(dict(a))
        sizes = [_deflated(s) for s in steps]
        sums += sizes
        print(path.name, sizes)
    for name, size, prev in zip(names, sums, np.concatenate([[sums[0]], sums[:-1]]), strict=True):
        print(f"{name:45s} {int(size):>10d} bytes  step {int(size) - int(prev):>+10d}  ({size / sums[0]:.4f} of expanded)")
    return 0


class _Capture:
    """Feature rows given to each loaded model's forest, by model file name (sampled, bounded)."""

    def __init__(self, per_model: int) -> None:
        self.per_model = per_model
        self.rows: dict[str, list[np.ndarray]] = {}
        self.names: dict[int, str] = {}
        self.seen: dict[str, int] = {}
        self.rng = np.random.default_rng(41)

    def add(self, forest: object, x: np.ndarray) -> None:
        name = self.names.get(id(forest))
        if name is None:
            return
        x = np.asarray(x, dtype=np.float32).reshape(-1, np.asarray(x).shape[-1])
        self.seen[name] = self.seen.get(name, 0) + x.shape[0]
        have = sum(r.shape[0] for r in self.rows.get(name, []))
        room = self.per_model - have
        if room <= 0 or x.shape[0] == 0:
            return
        take = x if x.shape[0] <= min(room, 50_000) else x[np.sort(self.rng.choice(x.shape[0], min(room, 50_000),
                                                                                    replace=False))]
        self.rows.setdefault(name, []).append(take.copy())


def _install(cap: _Capture) -> None:
    """Wrap the entry points that hand feature rows to a forest, wherever they were imported."""
    import mmnst_path.classify._forest as forest_mod
    import mmnst_path.classify._pigment_bound as bound_mod
    import mmnst_path.classify._pigment_forest as pf_mod
    import mmnst_path.classify.model as model_mod
    import mmnst_path.cli  # (imports what the runs use)
    import mmnst_path.pipeline  # noqa: F401

    orig_load, orig_proba = model_mod.load_model, forest_mod.Forest.predict_proba
    orig_below, orig_bound = pf_mod.proba_below, bound_mod.forest_upper_bound

    def load_model(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        model = orig_load(path, *args, **kwargs)
        cap.names[id(model.forest)] = Path(path).name
        if model.context is not None:
            cap.names[id(model.context.forest)] = Path(path).name + ":context"
        return model

    def predict_proba(self, x, *args, **kwargs):  # type: ignore[no-untyped-def]
        cap.add(self, x)
        return orig_proba(self, x, *args, **kwargs)

    def proba_below(forest, x, *args, **kwargs):  # type: ignore[no-untyped-def]
        cap.add(forest, x)
        return orig_below(forest, x, *args, **kwargs)

    def forest_upper_bound(model, x, *args, **kwargs):  # type: ignore[no-untyped-def]
        cap.add(model.forest, x)
        return orig_bound(model, x, *args, **kwargs)

    forest_mod.Forest.predict_proba = predict_proba  # type: ignore[method-assign]
    swaps = {id(orig_load): load_model, id(orig_below): proba_below, id(orig_bound): forest_upper_bound}
    for mod in list(sys.modules.values()):
        if mod is None or not getattr(mod, "__name__", "").startswith("mmnst_path"):
            continue
        for attr, val in list(vars(mod).items()):
            if id(val) in swaps:
                setattr(mod, attr, swaps[id(val)])


def cmd_capture(out: Path, work: Path, per_model: int, config: Path | None = None) -> int:
    from PIL import Image

    cap = _Capture(per_model)
    _install(cap)
    from mmnst_path.cli import main

    work.mkdir(parents=True, exist_ok=True)
    import openslide

    slide = openslide.OpenSlide(str(DATA / "wsi" / "CMU-1-Small-Region.svs"))
    w, h = slide.dimensions
    crop = slide.read_region(((w - 1536) // 2, (h - 1536) // 2), 0, (1536, 1536)).convert("RGB")
    (work / "cmu1").mkdir(exist_ok=True)
    crop.save(work / "cmu1" / "cmu1_crop.png")
    Image.open(DATA / "ki67" / "bcdata" / "0.png").convert("RGB").save(work / "bcdata_0.png")
    Image.open(DATA / "ki67" / "shidc" / "p1_0299_1.jpg").convert("RGB").save(work / "shidc_p1_0299_1.png")
    runs = [["sample_tiles"], [str(work / "bcdata_0.png"), "--mpp", "0.25"],
            [str(work / "shidc_p1_0299_1.png"), "--mpp", "0.21"], [str(work / "cmu1" / "cmu1_crop.png"), "--mpp", "0.499"],
            # the red-chromogen models (nucleus_red, pigment_default) on the same real and README tiles read as AEC
            [str(work / "bcdata_0.png"), "--mpp", "0.25", "--stains", "H-AEC"],
            [str(work / "shidc_p1_0299_1.png"), "--mpp", "0.21", "--stains", "H-AEC"],
            ["sample_tiles/ki67_pigmented.tif", "--stains", "H-AEC"]]
    if config is not None:  # information after the rule's runs: the opt-in models, the same inputs with a config
        runs = [[*run[:3], "--config", str(config)] if run[0] != "sample_tiles" else ["sample_tiles", "--config", str(config)]
                for run in runs[:4]]
    for i, run in enumerate(runs):
        rc = main(["quantify", *run, "--out", str(work / f"run{i}"), "--workers", "1", "--quiet", "--overwrite"])
        print("run", run, "exit", rc, flush=True)
    arrays = {name: np.concatenate(parts) for name, parts in cap.rows.items()}
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
    for name in sorted(cap.seen):
        print(f"{name:36s} rows seen {cap.seen[name]:>10d}  kept {arrays.get(name, np.zeros((0, 0))).shape[0]:>8d}")
    return 0


def cmd_predict(models: Path, rows: Path, out: Path) -> int:
    from mmnst_path.classify.model import load_model

    result: dict[str, np.ndarray] = {}
    meta: dict[str, dict[str, object]] = {}
    with np.load(rows) as npz:
        captured = {k: npz[k] for k in npz.files}
    for path in sorted(models.glob("*.mmnst")):
        model = load_model(path)
        stages = [("", model.forest, model.test_x)]
        if model.context is not None:
            stages.append((":context", model.context.forest, model.context.test_x))
        for suffix, forest, test_x in stages:
            name = path.name + suffix
            x = np.concatenate([captured.get(name, np.zeros((0, test_x.shape[1]), np.float32)), test_x])
            result[name] = forest.predict_proba(x)
            h = hashlib.sha256()
            for key, a in forest.arrays().items():
                h.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
                h.update(np.ascontiguousarray(a).tobytes())
            meta[name] = {"model_id": model.model_id, "arrays_sha256": h.hexdigest(), "rows": int(x.shape[0]),
                          "captured": int(x.shape[0] - test_x.shape[0]), "file_bytes": path.stat().st_size}
    result["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez_compressed(out, **result)  # type: ignore[arg-type]
    for name, m in meta.items():
        print(name, m)
    return 0


def cmd_compare(a: Path, b: Path) -> int:
    with np.load(a) as na, np.load(b) as nb:
        pa, pb = {k: na[k] for k in na.files}, {k: nb[k] for k in nb.files}
    ma, mb = json.loads(pa.pop("meta").tobytes()), json.loads(pb.pop("meta").tobytes())
    bad = 0
    if pa.keys() != pb.keys():
        print("models differ:", sorted(pa.keys() ^ pb.keys()))
        bad += 1
    for name in sorted(pa.keys() & pb.keys()):
        same = pa[name].dtype == pb[name].dtype and pa[name].shape == pb[name].shape \
            and pa[name].tobytes() == pb[name].tobytes()
        ids = ma[name]["model_id"] == mb[name]["model_id"]
        arrs = ma[name]["arrays_sha256"] == mb[name]["arrays_sha256"]
        bad += not (same and ids and arrs)
        print(f"{name:36s} rows {pa[name].shape[0]:>8d} (captured {ma[name]['captured']:>8d})  probabilities "
              f"{'identical' if same else 'DIFFER'}  id {ma[name]['model_id']} {'=' if ids else '!='} "
              f"{mb[name]['model_id']}  arrays {'identical' if arrs else 'DIFFER'}  bytes {ma[name]['file_bytes']} -> "
              f"{mb[name]['file_bytes']}")
    print("all identical" if not bad else f"{bad} differ")
    return int(bad > 0)


_VOLATILE = ("time", "date", "elapsed", "duration", "seconds", "started", "finished", "cpu", "wall", "host", "pid")


def _json_diffs(a: object, b: object, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _json_diffs(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{where}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _json_diffs(x, y, f"{where}[{i}]", out)
    elif a != b and not (isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b)):
        out.append(f"{where}: {str(a)[:80]!r} != {str(b)[:80]!r}")


def _file_diffs(fa: Path, fb: Path) -> list[str]:
    """What differs between two output files, read by type (empty: identical)."""
    import gzip

    if fa.read_bytes() == fb.read_bytes():
        return []
    name = fa.name
    out: list[str] = []
    if name.endswith((".json", ".geojson")):
        _json_diffs(json.loads(fa.read_text()), json.loads(fb.read_text()), "", out)
    elif name.endswith((".png", ".tif", ".tiff", ".jpg")):
        from PIL import Image

        a, b = np.asarray(Image.open(fa)), np.asarray(Image.open(fb))
        if a.shape != b.shape or not np.array_equal(a, b):
            out.append(f"pixels differ ({a.shape} vs {b.shape})")
    elif name.endswith(".parquet"):
        import pandas as pd

        if not pd.read_parquet(fa).equals(pd.read_parquet(fb)):
            out.append("parquet table differs")
    elif name.endswith(".npz"):
        with np.load(fa) as na, np.load(fb) as nb:
            for k in sorted(set(na.files) | set(nb.files)):
                if k not in na.files or k not in nb.files or not np.array_equal(na[k], nb[k]):
                    out.append(f"array {k} differs")
    else:
        ta = gzip.decompress(fa.read_bytes()).decode() if name.endswith(".gz") else fa.read_text(errors="replace")
        tb = gzip.decompress(fb.read_bytes()).decode() if name.endswith(".gz") else fb.read_text(errors="replace")
        la, lb = ta.splitlines(), tb.splitlines()
        out += [f"line {i}: {x[:100]!r} != {y[:100]!r}" for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y]
        if len(la) != len(lb):
            out.append(f"{len(la)} vs {len(lb)} lines")
    return out or ["bytes differ, contents equal as read"]


def cmd_outputs(a: Path, b: Path, trees: list[str]) -> int:
    """Gate 2: every file of two ``quantify`` output folders; counted differences exclude times and tree paths."""
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    counted = 0
    if files_a != files_b:
        print("file lists differ:", sorted(set(files_a) ^ set(files_b)))
        counted += 1
    same = 0
    for rel in sorted(set(files_a) & set(files_b)):
        diffs = _file_diffs(a / rel, b / rel)
        if not diffs:
            same += 1
            continue
        for d in diffs:
            volatile = any(v in d.split(":")[0].lower() for v in _VOLATILE) or any(t in d for t in trees)
            counted += not volatile
            print(f"{rel}: {'(time/path, not counted) ' if volatile else 'COUNTED '}{d}")
    print(f"{same} of {len(files_a)} files byte-identical; counted differences: {counted}")
    return int(counted > 0)


_TIMER = """
import glob, time
from mmnst_path.classify.model import load_model
paths = sorted(glob.glob("mmnst_path/models/*.mmnst"))
t = time.process_time()
for p in paths:
    load_model(p)
print(repr(time.process_time() - t))
"""


def cmd_loadtime(trees: list[Path], runs: int) -> int:
    times: dict[str, list[float]] = {str(t): [] for t in trees}

    def once(tree: Path) -> float:
        res = subprocess.run([sys.executable, "-c", _TIMER], cwd=tree, env={"PYTHONPATH": ".", "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, check=True)
        return float(res.stdout.strip().splitlines()[-1])

    for tree in trees:  # warm-up (numba's cache of each tree, the file cache), not counted
        once(tree)
    for r in range(runs):
        for tree in trees:
            times[str(tree)].append(once(tree))
        print("run", r, {k: v[-1] for k, v in times.items()}, flush=True)
    for k, v in times.items():
        print(f"{k}: runs {v} mean {np.mean(v)!r} median {np.median(v)!r}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("rewrite")
    p.add_argument("--models", type=Path, default=Path("mmnst_path/models"))
    p = sub.add_parser("steps")
    p.add_argument("--models", type=Path, default=Path("mmnst_path/models"))
    p = sub.add_parser("capture")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--per-model", type=int, default=300_000)
    p.add_argument("--config", type=Path, default=None,
                   help="instead: the four default runs with this analysis config (opt-in models; information)")
    p = sub.add_parser("predict")
    p.add_argument("--models", type=Path, required=True)
    p.add_argument("--rows", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("compare")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p = sub.add_parser("outputs")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--trees", nargs="*", default=[], help="tree paths whose appearance is not a difference")
    p = sub.add_parser("loadtime")
    p.add_argument("trees", type=Path, nargs="+")
    p.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if args.cmd == "rewrite":
        return cmd_rewrite(args.models)
    if args.cmd == "steps":
        return cmd_steps(args.models)
    if args.cmd == "capture":
        return cmd_capture(args.out, args.work, args.per_model, args.config)
    if args.cmd == "predict":
        return cmd_predict(args.models, args.rows, args.out)
    if args.cmd == "compare":
        return cmd_compare(args.a, args.b)
    if args.cmd == "outputs":
        return cmd_outputs(args.a, args.b, args.trees)
    return cmd_loadtime(args.trees, args.runs)


if __name__ == "__main__":
    sys.exit(main())
