"""Necrosis detector: real osteosarcoma H&E tiles and generated tiles of two independent generators.

Real mode (default) prints every tile's necrosis % of tissue with its label (filename prefix)
and the separation between necrotic (Non-Viable-Tumor) and viable tiles; ``--out DIR`` saves
side-by-side maps (tile | necrosis in green). The tiles are 10x scans; their pixel size (~1 µm/px,
nuclei of osteosarcoma cells ~8-12 px across) is passed with ``--mpp``.

``--synthetic`` measures generated tiles with known masks from both generators of the project:
``mmnst_path.synthetic.he_necrosis_tile`` and the recipe of ``sample_tiles/generate.py``
(re-run here with its truth mask and parameter variations: seed, necrotic eosin level, stain
vector rotation, 0.5 / 1.0 µm/px, JPEG), and prints the fraction error (pp) and pixel Dice.

    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --out /tmp/necrosis_maps
    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --synthetic --out /tmp/necrosis_synth
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import time
from pathlib import Path

import numpy as np
from eval_melanin import dice  # benchmarks/ is the script's folder

from mmnst_path.quantify.necrosis import NecrosisParams, mask_to_tile, measure_necrosis, necrosis_metrics

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "necrosis"


def _overlay(rgb: np.ndarray, mask: np.ndarray, mpp: float, mask_mpp: float,
             truth: np.ndarray | None = None) -> np.ndarray:
    big = mask_to_tile(mask, rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp)
    ov = rgb.copy()
    ov[big] = (0.5 * ov[big] + [0, 127, 0]).astype(np.uint8)
    if truth is not None:  # true border in blue
        from scipy import ndimage as ndi

        edge = truth & ~ndi.binary_erosion(truth, iterations=max(1, round(1.5 / mpp)))
        ov[edge] = (0, 0, 255)
    return np.concatenate([rgb, ov], 1)


def _save(img: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = img.shape[:2]
    Image.fromarray(img).resize((1024, round(1024 * h / w))).save(path)


def real(args: argparse.Namespace, params: NecrosisParams) -> int:
    from PIL import Image

    rows = []
    for path in sorted(args.data.glob("*.jpg")):
        label = path.name.split("___")[0]
        rgb = np.asarray(Image.open(path).convert("RGB"))
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=args.mpp, params=params)
        pct = necrosis_metrics(counts)["necrosis_fraction_pct"]
        rows.append((label, path.name, pct))
        print(f"{label:18s} {pct:6.1f} %  {path.name}")
        if args.out is not None:
            _save(_overlay(rgb, mask, args.mpp, mask_mpp), args.out / f"{path.stem}.png")
    nec = [p for lab, _, p in rows if lab == "Non-Viable-Tumor"]
    via = [p for lab, _, p in rows if lab == "Viable"]
    non = [p for lab, _, p in rows if lab == "Non-Tumor"]
    print(f"necrotic: min {min(nec):.1f} %  mean {np.mean(nec):.1f} %")
    print(f"viable:   max {max(via):.1f} %  mean {np.mean(via):.1f} %")
    print(f"non-tumour: mean {np.mean(non):.1f} %  max {max(non):.1f} %")
    print(f"separation (min necrotic - max viable): {min(nec) - max(via):.1f} pp")
    return 0 if min(nec) > max(via) else 1


def _sample_generator():
    spec = importlib.util.spec_from_file_location("_sample_tiles_generate", ROOT / "sample_tiles" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen
    spec.loader.exec_module(gen)
    return gen


def sample_recipe_tile(gen, seed: int, *, eosin: float = 0.38, angle_deg: float = 3.0, mpp: float = 0.5,
                       jpeg_quality: int | None = None, fraction: float = 0.38):
    """The necrosis recipe of ``sample_tiles/generate.py`` (1024² px at 0.5 µm/px) with its mask.

    ``generate.he_necrosis_tile`` itself (seed 505 with the defaults is the bundled tile), with
    the necrotic eosin level, vector rotation and necrotic fraction as parameters; ``mpp=1.0``
    averages 2x2 pixel blocks of the rendered image (and takes the majority of the mask);
    ``jpeg_quality`` re-encodes the result.
    """
    rgb, t = gen.he_necrosis_tile(seed, eosin=eosin, angle_deg=angle_deg, fraction=fraction)
    necrotic, tissue = t["masks"]["necrosis"], t["masks"]["tissue"]
    if mpp == 1.0:
        rgb = np.rint(rgb.reshape(512, 2, 512, 2, 3).mean((1, 3))).astype(np.uint8)
        necrotic = necrotic.reshape(512, 2, 512, 2).mean((1, 3)) >= 0.5
        tissue = tissue.reshape(512, 2, 512, 2).mean((1, 3)) >= 0.5
    elif mpp != 0.5:
        raise ValueError(f"mpp must be 0.5 or 1.0, got {mpp}")
    if jpeg_quality:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=int(jpeg_quality))
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    truth = 100.0 * (necrotic & tissue).sum() / tissue.sum()
    return rgb, mpp, truth, necrotic & tissue


def _cases():
    """(generator, name, kwargs) of the generated-tile table."""
    out = []
    for seed, mpp, ang, q, frac in [(1, 1.0, 3.0, 85, 0.4), (2, 0.5, 3.0, 85, 0.4), (3, 1.0, 6.0, 85, 0.25),
                                    (4, 0.5, 6.0, 60, 0.55), (5, 1.0, 3.0, None, 0.4), (6, 0.5, 4.0, 75, 0.3),
                                    (7, 1.0, 5.0, 70, 0.6), (8, 0.5, 2.0, 90, 0.45)]:
        out.append(("synthetic", f"seed{seed} mpp{mpp} {ang:.0f}deg q{q} f{frac}",
                    {"seed": seed, "mpp": mpp, "angle_deg": ang, "jpeg_quality": q, "necrosis_fraction": frac,
                         "size": int(384 / mpp) if mpp == 1.0 else 768}))
    for seed, eos, mpp, ang, q, frac in [(505, 0.38, 0.5, 3.0, None, 0.38), (506, 0.38, 1.0, 3.0, None, 0.38),
                                         (507, 0.2, 0.5, 5.0, 80, 0.5), (508, 0.55, 0.5, 3.0, 70, 0.3),
                                         (509, 0.28, 1.0, 6.0, 85, 0.45), (510, 0.12, 0.5, 3.0, None, 0.4)]:
        out.append(("sample", f"seed{seed} E{eos} mpp{mpp} {ang:.0f}deg q{q} f{frac}",
                    {"seed": seed, "eosin": eos, "mpp": mpp, "angle_deg": ang, "jpeg_quality": q, "fraction": frac}))
    return out


def synthetic_mode(args: argparse.Namespace, params: NecrosisParams) -> int:
    from mmnst_path import synthetic

    gen = _sample_generator()
    worst_err, worst_dice = 0.0, 1.0
    print(f"{'generator':10s} {'case':42s} {'truth %':>8s} {'ours %':>7s} {'err pp':>7s} {'Dice':>5s} {'s':>5s}")
    for kind, name, kw in _cases():
        if kind == "synthetic":
            t = synthetic.he_necrosis_tile(**kw)
            rgb, mpp, truth_pct, truth = t.rgb, t.mpp, t.truth["necrosis_fraction_pct"], t.masks["necrosis"]
        else:
            rgb, mpp, truth_pct, truth = sample_recipe_tile(gen, **kw)
        t0 = time.process_time()
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp, params=params)
        secs = time.process_time() - t0
        pct = necrosis_metrics(counts)["necrosis_fraction_pct"]
        big = mask_to_tile(mask, rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp)
        d = dice(big, truth)
        worst_err, worst_dice = max(worst_err, abs(pct - truth_pct)), min(worst_dice, d)
        print(f"{kind:10s} {name:42s} {truth_pct:8.1f} {pct:7.1f} {pct - truth_pct:+7.1f} {d:5.2f} {secs:5.1f}")
        if args.out is not None:
            _save(_overlay(rgb, mask, mpp, mask_mpp, truth), args.out / f"{kind}_{name.replace(' ', '_')}.png")
    print(f"worst |error| {worst_err:.1f} pp, worst Dice {worst_dice:.2f} (goal: <= 3 pp, >= 0.8)")
    return 0 if worst_err <= 3.0 and worst_dice >= 0.8 else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA.resolve())
    ap.add_argument("--mpp", type=float, default=1.0, help="µm/px of the real tiles")
    ap.add_argument("--out", type=Path, default=None, help="folder for overlay images")
    ap.add_argument("--synthetic", action="store_true", help="generated tiles of both generators")
    args = ap.parse_args(argv)
    params = NecrosisParams()
    return synthetic_mode(args, params) if args.synthetic else real(args, params)


if __name__ == "__main__":
    raise SystemExit(main())
