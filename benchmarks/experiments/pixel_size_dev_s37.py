"""Session 37 H3 dev screen: what the nuclei say about the pixel size, on dev data only.

For every dev image and a declared pixel size of 1x, 2x and 0.5x its true one, runs the pipeline
(``analyze_region``, default config, stains auto) and prints the measures it ran, the number of
detected nuclei and their median equivalent diameter (µm, as the run measured them), and, for runs
without nuclei, the nuclear-scale statistic of :mod:`mmnst_path.quantify.pixel_size`.

Dev data only (permissive training data and generated tiles of dev seeds 5000-5009): EndoNuke
(staining_ds 0.25 µm/px, mixed 0.5), BRCA-M2C train patches (0.5), Kather NCT (0.5) and Kather
2016 (0.331), and the project's generators. Never the research-only Ki67 sets, the osteosarcoma
tiles, the slides or the sample tiles (those validate).

    PYTHONPATH=. python benchmarks/experiments/pixel_size_dev_s37.py --set endonuke --limit 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

TRAIN = Path(__file__).resolve().parents[2] / ".." / "shared" / "train"
TRAIN = TRAIN if TRAIN.exists() else Path("/work/shared/train")


def _read(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def dev_images(name: str, limit: int) -> list[tuple[str, np.ndarray, float]]:
    """(label, rgb, true µm/px) of a dev set."""
    out: list[tuple[str, np.ndarray, float]] = []
    if name == "endonuke":
        for p in sorted((TRAIN / "endonuke" / "staining_ds").glob("*.png"))[:limit]:
            out.append((p.stem[:30], _read(p), 0.25))
    elif name == "endonuke_mixed":
        ps = sorted((TRAIN / "endonuke" / "mixed").glob("*.png"))
        for p in ps[:: max(1, len(ps) // limit)][:limit]:
            out.append((p.stem, _read(p), 0.5))
    elif name == "brca":
        names = (TRAIN / "brca_m2c" / "_meta" / "brca_ds_train.txt").read_text().split()
        for n in names[:: max(1, len(names) // limit)][:limit]:
            p = TRAIN / "brca_m2c" / "mixed" / (Path(n).stem + ".png")
            if p.exists():
                out.append((p.stem[:30], _read(p), 0.5))
    elif name == "kather":
        for p in sorted((TRAIN / "kather_nct_crc_he").glob("*/*.tif"))[:limit]:
            out.append((p.parent.name + "/" + p.stem[:12], _read(p), 0.5))
    elif name == "kather16":
        ps = sorted(p for p in (TRAIN / "kather_texture_2016").glob("*/*") if p.suffix.lower() in (".tif", ".png", ".jpg"))
        for p in ps[:: max(1, len(ps) // limit)][:limit]:
            out.append((p.parent.name + "/" + p.stem[:12], _read(p), 0.331))
    elif name == "generated":
        out.extend(generated(range(5000, 5000 + limit)))
    else:
        raise SystemExit(f"unknown set {name!r}")
    return out


def generated(seeds: range) -> list[tuple[str, np.ndarray, float]]:
    """One tile of every generator family per seed (dev seeds)."""
    from mmnst_path import synthetic as s
    from mmnst_path import synthetic_azure as sa
    from mmnst_path import synthetic_double as sd
    from mmnst_path import synthetic_ki67 as sk
    from mmnst_path import synthetic_tissue as st

    out = []
    for seed in seeds:
        makers = {
            "ki67_cells": lambda seed=seed: sk.ki67_cells_tile(seed),
            "ki67_pigment": lambda seed=seed: s.ki67_pigment_tile(seed),
            "pigment_family": lambda seed=seed: s.pigment_family_tile(seed),
            "azure_b": lambda seed=seed: sa.azure_b_tile(seed),
            "double": lambda seed=seed: sd.double_stain_tile(seed),
            "ihc_tissue": lambda seed=seed: st.ihc_tissue_tile(seed),
            "he_melanin": lambda seed=seed: s.he_melanin_tile(seed),
            "he_necrosis": lambda seed=seed: s.he_necrosis_tile(seed),
            "he_tissue": lambda seed=seed: st.he_tissue_tile(seed),
            "he_mimic": lambda seed=seed: st.he_mimic_tile(seed),
            "he_keratin": lambda seed=seed: st.he_keratin_tile(seed),
            "he_squamous": lambda seed=seed: st.he_squamous_sheet_tile(seed),
        }
        for fam, make in makers.items():
            t = make()
            rgb = t.rgb if hasattr(t, "rgb") else t[0]
            mpp = float(getattr(t, "mpp", 0.5))
            out.append((f"{fam}:{seed}", rgb, mpp))
    return out


def run(rgb: np.ndarray, mpp: float) -> dict:
    from mmnst_path.pipeline import analyze_region

    t = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = analyze_region(rgb, mpp=mpp)
    cpu = time.process_time() - t
    m = r.metrics
    cells = r.cells
    out = {"measures": ",".join(r.measures), "cpu": cpu}
    if len(cells):
        keep = np.asarray(cells.cls) != 2
        a = np.asarray(cells.columns["area_um2"], float)[keep]
        d = 2 * np.sqrt(a / np.pi)
        out.update(n=int(keep.sum()), d50=float(np.median(d)) if len(d) else float("nan"),
                   d25=float(np.percentile(d, 25)) if len(d) else float("nan"),
                   d75=float(np.percentile(d, 75)) if len(d) else float("nan"))
    for k, v in m.items():
        if k.startswith("pixel_size") or k.startswith("nuclear_"):
            out[k] = v
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", required=True)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--factors", type=float, nargs="+", default=[1.0, 2.0, 0.5])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    for label, rgb, mpp in dev_images(args.set, args.limit):
        for f in args.factors:
            try:
                res = run(rgb, mpp * f)
            except Exception as exc:  # (a wrong pixel size can make a run refuse: said, not counted)
                res = {"error": f"{type(exc).__name__}: {exc}"[:160]}
            res.update(label=label, true_mpp=mpp, factor=f)
            rows.append(res)
            print(json.dumps(res, default=float), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, default=float, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
