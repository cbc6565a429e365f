"""A lone tile's tissue mask decided on k x k blocks of its thumbnail: what moves and what it saves (#16, session 33 H7).

``detect_tissue`` raises a lone image's thumbnail to ``min_size`` = 256 px (BCData 640² at 0.25 µm/px: 0.625 µm/px,
SHIDC 1228² at 0.21: 1.007 µm/px) and blurs it five times at ``smooth_um`` = 6 µm. With
``[tissue] lone_block_um`` = T (µm; the default 3.1 since session 34) the mask of such a thumbnail is decided on blocks of
``k = min(4, floor(T / thumbnail µm/px))`` pixels (images larger than the thumbnail only) (block means of R, G, B, grey and grey², so the texture rule keeps the
variance inside a block) and each block's answer is given to its pixels; the thumbnail itself (stain guess, white
point, maps) is unchanged and slides are never reached. T = 0 is the code before the change.

For every input and every T (interleaved per input, one process, one thread) it prints the mask pixels that
changed against T = 0, those of them farther than ``3 k`` thumbnail pixels from the T = 0 mask's edge ("interior"),
the results the mask feeds (tissue area, Ki67 index, melanin %, necrosis %, the stains ``auto`` chose) and the CPU
of ``detect_tissue`` alone and of the whole ``analyze_region`` call (``time.process_time``, median of
``--repeat``).

Inputs (``--set``): ``dev`` = this project's generators (seeds >= 40: ``ki67_cells_tile`` at the BCData, SHIDC and
DeepLIIF geometries, ``he_tissue_tile``, ``he_melanin_tile``), EndoNuke and the Kather tiles of ``../shared/train``
and the osteosarcoma tiles of ``../shared/data/necrosis`` (CC BY 3.0); ``bcdata``, ``shidc``, ``deepliif``: the
research-only Ki67 sets (validation only, never for choosing T).

    PYTHONPATH=. nice -n 10 python benchmarks/experiments/lone_tissue_coarse.py --set dev --targets 0 3.1
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
if not SHARED.is_dir():
    SHARED = Path("/work/shared")
KEYS = ("tissue_area_mm2", "ki67_index_pct", "ki67_denominator", "melanin_fraction_pct", "necrosis_fraction_pct")
Input = tuple[str, np.ndarray, float, tuple[str, ...]]


def _png(path: Path) -> np.ndarray:
    from mmnst_path.geometry import Box
    from mmnst_path.io import open_slide

    r = open_slide(path, mpp=1.0)
    try:
        return np.asarray(r.read_region(Box(0, 0, *r.shape), 0), np.uint8)[..., :3]
    finally:
        r.close()


def dev_inputs(n_gen: int, first: int = 40) -> Iterator[Input]:
    """(name, rgb, mpp, stains to run) of the dev inputs."""
    from mmnst_path.synthetic import he_melanin_tile
    from mmnst_path.synthetic_ki67 import ki67_cells_tile
    from mmnst_path.synthetic_tissue import he_tissue_tile

    ihc = ("auto", "H-DAB")
    for seed in range(first, first + n_gen):
        for size, mpp in ((640, 0.25), (1228, 0.21), (512, 0.31)):
            yield f"gen_ki67_{size}_s{seed}", ki67_cells_tile(seed, size=size, mpp=mpp).rgb, mpp, ihc
        for size, mpp in ((640, 0.25), (1228, 0.21)):
            yield f"gen_he_tissue_{size}_s{seed}", he_tissue_tile(seed, size=size, mpp=mpp).rgb, mpp, ("auto",)
        yield f"gen_he_melanin_640_s{seed}", he_melanin_tile(seed, size=640, mpp=0.25).rgb, 0.25, ("auto",)
    train = SHARED / "train"
    for p in sorted((train / "endonuke" / "staining_ds").glob("*.png"))[:10]:
        yield f"endonuke_{p.stem[:24]}", _png(p), 0.25, ihc
    for p in sorted((train / "endonuke" / "mixed").glob("*.png"))[:10]:
        yield f"endonuke_mixed_{p.stem}", _png(p), 0.5, ihc
    for p in sorted(q for q in (train / "kather_nct_crc_he").glob("*/*") if q.suffix.lower() in (".tif", ".png")):
        yield f"kather_{p.parent.name}_{p.stem[:16]}", _png(p), 0.5, ("auto",)
    for p in sorted(q for q in (train / "kather_texture_2016").glob("*/*") if q.suffix.lower() in (".tif", ".png"))[::5]:
        yield f"kather16_{p.parent.name}_{p.stem[:12]}", _png(p), 0.331, ("auto",)
    for p in sorted((SHARED / "data" / "necrosis").glob("*.jpg")):
        yield f"osteo_{p.stem[:30]}", _png(p), 1.0, ("auto",)


def real_inputs(name: str, tiles: int) -> Iterator[Input]:
    """The research-only Ki67 sets (H-DAB, as ``accuracy.py``): validation only."""
    mpp = float(tomllib.loads((ROOT / "benchmarks" / "datasets.toml").read_text())[name]["mpp"])
    folder = SHARED / "data" / "ki67" / name
    for p in sorted(q for q in folder.iterdir() if q.suffix.lower() in (".png", ".jpg"))[:tiles]:
        yield f"{name}_{p.stem}", _png(p), mpp, ("H-DAB",)


def _interior(before: np.ndarray, changed: np.ndarray, half: int) -> int:
    """Changed pixels farther than ``half`` pixels (Chebyshev) from an edge of the ``before`` mask."""
    from mmnst_path.tiling.tissue import _square_dilation, _square_erosion

    edge = before & ~_square_erosion(before, 1, border=True)
    edge |= ~before & _square_dilation(before, 1)
    near = _square_dilation(edge, half)
    return int(np.count_nonzero(changed & ~near))


def run_one(rgb: np.ndarray, mpp: float, stains: str, target: float, repeat: int,
            seed_scale_um: float | None = None) -> dict[str, object]:
    from mmnst_path.io import ArrayReader
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.report import summary_row
    from mmnst_path.tiling import detect_tissue, tissue

    mapping: dict[str, object] = {"stains": stains, "tissue": {"lone_block_um": target}}
    if seed_scale_um is not None:  # [nuclei] seed_scale_um (0: the analysis grid), else the default
        mapping["nuclei"] = {"seed_scale_um": seed_scale_um}
    cfg = AnalysisConfig.from_mapping(mapping)
    det, tot, row, t = [], [], {}, None
    for _ in range(repeat):
        t0 = time.process_time()
        t = detect_tissue(ArrayReader(rgb, mpp=mpp), mask_mpp=cfg.tissue_mpp, params=cfg.tissue)
        det.append(time.process_time() - t0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.process_time()
            res = analyze_region(rgb, cfg, mpp=mpp)
            tot.append(time.process_time() - t0)
        row = summary_row(res)
    assert t is not None
    out: dict[str, object] = {k: row.get(k) for k in KEYS}
    lone = max(rgb.shape[:2]) > max(t.mask.shape)
    k = min(tissue.LONE_MAX_BLOCK, math.floor(target / float(t.mask_mpp or math.nan))) if target > 0 and lone else 1
    out.update(stains=row.get("stains"), thumb=list(t.mask.shape), thumb_mpp=float(t.mask_mpp or math.nan), k=k,
               detect_cpu=statistics.median(det), cpu=statistics.median(tot), mask=t.mask)
    return out


def _num(v: object) -> float:
    return math.nan if v is None else float(v)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--set", nargs="+", default=["dev"], help="dev, bcdata, shidc, deepliif")
    ap.add_argument("--targets", nargs="+", type=float, default=[0.0, 3.1])
    ap.add_argument("--tiles", type=int, default=10, help="tiles per real set")
    ap.add_argument("--gen", type=int, default=4, help="generated seeds per generator (from 40)")
    ap.add_argument("--first-seed", type=int, default=40, help="first generated seed (>= 40: dev)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed-scale-um", type=float, default=None,
                    help="[nuclei] seed_scale_um for every run (0: the analysis grid; default: the config default)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.targets[0] != 0:
        args.targets.insert(0, 0.0)
    from threadpoolctl import threadpool_limits

    rows: list[dict[str, object]] = []
    with threadpool_limits(1):
        for name in args.set:
            for label, rgb, mpp, stains_list in (dev_inputs(args.gen, args.first_seed) if name == "dev" else real_inputs(name, args.tiles)):
                for stains in stains_list:
                    run_one(rgb, mpp, stains, 0.0, 1, args.seed_scale_um)  # warm
                    base: dict[str, object] = {}
                    m0 = np.zeros(0, bool)
                    for target in args.targets:
                        r = run_one(rgb, mpp, stains, target, args.repeat, args.seed_scale_um)
                        m1 = np.asarray(r.pop("mask"))
                        if target == 0:
                            base, m0 = r, m1
                        changed = m0 != m1
                        r.update(set=name, input=label, mpp=mpp, config_stains=stains, target=target,
                                 changed=int(changed.sum()), changed_frac=float(changed.mean()),
                                 interior=_interior(m0, changed, 3 * int(r["k"])))  # type: ignore[call-overload]
                        for key in KEYS:
                            r[f"d_{key}"] = _num(r[key]) - _num(base[key])
                        r["stains_same"] = r["stains"] == base["stains"]
                        r["detect_ratio"] = _num(r["detect_cpu"]) / _num(base["detect_cpu"])
                        r["saved_share"] = (_num(base["detect_cpu"]) - _num(r["detect_cpu"])) / _num(base["cpu"])
                        rows.append(r)
                        print(f"{label:40s} {stains:6s} T={target:3.1f} k={r['k']} thumb {r['thumb']} "
                              f"@{r['thumb_mpp']:.4f} changed {r['changed']:6d} ({r['changed_frac']:.4%}) "
                              f"interior {r['interior']:5d} ki67 {r['d_ki67_index_pct']:+.4f} "
                              f"mel {r['d_melanin_fraction_pct']:+.4f} nec {r['d_necrosis_fraction_pct']:+.4f} "
                              f"area {r['d_tissue_area_mm2']:+.6f} stains {r['stains']} "
                              f"det {r['detect_cpu'] * 1e3:6.2f} ms ({r['detect_ratio']:.3f}) "
                              f"saved {r['saved_share']:+.4%} of {_num(base['cpu']):.4f} s", flush=True)
    summarise(rows, args.targets)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))


def summarise(rows: list[dict[str, object]], targets: list[float]) -> None:
    """Per target: worst moves over the inputs, stains changes, mask changes and the CPU saved."""
    print("\nT um | inputs | reached | max |d ki67| pp | max |d melanin| pp | max |d necrosis| pp | max area rel | "
          "stains changed | max changed px frac | interior px | detect ratio med | saved share med (reached)")
    for f in targets:
        sel = [r for r in rows if r["target"] == f]
        reached = [r for r in sel if int(r["k"]) >= 2]  # type: ignore[call-overload]

        def worst(key: str, sel: list[dict[str, object]] = sel) -> float:
            vals = [abs(_num(r[key])) for r in sel if not math.isnan(_num(r[key]))]
            return max(vals) if vals else math.nan

        area = [abs(_num(r["d_tissue_area_mm2"]) / _num(r["tissue_area_mm2"]) if _num(r["tissue_area_mm2"]) else 0.0)
                for r in sel if not math.isnan(_num(r["d_tissue_area_mm2"]))]
        saved = [_num(r["saved_share"]) for r in reached]
        det = [_num(r["detect_ratio"]) for r in reached]
        print(f"{f:.2f} | {len(sel)} | {len(reached)} | {worst('d_ki67_index_pct'):.4f} | "
              f"{worst('d_melanin_fraction_pct'):.4f} | {worst('d_necrosis_fraction_pct'):.4f} | "
              f"{max(area) if area else math.nan:.4%} | {sum(not r['stains_same'] for r in sel)} | "
              f"{worst('changed_frac'):.4%} | {sum(int(r['interior']) for r in sel)} | "  # type: ignore[call-overload]
              f"{statistics.median(det) if det else math.nan:.4f} | "
              f"{statistics.median(saved) if saved else math.nan:.4%}")


if __name__ == "__main__":
    main()
