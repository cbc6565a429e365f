"""Session 39 H8: the stain guess of HEAD (b3645c3) and of the candidate on the same tiles, in one pass.

The candidate changes only the H&E-vs-IHC model (``mmnst_path/stain/he_model.py``: four features appended to
HEAD's eighteen, computed after them and from the same pixels; ``models/stains_he.json`` retrained). Every other
line of the guess is HEAD's. So HEAD's guess is the candidate's code with ``guess.he_probability`` answering
from HEAD's model file on the first eighteen features; each tile is generated and thumbnailed once and guessed
twice. ``--check-head TREE`` is the A/A control: the HEAD tree's own ``guess_stains_detail`` on the same
thumbnail, compared name for name (also flag, alternative, p).

    PYTHONPATH=. python benchmarks/experiments/eosin_hue_ab_s39.py sweep --first-seed 3060 --seeds 6 --json OUT
    PYTHONPATH=. python benchmarks/experiments/eosin_hue_ab_s39.py generated --first-seed 3060 --seeds 6
    PYTHONPATH=. python benchmarks/experiments/eosin_hue_ab_s39.py real
    PYTHONPATH=. python benchmarks/experiments/eosin_hue_ab_s39.py heldout --seeds 8
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import eosin_hue_sweep_s39 as sweep  # noqa: E402
import eval_stain_guess as esg  # noqa: E402

from mmnst_path.stain import guess as guess_mod  # noqa: E402
from mmnst_path.stain import he_model  # noqa: E402

HEAD_MODEL = Path("/tmp/s39_h8/head/mmnst_path/models/stains_he.json")
N_HEAD = 18


@contextlib.contextmanager
def head_model(path: Path) -> Iterator[None]:
    """``guess.he_probability`` from HEAD's model on HEAD's eighteen features, for the duration."""
    model = he_model.read_model(path, features=he_model.FEATURES[:N_HEAD])
    old = guess_mod.he_probability

    def p_head(m: np.ndarray, theta: np.ndarray, norm: np.ndarray) -> float:
        x = he_model.he_features(m, theta, norm)
        return math.nan if x is None else float(model.probability(x[:N_HEAD])[0])

    guess_mod.he_probability = p_head
    try:
        yield
    finally:
        guess_mod.he_probability = old


#: ``--head-only`` (dev): HEAD's guess alone (the candidate column repeats it), with the candidate's features.
HEAD_ONLY = False


def both(thumb: np.ndarray, mask: np.ndarray | None, tmpp: float | None):
    kw = {"mpp": None if esg.COLOUR_ONLY else tmpp, "sox10": esg.SOX10, "chromogen_model": esg.CHROMOGEN_MODEL}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with head_model(HEAD_MODEL):
            a = guess_mod.guess_stains_detail(thumb, mask, **kw)
        b = a if HEAD_ONLY else guess_mod.guess_stains_detail(thumb, mask, **kw)
    return a, b


def tiles(mode: str, seeds: range, per_seed: int):
    """(group, truth, label, thumbnail, mask, mpp) as eval_stain_guess / the sweep draw them."""
    if mode == "sweep":
        for deg in sweep.ANGLES_ARG:
            for seed in seeds:
                made = [esg.he_hue_tile(seed, i, deg) for i in range(2)] + [esg.necrosis_hue_tile(seed, deg)]
                for i, (label, rgb, mpp) in enumerate(made):
                    gen = "necrosis" if i == 2 else "pigment"
                    yield f"{deg:+.0f} {gen}", "H&E", label, *esg.thumbnail(rgb, mpp)
    elif mode == "generated":
        for p in esg.PROTOCOLS:
            for seed in seeds:
                for i in range(per_seed):
                    label, rgb, mpp = esg.protocol_tile(p, seed, i, size=384)
                    yield p, p, label, *esg.thumbnail(rgb, mpp)
    elif mode == "real":
        from eval_red_chromogens import _real_thumbnail, real_sets

        for group, (truth, items) in real_sets().items():
            for path, mpp in items:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    thumb, mask, tmpp = _real_thumbnail(path, mpp)
                blank = path.parent.name in ("ADI", "BACK", "07_ADIPOSE", "08_EMPTY")
                yield group + (" adipose/empty" if blank else ""), truth, str(path), thumb, mask, tmpp
    elif mode == "heldout":
        from heldout_render import render
        from heldout_render_he import render_he

        for ch, truth in (("dab", "H-DAB"), ("aec", "H-AEC"), ("fast_red", "H-FastRed")):
            for pig in ("none", "random"):
                for seed in seeds:
                    t = render(seed, size=512, pigment=pig, chromogen=ch)
                    yield f"held-out {ch} pigment {pig}", truth, f"{seed}", *esg.thumbnail(t.rgb, t.mpp)
        for nec in ("none", "random"):
            for seed in seeds:
                t = render_he(seed, necrosis=nec)
                yield f"held-out H&E necrosis {nec}", "H&E", f"{seed}", *esg.thumbnail(t.rgb, t.mpp)
    else:
        raise ValueError(f"mode must be sweep, generated, real or heldout, got {mode!r}")


def _features(thumb: np.ndarray, mask: np.ndarray | None) -> list[float] | None:
    if mask is not None and not np.any(mask):
        mask = None
    _, _, m, theta, norm = guess_mod.colour_residuals(thumb, mask)
    x = he_model.he_features(m, theta, norm)
    return None if x is None else [float(v) for v in x]


def _g(g) -> dict:
    return {"name": g.name, "ambiguous": bool(g.ambiguous), "alternative": g.alternative,
            "p_he": None if math.isnan(g.he_probability) else float(g.he_probability), "reason": g.reason}


def _check_head(tree: Path, thumb: np.ndarray, mask: np.ndarray | None, tmpp: float | None, tmp: Path) -> dict:
    """The HEAD tree's own guess on this thumbnail (a subprocess with PYTHONPATH=tree)."""
    np.savez(tmp / "t.npz", thumb=thumb, mask=np.zeros(0, bool) if mask is None else mask,
             mpp=np.nan if tmpp is None else tmpp)
    code = ("import json, math, sys, warnings, numpy as np\n"
            "from mmnst_path.stain.guess import guess_stains_detail\n"
            f"z = np.load({str(tmp / 't.npz')!r})\n"
            "m = z['mask'] if z['mask'].size else None\n"
            "mpp = None if math.isnan(float(z['mpp'])) else float(z['mpp'])\n"
            "warnings.simplefilter('ignore')\n"
            "g = guess_stains_detail(z['thumb'], m, mpp=mpp)\n"
            "print(json.dumps({'name': g.name, 'ambiguous': bool(g.ambiguous), 'alternative': g.alternative, "
            "'p_he': None if math.isnan(g.he_probability) else float(g.he_probability), 'reason': g.reason}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin"},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _same(a: dict, b: dict) -> bool:
    """Name, flag, alternative and reason equal, p within 1e-12 (the dot product of 18 features summed in
    another order differs in the last bits)."""
    pa, pb = a["p_he"], b["p_he"]
    same_p = (pa is None and pb is None) or (pa is not None and pb is not None and abs(pa - pb) <= 1e-12)
    return same_p and all(a[k] == b[k] for k in ("name", "ambiguous", "alternative", "reason"))


def summary(rows: list[dict], key: str) -> str:
    names = esg.PROTOCOLS
    lines = ["| tiles | truth | n | " + " | ".join(names) + " | other | right | right, not flagged | ambiguous (right / wrong) |",
             "|---|---|---:|" + "---:|" * (len(names) + 4)]
    for group in dict.fromkeys(r["group"] for r in rows):
        sel = [r for r in rows if r["group"] == group]
        truth = sel[0]["truth"]
        got = [r[key] for r in sel]
        c = {n: sum(g["name"] == n for g in got) for n in names}
        other = len(got) - sum(c.values())
        ok = sum(g["name"] == truth for g in got)
        ok_clear = sum(g["name"] == truth and not g["ambiguous"] for g in got)
        amb_ok = sum(g["ambiguous"] and g["name"] == truth for g in got)
        amb_bad = sum(g["ambiguous"] and g["name"] != truth for g in got)
        lines.append(f"| {group} | {truth} | {len(sel)} | " + " | ".join(str(c[n]) for n in names)
                     + f" | {other} | {ok} | {ok_clear} | {amb_ok} / {amb_bad} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("sweep", "generated", "real", "heldout"))
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--per-seed", type=int, default=10)
    ap.add_argument("--angles", type=float, nargs="*", default=list(sweep.ANGLES))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--check-head", type=Path, help="HEAD tree: also its own guess per tile (A/A control)")
    ap.add_argument("--check-every", type=int, default=1, help="with --check-head: every n-th tile")
    ap.add_argument("--head-only", action="store_true", help="dev: HEAD's guess alone")
    args = ap.parse_args(argv)
    global HEAD_ONLY
    HEAD_ONLY = args.head_only
    sweep.ANGLES_ARG = tuple(args.angles)
    tmp = Path("/tmp/s39_h8/check")
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, (group, truth, label, thumb, mask, tmpp) in enumerate(
            tiles(args.mode, range(args.first_seed, args.first_seed + args.seeds), args.per_seed)):
        a, b = both(thumb, mask, tmpp)
        row = {"group": group, "truth": truth, "label": label, "head": _g(a), "cand": _g(b),
               "x": _features(thumb, mask)}
        if args.check_head is not None and k % args.check_every == 0:
            row["head_tree"] = _check_head(args.check_head, thumb, mask, tmpp, tmp)
        rows.append(row)
        print(f"{group} | {label} | HEAD {a.name}{' ?' if a.ambiguous else ''} p={a.he_probability:.3f} | "
              f"cand {b.name}{' ?' if b.ambiguous else ''} p={b.he_probability:.3f}", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    for key in ("head", "cand"):
        print(f"\n{key}:\n" + summary(rows, key))
    changed = [r for r in rows if (r["head"]["name"], r["head"]["ambiguous"]) != (r["cand"]["name"], r["cand"]["ambiguous"])]
    print(f"\n{len(changed)} of {len(rows)} tiles named or flagged differently")
    for r in changed:
        print(f"- {r['group']} | {r['label']} | HEAD {r['head']['name']} amb={r['head']['ambiguous']} "
              f"p={r['head']['p_he']} -> cand {r['cand']['name']} amb={r['cand']['ambiguous']} p={r['cand']['p_he']}")
    if args.check_head is not None:
        checked = [r for r in rows if "head_tree" in r]
        same = sum(_same(r["head_tree"], r["head"]) for r in checked)
        print(f"\nA/A: HEAD tree's own guess equals the emulated HEAD on {same} of {len(checked)} tiles checked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
