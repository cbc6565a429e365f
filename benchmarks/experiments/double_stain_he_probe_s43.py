"""H&E pigment probe (session 43 H2, #14): is any generated H&E tile with melanin read as a double stain?

Every pigment family of :func:`mmnst_path.synthetic.pigment_family_tile` (``chromogen="eosin"``, 384 px) in every
rendering (``plain`` / ``varied`` / ``wide``), each with and without the hard negatives, for each seed: 60 tiles
per seed, guessed as ``benchmarks/eval_stain_guess.py`` guesses (on the tissue thumbnail, ``stains="auto"``'s
path). Prints one row per tile and the counts: right (H&E), read as a double stain (``H-DAB-*``), other.
Runs in any tree that has ``benchmarks/eval_stain_guess.py`` (copy it into the other arm's tree):

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_he_probe_s43.py --first-seed 11110 --seeds 4
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import eval_stain_guess as esg  # noqa: E402

from mmnst_path import synthetic  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, required=True)
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args(argv)
    counts: collections.Counter[str] = collections.Counter()
    per_family: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for fam in synthetic.PIGMENT_FAMILIES:
            for app in synthetic.APPEARANCES:
                for hard in (False, True):
                    t = synthetic.pigment_family_tile(seed, fam, chromogen="eosin", appearance=app, hard_negatives=hard)
                    g = esg.guess(t.rgb, t.mpp)
                    kind = "right" if g.name == "H&E" else "double" if g.name.startswith("H-DAB-") else "other"
                    counts[kind] += 1
                    per_family[fam][kind] += 1
                    print(f"{fam} {app}{' hard' if hard else ''} {seed} | {g.name} | amb={g.ambiguous} "
                          f"| p_he {g.he_probability:.3f} | {esg._places_text(g)} | {g.reason}", flush=True)
    print(f"tiles {sum(counts.values())}: H&E right {counts['right']}, read as a double stain {counts['double']}, "
          f"other {counts['other']}")
    for fam, c in per_family.items():
        print(f"  {fam}: right {c['right']}, double {c['double']}, other {c['other']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
