"""Session 39 H8 (#13 / #14): generated H&E with the eosin rendered from orange to magenta, read by the stain guess.

Both H&E generators, with the eosin reference vector turned so that its hematoxylin-free residual lies at a
given angle from DAB (``eval_stain_guess.eosin_vector``; real H&E eosin at about -30 to -50°, AEC -11°,
Fast Red -42°): per seed and angle two :func:`mmnst_path.synthetic.pigment_family_tile` H&E tiles
(``eval_stain_guess.he_hue_tile``: family, appearance, hard negatives and pale staining drawn per tile) and one tile
of the README necrosis sample's recipe (``eval_stain_guess.necrosis_hue_tile``: its parameter draw from the seed).
Each is guessed as the pipeline guesses (``eval_stain_guess.guess``: tissue thumbnail). Counted per angle: named
H&E and not flagged (the rule's "H&E named H&E"), named H&E but flagged, flagged with H&E to pass, wrong.

    PYTHONPATH=. python benchmarks/experiments/eosin_hue_sweep_s39.py --first-seed 3160 --seeds 10 --json OUT.json
    (HEAD: cd HEAD_TREE && PYTHONPATH=. python /work/wt_h8/benchmarks/experiments/eosin_hue_sweep_s39.py ...)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from eval_stain_guess import guess, he_hue_tile, necrosis_hue_tile  # noqa: E402

#: Angles of the gate (rule of 2026-12-07, session 39 H8).
ANGLES = (-12.0, -18.0, -24.0, -30.0, -40.0, -50.0)


def rows(seeds: range, angles: tuple[float, ...], per_seed: int):
    for deg in angles:
        for seed in seeds:
            tiles = [he_hue_tile(seed, i, deg) for i in range(per_seed)] + [necrosis_hue_tile(seed, deg)]
            for i, (label, rgb, mpp) in enumerate(tiles):
                g = guess(rgb, mpp)
                yield {"deg": deg, "seed": seed, "generator": "necrosis" if i == per_seed else "pigment",
                       "label": label, "name": g.name, "ambiguous": bool(g.ambiguous),
                       "alternative": g.alternative, "p_he": g.he_probability, "pink": g.pink_share,
                       "red_dense": g.red_dense, "reason": g.reason}


def table(out: list[dict]) -> str:
    lines = ["| eosin angle | generator | n | H&E, not flagged | H&E, flagged | other, H&E to pass | wrong, not flagged |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    keys = [*sorted({(r["deg"], r["generator"]) for r in out}, key=lambda k: (-k[0], k[1])), (None, "all")]
    for deg, gen in keys:
        sel = [r for r in out if (deg is None or r["deg"] == deg) and (gen == "all" or r["generator"] == gen)]
        ok = sum(r["name"] == "H&E" and not r["ambiguous"] for r in sel)
        amb = sum(r["name"] == "H&E" and r["ambiguous"] for r in sel)
        alt = sum(r["name"] != "H&E" and r["ambiguous"] and r["alternative"] == "H&E" for r in sel)
        bad = len(sel) - ok - amb - alt
        lines.append(f"| {'all' if deg is None else f'{deg:+.0f}°'} | {gen} | {len(sel)} | {ok} | {amb} | {alt} | {bad} |")
    per_angle = ["| eosin angle | n | H&E, not flagged | share |", "|---:|---:|---:|---:|"]
    for deg in sorted({r["deg"] for r in out}, reverse=True):
        sel = [r for r in out if r["deg"] == deg]
        ok = sum(r["name"] == "H&E" and not r["ambiguous"] for r in sel)
        per_angle.append(f"| {deg:+.0f}° | {len(sel)} | {ok} | {ok / len(sel):.4f} |")
    ok = sum(r["name"] == "H&E" and not r["ambiguous"] for r in out)
    per_angle.append(f"| all | {len(out)} | {ok} | {ok / len(out):.4f} |")
    return "\n".join(lines) + "\n\n" + "\n".join(per_angle)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, required=True)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--per-seed", type=int, default=2, help="pigment_family_tile H&E tiles per seed and angle")
    ap.add_argument("--angles", type=float, nargs="*", default=list(ANGLES))
    ap.add_argument("--json", type=Path, help="every tile's guess")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    out = []
    for r in rows(range(args.first_seed, args.first_seed + args.seeds), tuple(args.angles), args.per_seed):
        out.append(r)
        if args.verbose:
            print(f"{r['deg']:+.0f} {r['label']} | {r['name']} amb={r['ambiguous']} alt={r['alternative']} "
                  f"p={r['p_he']:.3f} pink {r['pink']:.3f} red_dense {r['red_dense']:.3f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    print(table(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
