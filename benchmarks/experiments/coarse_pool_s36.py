"""Experiment (#16, session 36 H1): coarse nucleus seeds pooled at a distance shortened by half a coarse block
(``detect.nuclei.COARSE_MERGE_SHRINK``), as the default with the block tissue mask; the rule's gates, unrounded.

Trees ``DIR/head`` and ``DIR/cand`` hold each tree's files; every command runs from a tree's root with
``PYTHONPATH`` = that tree, one thread. This script only reads the files (``acc`` runs ``accuracy.run`` as
:mod:`coarse_default_s35`).

    python lone_tile_ab.py ab HEAD CAND HEADCOPY DIR/gate1 --rounds 2 --reps 3 --tiles 10
    python coarse_pool_s36.py spacing dev DEV_head.npz DEV_cand.npz   # dev: recall per keypoint spacing
    python coarse_pool_s36.py gate 1 DIR   # per set median CPU CAND/HEAD <= 0.90, A/A within 0.97-1.03
    python coarse_default_s35.py acc DIR/T/acc.json bcdata shidc deepliif
    python coarse_pool_s36.py gate 2 DIR   # per set 4-turn mean MAE <= HEAD + 0.05; three-set mean <= HEAD
    python pale_nuclei_endonuke_s34.py --endonuke ../shared/train/endonuke --part val --save DIR/T/val.npz
    python coarse_pool_s36.py gate 3 DIR   # EndoNuke VAL recall >= HEAD - 0.002; 6-8 µm neighbours >= HEAD - 0.005
    python benchmarks/eval_ki67_cells.py --seeds 12 --first 300 --csv DIR/T/cells.csv
    python coarse_pool_s36.py gate 4 DIR   # mean |err| <= HEAD + 0.15 pp; mean signed index change >= -0.15 pp
    python -m mmnst_path quantify sample_tiles --out DIR/T/readme --overwrite --workers 1
    python benchmarks/eval_heldout.py --csv DIR/T/heldout.csv
    python coarse_pool_s36.py gate 5 DIR   # samples |index - truth| <= HEAD + 0.30, melanin / necrosis 0.10 pp,
                                           # held-out MAE <= HEAD + 0.25

Exit status 1 when the gate fails.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coarse_default_s34 import ROOT, _csv, _num, _verdict, gate3
from coarse_default_s35 import gate2_rotations, speed_ratios
from keep_gate_endonuke_s33 import val_images

SPEED = 0.90
AA = (0.97, 1.03)
NEAR_UM = (6.0, 8.0)  # gate 3's stratum: keypoints with another keypoint this far (µm, Euclidean)


def gate1(folder: Path) -> bool:
    """BCData and SHIDC: median per-tile CPU CAND / HEAD <= 0.90, the A/A control within 0.97-1.03."""
    runs = {t: [json.loads(f.read_text())["seconds"] for f in sorted((folder / "gate1").glob(f"{t}_*.json"))]
            for t in "ABC"}
    ok = []
    for ds, (b, c) in speed_ratios(runs).items():
        aa = AA[0] <= c <= AA[1]
        ok.append(b <= SPEED)
        print(f"gate 1 {ds}: median per-tile CPU CAND/HEAD {b!r} limit <= {SPEED} {'pass' if ok[-1] else 'FAIL'};"
              f" A/A {c!r} {'inside' if aa else 'OUTSIDE'} {AA}")
    return all(ok)


def near_mask(d: dict[str, np.ndarray], mpp: dict[int, float]) -> np.ndarray:
    """Keypoints of a ``pale_nuclei_endonuke_s34.py --save`` file with another keypoint of their image
    ``NEAR_UM`` µm away (inclusive)."""
    out = np.zeros(len(d["img"]), bool)
    for i in np.unique(d["img"]):
        m = np.flatnonzero(d["img"] == i)
        pts = np.c_[d["row"][m], d["col"][m]] * mpp[int(i)]
        dd = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
        np.fill_diagonal(dd, np.inf)
        out[m] = ((dd >= NEAR_UM[0]) & (dd <= NEAR_UM[1])).any(axis=1)
    return out


def gate3_val(folder: Path) -> bool:
    """EndoNuke VAL: recall >= HEAD - 0.002, and among keypoints with a neighbour 6-8 µm away >= HEAD - 0.005."""
    mpp = dict(enumerate(m for _, m in val_images(ROOT.parent / "shared" / "train" / "endonuke", "val")))
    h, c = (dict(np.load(folder / t / "val.npz")) for t in ("head", "cand"))
    for key in ("img", "row", "col"):
        if not np.array_equal(h[key], c[key]):
            raise ValueError(f"the two val.npz files differ in {key!r}")
    near = near_mask(h, mpp)
    ok = []
    for label, m, tol in (("recall, all keypoints", np.ones(len(near), bool), 0.002),
                          (f"recall, a neighbour {NEAR_UM[0]}-{NEAR_UM[1]} µm away", near, 0.005)):
        a, b = float(h["hit"][m].mean()), float(c["hit"][m].mean())
        ok.append(b >= a - tol)
        print(f"gate 3 EndoNuke VAL {label} (n {int(m.sum())}): HEAD {a!r} CAND {b!r} diff {b - a!r}"
              f" limit -{tol} {'pass' if ok[-1] else 'FAIL'}")
    for t, d in (("HEAD", h), ("CAND", c)):
        print(f"  {t} precision {float(d['cells'][1] / max(d['cells'][0], 1))!r} (cells {int(d['cells'][0])})")
    return all(ok)


def gate4(folder: Path) -> bool:
    """eval_ki67_cells seeds 300-311: mean |err| <= HEAD + 0.15 pp; mean signed CAND - HEAD index >= -0.15 pp."""
    h, c = (_csv(folder / t / "cells.csv") for t in ("head", "cand"))
    if [r["seed"] for r in h] != [r["seed"] for r in c]:
        raise ValueError("the two cells.csv files hold different seeds")
    print("gate 4 seeds", [int(r["seed"]) for r in h])
    ok = [_verdict("gate 4 eval_ki67_cells Ki67 mean |err|", statistics.mean(abs(_num(r["err"])) for r in h),
                   statistics.mean(abs(_num(r["err"])) for r in c), 0.15)]
    d = [_num(b["idx_meas"]) - _num(a["idx_meas"]) for a, b in zip(h, c, strict=True)]
    ok.append(statistics.mean(d) >= -0.15)
    print(f"gate 4 mean signed index change CAND - HEAD {statistics.mean(d)!r} limit >= -0.15"
          f" {'pass' if ok[-1] else 'FAIL'} (per seed {[round(x, 4) for x in d]})")
    return all(ok)


def gate5(folder: Path) -> bool:
    """The README job (s34's gate 3: |index - truth| + 0.30, melanin / necrosis 0.10 pp) and the held-out
    renderer's MAE (its default seeds) <= HEAD + 0.25."""
    ok = [gate3(folder)]
    h, c = (_csv(folder / t / "heldout.csv") for t in ("head", "cand"))
    ok.append(_verdict("gate 5 held-out renderer Ki67 MAE", statistics.mean(abs(_num(r["err"])) for r in h),
                       statistics.mean(abs(_num(r["err"])) for r in c), 0.25))
    return all(ok)


SPACING_EDGES = (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0)


def spacing(part: str, files: list[Path]) -> None:
    """Recall per nearest-keypoint distance (µm) of ``pale_nuclei_endonuke_s34.py --save`` files of one part
    (the first is the reference): keypoints, hits and the change against the first, per bin."""
    mpp = dict(enumerate(m for _, m in val_images(ROOT.parent / "shared" / "train" / "endonuke", part)))
    ds = [dict(np.load(f)) for f in files]
    nn = np.empty(len(ds[0]["img"]))
    for i in np.unique(ds[0]["img"]):
        m = np.flatnonzero(ds[0]["img"] == i)
        pts = np.c_[ds[0]["row"][m], ds[0]["col"][m]] * mpp[int(i)]
        dd = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
        np.fill_diagonal(dd, np.inf)
        nn[m] = dd.min(axis=1)
    b = np.digitize(nn, SPACING_EDGES)
    names = [f.stem for f in files]
    print("| nearest keypoint (µm) | n | " + " | ".join(f"recall {n}" for n in names) + " | "
          + " | ".join(f"{n} - {names[0]} (hits)" for n in names[1:]) + " |")
    lows = ("", *(str(e) for e in SPACING_EDGES))
    highs = (*(str(e) for e in SPACING_EDGES), "")
    for k in range(len(SPACING_EDGES) + 1):
        m = b == k
        hits = [int(d["hit"][m].sum()) for d in ds]
        label = f"< {highs[k]}" if k == 0 else (f">= {lows[k]}" if k == len(SPACING_EDGES) else f"{lows[k]}-{highs[k]}")
        print(f"| {label} | {int(m.sum())} | " + " | ".join(f"{h / max(int(m.sum()), 1)!r}" for h in hits) + " | "
              + " | ".join(f"{h - hits[0]:+d}" for h in hits[1:]) + " |")
    near = near_mask(ds[0], mpp)
    print(f"neighbour {NEAR_UM[0]}-{NEAR_UM[1]} µm (n {int(near.sum())}): "
          + ", ".join(f"{n} {float(d['hit'][near].mean())!r}" for n, d in zip(names, ds, strict=True)))
    print("all: " + ", ".join(f"{n} recall {float(d['hit'].mean())!r} precision "
                              f"{float(d['cells'][1] / max(d['cells'][0], 1))!r}" for n, d in zip(names, ds, strict=True)))
    for n, d in zip(names[1:], ds[1:], strict=True):
        print(f"{n} vs {names[0]}: lost {int((ds[0]['hit'] & ~d['hit']).sum())}, gained {int((~ds[0]['hit'] & d['hit']).sum())}")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) >= 3 and args[0] == "spacing":  # spacing PART A.npz B.npz ...
        spacing(args[1], [Path(a) for a in args[2:]])
        return
    if len(args) != 3 or args[0] != "gate" or args[1] not in "12345":
        raise SystemExit(f"usage: coarse_pool_s36.py gate {{1,2,3,4,5}} DIR (got {args})")
    folder = Path(args[2])
    if args[1] == "2":
        ok = gate2_rotations(*(json.loads((folder / t / "acc.json").read_text()) for t in ("head", "cand")))
    else:
        ok = {"1": gate1, "3": gate3_val, "4": gate4, "5": gate5}[args[1]](folder)
    print(f"GATE {args[1]} {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
