"""Necrosis on the real osteosarcoma tiles resampled to 20x: real necrosis where the intact-nucleus veto runs.

The osteosarcoma tiles of ``../shared/data/necrosis`` are 10x scans (~1 µm/px), where the veto is off
(``NecrosisParams.intact_max_mpp_um`` 0.55). Resampled by ``--zoom`` (default 2, bicubic) to ``mpp / zoom`` they
reach the veto with their real necrosis: coagulative necrosis with ghost outlines, the reticular matrix of
necrotic osteosarcoma, haemorrhage and debris. A resampled 10x tile is blurrier than a 20x scan (its finest
detail is the 10x scan's), so this checks what a 20x scan of the same tissue would show at its coarse scales
only. Prints each tile's necrosis % of tissue with its label; ``--json FILE`` writes them; ``--param NAME=VALUE``
sets a :class:`~mmnst_path.quantify.necrosis.NecrosisParams` field (float), repeatable.

    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis_20x.py --json /tmp/n20.json
    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis_20x.py --param intact_veto_density=0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "necrosis"


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA.resolve())
    ap.add_argument("--mpp", type=float, default=1.0, help="µm/px of the tiles as scanned")
    ap.add_argument("--zoom", type=float, default=2.0)
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    fields = {k: float(v) for k, v in (p.split("=", 1) for p in args.param)}
    params = NecrosisParams(**fields)
    mpp = args.mpp / args.zoom
    rows = []
    for path in sorted(args.data.glob("*.jpg")):
        img = Image.open(path).convert("RGB")
        size = (round(img.width * args.zoom), round(img.height * args.zoom))
        rgb = np.asarray(img.resize(size, Image.Resampling.BICUBIC))
        pct = float(necrosis_metrics(measure_necrosis(rgb, mpp=mpp, params=params)[0])["necrosis_fraction_pct"])
        label = path.name.split("___")[0]
        rows.append({"label": label, "tile": path.name, "necrosis_pct": pct})
        print(f"{label:18s} {pct:6.1f} %  {path.name}", flush=True)
    for label in sorted({r["label"] for r in rows}):
        p = [r["necrosis_pct"] for r in rows if r["label"] == label]
        print(f"{label}: mean {np.mean(p):.1f} %, min {min(p):.1f}, max {max(p):.1f} ({len(p)} tiles)")
    if args.json is not None:
        args.json.write_text(json.dumps({"params": fields, "zoom": args.zoom, "mpp": mpp, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
