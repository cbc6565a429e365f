"""Which nuclei the candidate of session 41 H9 (#14) changes on colour-off AEC tiles (diagnosis after the gate stop).

For each ``CHROMOGEN:FAMILY:SEED`` the tile is read as HEAD reads it and by the candidate (as in
``aec_colour_off_pics_s41.py``); each nucleus whose class changed is counted by where it lies: in a true nucleus
hidden under melanin (>= 75 % covered) or not, and whether that true nucleus is positive.

    PYTHONPATH=. python benchmarks/experiments/aec_colour_off_changed_s41.py --tiles aec:confluent:4366
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aec_colour_off_pics_s41 as pics
from red_ki67_error_split import split

import mmnst_path.quantify.ki67 as ki67_mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", nargs="+", required=True, help="CHROMOGEN:FAMILY:SEED")
    args = ap.parse_args()
    print("| tile | error HEAD | error candidate | changed | hidden + | hidden - | visible + | visible - | no nucleus |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spec in args.tiles:
        ch, fam, seed = spec.split(":")
        ki67_mod._covered_chromogen = pics._head
        ra, aa = split(ch, fam, int(seed), near_um=2.0, match_um=1.0)
        ki67_mod._covered_chromogen = pics._CANDIDATE
        rb, ab = split(ch, fam, int(seed), near_um=2.0, match_um=1.0)
        changed = aa["cls"] != ab["cls"]
        lab = aa["labels"][aa["r"], aa["c"]][changed]
        hid, pos = aa["hidden"][lab], aa["tpos"][lab]
        none = lab == 0
        counts = [int((hid & pos & ~none).sum()), int((hid & ~pos & ~none).sum()), int((~hid & pos & ~none).sum()),
                  int((~hid & ~pos & ~none).sum()), int(none.sum())]
        print(f"| {spec} | {ra['error']:+.4f} | {rb['error']:+.4f} | {int(changed.sum())} | "
              + " | ".join(str(c) for c in counts) + " |", flush=True)


if __name__ == "__main__":
    main()
