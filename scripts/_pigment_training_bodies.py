"""The brown-body model's training (``train_pigment_model.py --bodies``) and the state both of that script's trainers share.

Split out of ``scripts/train_pigment_model.py`` (session 29) to keep it under ~600 lines; that script imports every
name here back, so ``train_pigment_model.body_rows`` and the others keep working. ``WHITE_POINT`` and ``ENDONUKE``
are the settings of ``--white-point``, ``--endonuke-parts`` and ``--no-granules``, set by its ``main()``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _pigment_endonuke import endonuke_files, split_card

from mmnst_path.classify._pigment_bodies import ALL_FEATURES
from mmnst_path.classify._pigment_relative import RELATIVE_FEATURES
from mmnst_path.classify.pigment import (
    BODY_CLASSES,
    OBJECT_FEATURES,
    body_feature_specs,
    body_object_features,
    pigment_probability,
    resolve_pigment_model,
)
from mmnst_path.classify.train import train_model
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

#: ``--white-point``: optical density against each tile's glass colour
#: (:func:`mmnst_path.stain.guess.estimate_white_point`, 255 where no glass is visible) instead of 255
WHITE_POINT = {"on": False}

#: ``--endonuke-parts``: the parts of the fixed EndoNuke split (scripts/_pigment_endonuke.py) trained on (None:
#: every tile, as shipped); ``--no-granules``: the pixel columns without the granule ones (None: every column)
ENDONUKE: dict = {"parts": None, "names": None}


def _background(rgb: np.ndarray) -> tuple[float, float, float] | None:
    """The white point the rows of ``rgb`` are computed against (None: 255)."""
    if not WHITE_POINT["on"]:
        return None
    from mmnst_path.stain.guess import estimate_white_point

    return estimate_white_point(rgb, None)


def _body_rows_of(rgb: np.ndarray, mpp: float, pixel_model, params,
                  relative: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(body labels, (n, F) body features) of one H-DAB tile, as classify_pigment computes them
    (``relative``: also the columns read against the tile's own nuclei, ``ALL_FEATURES``)."""
    from mmnst_path.detect._pigment_gate import brown_body_labels
    from mmnst_path.detect.pigment import pigment_channels, pigment_gate
    from mmnst_path.stain import load_stains, od_from_rgb

    stains = load_stains("H-DAB")
    bg = _background(rgb)
    chans = pigment_channels(rgb, stains=stains, params=params, background=bg, _with_hematoxylin=True)
    gate, _ = pigment_gate(rgb, mpp=mpp, stains=stains, params=params, background=bg, bodies=False,
                           min_od=params.model_min_od, _channels=chans)
    prob, _ = pigment_probability(rgb, mpp=mpp, model=pixel_model, background=bg, where=gate)
    labels, n = brown_body_labels(chans[0], chans[4], mpp, params)
    if n == 0:
        return labels, np.zeros((0, len(ALL_FEATURES if relative else OBJECT_FEATURES)), np.float32)
    return labels, body_object_features(labels, n, od_from_rgb(rgb, background=bg), chans[0], chans[4], prob,
                                        prob >= params.min_probability, mpp, relative=relative)


def _opt(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values else None


#: families rendered once more with near-black, saturated melanin (``--near-black``)
NEAR_BLACK_FAMILIES = ("coarse", "confluent", "over_nucleus", "whole_cell", "melanophage", "spindle")


def body_rows(seeds: range, pixel_model, params, size: int,
              families: tuple[str, ...] = PIGMENT_FAMILIES,
              appearances: tuple[str, ...] = ("varied", "plain"),
              near_black: tuple[str, ...] = (), tan: bool = False,
              clumps: bool = False, relative: bool = False,
              dab_strength: str | None = None, strength_families: tuple[str, ...] | None = None,
              strength_appearances: tuple[str, ...] | None = None,
              saturated: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Brown-body rows of generated DAB tiles (each of ``appearances``; odd seeds at 0.25 µm/px);
    the families in ``near_black`` also with near-black melanin (``pigment_family_tile(near_black=True)``);
    ``tan``: every family once more with faint tan background staining (``tan_background=True``);
    ``clumps``: every pigmented family once more with packed melanin masses and saturated DAB positives
    (``melanin_clumps=True, saturated_positives=True``: the masses' hard negative);
    ``dab_strength``: every family once more with that strength of the DAB positives
    (``pigment_family_tile(dab_strength=...)``, e.g. ``"endonuke"``: as dark as real ER/PR DAB), only the
    families ``strength_families`` and appearances ``strength_appearances`` when given; ``saturated``: every
    family once more with near-black, saturated Ki67 positives and no added melanin (``saturated_positives=True``:
    round black DAB bodies, session 29)."""
    xs, ys = [], []
    runs = [(fam, False, False, False, None, False) for fam in families]
    runs += [(fam, True, False, False, None, False) for fam in near_black]
    runs += [(fam, False, True, False, None, False) for fam in families] if tan else []
    runs += [(fam, False, False, True, None, False) for fam in families if fam != "none"] if clumps else []
    runs += ([(fam, False, False, False, dab_strength, False) for fam in families
              if strength_families is None or fam in strength_families] if dab_strength else [])
    runs += [(fam, False, False, False, None, True) for fam in families] if saturated else []
    for fam, black, tinted, lumps, strength, sat in runs:
        for seed in seeds:
            for appearance in appearances:
                if strength is not None and strength_appearances is not None and appearance not in strength_appearances:
                    continue
                mpp = 0.25 if seed % 2 else 0.5
                tile = pigment_family_tile(seed, fam, chromogen="dab", size=size if mpp == 0.5 else 2 * size,
                                           mpp=mpp, appearance=appearance, near_black=black, tan_background=tinted,
                                           melanin_clumps=lumps, saturated_positives=lumps or sat,
                                           dab_strength=strength)
                labels, x = _body_rows_of(tile.rgb, tile.mpp, pixel_model, params, relative)
                if not len(x):
                    continue
                n = len(x)
                area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
                mel = np.bincount(labels.ravel(), weights=tile.masks["melanin"].ravel().astype(np.float64),
                                  minlength=n + 1)[1:]
                xs.append(x)
                ys.append((mel >= 0.5 * area).astype(np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def real_body_rows(train: Path, pixel_model, params, relative: bool = False) -> tuple[np.ndarray, list[str]]:
    """Every brown body of the EndoNuke ER/PR tiles (DAB nuclei, no melanin)."""
    from PIL import Image

    files = endonuke_files(train, ENDONUKE["parts"])
    xs, used = [], []
    for f, mpp in files:
        _, x = _body_rows_of(np.asarray(Image.open(f).convert("RGB")), mpp, pixel_model, params, relative)
        if len(x):
            xs.append(x)
            used.append(str(f.relative_to(train)))
    return np.concatenate(xs), used


#: body features whose range over the melanin training bodies bounds where the body model answers
#: (texture and darkness: real DAB scans reach values no generated body has)
GUARDED = ("od_cv", "maxima", "log_dark", "brown_od")


def train_bodies(args: argparse.Namespace) -> None:
    from mmnst_path.detect.pigment import PigmentParams

    t0 = time.perf_counter()
    params = PigmentParams() if args.model_min_od is None else PigmentParams(model_min_od=args.model_min_od)
    pixel_model = resolve_pigment_model(args.pixel_model)
    assert pixel_model is not None
    apps = tuple(args.appearances or ("varied", "plain"))
    black = NEAR_BLACK_FAMILIES if args.near_black else ()
    xg, yg = body_rows(range(1000, 1000 + args.seeds), pixel_model, params, args.size, appearances=apps,
                       near_black=black, tan=args.tan_background, clumps=args.clumps, relative=args.relative,
                       dab_strength=args.dab_strength, strength_families=_opt(args.dab_strength_families),
                       strength_appearances=_opt(args.dab_strength_appearances), saturated=args.saturated_positives)
    xr, used = real_body_rows(args.train, pixel_model, params, args.relative)
    xv, yv = body_rows(range(2000, 2002), pixel_model, params, args.size, appearances=apps, near_black=black,
                       tan=args.tan_background, clumps=args.clumps, relative=args.relative,
                       dab_strength=args.dab_strength, strength_families=_opt(args.dab_strength_families),
                       strength_appearances=_opt(args.dab_strength_appearances), saturated=args.saturated_positives)
    x, y = np.concatenate([xg, xr]), np.concatenate([yg, np.zeros(len(xr), np.int64)])
    mel = xg[yg == 1]
    ranges = {name: [float(v) for v in np.percentile(mel[:, OBJECT_FEATURES.index(name)], [1, 99])]
              for name in GUARDED}
    print(f"body rows: generated {len(yg)} ({int(yg.sum())} melanin), EndoNuke {len(xr)} from {len(used)} "
          f"images, validation {len(yv)}; {time.perf_counter() - t0:.0f} s; ranges {ranges}")
    card = {
        "name": "mmnst_path H-DAB brown-body model (DAB-positive nucleus or melanin)",
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": ("decides for each brown body of the H-DAB pigment gate (a nucleus-sized area brown all "
                         "over) whether it is melanin or a DAB-positive nucleus, on the probabilities of "
                         f"pigment_dab.mmnst ({pixel_model.model_id}); 0.25-0.5 µm/px"),
        "training_data": {
            "generated": (f"mmnst_path.synthetic.pigment_family_tile seeds 1000-{999 + args.seeds}, DAB, families "
                          f"{list(PIGMENT_FAMILIES)}, appearances {list(apps)}"
                          + (f", and {list(black)} again with near-black saturated melanin (near_black=True)"
                             if black else "")
                          + (", and every family again with faint tan background staining (tan_background=True)"
                             if args.tan_background else "")
                          + (", and every pigmented family again with packed melanin masses and saturated DAB "
                             "positives (melanin_clumps=True, saturated_positives=True)" if args.clumps else "")
                          + (f", and {args.dab_strength_families or 'every family'} again"
                             + (f" ({args.dab_strength_appearances} only)" if args.dab_strength_appearances else "")
                             + f" with DAB positives drawn from the range measured on EndoNuke (dab_strength="
                             f"{args.dab_strength!r}; Naumov et al., Data 2022, CC BY 4.0)" if args.dab_strength else "")
                          + (", and every family again with near-black saturated Ki67 positives and no added "
                             "melanin (saturated_positives=True)" if args.saturated_positives else "")
                          + f", even seeds {args.size} px at "
                          f"0.5 µm/px, odd seeds {2 * args.size} px at 0.25 µm/px (generated by this project); "
                          "label melanin when the true melanin mask covers >= 50 % of the body"),
            "real_negatives": ("EndoNuke ER/PR IHC (Naumov et al., Data 2022, CC BY 4.0; mixed/ at 0.5 µm/px, "
                               "staining_ds/ at 0.25 µm/px): every brown body a DAB body"),
            "n_real_images": len(used),
        },
        "relative_features": (("reads " + ", ".join(RELATIVE_FEATURES) + ": the body against the tile's own "
                               "hematoxylin nuclei (mmnst_path.classify._pigment_relative)") if args.relative else
                              "none"),
        "ranges": ("the model answers only where every feature of " + ", ".join(GUARDED) + " lies within the "
                   "1st-99th percentile of the melanin training bodies (settings.ranges); elsewhere a body is DAB"),
        "not_trained_on": "the research-only Ki67 sets of ../shared/data/ki67 (used for the false-pigment check only)",
        "script": "scripts/train_pigment_model.py --bodies",
        "optical_density": "against each tile's glass colour" if args.white_point else "against 255",
    }
    card["training_data"].update(split_card(args, ENDONUKE["parts"]))
    card["gate"] = f"trained on the bodies of the H-DAB gate at model_min_od {params.model_min_od}"
    settings = {"target": "pigment_bodies", "pixel_model_id": pixel_model.model_id, "ranges": ranges}
    model = train_model(x, y, kind="tissue", classes=BODY_CLASSES, features=body_feature_specs(args.relative),
                        settings=settings, card=card, validation=(xv, yv), n_estimators=args.trees,
                        max_depth=12, min_samples_leaf=3)
    path = model.save(args.out)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")
    print("validation:", model.card.get("validation"))
    print("top features:", model.card.get("top_features"))
