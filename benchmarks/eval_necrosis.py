"""Necrosis detector on the real osteosarcoma H&E tiles (../shared/data/necrosis).

Prints every tile's necrosis % of tissue with its label (filename prefix) and the separation
between necrotic (Non-Viable-Tumor) and viable tiles; ``--out DIR`` saves side-by-side maps
(tile | necrosis in green). The tiles are 10x scans; their pixel size (~1 µm/px, nuclei of
osteosarcoma cells ~8-12 px across) is passed with ``--mpp``.

    .venv/bin/python benchmarks/eval_necrosis.py --out /tmp/necrosis_maps
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "necrosis"


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA.resolve())
    ap.add_argument("--mpp", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    params = NecrosisParams()
    rows = []
    for path in sorted(args.data.glob("*.jpg")):
        label = path.name.split("___")[0]
        rgb = np.asarray(Image.open(path).convert("RGB"))
        counts, mask, _mask_mpp = measure_necrosis(rgb, mpp=args.mpp, params=params)
        pct = necrosis_metrics(counts)["necrosis_fraction_pct"]
        rows.append((label, path.name, pct))
        print(f"{label:18s} {pct:6.1f} %  {path.name}")
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            f = rgb.shape[0] // mask.shape[0] if mask.shape[0] else 1
            big = np.kron(mask, np.ones((f, f), bool))[: rgb.shape[0], : rgb.shape[1]]
            ov = rgb.copy()
            ov[big] = (0.5 * ov[big] + [0, 127, 0]).astype(np.uint8)
            Image.fromarray(np.concatenate([rgb, ov], 1)).resize((1024, 512)).save(args.out / f"{path.stem}.png")
    nec = [p for lab, _, p in rows if lab == "Non-Viable-Tumor"]
    via = [p for lab, _, p in rows if lab == "Viable"]
    non = [p for lab, _, p in rows if lab == "Non-Tumor"]
    print(f"necrotic: min {min(nec):.1f} %  mean {np.mean(nec):.1f} %")
    print(f"viable:   max {max(via):.1f} %  mean {np.mean(via):.1f} %")
    print(f"non-tumour: mean {np.mean(non):.1f} %  max {max(non):.1f} %")
    print(f"separation (min necrotic - max viable): {min(nec) - max(via):.1f} pp")
    return 0 if min(nec) > max(via) else 1


if __name__ == "__main__":
    raise SystemExit(main())
