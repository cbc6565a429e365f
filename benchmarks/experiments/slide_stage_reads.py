"""Experiment (#16, session 29 H6): which pixels of a slide tile each Ki67-chain stage works on, and
which of them the stages after it read.

One single-threaded ``analyze_slide`` (1 worker, Ki67 forced, H-DAB, the slide read at the given
µm/px and ``tile_um``). Per tile: the pigment stage's input (``_pigment``'s image, the whole tile
image unless the tile is a lone one with white borders) and its thread CPU; the Ki67 stage's
window (``measure_ki67``'s image: the core grown by the Ki67 reach past the pigment mask,
:func:`~mmnst_path.pipeline._worker._ki67_window`) and its CPU. From the reaches of
:func:`~mmnst_path.pipeline._reach.ki67_halo_parts` (at the analysis resolution, rounded as the
worker rounds them) the script also draws, per tile and clipped to the pigment stage's part of the
tile image:

- ``read``: the pigment mask pixels the Ki67 stage reads (its window);
- ``need``: the pigment input those pixels depend on (``read`` grown by the pigment reach): the
  least image the pigment stage could run on for the same bits, called from outside
  (``classify/pigment.py`` unchanged);
- ``chain``: the part of ``read`` the fill -> detection -> context chain reads (the rest, out to
  ``pigment_prior_radius_um``, is read only by the pigment prior's mask share);
- ``chain_need``: ``chain`` grown by the pigment reach (the input the pigment stage would need
  without the prior's square).

The table gives the areas over every tile and the CPU a stage would save on each cut, estimated
as its CPU times the area share cut (per tile, summed).

    PYTHONPATH=. python benchmarks/experiments/slide_stage_reads.py SLIDE[@MPP] [--tile-um 512]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any


def _area(box: tuple[int, int, int, int]) -> int:
    return max(box[1] - box[0], 0) * max(box[3] - box[2], 0)


def _meet(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return (max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]))


def _grow(core: tuple[int, int, int, int], px: int, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    return (max(core[0] - px, 0), min(core[1] + px, shape[0]), max(core[2] - px, 0), min(core[3] + px, shape[1]))


def run(spec: str, tile_um: float) -> dict[str, Any]:
    """One slide run with the stage wrappers installed; per-tile records and totals."""
    import mmnst_path.pipeline._slide as slide
    import mmnst_path.pipeline._worker as worker
    import mmnst_path.quantify.ki67 as ki67mod
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    path, _, mpp = spec.partition("@")
    config = AnalysisConfig(measures=("ki67",), stains="H-DAB", tile_um=tile_um)
    records: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    orig_tile, orig_pig, orig_k = worker.analyze_tile, worker._pigment, ki67mod.measure_ki67

    def tile_fn(rgb: Any, tile: Any, job: Any) -> Any:
        current.clear()
        current.update(shape=tuple(rgb.shape[:2]), mpp=float(tile.analysis_mpp),
                       origin=(int(tile.origin[0]), int(tile.origin[1])))
        rs, cs = tile.core_slices
        current["core"] = (rs.start, rs.stop, cs.start, cs.stop)
        lean = worker._lean_windows(rgb, job, tile.analysis_mpp)  # (the pigment stage's part of a lone tile)
        win = (slice(0, rgb.shape[0]), slice(0, rgb.shape[1])) if lean is None else lean[1]
        current["pig_box"] = (win[0].start, win[0].stop, win[1].start, win[1].stop)
        t = time.thread_time()
        out = orig_tile(rgb, tile, job)
        current["tile_cpu"] = time.thread_time() - t
        records.append(dict(current))
        return out

    def timed(fn: Any, name: str, masks: bool) -> Any:
        """``fn`` adding its thread CPU and input pixels (and, ``masks``: its two masks' pixels) to the tile's record."""
        def call(rgb: Any, *a: Any, **k: Any) -> Any:
            t = time.thread_time()
            out = fn(rgb, *a, **k)
            current[f"{name}_cpu"] = current.get(f"{name}_cpu", 0.0) + time.thread_time() - t
            current[f"{name}_px"] = current.get(f"{name}_px", 0) + int(rgb.shape[0] * rgb.shape[1])
            if masks:
                current["mask_px"] = current.get("mask_px", 0) + int(out[0].sum())
                current["exclusion_px"] = current.get("exclusion_px", 0) + int(out[1].sum())
            return out
        return call

    pig_fn, k_fn = timed(orig_pig, "pig", True), timed(orig_k, "ki67", False)
    # (the slide module holds analyze_tile by name; the worker imports measure_ki67 inside analyze_tile)
    slide.analyze_tile, worker._pigment, ki67mod.measure_ki67 = tile_fn, pig_fn, k_fn
    try:
        c0 = time.process_time()
        analyze_slide(path, config, mpp=float(mpp) if mpp else None, workers=1)
        total = time.process_time() - c0
    finally:
        slide.analyze_tile, worker._pigment, ki67mod.measure_ki67 = orig_tile, orig_pig, orig_k
    parts = worker.ki67_halo_parts(config)
    return {"records": records, "total_cpu": total, "parts": parts}


def union_area(boxes: list[tuple[int, int, int, int]]) -> int:
    """Exact area (px) of the union of (r0, r1, c0, c1) boxes (coordinates compressed)."""
    import numpy as np

    boxes = [b for b in boxes if b[1] > b[0] and b[3] > b[2]]
    if not boxes:
        return 0
    rows = np.unique([v for b in boxes for v in b[:2]])
    cols = np.unique([v for b in boxes for v in b[2:]])
    cover = np.zeros((rows.size - 1, cols.size - 1), dtype=bool)
    for r0, r1, c0, c1 in boxes:
        cover[np.searchsorted(rows, r0):np.searchsorted(rows, r1), np.searchsorted(cols, c0):np.searchsorted(cols, c1)] = True
    return int((np.diff(rows)[:, None] * np.diff(cols)[None, :] * cover).sum())


def across_tiles(result: dict[str, Any]) -> dict[str, float]:
    """Areas (px) over the slide: the sum of the pigment stage's inputs, and the union (each slide
    pixel once) of those inputs, of the pigment mask pixels the Ki67 stages read and of that union
    grown by the pigment reach: what a stage computed once per slide pixel would run on."""
    parts = result["parts"]
    sums = dict.fromkeys(("pig_in", "union_in", "union_read", "union_need"), 0.0)
    ins, reads, needs = [], [], []
    for r in result["records"]:
        mpp, shape, core, (o_r, o_c) = r["mpp"], r["shape"], r["core"], r["origin"]
        k_px = math.ceil((sum(parts.values()) - parts["pigment"]) / mpp) + 1
        pig_px = math.ceil(parts["pigment"] / mpp)
        box = tuple(r["pig_box"])
        shift = lambda b, o_r=o_r, o_c=o_c: (b[0] + o_r, b[1] + o_r, b[2] + o_c, b[3] + o_c)  # noqa: E731
        ins.append(shift(box))
        read = _meet(_grow(core, k_px, shape), box)
        reads.append(shift(read))
        needs.append(shift(_grow(read, pig_px, shape)))
        sums["pig_in"] += r.get("pig_px", 0)
    sums["union_in"], sums["union_read"], sums["union_need"] = union_area(ins), union_area(reads), union_area(needs)
    return sums


def account(result: dict[str, Any]) -> dict[str, float]:
    """Areas (px) and estimated CPU (s) of each cut, summed over the tiles."""
    parts = result["parts"]
    sums: dict[str, float] = dict.fromkeys(
        ("tile", "pig_in", "read", "need", "chain", "chain_need", "ki67_in", "pig_cpu", "ki67_cpu",
         "save_need", "save_read", "save_chain_need", "save_ki67_chain"), 0.0)
    for r in result["records"]:
        mpp, shape, core = r["mpp"], r["shape"], r["core"]
        k_px = math.ceil((sum(parts.values()) - parts["pigment"]) / mpp) + 1  # as _ki67_window
        chain_px = math.ceil((sum(parts.values()) - parts["pigment"] - parts["pigment_prior"]) / mpp) + 1
        pig_px = math.ceil(parts["pigment"] / mpp)
        box = tuple(r["pig_box"])  # the pigment stage's part of the tile image (all of it but on lone tiles)
        read, chain = _meet(_grow(core, k_px, shape), box), _meet(_grow(core, chain_px, shape), box)
        need, chain_need = _meet(_grow(core, k_px + pig_px, shape), box), _meet(_grow(core, chain_px + pig_px, shape), box)
        pig_in = r.get("pig_px", 0)
        tile = shape[0] * shape[1]
        sums["tile"] += tile
        sums["pig_in"] += pig_in
        sums["ki67_in"] += r.get("ki67_px", 0)
        for key, box in (("read", read), ("need", need), ("chain", chain), ("chain_need", chain_need)):
            sums[key] += _area(box)
        pc, kc = r.get("pig_cpu", 0.0), r.get("ki67_cpu", 0.0)
        sums["pig_cpu"] += pc
        sums["ki67_cpu"] += kc
        if pig_in:
            sums["save_need"] += pc * max(0.0, 1 - _area(need) / pig_in)
            sums["save_read"] += pc * max(0.0, 1 - _area(read) / pig_in)
            sums["save_chain_need"] += pc * max(0.0, 1 - _area(chain_need) / pig_in)
        if r.get("ki67_px"):
            sums["save_ki67_chain"] += kc * max(0.0, 1 - _area(chain) / r["ki67_px"])
    return sums


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("slide", metavar="SLIDE[@MPP]")
    ap.add_argument("--tile-um", type=float, default=512.0)
    ap.add_argument("--json", help="also write the per-tile records here")
    args = ap.parse_args()
    result = run(args.slide, args.tile_um)
    s = account(result)
    total = result["total_cpu"]
    print(f"{Path(args.slide.partition('@')[0]).name} tile_um {args.tile_um:g}: {len(result['records'])} tiles, "
          f"process CPU {total:.3f} s; reaches (µm) " + ", ".join(f"{k} {v:.4f}" for k, v in result["parts"].items()))
    print("| pixels | MPx | / pigment input |\n|---|---:|---:|")
    for key, label in (("tile", "tile images"), ("pig_in", "pigment stage input (today)"),
                       ("need", "pigment input its readers need (read + pigment reach)"),
                       ("read", "pigment mask the Ki67 stage reads (Ki67 window)"),
                       ("chain", "... of which the fill -> detection -> context chain reads"),
                       ("chain_need", "pigment input the chain alone would need"),
                       ("ki67_in", "Ki67 stage input (today)")):
        print(f"| {label} | {s[key] / 1e6:.4f} | {s[key] / s['pig_in']:.4f} |")
    print("| cut | CPU s saved (estimate) | % of the run |\n|---|---:|---:|")
    for key, label in (("save_need", "pigment stage on what its readers need (exact, from outside)"),
                       ("save_read", "pigment stage computing only the pixels read (needs classify/pigment)"),
                       ("save_chain_need", "pigment stage without the prior's ring (changes outputs)"),
                       ("save_ki67_chain", "Ki67 stage on the chain's window (prior read from the mask)")):
        print(f"| {label} | {s[key]:.4f} | {100 * s[key] / total:.2f} |")
    a = across_tiles(result)
    print("| across tiles (slide pixels) | MPx | / sum of pigment inputs |\n|---|---:|---:|")
    for key, label in (("pig_in", "sum of the pigment stage's inputs (today)"),
                       ("union_in", "union of those inputs (each slide pixel once)"),
                       ("union_read", "union of the pigment mask pixels the Ki67 stages read"),
                       ("union_need", "that union grown by the pigment reach")):
        print(f"| {label} | {a[key] / 1e6:.4f} | {a[key] / a['pig_in']:.4f} |")
    cut = s["pig_cpu"] * (1 - a["union_need"] / a["pig_in"])
    print(f"pigment stage once per slide pixel (union grown by its reach; CPU taken as proportional to pixels, "
          f"block halos not counted): ~{cut:.3f} s saved = {100 * cut / total:.2f} % of the run (upper bound)")
    marked = [r for r in result["records"] if r.get("mask_px") or r.get("exclusion_px")]
    print(f"tiles with a non-empty pigment mask: {len(marked)} of {len(result['records'])} "
          f"({sum(r.get('mask_px', 0) for r in result['records'])} mask px, "
          f"{sum(r.get('exclusion_px', 0) for r in result['records'])} exclusion px)")
    print(f"pigment stage CPU {s['pig_cpu']:.3f} s ({100 * s['pig_cpu'] / total:.1f} %), "
          f"Ki67 stage {s['ki67_cpu']:.3f} s ({100 * s['ki67_cpu'] / total:.1f} %)")
    if args.json:
        Path(args.json).write_text(json.dumps({"sums": s, "across": a, "total_cpu": total, "parts": result["parts"],
                                               "records": result["records"]}, indent=1))


if __name__ == "__main__":
    main()
