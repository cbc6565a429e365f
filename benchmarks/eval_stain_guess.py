"""Stain auto-detection for every protocol of issue #14, on generated tiles randomised harder (and real tiles).

:func:`mmnst_path.stain.guess.guess_stains_detail` (what ``stains="auto"`` uses, on the tissue
thumbnail :func:`mmnst_path.tiling.detect_tissue` gives) is run on generated tiles of each
protocol, drawn over the range a lab's scans take:

- ``H-DAB``, ``H&E``: :func:`mmnst_path.synthetic.pigment_family_tile` (chromogen ``dab`` /
  ``eosin``), every pigment family, appearance ``plain`` / ``varied`` / ``wide``.
- ``H-AEC``, ``H-FastRed``: the same tiles with the red chromogen's vector drawn per tile over the
  range published and measured vectors take (:func:`red_vector`: from reddish-brown to red, see
  :data:`AEC_RANGE` / :data:`FAST_RED_RANGE`), the hematoxylin vector turned a further 0-4° (labs'
  hematoxylins differ), weak staining (every OD x0.45-0.8 on a third of the tiles: a thin section
  or a short development), tinted glass and black level (``varied`` / ``wide``), melanin.
- ``AzureB-DAB``: :func:`mmnst_path.synthetic_azure.azure_b_tile`, every pigment family.
- ``H-DAB-FastRed`` / ``H-DAB-AEC``: :func:`mmnst_path.synthetic_double.double_stain_tile`
  (MART-1 cytoplasmic and SOX10 nuclear).

The red-chromogen vectors are varied by swapping the generator's reference vector for the
duration of one call (:func:`_chromogen_vectors`); the generator itself is not changed. Real
tiles: the sets of :func:`eval_red_chromogens.real_sets` (``../shared/data`` and the training data).

    .venv/bin/python benchmarks/eval_stain_guess.py --seeds 6           # generated, confusion per protocol
    .venv/bin/python benchmarks/eval_stain_guess.py --real              # real tiles per dataset
    PYTHONPATH=. .venv/bin/python benchmarks/eval_stain_guess.py --heldout --seeds 8   # acceptance only
    .venv/bin/python benchmarks/eval_stain_guess.py --first-seed 30 --seeds 3 --no-sox10  # without the SOX10 rule

The generated double stains end with a table per marker: named the right double stain, and with the
right marker place (``StainGuess.marker``).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import math
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mmnst_path import synthetic  # noqa: E402
from mmnst_path.stain.guess import StainGuess, guess_stains_detail  # noqa: E402

#: Protocols (true preset names) of the generated tiles.
PROTOCOLS = ("H-DAB", "H-AEC", "H-FastRed", "H&E", "AzureB-DAB", "H-DAB-FastRed", "H-DAB-AEC")
#: Where a red chromogen's vector is drawn: ``s`` of :func:`red_vector` (1 = the preset vector,
#: 0 = DAB). AEC is rendered reddish-brown to red by labs and scanners: Ruifrok & Johnston's
#: vector (8.4° from DAB) is s = 1; s = 0.6 is a brown AEC 5° from DAB, s = 1.6 a red one 13.5°.
AEC_RANGE = (0.6, 1.6)
FAST_RED_RANGE = (0.8, 1.15)
_DAB = np.asarray(synthetic._DAB) / np.linalg.norm(synthetic._DAB)


def red_vector(preset: tuple[float, float, float], s: float) -> np.ndarray:
    """Unit OD vector on the great circle from DAB (``s = 0``) through ``preset`` (``s = 1``)."""
    p = np.asarray(preset, float) / np.linalg.norm(preset)
    ang = math.acos(float(np.clip(p @ _DAB, -1, 1)))
    d = p - (p @ _DAB) * _DAB
    d /= np.linalg.norm(d)
    v = math.cos(s * ang) * _DAB + math.sin(s * ang) * d
    return np.clip(v, 0.02, None) / np.linalg.norm(np.clip(v, 0.02, None))


@contextlib.contextmanager
def _chromogen_vectors(chromogen: str, vector: np.ndarray, hematoxylin: np.ndarray) -> Iterator[None]:
    """The generator's reference vectors of ``chromogen`` and hematoxylin, swapped for one call."""
    old_v, old_h = synthetic._CHROMOGEN_VECTORS[chromogen], synthetic._H
    synthetic._CHROMOGEN_VECTORS[chromogen] = tuple(float(x) for x in vector)
    synthetic._H = tuple(float(x) for x in hematoxylin)
    try:
        yield
    finally:
        synthetic._CHROMOGEN_VECTORS[chromogen] = old_v
        synthetic._H = old_h


def _weaken(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Every OD x ``factor`` relative to the image's brightest pixels (thin section / short development)."""
    white = np.percentile(rgb.reshape(-1, 3), 99.5, axis=0).clip(1, 255)
    od = -np.log10(np.clip(rgb / white, 1e-3, 1.0))
    return np.clip(np.rint(white * 10.0 ** (-factor * od)), 0, 255).astype(np.uint8)


def protocol_tile(protocol: str, seed: int, index: int, *, size: int = 384) -> tuple[str, np.ndarray, float]:
    """``(label, rgb, mpp)`` of generated tile ``index`` of ``protocol`` for ``seed`` (all draws from both)."""
    rng = np.random.default_rng([seed, index, PROTOCOLS.index(protocol), 41])
    fams = synthetic.PIGMENT_FAMILIES
    fam = fams[index % len(fams)]
    app = ("plain", "varied", "wide")[int(rng.integers(3))]
    if protocol in ("H-DAB", "H&E"):
        ch = "dab" if protocol == "H-DAB" else "eosin"
        hard = protocol == "H&E" and bool(rng.integers(2))
        t = synthetic.pigment_family_tile(seed, fam, chromogen=ch, size=size, appearance=app, hard_negatives=hard)
        return f"{fam} {app}{' hard' if hard else ''} {seed}", t.rgb, t.mpp
    if protocol in ("H-AEC", "H-FastRed"):
        ch, lo_hi = ("aec", AEC_RANGE) if protocol == "H-AEC" else ("fast_red", FAST_RED_RANGE)
        s = float(rng.uniform(*lo_hi))
        vh = synthetic.perturb_vector(synthetic._H, rng.uniform(0, 4), rng)
        with _chromogen_vectors(ch, red_vector(synthetic._CHROMOGEN_VECTORS[ch], s), vh):
            t = synthetic.pigment_family_tile(seed, fam, chromogen=ch, size=size, appearance=app)
        rgb, weak = t.rgb, rng.random() < 1 / 3
        if weak:
            rgb = _weaken(rgb, float(rng.uniform(0.45, 0.8)))
        return f"{fam} {app} s={s:.2f}{' weak' if weak else ''} {seed}", rgb, t.mpp
    if protocol == "AzureB-DAB":
        from mmnst_path.synthetic_azure import azure_b_tile

        t = azure_b_tile(seed, fam, size=size)
        return f"{fam} {seed}", t.rgb, t.mpp
    from mmnst_path.synthetic_double import double_stain_tile

    marker = ("cytoplasmic", "nuclear")[index % 2]
    ch = "fast_red" if protocol == "H-DAB-FastRed" else "aec"
    t = double_stain_tile(seed * 100 + index, marker=marker, chromogen=ch, size=size)
    return f"{marker} {seed * 100 + index}", t.rgb, t.mpp


#: Ruifrok's hematoxylin and DAB (unit), as :mod:`mmnst_path.stain.guess` measures angles from them.
_RH = np.array([0.650, 0.704, 0.286]) / np.linalg.norm([0.650, 0.704, 0.286])
_RE1 = _DAB - (_DAB @ _RH) * _RH
_RE1 /= np.linalg.norm(_RE1)
_RE2 = np.cross(_RH, _RE1)
#: The eosin reference of both H&E generators (``synthetic._E``, ``sample_tiles/generate.EOSIN_REF``).
EOSIN_REF = (0.2159, 0.8012, 0.5581)


def eosin_vector(deg: float, base: tuple[float, float, float] = EOSIN_REF) -> np.ndarray:
    """Unit OD vector whose hematoxylin-free residual lies at ``deg`` from DAB (as the stain guess measures
    it), with ``base``'s hematoxylin component and residual length: an eosin rendered towards orange
    (-10 to -20°, near AEC's -11°) or towards magenta (-50 to -60°). Kept non-negative."""
    if not -90.0 <= deg <= 0.0:
        raise ValueError(f"deg must lie in [-90, 0] (red side of DAB), got {deg}")
    b = np.asarray(base, float) / np.linalg.norm(base)
    a = float(b @ _RH)
    r = float(np.linalg.norm(b - a * _RH))
    v = a * _RH + r * (math.cos(math.radians(deg)) * _RE1 + math.sin(math.radians(deg)) * _RE2)
    v = np.clip(v, 0.02, None)
    return v / np.linalg.norm(v)


def he_hue_tile(seed: int, index: int, deg: float, *, size: int = 384) -> tuple[str, np.ndarray, float]:
    """``(label, rgb, mpp)``: a generated H&E tile (:func:`mmnst_path.synthetic.pigment_family_tile`,
    ``chromogen="eosin"``, drawn as :func:`protocol_tile` draws H&E: pigment family, appearance, hard
    negatives) with the eosin reference vector at ``deg`` (:func:`eosin_vector`; the generator turns it a
    further 0-5°) and, on a third of the tiles, every OD x0.45-0.8 (pale staining)."""
    rng = np.random.default_rng([seed, index, round(-deg * 10), 3039])
    fams = synthetic.PIGMENT_FAMILIES
    fam = fams[(seed + index) % len(fams)]
    app = ("plain", "varied", "wide")[int(rng.integers(3))]
    hard = bool(rng.integers(2))
    old = synthetic._CHROMOGEN_VECTORS["eosin"]
    synthetic._CHROMOGEN_VECTORS["eosin"] = tuple(float(x) for x in eosin_vector(deg))
    try:
        t = synthetic.pigment_family_tile(seed, fam, chromogen="eosin", size=size, appearance=app, hard_negatives=hard)
    finally:
        synthetic._CHROMOGEN_VECTORS["eosin"] = old
    rgb, weak = t.rgb, rng.random() < 1 / 3
    if weak:
        rgb = _weaken(rgb, float(rng.uniform(0.45, 0.8)))
    return f"{fam} {app}{' hard' if hard else ''}{' weak' if weak else ''} {deg:+.0f}deg {seed}", rgb, t.mpp


def necrosis_hue_tile(seed: int, deg: float) -> tuple[str, np.ndarray, float]:
    """``(label, rgb, mpp)``: the README necrosis sample's recipe (``eval_necrosis.sample_recipe_tile``, its
    parameters drawn from ``seed`` as ``necrosis_split_s38.dev_kwargs`` draws them: necrotic eosin
    0.1-0.6, 0.5 / 1 µm/px, stain rotation 2-7°, JPEG, necrotic share) with the eosin reference at ``deg``."""
    sys.path.insert(0, str(HERE / "experiments"))
    from eval_necrosis import _sample_generator, sample_recipe_tile
    from necrosis_split_s38 import dev_kwargs

    gen = _sample_generator()
    kw = dev_kwargs(seed)
    gen.EOSIN_REF = tuple(float(x) for x in eosin_vector(deg))
    rgb, mpp, _, _ = sample_recipe_tile(gen, kw["seed"], eosin=kw["eosin"], angle_deg=kw["angle_deg"], mpp=kw["mpp"],
                                        jpeg_quality=kw["jpeg_quality"], fraction=kw["fraction"])
    return (f"necrosis e{kw['eosin']} {kw['mpp']}um rot{kw['angle_deg']} q{kw['jpeg_quality']} {deg:+.0f}deg {seed}",
            rgb, mpp)


def thumbnail(rgb: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray, float | None]:
    """The tissue thumbnail, its mask and its µm per pixel, as the pipeline guesses the stains on them."""
    from mmnst_path.io import ArrayReader
    from mmnst_path.pipeline import AnalysisConfig
    from mmnst_path.tiling import detect_tissue

    t = detect_tissue(ArrayReader(rgb, mpp=mpp), mask_mpp=AnalysisConfig().tissue_mpp)
    return t.thumbnail, t.mask, t.mask_mpp


#: ``--colour-only``: guess without where the chromogen sits (the guess before 2026-12-03, session 10).
COLOUR_ONLY = False
#: ``--sox10`` / ``--no-sox10``: look for Ki67 / SOX10 double stains or not (None: the library's default).
SOX10: bool | None = None
#: ``--no-chromogen-model``: the rules alone name a red chromogen (the guess before session 34).
CHROMOGEN_MODEL = True


def guess(rgb: np.ndarray, mpp: float) -> StainGuess:
    thumb, mask, tmpp = thumbnail(rgb, mpp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return guess_stains_detail(thumb, mask, mpp=None if COLOUR_ONLY else tmpp, sox10=SOX10,
                                   chromogen_model=CHROMOGEN_MODEL)


def confusion(rows: list[tuple[str, str, str, StainGuess]], names: tuple[str, ...]) -> str:
    """Markdown confusion table of ``(group, truth, label, guess)`` rows, one line per group."""
    lines = ["| tiles | truth | n | " + " | ".join(names) + " | other | right | ambiguous (right / wrong) | wrong (examples) |",
             "|---|---|---:|" + "---:|" * (len(names) + 2) + "---|---|"]
    for group in dict.fromkeys(g for g, *_ in rows):
        sel = [r for r in rows if r[0] == group]
        truth = sel[0][1]
        c = collections.Counter(g.name for *_, g in sel)
        other = sum(v for k, v in c.items() if k not in names)
        ok = sum(g.name == truth for *_, g in sel)
        amb_ok = sum(g.ambiguous and g.name == truth for *_, g in sel)
        amb_bad = sum(g.ambiguous and g.name != truth for *_, g in sel)
        wrong = [f"{lab}: {g.name} ({g.chromogen_deg:+.0f}°)" for _, _, lab, g in sel if g.name != truth][:3]
        lines.append(f"| {group} | {truth} | {len(sel)} | " + " | ".join(str(c.get(k, 0)) for k in names)
                     + f" | {other} | {ok} | {amb_ok} / {amb_bad} | {'; '.join(wrong)} |")
    return "\n".join(lines)


def marker_summary(rows: list[tuple[str, str, str, StainGuess]]) -> str:
    """Markdown table of the generated double stains per marker: named the right double stain, and with
    the right marker place (:attr:`StainGuess.marker`; Ki67 / MART-1 cytoplasmic, Ki67 / SOX10 nuclear)."""
    lines = ["| double stain | marker | n | right name | right name and marker | flagged (of right) |",
             "|---|---|---:|---:|---:|---:|"]
    for truth in ("H-DAB-FastRed", "H-DAB-AEC"):
        for marker, what in (("cytoplasmic", "MART-1"), ("nuclear", "SOX10")):
            sel = [g for _, t, lab, g in rows if t == truth and lab.startswith(marker)]
            if not sel:
                continue
            name = [g for g in sel if g.name == truth]
            both = [g for g in name if g.marker == marker]
            lines.append(f"| {truth} | {what} ({marker}) | {len(sel)} | {len(name)} | {len(both)} "
                         f"| {sum(g.ambiguous for g in both)} |")
    return "\n".join(lines)


def generated_rows(seeds: range, protocols: tuple[str, ...], per_seed: int, size: int):
    for p in protocols:
        for seed in seeds:
            for i in range(per_seed):
                label, rgb, mpp = protocol_tile(p, seed, i, size=size)
                yield p, p, label, guess(rgb, mpp)


def real_rows():
    from eval_red_chromogens import _real_thumbnail, real_sets

    for group, (truth, items) in real_sets().items():
        for path, mpp in items:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                thumb, mask, tmpp = _real_thumbnail(path, mpp)
                # fat and glass alone (Kather's adipose / background classes): too little stain to tell by
                blank = path.parent.name in ("ADI", "BACK", "07_ADIPOSE", "08_EMPTY")
                yield group + (" adipose/empty" if blank else ""), truth, path.name[:24], guess_stains_detail(thumb, mask, mpp=None if COLOUR_ONLY else tmpp,
                                                                        sox10=SOX10, chromogen_model=CHROMOGEN_MODEL)


def heldout_rows(seeds: range, size: int):
    """The held-out renderers, as a black box (acceptance only: never tuned on)."""
    from heldout_render import render
    from heldout_render_he import render_he

    for ch, truth in (("dab", "H-DAB"), ("aec", "H-AEC"), ("fast_red", "H-FastRed")):
        for pig in ("none", "random"):
            for seed in seeds:
                t = render(seed, size=size, pigment=pig, chromogen=ch)
                yield f"held-out {ch} pigment {pig}", truth, f"{seed}", guess(t.rgb, t.mpp)
    for nec in ("none", "random"):
        for seed in seeds:
            t = render_he(seed, necrosis=nec)
            yield f"held-out H&E necrosis {nec}", "H&E", f"{seed}", guess(t.rgb, t.mpp)


def _places_text(g: StainGuess) -> str:
    p = g.places
    if p is None:
        return "places -"
    return (f"bodies brown {p.brown_bodies_mm2:.0f} red {p.red_bodies_mm2:.0f} DAB-holding {p.dab_bodies_mm2:.0f} /mm2, "
            f"ring {p.red_ring_share:.2f}, deg DAB-holding {p.dab_body_deg:+.1f} other {p.other_body_deg:+.1f} "
            f"red {p.red_body_deg:+.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--per-seed", type=int, default=10, help="tiles per protocol and seed (generated)")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--protocols", nargs="*", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--real", action="store_true", help="real tiles per dataset instead")
    ap.add_argument("--heldout", action="store_true", help="the held-out renderers instead (acceptance only)")
    ap.add_argument("--verbose", action="store_true", help="print every tile's guess")
    ap.add_argument("--colour-only", action="store_true",
                    help="guess from colour alone, without where the chromogen sits (the guess before)")
    ap.add_argument("--sox10", action=argparse.BooleanOptionalAction, default=None,
                    help="look for Ki67 / SOX10 double stains (--no-sox10: not; default: the library's)")
    ap.add_argument("--chromogen-model", action=argparse.BooleanOptionalAction, default=True,
                    help="let the chromogen model name a single red chromogen (--no-chromogen-model: the rules alone)")
    args = ap.parse_args(argv)
    global COLOUR_ONLY, SOX10, CHROMOGEN_MODEL
    COLOUR_ONLY, SOX10, CHROMOGEN_MODEL = args.colour_only, args.sox10, args.chromogen_model
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.real:
        rows = list(real_rows())
    elif args.heldout:
        rows = list(heldout_rows(seeds, 512))
    else:
        rows = list(generated_rows(seeds, tuple(args.protocols), args.per_seed, args.size))
    if args.verbose:
        for g, _truth, lab, gu in rows:
            print(f"{g} | {lab} | {gu.name} | amb={gu.ambiguous} | {gu.chromogen_deg:+.1f} | pink {gu.pink_share:.2f} "
                  f"| red dense {gu.red_dense:.2f} "
                  f"| marker {gu.marker or '-'} | {_places_text(gu)} | {gu.reason}")
    print(confusion(rows, PROTOCOLS))
    if any(t.startswith("H-DAB-") for _, t, _, _ in rows) and not (args.real or args.heldout):
        print()
        print(marker_summary(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
