"""Session 44 H1 (#14, walk defect 3): the gates of the two-populations SOX10 call (rule:
``benchmarks/experiments/sox10_two_populations_rule_s44.md``).

Each tile's stains are guessed as ``--stains auto`` guesses them (``eval_stain_guess.thumbnail`` /
``eval_red_chromogens._real_thumbnail``, then ``guess_stains_detail``) twice: the candidate (the new call on,
``mmnst_path.stain._sox10_populations.SOX10_POPULATIONS = True``) and the candidate with the new call off, which runs
HEAD's code (the switch skips every new line; checked against the START_HEAD tree on the tiles where the two differ
or could, ``--save-thumbs`` + ``sox10_two_populations_headcheck_s44.py``). The second guess is made only where the new
code can act (both populations present, or no marker-only body); elsewhere the two are the same object by construction.

    PYTHONPATH=.:benchmarks .venv/bin/python benchmarks/experiments/sox10_two_populations_gate_s44.py g1 --out G1.txt
    ... g2 | g3 | real [--every 1]
    ... summary G1.txt G2.txt G3.txt REAL.txt

Parts: ``g1`` Ki67 / SOX10 Fast Red, 512 px, two variants per seed (``sox10_two_populations_dev_s44.sox10_tile``);
``g2`` single stains of ``eval_stain_guess.protocol_tile`` (H-DAB, H-AEC, H-FastRed, AzureB-DAB, H&E), two per seed,
cycling the protocols and the pigment families; ``g3`` Ki67 / MART-1 (Fast Red and AEC, 384 px); ``real`` the real
tiles of ``eval_stain_guess.py --real``.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

GATE_SEEDS = range(14050, 14100)
SINGLES = ("H-DAB", "H-AEC", "H-FastRed", "AzureB-DAB", "H&E")


def _tiles(part: str, seeds: range):
    import eval_stain_guess as E

    if part == "g1":
        from sox10_two_populations_dev_s44 import sox10_tile

        for seed in seeds:
            for v in (seed % 8, (seed + 3) % 8):
                lab, t = sox10_tile(seed, v)
                yield "SOX10-FastRed", "H-DAB-FastRed", "nuclear", lab, *E.thumbnail(t.rgb, t.mpp)
    elif part == "g2":
        for seed in seeds:
            for k in range(2):
                p = SINGLES[(2 * (seed - seeds.start) + k) % len(SINGLES)]
                lab, rgb, mpp = E.protocol_tile(p, seed, (seed + k) % 10)
                yield p, p, "", lab, *E.thumbnail(rgb, mpp)
    elif part == "g3":
        from mmnst_path.synthetic_double import double_stain_tile

        for seed in seeds:
            for ch, truth in (("fast_red", "H-DAB-FastRed"), ("aec", "H-DAB-AEC")):
                t = double_stain_tile(seed * 10 + 7, marker="cytoplasmic", chromogen=ch, size=384)
                yield f"MART1-{ch}", truth, "cytoplasmic", f"cytoplasmic {seed * 10 + 7}", *E.thumbnail(t.rgb, t.mpp)
    else:
        from eval_red_chromogens import _real_thumbnail, real_sets

        for group, (truth, items) in real_sets().items():
            for path, mpp in items:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    thumb, mask, tmpp = _real_thumbnail(path, mpp)
                yield group, truth, "", str(path.name)[:40], thumb, mask, tmpp


def _guess(thumb, mask, mpp, on: bool):
    from mmnst_path.stain import _sox10_populations as S
    from mmnst_path.stain.guess import guess_stains_detail, warn_if_ambiguous

    S.SOX10_POPULATIONS = on
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            g = guess_stains_detail(thumb, mask, mpp=mpp)
            n0 = len(w)
            warn_if_ambiguous(g)
            text = " ".join(str(x.message) for x in w[n0:])
    finally:
        S.SOX10_POPULATIONS = True
    return g, ("SOX10" in text) and g.ambiguous


def _may_act(g) -> bool:
    from mmnst_path.stain._sox10_populations import two_populations

    p = g.places
    return p is not None and (two_populations(p) or math.isnan(p.other_body_deg))


def run(part: str, out: str, every: int, save: str | None) -> None:
    saved = {}
    with open(out, "w") as f:
        for i, (group, truth, marker, lab, thumb, mask, tmpp) in enumerate(_tiles(part, GATE_SEEDS)):
            if i % every:
                continue
            cand, cadv = _guess(thumb, mask, tmpp, True)
            recheck = _may_act(cand)
            head, hadv = _guess(thumb, mask, tmpp, False) if recheck else (cand, cadv)
            if recheck and save:
                saved[f"{i}_rgb"], saved[f"{i}_mask"] = thumb, np.asarray(mask)
                saved[f"{i}_mpp"] = np.float64(tmpp if tmpp is not None else math.nan)
                saved[f"{i}_head"] = np.array(f"{head.name}|{head.ambiguous}|{head.marker}|{head.reason}")
            f.write(" | ".join(str(x) for x in (part, group, truth, marker, lab, head.name, head.ambiguous, head.marker or "-",
                                                 hadv, cand.name, cand.ambiguous, cand.marker or "-", cadv, recheck))
                    + "\n")
            f.flush()
    if save:
        np.savez_compressed(save, **saved)


def summary(paths: list[str]) -> None:
    rows = []
    for p in paths:
        if Path(p).exists():
            rows += [line.rstrip("\n").split(" | ") for line in Path(p).read_text().splitlines() if line.strip()]
    for part in ("g1", "g2", "g3", "real"):
        sel = [r for r in rows if r[0] == part]
        if not sel:
            continue
        n = len(sel)
        print(f"== {part}: {n} tiles")
        for arm, o in (("HEAD", 5), ("candidate", 9)):
            right = sum(r[o] == r[2] for r in sel)
            both = sum(r[o] == r[2] and (r[o + 2] == r[3] or not r[3]) for r in sel)
            double = sum(r[o].startswith("H-DAB-") for r in sel)
            flagged = sum(r[o + 1] == "True" for r in sel)
            silent = sum(not r[o].startswith("H-DAB-") and r[o + 3] != "True" for r in sel)
            print(f"  {arm}: right name {right}, right name and marker {both}, named double {double} "
                  f"({100 * double / n:.1f} %), flagged {flagged}, single without SOX10 advice {silent} ({100 * silent / n:.1f} %)")
        newly_double = [r for r in sel if not r[5].startswith("H-DAB-") and r[9].startswith("H-DAB-")]
        name_changed = [r for r in sel if r[5] != r[9] or r[7] != r[11]]
        newly_flagged = [r for r in sel if r[6] == "False" and r[10] == "True"]
        print(f"  newly named double {len(newly_double)}; name or marker changed {len(name_changed)}; newly flagged "
              f"{len(newly_flagged)}; rechecked {sum(r[13] == 'True' for r in sel)}")
        for r in name_changed:
            print(f"    changed: {r[1]} {r[4]}: {r[5]}/{r[7]} -> {r[9]}/{r[11]}")
        for r in newly_flagged:
            print(f"    newly flagged: {r[1]} {r[4]}: {r[9]} (SOX10 advice {r[12]})")
        if part == "g1":
            import collections

            by = collections.defaultdict(lambda: [0, 0, 0])
            for r in sel:
                v = " ".join(r[4].split()[1:4])
                by[v][0] += 1
                by[v][1] += r[5].startswith("H-DAB-")
                by[v][2] += r[9].startswith("H-DAB-")
            for v, (k, h, c) in sorted(by.items()):
                print(f"    {v}: {k} tiles, double HEAD {h} candidate {c}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("part", choices=["g1", "g2", "g3", "real", "summary"])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--out")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--save-thumbs")
    a = ap.parse_args()
    if a.part == "summary":
        summary(a.files)
    else:
        run(a.part, a.out, a.every, a.save_thumbs)


if __name__ == "__main__":
    main()
