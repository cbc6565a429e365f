"""Recall and closing rate of the pigment gate (``[pigment] gate``, issues #14 / #16).

Usage::

    .venv/bin/python benchmarks/eval_pigment_gate.py [--seeds 0 1 2 3] [--heldout 8] [--model default|FILE]

Three parts, each with the gate model (``--model``: ``default`` is ``pigment_gate.mmnst``):

- **generated**: :func:`mmnst_path.synthetic.pigment_family_tile` of every family x DAB / AEC /
  Fast Red / eosin (DAB also ``plain``, ``wide`` and ``near_black``), 384 px at 0.5 µm/px, the
  evaluation seeds (0-3 by default; the gate trains on 3000+, validates its threshold on 3900-3901).
  Per tile: the share of its TRUE melanin pixels that lie in open blocks (block recall) and
  whether the tile opens (tile recall: the share of true melanin pixels in open tiles, what the
  pipeline's per-tile decision keeps). Worst and mean per chromogen x family.
- **held-out renderer** (``benchmarks/heldout_render.py``, written independently, never trained
  on): ``--heldout`` seeds x DAB / AEC / Fast Red with random pigment at 0.4-0.6 µm/px, the same two recalls.
- **real**: every tile of ``../shared/data/ki67`` (BCData, SHIDC, DeepLIIF: no melanin) and the
  osteosarcoma H&E tiles of ``../shared/data/necrosis`` through ``analyze_region`` as
  ``accuracy.py`` runs it: the tile images the pigment stage receives are recorded and gated.
  The share of tiles the gate keeps closed (the stage's cost is skipped there) and the open blocks.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(HERE))


def recalls(rgb: np.ndarray, truth: np.ndarray, mpp: float, model: Any) -> tuple[int, int, bool, int]:
    """(true melanin pixels, those in open blocks, tile opens, open blocks)."""
    from mmnst_path.classify._pigment_gate import GateSettings, block_px, gate_probability

    s = GateSettings.from_mapping(model.settings)
    prob = gate_probability(rgb, mpp=mpp, model=model)
    open_ = prob >= s.threshold
    b = block_px(mpp, s)
    nr, nc = open_.shape
    pad = np.zeros((nr * b, nc * b), bool)
    pad[: truth.shape[0], : truth.shape[1]] = truth
    per = pad.reshape(nr, b, nc, b).sum(axis=(1, 3))
    n_open = int(open_.sum())
    return int(per.sum()), int(per[open_].sum()), n_open >= s.min_blocks, n_open


def generated(seeds: list[int], model: Any, cache: Path | None) -> list[dict[str, Any]]:
    from train_pigment_gate import generated_tiles

    rows = []
    for name, rgb, mask in generated_tiles(seeds, cache):
        seed, family, chromogen, appearance, near_black = name.split("/")
        total, kept, opens, n_open = recalls(rgb, mask, 0.5, model)
        variant = chromogen + ("" if appearance == "None" else f"/{appearance}") + ("/near_black" if near_black == "1"
                                                                                    else "")
        rows.append({"seed": int(seed), "family": family, "variant": variant, "truth_px": total,
                     "block_kept": kept, "opens": opens, "open_blocks": n_open})
    return rows


def heldout(n: int, model: Any) -> list[dict[str, Any]]:
    from heldout_render import render

    rows = []
    for seed in range(n):
        for chromogen in ("dab", "aec", "fast_red"):
            tile = render(seed, pigment="random", chromogen=chromogen)
            total, kept, opens, n_open = recalls(tile.rgb, tile.melanin, tile.mpp, model)
            rows.append({"seed": seed, "family": "random", "variant": chromogen, "truth_px": total,
                         "block_kept": kept, "opens": opens, "open_blocks": n_open})
    return rows


def real_images(model: Any) -> list[dict[str, Any]]:
    """Gate the tile images the pipeline's pigment stage receives on the real tiles."""
    from accuracy import dataset_mpp, measure_pipeline
    from PIL import Image

    import mmnst_path.classify.pigment as pigment
    from mmnst_path.classify._pigment_gate import GateSettings, gate_probability

    seen: list[tuple[np.ndarray, float, Any]] = []
    original = pigment.classify_pigment

    def record(rgb: np.ndarray, **kw: Any) -> Any:
        stains = kw.get("stains")
        bg = kw.get("background")
        if bg is None and stains is not None and not isinstance(stains, str):
            bg = stains.background
        seen.append((rgb.copy(), kw["mpp"], bg))
        return original(rgb, **kw)

    s = GateSettings.from_mapping(model.settings)
    rows = []
    sets = [(DATA / "ki67" / name, dataset_mpp(DATA / "ki67" / name)) for name in ("bcdata", "shidc", "deepliif")]
    sets.append((DATA / "necrosis", 0.5))  # osteosarcoma H&E (eval_necrosis.py's default scale)
    pigment.classify_pigment = record  # type: ignore[assignment]
    try:
        for folder, mpp in sets:
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif"))
            for f in files:
                seen.clear()
                rgb = np.ascontiguousarray(np.asarray(Image.open(f).convert("RGB")))
                measure_pipeline(rgb, mpp)
                n_open = 0
                for img, m, bg in seen:
                    n_open += int((gate_probability(img, mpp=m, model=model, background=bg) >= s.threshold).sum())
                rows.append({"set": folder.name, "tile": f.name, "stage_calls": len(seen), "open_blocks": n_open,
                             "opens": n_open >= s.min_blocks})
    finally:
        pigment.classify_pigment = original  # type: ignore[assignment]
    return rows


def summary(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n## {title}")
    print("| variant | family | tiles | true px | block recall mean / worst | tile recall | tiles opened |")
    print("|---|---|---:|---:|---:|---:|---:|")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["variant"], r["family"])].append(r)
    tot = kept = in_open = 0
    for (variant, family), rs in sorted(groups.items()):
        t = sum(r["truth_px"] for r in rs)
        k = sum(r["block_kept"] for r in rs)
        o = sum(r["truth_px"] for r in rs if r["opens"])
        per = [r["block_kept"] / r["truth_px"] for r in rs if r["truth_px"]]
        tot, kept, in_open = tot + t, kept + k, in_open + o
        rec = f"{100 * np.mean(per):.2f} / {100 * min(per):.2f}" if per else "-"
        tile_rec = f"{100 * o / t:.2f}" if t else "-"
        print(f"| {variant} | {family} | {len(rs)} | {t} | {rec} | {tile_rec} | {sum(r['opens'] for r in rs)}/{len(rs)} |")
    print(f"\nall: true melanin px {tot}, in open blocks {100 * kept / max(tot, 1):.3f} %, "
          f"in open tiles {100 * in_open / max(tot, 1):.3f} %")


def main(argv: list[str] | None = None) -> int:
    from mmnst_path.classify._pigment_gate import resolve_gate_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--heldout", type=int, default=8, help="held-out renderer seeds (0 = skip)")
    ap.add_argument("--model", default="default")
    ap.add_argument("--cache", type=Path, help="rendered generated tiles (scripts/train_pigment_gate.py --cache)")
    ap.add_argument("--no-real", action="store_true", help="skip the real tiles")
    args = ap.parse_args(argv)
    model = resolve_gate_model(args.model)
    if model is None:
        ap.error("--model off: nothing to evaluate")
    t0 = time.perf_counter()
    summary(generated(args.seeds, model, args.cache), f"generated, seeds {args.seeds}")
    if args.heldout:
        summary(heldout(args.heldout, model), f"held-out renderer, seeds 0-{args.heldout - 1}")
    if not args.no_real:
        rows = real_images(model)
        print("\n## real tiles (no melanin): tiles the gate keeps closed")
        print("| set | tiles | closed | open blocks (median / max) |")
        print("|---|---:|---:|---:|")
        for name in dict.fromkeys(r["set"] for r in rows):
            rs = [r for r in rows if r["set"] == name]
            ob = [r["open_blocks"] for r in rs]
            print(f"| {name} | {len(rs)} | {sum(not r['opens'] for r in rs)} | {np.median(ob):.0f} / {max(ob)} |")
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
