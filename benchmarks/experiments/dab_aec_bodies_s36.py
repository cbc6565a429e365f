"""DAB or AEC from per-body features (issue #14, session 36 H5): a learned choice for ``stains="auto"``.

Rule (fixed by the lead before any gate ran; copied into /work/notes/s36/h5_report.md at 03:16 UTC):
gate seeds 400-411 (12 seeds x every protocol of ``eval_stain_guess.py``).
1. Right names over all protocols >= HEAD + 8 of the gate tiles, and H-AEC right >= HEAD + 8.
2. No protocol's right count below HEAD's; at most one tile that HEAD names right named wrong, and that tile,
   if any, must not be H-DAB named H-AEC at p > 0.9.
3. Real tiles: every real IHC / Ki67 tile in /work/shared/data (BCData, SHIDC, DeepLIIF first 10 each, the ihc
   folder) and the README job name the same stains as HEAD.
4. Held-out renderer (``eval_heldout.py``, default seeds and protocols): stain names right >= HEAD, Ki67 MAE
   <= HEAD + 0.10.
5. Speed: stain guess CPU on a BCData tile <= HEAD + 10 ms.
6. Targeted tests, ruff, mypy.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PROTOCOLS = ("H-DAB", "H-AEC", "H-FastRed", "H&E", "AzureB-DAB", "H-DAB-FastRed", "H-DAB-AEC")


def collect(seeds: range, protocols: tuple[str, ...], out: Path, *, guess: bool, per_seed: int = 10) -> None:
    """Render the ``eval_stain_guess.protocol_tile`` tiles of ``seeds`` and keep their tissue thumbnails.

    ``guess``: keep only the tiles the guess without the DAB-vs-AEC model names a single H-DAB (training / dev
    rows, with that guess's peak); otherwise keep every thumbnail without computing any guess (gate seeds).
    """
    from eval_stain_guess import protocol_tile, thumbnail

    from mmnst_path.stain.dab_bodies import body_features
    from mmnst_path.stain.guess import guess_stains_detail

    rows = []
    for p in protocols:
        for seed in seeds:
            for i in range(per_seed):
                label, rgb, mpp = protocol_tile(p, seed, i, size=384)
                thumb, mask, tmpp = thumbnail(rgb, mpp)
                r = {"truth": p, "seed": seed, "index": i, "label": label, "thumb": thumb, "mask": mask, "tmpp": tmpp}
                if guess:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        g = guess_stains_detail(thumb, mask, mpp=tmpp, dab_model=False)
                    if g.name != "H-DAB" or g.marker:
                        continue
                    r["deg"] = g.chromogen_deg
                    if g.chromogen_deg < 3.0:
                        r["white"] = g.white_point
                        r["body"] = body_features([(thumb, mask)], tmpp, g.white_point)
                rows.append(r)
        print(p, len(rows), flush=True)
    with open(out, "wb") as fh:
        pickle.dump(rows, fh)


def rows(pickle_path: Path, out: Path, max_deg: float = 3.0) -> None:
    """Body rows (:func:`mmnst_path.stain.dab_bodies.body_features`, NaN: none) of the cached H-DAB-named tiles
    whose peak lies below ``max_deg``."""
    from mmnst_path.stain.dab_bodies import BODY_FEATURES, body_features
    from mmnst_path.stain.guess import guess_stains_detail

    with open(pickle_path, "rb") as fh:
        cached = pickle.load(fh)
    got: dict[str, list] = {"truth": [], "seed": [], "index": [], "deg": [], "body": []}
    for r in cached:
        if not r["deg"] < max_deg:
            continue
        if "white" in r:  # computed at collection
            body = r["body"]
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g = guess_stains_detail(r["thumb"], r["mask"], mpp=r["tmpp"], dab_model=False)
            body = body_features([(r["thumb"], r["mask"])], r["tmpp"], g.white_point)
        for k, v in (("truth", r["truth"]), ("seed", r["seed"]), ("index", r["index"]), ("deg", r["deg"]),
                     ("body", body if body is not None else np.full(len(BODY_FEATURES), np.nan))):
            got[k].append(v)
    np.savez(out, **{k: np.array(v) for k, v in got.items()})
    print(len(got["truth"]), "rows ->", out)


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale <= 1e-9] = 1.0
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0])


def _prob(params, x: np.ndarray) -> np.ndarray:
    mean, scale, coef, b = params
    return 1.0 / (1.0 + np.exp(-np.clip(((x - mean) / scale) @ coef + b, -60, 60)))


def _design(z, which: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, usable) of a rows file: ``body`` (every body feature and the peak) or a subset named by
    comma-separated feature indices (``"0,1,2"``; the peak always last)."""
    body = z["body"] if which == "body" else z["body"][:, [int(i) for i in which.split(",")]]
    x = np.column_stack([body, z["deg"]])
    return x, np.all(np.isfinite(x), axis=1)


def choose(train: Path, devs: list[Path], sets: list[str], grid_c: list[float], grid_p: list[float]) -> None:
    """Per feature set and C: dev AEC gained / DAB lost per AEC probability, the largest dev DAB p, 12-seed blocks."""
    zt = dict(np.load(train))
    zd = [dict(np.load(d)) for d in devs]
    zd1 = {k: np.concatenate([z[k] for z in zd]) for k in zd[0]}
    for which in sets:
        xt, ut = _design(zt, which)
        yt = (zt["truth"] == "H-AEC").astype(int)
        xd, ud = _design(zd1, which)
        yd = (zd1["truth"] == "H-AEC").astype(int)
        print(f"== {which}: train {int(ut.sum())} usable rows ({int(yt[ut].sum())} AEC) of {len(yt)}; dev "
              f"{int(ud.sum())} ({int(yd[ud].sum())} AEC, {int((1 - yd[ud]).sum())} DAB) of {len(yd)}")
        for c in grid_c:
            params = _fit(xt[ut], yt[ut], c)
            p = np.zeros(len(yd))
            p[ud] = _prob(params, xd[ud])
            top = np.sort(p[yd == 0])[::-1][:3]
            cells = []
            for t in grid_p:
                gain, lost = int(((p >= t) & (yd == 1)).sum()), int(((p >= t) & (yd == 0)).sum())
                cells.append(f"p{t:g}: +{gain}/-{lost}")
            seeds = zd1["seed"]
            blocks = []
            t_best = next((t for t in sorted(grid_p) if t >= top[0] + 0.01), None)
            if t_best is not None:
                for lo in sorted({(s // 12) * 12 for s in seeds.tolist()}):
                    sel = (seeds >= lo) & (seeds < lo + 12)
                    blocks.append(int(((p >= t_best) & (yd == 1) & sel).sum()))
            print(f"C {c:g}: DAB p top {np.round(top, 4).tolist()} | " + "  ".join(cells)
                  + f" | blocks at {t_best}: {blocks}")


def replay(pickle_paths: list[Path], out: Path) -> None:
    """The guess of the tree on ``PYTHONPATH`` (``guess_stains_detail(thumb, mask, mpp=...)`` with its defaults, as
    ``eval_stain_guess.py`` and the pipeline call it) on cached thumbnails, one JSON line per tile."""
    import json
    import math

    import mmnst_path
    from mmnst_path.stain.guess import guess_stains_detail

    print("mmnst_path from", mmnst_path.__file__, flush=True)
    with open(out, "w") as fh:
        for path in pickle_paths:
            with open(path, "rb") as pf:
                cached = pickle.load(pf)
            for r in cached:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    g = guess_stains_detail(r["thumb"], r["mask"], mpp=r["tmpp"])
                p = float(getattr(g, "aec_probability", math.nan))
                fh.write(json.dumps({"truth": r["truth"], "seed": r["seed"], "index": r["index"], "label": r["label"],
                                     "name": g.name, "deg": g.chromogen_deg, "aec_p": None if math.isnan(p) else p})
                         + "\n")


def real_replay(out: Path) -> None:
    """Gate 3's real tiles (BCData, SHIDC, DeepLIIF: the first 10 each; the ihc folder), guessed on their tissue
    thumbnails by the tree on ``PYTHONPATH``, one JSON line per tile."""
    import json
    import math

    from eval_red_chromogens import _real_thumbnail, real_sets

    import mmnst_path
    from mmnst_path.stain.guess import guess_stains_detail

    print("mmnst_path from", mmnst_path.__file__, flush=True)
    keep = ("BCData (Ki67)", "SHIDC (Ki67)", "DeepLIIF (Ki67)", "skimage IHC")
    with open(out, "w") as fh:
        for group, (truth, items) in real_sets().items():
            if group not in keep:
                continue
            for i, (path, mpp) in enumerate(items[:10]):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    thumb, mask, tmpp = _real_thumbnail(path, mpp)
                    g = guess_stains_detail(thumb, mask, mpp=tmpp)
                p = float(getattr(g, "aec_probability", math.nan))
                fh.write(json.dumps({"truth": truth, "seed": group, "index": i, "label": path.name, "name": g.name,
                                     "deg": g.chromogen_deg, "aec_p": None if math.isnan(p) else p}) + "\n")


def compare(head: Path, branch: Path) -> None:
    """Right names per protocol, HEAD against the branch, and every tile whose name changed."""
    import collections
    import json

    a = [json.loads(line) for line in head.read_text().splitlines()]
    b = [json.loads(line) for line in branch.read_text().splitlines()]
    assert [(r["truth"], r["seed"], r["index"]) for r in a] == [(r["truth"], r["seed"], r["index"]) for r in b]
    right_a, right_b, n = collections.Counter(), collections.Counter(), collections.Counter()
    for ra, rb in zip(a, b, strict=True):
        n[ra["truth"]] += 1
        right_a[ra["truth"]] += ra["name"] == ra["truth"]
        right_b[rb["truth"]] += rb["name"] == rb["truth"]
    print("| protocol | n | HEAD right | branch right | change |")
    print("|---|---:|---:|---:|---:|")
    for p in PROTOCOLS:
        if n[p]:
            print(f"| {p} | {n[p]} | {right_a[p]} | {right_b[p]} | {right_b[p] - right_a[p]:+d} |")
    ta, tb = sum(right_a.values()), sum(right_b.values())
    print(f"| all | {sum(n.values())} | {ta} | {tb} | {tb - ta:+d} |")
    print("changed tiles:")
    lost = 0
    for ra, rb in zip(a, b, strict=True):
        if ra["name"] != rb["name"]:
            was_right, now_right = ra["name"] == ra["truth"], rb["name"] == rb["truth"]
            lost += was_right and not now_right
            print(f"  {ra['truth']} seed {ra['seed']} #{ra['index']} ({ra['label']}): {ra['name']} -> {rb['name']} "
                  f"(peak {rb['deg']:+.1f}, p {rb['aec_p']}){' LOST' if was_right and not now_right else ''}")
    asked = [rb for rb in b if rb["aec_p"] is not None]
    print(f"asked {len(asked)} tiles; right tiles made wrong: {lost}")
    for t in ("H-DAB", "H-AEC", "H-DAB-AEC"):
        ps = sorted((r["aec_p"] for r in asked if r["truth"] == t), reverse=True)
        print(f"  {t}: {len(ps)} asked, p top {[round(x, 4) for x in ps[:5]]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect", help="render tiles, keep thumbnails")
    c.add_argument("--seeds", type=int, nargs=2, action="append", required=True, help="first, last + 1 (repeatable)")
    c.add_argument("--protocols", nargs="*", default=["H-DAB", "H-AEC"], choices=PROTOCOLS)
    c.add_argument("--no-guess", action="store_true", help="every thumbnail, no guess computed (gate seeds)")
    c.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("rows", help="feature rows of cached H-DAB-named tiles")
    r.add_argument("pickle", type=Path)
    r.add_argument("--out", type=Path, required=True)
    h = sub.add_parser("choose", help="C and AEC probability on dev")
    h.add_argument("train", type=Path)
    h.add_argument("dev", type=Path, nargs="+")
    h.add_argument("--sets", nargs="*", default=["body"])
    h.add_argument("--c", type=float, nargs="*", default=[0.1, 0.3, 1.0, 3.0, 10.0])
    h.add_argument("--p", type=float, nargs="*", default=[0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99])
    rp = sub.add_parser("replay", help="the guess of the tree on PYTHONPATH on cached thumbnails")
    rp.add_argument("pickles", type=Path, nargs="*")
    rp.add_argument("--real", action="store_true", help="gate 3's real tiles instead")
    rp.add_argument("--out", type=Path, required=True)
    cp = sub.add_parser("compare", help="HEAD's replay against the branch's")
    cp.add_argument("head", type=Path)
    cp.add_argument("branch", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "replay" and args.real:
        real_replay(args.out)
    elif args.cmd == "replay":
        replay(args.pickles, args.out)
    elif args.cmd == "compare":
        compare(args.head, args.branch)
    elif args.cmd == "rows":
        rows(args.pickle, args.out)
    elif args.cmd == "choose":
        choose(args.train, args.dev, args.sets, args.c, args.p)
    elif args.cmd == "collect":
        seeds = [s for a, b in args.seeds for s in range(a, b)]
        collect(seeds, tuple(args.protocols), args.out, guess=not args.no_guess)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
