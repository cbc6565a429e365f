"""Experiment (#16, session 29 H10): can a slide tile prove, exactly and cheaply, that its pigment mask is empty?

Reads the ``classify_pigment`` calls pickled by ``pigment_stage_ab.py capture SLIDE CAP.pkl`` (every
slide tile, 1 worker, Ki67 forced, H-DAB, 0.5 µm/px) and, per tile:

1. times the stage's parts (thread CPU, ms; ``--reps`` calls, median; the slide path's
   ``forest_early_exit=True``): the learned tile gate, the stain channels, the colour gate, the brown
   bodies (``prepare_bodies``), the pixel model (``pigment_probability``: candidates' fine OD, window
   features, forest), the veto and clusters (the rest), and the fine OD of the tile alone
   (``_candidates``: what a bound on the fine-scale features costs);
2. counts: gate pixels, the rows that reach the pixel forest (gated, not skipped, OD >= candidate_od),
   brown bodies (and those decided DAB from the image alone), the final mask;
3. with the full features of those rows (``pigment_features``, untimed) and ``forest_early_exit=False``:
   the largest forest probability reached, and upper bounds of it, exact by construction
   (:func:`mmnst_path.classify._pigment_bound.forest_upper_bound`: a split on an unknown feature taken
   both ways, per tree the largest leaf reachable, averaged), with the known features:

   - ``fine``: u_r, u_g, u_b, grey, log_od (functions of the fine-scale OD, which the candidate test
     computes anyway), per row;
   - ``fine+blob``: and the blob_* body features (the tile's body table), per row;
   - ``fine+blob+ctx``: and the 2.5 / 6 µm blurs (ctx_*, wide_u_b), per row;
   - ``box``: the tile's [min, max] box of the ``fine`` features, every other feature free (interval
     evaluation of the forest over a feature box: one number per tile);
   - ``all-but-blob``: every feature but blob_* known, per row (what the body table alone bounds);
   - ``all-but-disk``: every feature but the disk extremes (:data:`DISK`) known, per row; and
     ``all-but-disk-in-0-1``: the same with the disk features in their range [0, 1] (ratios to the OD)
     instead of free (interval evaluation, on the rows the free bound leaves over).

   A bound below ``min_probability`` (0.5) on every row proves the mask empty (the mask is
   ``prob >= min_probability`` minus vetoes, clustered; the context rule only takes bodies back
   beside melanin the mask already holds). ``rows_over``: rows whose bound reaches it.

    PYTHONPATH=. python benchmarks/experiments/pigment_empty_proof.py CAP.pkl [CAP2.pkl ...] [--reps 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import time
from typing import Any

import numpy as np

GROUPS = {
    "fine": ("u_r", "u_g", "u_b", "grey", "log_od"),
    "blob": ("blob_log_area", "blob_fill", "blob_cv", "blob_holes"),
    "ctx": ("ctx_log_od", "ctx_u_r", "ctx_u_b", "ctx_grey", "wide_u_b"),
}
#: the features that take disk extremes (openings, maxima, minima): every other one is a Gaussian or a body sum
#: the most rows the [0, 1] disk bound is evaluated on per tile (in Python)
NAT_ROWS = 300
DISK = ("tophat_1", "tophat_2.5", "peak", "erode", "erode_2.5")


def box_bound(model: Any, lo: np.ndarray, hi: np.ndarray, known: np.ndarray) -> float:
    """Interval evaluation: the mean over trees of the largest leaf value (melanin) reachable by any
    row inside the box ``[lo, hi]`` on the ``known`` features (the others free); float64."""
    forest = model.forest
    j = list(model.class_names).index("melanin")
    leaf = forest.value[:, j].astype(np.float64)
    acc = 0.0
    for root in forest.roots:
        best, stack = -1.0, [int(root)]
        while stack:
            nd = stack.pop()
            if forest.left[nd] < 0:
                best = max(best, float(leaf[nd]))
                continue
            f, thr = int(forest.feature[nd]), float(forest.threshold[nd])
            if not known[f] or np.float64(lo[f]) <= thr:
                stack.append(int(forest.left[nd]))
            if not known[f] or not np.float64(hi[f]) <= thr:  # (NaN goes right, as in the forest's walk)
                stack.append(int(forest.right[nd]))
        acc += best
    return acc / len(forest.roots)


class Parts:
    """Thread-CPU timers around the functions ``classify_pigment`` calls (patched in their modules)."""

    def __init__(self) -> None:
        import mmnst_path.classify._pigment_gate as cg
        import mmnst_path.classify.pigment as cp
        import mmnst_path.detect.pigment as dp

        self.ms: dict[str, float] = {}
        self.seen: dict[str, Any] = {}
        for mod, name in ((cg, "tile_may_hold_pigment"), (dp, "pigment_channels"), (dp, "pigment_gate"),
                          (cp, "prepare_bodies"), (cp, "pigment_probability"), (cp, "learned_body_veto"),
                          (dp, "clustered_pigment")):
            setattr(mod, name, self._wrap(name, getattr(mod, name)))

    def _wrap(self, name: str, fn: Any) -> Any:
        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.thread_time()
            out = fn(*a, **k)
            self.ms[name] = self.ms.get(name, 0.0) + 1e3 * (time.thread_time() - t0)
            if name == "pigment_probability":
                self.seen.setdefault("where", []).append(k.get("where"))
            if name == "prepare_bodies":
                self.seen["bodies"] = out
            if name == "pigment_gate":
                self.seen["gate"] = out[0]
            return out
        return timed


def one_tile(name: str, rgb: np.ndarray, kw: dict[str, Any], parts: Parts, reps: int) -> dict[str, Any]:
    from mmnst_path.classify._pigment_bound import forest_upper_bound
    from mmnst_path.classify._pigment_features import PigmentFeatureSettings, _candidates
    from mmnst_path.classify.pigment import classify_pigment, model_for_stains, pigment_features
    from mmnst_path.detect.pigment import PigmentParams

    params = kw.get("params") or PigmentParams()
    rec: dict[str, Any] = {"tile": name, "shape": list(rgb.shape[:2])}
    # 1. the parts, slide path (early exit on), median of reps
    runs: list[dict[str, float]] = []
    for _ in range(reps):
        parts.ms, parts.seen = {}, {}
        t0 = time.thread_time()
        mask, _ = classify_pigment(rgb, **kw, forest_early_exit=True)
        total = 1e3 * (time.thread_time() - t0)
        runs.append({**parts.ms, "stage": total})
    rec["ms"] = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}
    rec["mask_px"] = int(np.count_nonzero(mask))
    # the fine OD alone (the cost of the ``fine`` bound's inputs)
    model = model_for_stains(kw["model"], kw.get("stains"), params)
    s = PigmentFeatureSettings.from_mapping(model.settings)
    bg = kw.get("background")
    if bg is None and kw.get("stains") is not None and not isinstance(kw["stains"], str):
        bg = kw["stains"].background
    fine_ms = []
    for _ in range(reps):
        t0 = time.thread_time()
        _candidates(rgb, mpp=kw["mpp"], settings=s, background=bg, where=None)
        fine_ms.append(1e3 * (time.thread_time() - t0))
    rec["ms"]["fine_od_alone"] = statistics.median(fine_ms)
    # 2. counts, from an untimed full-probability-off, early-exit-off call
    parts.ms, parts.seen = {}, {}
    classify_pigment(rgb, **kw, forest_early_exit=False)
    gate = parts.seen.get("gate")
    rec["gate_px"] = None if gate is None else int(np.count_nonzero(gate))
    bodies = parts.seen.get("bodies")
    rec["bodies"] = None if bodies is None else int(bodies.labels.max())
    rec["bodies_decided"] = None if bodies is None else int(np.count_nonzero(bodies.decided))
    wheres = [w for w in parts.seen.get("where", []) if w is not None]
    rec["model_calls"] = len(wheres)
    where = np.logical_or.reduce(wheres) if wheres else None
    if where is None or not where.any():
        rec.update(rows=0, max_prob=None)
        return rec
    # 3. the rows the forest sees, their features and the bounds
    x, _ = pigment_features(rgb, mpp=kw["mpp"], settings=s, background=bg, where=where,
                               names=model.feature_names)
    names = list(model.feature_names)
    prob = model.predict_proba(x)[:, list(model.class_names).index("melanin")]
    rec["rows"] = int(x.shape[0])
    rec["max_prob"] = float(prob.max())
    rec["rows_over_prob"] = int(np.count_nonzero(prob.astype(np.float32) >= np.float32(params.min_probability)))
    lim = float(params.min_probability)
    for label, known in (("fine", GROUPS["fine"]), ("fine+blob", GROUPS["fine"] + GROUPS["blob"]),
                         ("fine+blob+ctx", GROUPS["fine"] + GROUPS["blob"] + GROUPS["ctx"]),
                         ("all-but-blob", tuple(n for n in names if n not in GROUPS["blob"])),
                         ("all-but-disk", tuple(n for n in names if n not in DISK))):
        free = tuple(n for n in names if n not in known)
        ub = forest_upper_bound(model, x, free, "melanin")
        assert ub is not None, "no numba"
        assert np.all(ub >= prob - 1e-12), label  # a bound, checked
        rec[f"max_{label}"] = float(ub.max())
        rec[f"rows_over_{label}"] = int(np.count_nonzero(ub >= lim))
        if label == "all-but-disk":  # the rows still over: disk features in their natural range [0, 1]
            disk = np.array([n in DISK for n in names])
            assert np.all(x[:, disk] >= 0), "a disk feature below 0"
            assert np.all(x[:, disk] <= 1), "a disk feature above 1"
            over = np.flatnonzero(ub >= lim)[:NAT_ROWS]  # (a pure-Python walk: the first NAT_ROWS rows only)
            nat = [box_bound(model, np.where(disk, 0.0, x[r]), np.where(disk, 1.0, x[r]), np.ones(len(names), bool))
                   for r in over]
            rec["max_all-but-disk-in-0-1"] = max(nat, default=0.0)
            rec["rows_over_all-but-disk-in-0-1"] = int(sum(v >= lim for v in nat))
            rec["rows_tried_all-but-disk-in-0-1"] = len(over)
    known_mask = np.array([n in GROUPS["fine"] for n in names])
    finite = ~np.isnan(x).any(axis=0)  # (a column with NaN: free in the box)
    lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    rec["box_fine"] = box_bound(model, lo, hi, known_mask & finite)
    rec["box_all"] = box_bound(model, lo, hi, finite)
    return rec


def generated(seeds: int) -> list[tuple[str, str, np.ndarray, dict[str, Any]]]:
    """The positive control: ``classify_pigment``'s arguments on generated pigmented tiles
    (``pigment_family_tile``, 768 px at 0.5 µm/px, saturated positives, clumps off / on) as the
    slide worker's pigment stage passes them (Ki67, H-DAB)."""
    from pigment_stage_ab import pigment_calls

    from mmnst_path.pipeline import AnalysisConfig
    from mmnst_path.pipeline._worker import TileJob, _pigment
    from mmnst_path.synthetic import pigment_family_tile

    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB")
    job = TileJob(config=cfg, matrix=cfg.stain_matrix(), measures=("ki67",), roi=None, map_px=64)
    rows = []
    with pigment_calls() as calls:
        for fam in ("confluent", "melanophage", "whole_cell", "coarse", "over_nucleus", "spindle", "dusty", "sparse"):
            for seed in range(seeds):
                for clumps in (False, True):
                    rgb = np.ascontiguousarray(pigment_family_tile(seed, fam, size=768, melanin_clumps=clumps,
                                                                   saturated_positives=True).rgb)
                    calls.clear()
                    _pigment(rgb, 0.5, job)
                    rows += [(f"gen/{fam}/{seed}/{int(clumps)}", "gen", r, k) for r, k in calls]
    return rows


def split_costs(rows: list[Any], reps: int) -> None:
    """Thread-CPU ms inside ``pigment_probability`` per tile (slide path, early exit on): each window
    feature column (the context and wide blurs shared by later columns are counted in ``u_r``, the
    first computed), the granule and body columns, the forest, the rest (windows, OD, bands)."""
    import mmnst_path.classify.pigment as cp

    acc: dict[str, float] = {}

    def add(key: str, t0: float) -> None:
        acc[key] = acc.get(key, 0.0) + 1e3 * (time.thread_time() - t0)

    def timed_gen(real: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            gen = real(*a, **k)
            while True:
                t0 = time.thread_time()
                try:
                    name, v = next(gen)
                except StopIteration:
                    return
                add("col:" + name, t0)
                yield name, v
        return wrapper

    def timed(key: str, real: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t0 = time.thread_time()
            out = real(*a, **k)
            add(key, t0)
            return out
        return wrapper

    cp._window_columns = timed_gen(cp._window_columns)  # type: ignore[assignment]
    cp.granule_columns = timed_gen(cp.granule_columns)  # type: ignore[assignment]
    for name in ("proba_below", "_body_table", "_brown_mask", "_candidates", "_wide_at", "_windows"):
        setattr(cp, name, timed(name, getattr(cp, name)))
    real_pp = cp.pigment_probability
    cp.pigment_probability = timed("pigment_probability", real_pp)  # type: ignore[assignment]
    cp.classify_pigment(rows[0][2], **rows[0][3], forest_early_exit=True)
    for name, _, rgb, kw in rows:
        per: list[dict[str, float]] = []
        for _ in range(reps):
            acc.clear()
            cp.classify_pigment(rgb, **kw, forest_early_exit=True)
            per.append(dict(acc))
        med = {k: statistics.median(r.get(k, 0.0) for r in per) for k in per[0]}
        print(json.dumps({"tile": name, "split_ms": med}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("caps", nargs="*")
    p.add_argument("--generated", type=int, default=0, help="also N seeds of generated pigmented tiles")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", default=None)
    p.add_argument("--limit", type=int, default=0, help="first N tiles of each file (0: all)")
    p.add_argument("--split", action="store_true", help="only the cost split inside pigment_probability")
    a = p.parse_args()
    if a.split:
        for cap in a.caps:
            rows = pickle.load(open(cap, "rb"))
            split_costs(rows[: a.limit] if a.limit else rows, a.reps)
        return
    parts = Parts()
    out = []
    sets = [pickle.load(open(cap, "rb")) for cap in a.caps] + ([generated(a.generated)] if a.generated else [])
    for rows in sets:
        if a.limit:
            rows = rows[: a.limit]
        from mmnst_path.classify.pigment import classify_pigment
        classify_pigment(rows[0][2], **rows[0][3])  # warm-up (models, kernels)
        for name, _, rgb, kw in rows:
            rec = one_tile(name, rgb, kw, parts, a.reps)
            out.append(rec)
            print(json.dumps(rec), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
