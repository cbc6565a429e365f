"""The worst red-chromogen (AEC, Fast Red) tiles per pigment family and what makes them (issue #14, session 32 H2).

One :func:`mmnst_path.pipeline.analyze_region` run a tile gives both the error split of
``red_ki67_error_split.py`` (one row a tile: its error and its parts, pp) and the per-nucleus rows of
``red_covered_colour.py`` (every nucleus the pigment mask touches: truth, the rules' evidence, colour features),
so a rule on the covered nuclei can be simulated per tile from the dump. Dev seeds only (>= 40).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/red_worst_tiles.py --positives standard \
        --out /tmp/worst_std        # writes /tmp/worst_std.tiles.csv and /tmp/worst_std.nuclei.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import red_covered_colour as rcc
from red_ki67_error_split import PARTS, split, table, tile_arguments

import mmnst_path.quantify.ki67 as ki67_mod


def _write(path: Path, rows: list[dict]) -> None:
    if rows:
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


def main() -> None:
    ap = tile_arguments(__doc__)
    ap.add_argument("--positives", default="standard", choices=("standard", "wide"))
    ap.add_argument("--appearance", default="plain", choices=("plain", "varied"))
    ap.add_argument("--out", type=Path, required=True, help="prefix of the .tiles.csv and .nuclei.csv written")
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    args = ap.parse_args()
    if args.first_seed < 40:
        sys.exit("dev seeds only (>= 40): seeds 0-3 are the rule's")
    settings: dict = {}
    for item in args.set:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        settings.setdefault(section, {})[name] = float(raw)
    ki67_mod.classify_nuclei = rcc._capture  # type: ignore[assignment]
    tiles: list[dict] = []
    nuclei: list[dict] = []
    for ch in args.chromogens:
        for fam in args.families:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                rcc._CAPTURED.clear()
                row, arrays = split(ch, fam, seed, near_um=2.0, match_um=1.0, settings=settings,
                                    positives=args.positives, appearance=args.appearance)
                tiles.append(row)
                base = {"chromogen": ch, "family": fam, "seed": seed, "positives": args.positives,
                        "appearance": args.appearance}
                nuclei.extend(rcc.touched_rows(arrays["labels"], arrays["tpos"], arrays["hidden"], arrays["result"],
                                               base))
                print(f"{ch} {fam} {seed}: true {row['true']:.4f} read {row['measured']:.4f} ({row['error']:+.4f}); "
                      + ", ".join(f"{p[2:]} {row[p]:+.2f}" for p in PARTS), flush=True)
                _write(args.out.with_suffix(".tiles.csv"), tiles)
                _write(args.out.with_suffix(".nuclei.csv"), nuclei)
    print(table(tiles))
    for ch in args.chromogens:
        sel = [r for r in tiles if r["chromogen"] == ch]
        worst = sorted(sel, key=lambda r: -abs(r["error"]))[:5]
        print(ch, "mean |err|", f"{np.nanmean([abs(r['error']) for r in sel]):.4f}", "worst:",
              ", ".join(f"{r['family']} {r['seed']} {r['error']:+.2f}" for r in worst))


if __name__ == "__main__":
    main()
