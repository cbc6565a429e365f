"""AEC or Fast Red: a learned choice between the red chromogens in ``stains="auto"`` (issue #14, session 34 H7).

``collect`` renders generated tiles of ``eval_stain_guess.protocol_tile`` (H-AEC, H-FastRed) and keeps each
tile's tissue thumbnail, mask and µm per pixel (what :func:`mmnst_path.stain.guess.guess_stains_detail` sees)
with the shipped guess's name, so candidates can be replayed without rendering again. ``show`` fits and reports.

    PYTHONPATH=. python benchmarks/experiments/chromogen_model_s34.py collect --seeds 40 64 --out /tmp/dev.pkl
    PYTHONPATH=. python benchmarks/experiments/chromogen_model_s34.py collect --seeds 1000 1020 --out /tmp/train.pkl
    PYTHONPATH=. python benchmarks/experiments/chromogen_model_s34.py collect --real --out /tmp/real.pkl
    PYTHONPATH=. python benchmarks/experiments/chromogen_model_s34.py rows /tmp/dev.pkl --out /tmp/dev_rows.npz
    PYTHONPATH=. python benchmarks/experiments/chromogen_model_s34.py rows /tmp/train.pkl --out /tmp/chromogen_rows.npz
    PYTHONPATH=. python benchmarks/experiments/chromogen_model_s34.py choose /tmp/chromogen_rows.npz /tmp/dev_rows.npz

``rows`` computes the trainer's rows (``scripts/train_chromogen_model.py``) of cached thumbnails; ``choose`` prints,
per C and Fast Red probability, the dev AEC tiles lost and Fast Red tiles gained (and per 6-seed block).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import eval_stain_guess as E  # noqa: E402

from mmnst_path.stain.guess import guess_stains_detail  # noqa: E402

PROTOCOLS = ("H-AEC", "H-FastRed")


def collect(seeds: range, per_seed: int, out: Path, protocols: tuple[str, ...] = PROTOCOLS,
            guess: bool = True) -> None:
    """Thumbnails (and, with ``guess``, the shipped guess) of generated tiles; without ``guess`` the
    thumbnails of gate seeds are rendered ahead of the choice with no guess computed on them."""
    rows = []
    t0 = time.perf_counter()
    for p in protocols:
        for seed in seeds:
            for i in range(per_seed):
                label, rgb, mpp = E.protocol_tile(p, seed, i, size=384)
                thumb, mask, tmpp = E.thumbnail(rgb, mpp)
                row = {"truth": p, "seed": seed, "index": i, "label": label, "thumb": thumb, "mask": mask,
                       "tmpp": tmpp, "group": p}
                if guess:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        g = guess_stains_detail(thumb, mask, mpp=tmpp, chromogen_model=False)
                    row.update(head=g.name, head_amb=g.ambiguous, deg=g.chromogen_deg)
                rows.append(row)
        print(f"{p} done {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    with open(out, "wb") as fh:
        pickle.dump(rows, fh)


def collect_real(out: Path) -> None:
    """Thumbnails of the real sets of ``eval_red_chromogens.real_sets``; the shipped guess only on the
    permissive ones (marked "(train)"), never on the research-only ones (their thumbnails are kept for
    the gate, which replays every tile)."""
    from eval_red_chromogens import _real_thumbnail, real_sets

    rows = []
    for group, (truth, items) in real_sets().items():
        for k, (path, mpp) in enumerate(items):
            blank = path.parent.name in ("ADI", "BACK", "07_ADIPOSE", "08_EMPTY")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                thumb, mask, tmpp = _real_thumbnail(path, mpp)
            row = {"truth": truth, "group": group + (" adipose/empty" if blank else ""), "index": k,
                   "label": path.name, "thumb": thumb, "mask": mask, "tmpp": tmpp}
            if "(train)" in group:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    g = guess_stains_detail(thumb, mask, mpp=tmpp, chromogen_model=False)
                row.update(head=g.name, head_amb=g.ambiguous, deg=g.chromogen_deg)
            rows.append(row)
    with open(out, "wb") as fh:
        pickle.dump(rows, fh)


def collect_heldout(seeds: range, out: Path) -> None:
    """Thumbnails of the held-out renderers (as ``eval_stain_guess.heldout_rows``), no guess: a gate only."""
    from heldout_render import render
    from heldout_render_he import render_he

    rows = []
    for ch, truth in (("dab", "H-DAB"), ("aec", "H-AEC"), ("fast_red", "H-FastRed")):
        for pig in ("none", "random"):
            for seed in seeds:
                t = render(seed, size=512, pigment=pig, chromogen=ch)
                thumb, mask, tmpp = E.thumbnail(t.rgb, t.mpp)
                rows.append({"truth": truth, "group": f"held-out {ch} pigment {pig}", "label": f"{seed}",
                             "thumb": thumb, "mask": mask, "tmpp": tmpp})
    for nec in ("none", "random"):
        for seed in seeds:
            t = render_he(seed, necrosis=nec)
            thumb, mask, tmpp = E.thumbnail(t.rgb, t.mpp)
            rows.append({"truth": "H&E", "group": f"held-out H&E necrosis {nec}", "label": f"{seed}",
                         "thumb": thumb, "mask": mask, "tmpp": tmpp})
    with open(out, "wb") as fh:
        pickle.dump(rows, fh)


def rows_from(pickles: list[Path], out: Path) -> None:
    """The trainer's feature rows (``scripts/train_chromogen_model.py``) of cached thumbnails."""
    sys.path.insert(0, str(HERE.parents[1] / "scripts"))
    from train_chromogen_model import row_of, save_rows

    rows = []
    for pk in pickles:
        with open(pk, "rb") as fh:
            for r in pickle.load(fh):
                name, x = row_of(r["thumb"], r["mask"], r["tmpp"])
                if "head" in r and r["head"] != name:
                    raise SystemExit(f"{r['label']}: the rules now say {name}, the shipped guess said {r['head']}")
                rows.append((r["truth"], r.get("seed", -1), r["label"], name, x))
    save_rows(out, rows)


def choose(train: Path, dev: Path, grid_c: list[float], grid_p: list[float]) -> None:
    """Dev figures of each (C, Fast Red probability) candidate, trained on ``train`` rows."""
    import numpy as np

    sys.path.insert(0, str(HERE.parents[1] / "scripts"))
    from train_chromogen_model import fit, named, probability, training_set

    def load(p: Path) -> dict[str, np.ndarray]:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    tr, dv = load(train), load(dev)
    x, y = training_set(tr)
    aec_named = (dv["truth"] == "H-AEC") & (dv["rule"] == "H-AEC")
    print(f"training rows {len(y)} (Fast Red {int(y.sum())}); dev rules: H-AEC right {int(aec_named.sum())}, "
          f"H-FastRed right {int(((dv['truth'] == 'H-FastRed') & (dv['rule'] == 'H-FastRed')).sum())}")
    for c in grid_c:
        params = fit(x, y, c)
        p_aec = probability(params, dv["x"][aec_named])
        cells = []
        for t in grid_p:
            new = named(dv, params, t)
            lost = int(((dv["truth"] == "H-AEC") & (dv["rule"] == "H-AEC") & (new != "H-AEC")).sum())
            won = int(((dv["truth"] == "H-FastRed") & (dv["rule"] != "H-FastRed") & (new == "H-FastRed")).sum())
            blocks = []
            for b0 in range(40, 64, 6):  # per 6-seed block, the size of the generated gate
                blk = (dv["seed"] >= b0) & (dv["seed"] < b0 + 6)
                lb = int((blk & (dv["truth"] == "H-AEC") & (dv["rule"] == "H-AEC") & (new != "H-AEC")).sum())
                wb = int((blk & (dv["truth"] == "H-FastRed") & (dv["rule"] != "H-FastRed") & (new == "H-FastRed")).sum())
                blocks.append(f"{-lb:+d}/{wb:+d}")
            cells.append(f"p>={t}: -{lost} AEC +{won} FR ({' '.join(blocks)})")
        print(f"C {c}: largest p of a right AEC: {np.sort(p_aec)[-3:].round(4)}")
        for cell in cells:
            print("    " + cell)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--seeds", type=int, nargs=2, help="first, last + 1")
    c.add_argument("--real", action="store_true", help="the real sets instead")
    c.add_argument("--heldout", action="store_true", help="the held-out renderers instead (thumbnails only)")
    c.add_argument("--protocols", nargs="*", default=list(PROTOCOLS), choices=E.PROTOCOLS)
    c.add_argument("--no-guess", action="store_true", help="thumbnails only (gate seeds)")
    c.add_argument("--per-seed", type=int, default=10)
    c.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("rows")
    r.add_argument("pickles", type=Path, nargs="+")
    r.add_argument("--out", type=Path, required=True)
    h = sub.add_parser("choose")
    h.add_argument("train", type=Path)
    h.add_argument("dev", type=Path)
    h.add_argument("--c", type=float, nargs="*", default=[0.1, 0.3, 1.0, 3.0, 10.0])
    h.add_argument("--p", type=float, nargs="*", default=[0.7, 0.8, 0.85, 0.9, 0.95])
    args = ap.parse_args(argv)
    if args.cmd == "rows":
        rows_from(args.pickles, args.out)
        return 0
    if args.cmd == "choose":
        choose(args.train, args.dev, args.c, args.p)
        return 0
    if args.cmd == "collect" and args.real:
        collect_real(args.out)
    elif args.cmd == "collect" and args.heldout:
        collect_heldout(range(*args.seeds), args.out)
    elif args.cmd == "collect":
        collect(range(*args.seeds), args.per_seed, args.out, tuple(args.protocols), not args.no_guess)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
