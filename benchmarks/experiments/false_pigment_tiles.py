"""Every real tile's false pigment of ``eval_pigment_dab.py``'s real part, unrounded (session 29 H3, #14).

``benchmarks/eval_pigment_dab.py --no-families`` prints each set's mean / max to 3 decimals; a rule's gate reads
the unrounded figures (every tile <= 0.1 %, a set's mean against HEAD's). This runs the same code path (its
``real()``, with its ``detect`` wrapped to record each tile's figure) and writes one CSV line per tile (% of the
tile's pixels, 6 decimals) plus each set's mean.

    PYTHONPATH=. python benchmarks/experiments/false_pigment_tiles.py --analysis-mpp 0.5 --csv /tmp/fp.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--analysis-mpp", type=float, default=None, help="as eval_pigment_dab.py --analysis-mpp")
    ap.add_argument("--csv", type=Path, required=True, help="per tile: set, tile, false pigment %% (6 decimals)")
    args = ap.parse_args()

    import eval_pigment_dab as E

    from mmnst_path.classify.pigment import resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams

    seen: list[float] = []
    detect = E.detect

    def recording(*a, **k):
        mask = detect(*a, **k)
        seen.append(100.0 * float(mask.mean()))
        return mask

    E.detect = recording
    ns = argparse.Namespace(analysis_mpp=args.analysis_mpp, detector="model", white_point=False)
    print(E.real(ns, resolve_pigment_model("default"), PigmentParams()))
    lines, k = ["set,tile,false_pigment_pct"], 0
    for name, (pattern, _, _) in E.REAL.items():
        files = sorted(E.DATA.glob(pattern))
        vals = seen[k:k + len(files)]
        k += len(files)
        lines += [f"{name},{f.name},{v:.6f}" for f, v in zip(files, vals, strict=True)]
        if vals:
            print(f"{name}: mean {np.mean(vals):.6f} max {np.max(vals):.6f} tiles > 0.1 % {sum(v > 0.1 for v in vals)}")
    args.csv.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
