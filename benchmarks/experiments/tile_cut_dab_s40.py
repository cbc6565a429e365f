"""Experiment (#16 / #14, session 40 H2): does a slide's H-DAB melanin depend on where its tiles are cut?

``make OUT.tif [--side 6000] [--first-seed 4200] [--seeds 10]`` writes a generated pigmented H-DAB slide: a 5 x 5
grid of 1200² px tiles at 0.5 µm/px of :func:`mmnst_path.synthetic.pigment_family_tile` (``chromogen="dab"``, the
default varied appearance), tile k with seed ``first_seed + k % seeds`` and family ``PIGMENT_FAMILIES[1 + k % 9]``
(every pigmented family, the confluent sheets included), cropped to ``side``; a pyramidal tiled TIFF (512² tiles,
zlib: lossless, so every run reads the same pixels; levels 1, 1/4, 1/16) with its resolution tag.

``run SLIDE MPP OUT --tile-um T`` analyses it as the CLI does (``analyze_slide(SLIDE, AnalysisConfig(stains="auto",
tile_um=T), mpp=MPP, workers=1)``) and writes OUT (JSON): every metric (repr), the melanin area, the Ki67 counts,
the sha256 of every map and the pigment stage's CPU; the melanin map goes to ``OUT.melanin.npy``. ``tile_um`` =
16000 is the one-tile reference. ``compare A B`` prints the entries that differ (melanin and Ki67) and the map blocks.

    PYTHONPATH=. python benchmarks/experiments/tile_cut_dab_s40.py make /tmp/s40_h2/dab_slide.tif
    PYTHONPATH=TREE python benchmarks/experiments/tile_cut_dab_s40.py run /tmp/s40_h2/dab_slide.tif 0.5 OUT --tile-um 512
    python benchmarks/experiments/tile_cut_dab_s40.py compare A B
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

MPP = 0.5
PIECE = 1200
TILE = 512


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def make(out: Path, side: int, first_seed: int, seeds: int) -> None:
    """Write the generated slide (see the module docstring)."""
    import tifffile

    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    n = -(-side // PIECE)
    img = np.empty((n * PIECE, n * PIECE, 3), np.uint8)
    used = []
    for k in range(n * n):
        seed, family = first_seed + k % seeds, PIGMENT_FAMILIES[1 + k % (len(PIGMENT_FAMILIES) - 1)]
        t = pigment_family_tile(seed, family, chromogen="dab", size=PIECE, mpp=MPP)
        i, j = divmod(k, n)
        img[i * PIECE : (i + 1) * PIECE, j * PIECE : (j + 1) * PIECE] = t.rgb
        used.append((seed, family))
    img = np.ascontiguousarray(img[:side, :side])
    res = 1e4 / MPP
    with tifffile.TiffWriter(out, bigtiff=True) as tw:
        tw.write(img, tile=(TILE, TILE), photometric="rgb", compression="zlib", resolution=(res, res),
                 resolutionunit="CENTIMETER", subifds=0)
        for f in (4, 16):
            s = side // f
            small = img[: s * f, : s * f].reshape(s, f, s, f, 3).mean(axis=(1, 3)).round().astype(np.uint8)
            tw.write(small, tile=(TILE, TILE), photometric="rgb", compression="zlib", subfiletype=1,
                     resolution=(res / f, res / f), resolutionunit="CENTIMETER")
    print(out, img.shape, "sha256", _sha(img), "tiles", used, flush=True)


def run(slide: str, mpp: float, out: Path, tile_um: float) -> None:
    """Analyse ``slide`` and write the dump (see the module docstring)."""
    from mmnst_path.pipeline import AnalysisConfig, _worker, analyze_slide

    spent: list[float] = []
    real = _worker._pigment

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.process_time() - t0)

    _worker._pigment = timed
    cfg = AnalysisConfig(stains="auto").replace(tile_um=float(tile_um))
    t0 = time.process_time()
    res = analyze_slide(slide, cfg, mpp=mpp, workers=1)
    cpu = time.process_time() - t0
    mel = res.counts.get("melanin")
    ki = res.counts.get("ki67")
    dump = {
        "tile_um": tile_um, "measures": list(res.measures), "cpu_s": cpu, "pigment_cpu_s": sum(spent),
        "tiles": len(res.tiles),
        "metrics": {k: repr(float(v)) if isinstance(v, (int, float)) else repr(v) for k, v in res.metrics.items()},
        "melanin_um2": repr(float(mel.melanin_um2)) if mel is not None else None,
        "ki67_counts": repr(ki) if ki is not None else None,
        "maps": {k: _sha(np.asarray(v.image)) for k, v in res.maps.items()},
    }
    out.write_text(json.dumps(dump, indent=1))
    if "melanin" in res.maps:
        np.save(str(out) + ".melanin.npy", np.asarray(res.maps["melanin"].image))
    print(out.name, "tile_um", tile_um, "cpu", cpu, "pigment", sum(spent), "melanin_um2", dump["melanin_um2"],
          "fraction", dump["metrics"].get("melanin_fraction_pct"), "ki67", dump["metrics"].get("ki67_index_pct"),
          flush=True)


def _diff(va: str | None, vb: str | None) -> float | str:
    try:
        return float(vb or "nan") - float(va or "nan")
    except ValueError:
        return "(text)"


def compare(a: Path, b: Path) -> int:
    """Print the entries that differ between dumps ``a`` and ``b`` (maps by block); return their count."""
    da, db = (json.loads(p.read_text()) for p in (a, b))
    n = 0
    for key in ("melanin_um2", "ki67_counts"):
        if da[key] != db[key]:
            n += 1
            print(key, da[key], "|", db[key])
    for k in sorted(set(da["metrics"]) | set(db["metrics"])):
        va, vb = da["metrics"].get(k), db["metrics"].get(k)
        if va != vb:
            n += 1
            print(k, va, vb, "diff", _diff(va, vb))
    for k in sorted(set(da["maps"]) | set(db["maps"])):
        if da["maps"].get(k) != db["maps"].get(k):
            print("map differs:", k)
    ma, mb = (np.load(str(p) + ".melanin.npy") for p in (a, b))
    if ma.shape != mb.shape or not np.array_equal(ma, mb, equal_nan=True):
        n += 1
        d = np.abs(np.nan_to_num(ma) - np.nan_to_num(mb)) if ma.shape == mb.shape else np.array([np.inf])
        print("melanin map differs: blocks", int(np.count_nonzero(d)), "of", d.size, "max |d|", float(d.max()))
    print("differing entries:", n)
    return n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out", type=Path)
    m.add_argument("--side", type=int, default=6000)
    m.add_argument("--first-seed", type=int, default=4200)
    m.add_argument("--seeds", type=int, default=10)
    r = sub.add_parser("run")
    r.add_argument("slide")
    r.add_argument("mpp", type=float)
    r.add_argument("out", type=Path)
    r.add_argument("--tile-um", type=float, default=512.0)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    a = p.parse_args()
    if a.cmd == "make":
        make(a.out, a.side, a.first_seed, a.seeds)
    elif a.cmd == "run":
        run(a.slide, a.mpp, a.out, a.tile_um)
    else:
        compare(a.a, a.b)


if __name__ == "__main__":
    main()
