"""Train the pigment gate (``mmnst_path/models/pigment_gate.mmnst``, issue #14 / #16).

Usage::

    .venv/bin/python scripts/train_pigment_gate.py [--seeds 6] [--train ../shared/train] [--out FILE]

Rows: the 2 µm blocks of :func:`mmnst_path.classify._pigment_gate.gate_features` (blocks whose
darkest pixel reaches ``min_od``).

- Generated (this project's :func:`mmnst_path.synthetic.pigment_family_tile`): seeds 3000 ...
  3000 + ``--seeds`` - 1, every pigment family (``none`` included) x DAB / AEC / Fast Red /
  eosin, 384 px at 0.5 µm/px; DAB also in the ``plain`` and ``wide`` appearances and with
  near-black melanin and saturated positives (``near_black=True``). A block is ``melanin`` when the
  true melanin mask touches it.
- Real negatives (permissive, ``/work/shared/train``): EndoNuke ER/PR IHC (DAB + hematoxylin, CC BY
  4.0), Kather NCT-CRC-HE (CC BY 4.0) and BRCA-M2C H&E (BSD-3-Clause): every block ``other``.
- Never the research-only Ki67 sets (BCData, SHIDC, DeepLIIF): those only validate.

The block threshold is the largest one at which the validation seeds (``--val-seeds``, generated, the
same mix) keep at least ``--recall`` of their true melanin pixels in blocks at or above it; it is
stored in the model's settings with ``min_blocks`` = 1.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from mmnst_path.classify._pigment_gate import GateSettings, block_px, gate_feature_specs, gate_features
from mmnst_path.synthetic import FAMILY_CHROMOGENS, PIGMENT_FAMILIES, pigment_family_tile

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ("other", "melanin")


def variants() -> list[tuple[str, str | None, bool]]:
    """(chromogen, appearance, near_black) of the generated tiles of one seed and family."""
    out: list[tuple[str, str | None, bool]] = [(c, None, False) for c in FAMILY_CHROMOGENS]
    out += [("dab", "plain", False), ("dab", "wide", False), ("dab", None, True)]
    return out


def generated_tiles(seeds: Iterable[int], cache: Path | None = None) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, rgb at 0.5 µm/px, true melanin mask) of every generated training tile (``cache``: a
    folder where the rendered tiles are kept and read back by a later run)."""
    for seed in seeds:
        for family in PIGMENT_FAMILIES:
            for chromogen, appearance, near_black in variants():
                name = f"{seed}/{family}/{chromogen}/{appearance}/{int(near_black)}"
                path = None if cache is None else cache / (name.replace("/", "_") + ".npz")
                if path is not None and path.exists():
                    with np.load(path) as f:
                        yield name, f["rgb"], f["melanin"]
                    continue
                tile = pigment_family_tile(seed, family, chromogen=chromogen, appearance=appearance,
                                           near_black=near_black and family != "none")
                mask = np.asarray(tile.masks["melanin"], bool)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savez(path, rgb=tile.rgb, melanin=mask)
                yield name, tile.rgb, mask


def block_truth(mask: np.ndarray, where: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(true melanin pixels per gate block (R, C), the same at the classified blocks ``where``)."""
    nr, nc = where.shape
    m, n = mask.shape
    padded = np.zeros((nr * b, nc * b), np.int32)
    padded[:m, :n] = mask
    per = padded.reshape(nr, b, nc, b).sum(axis=(1, 3))
    return per, per[where]


def real_tiles(train: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(name, rgb at 0.5 µm/px) of the melanin-free real training tiles."""
    from PIL import Image

    from mmnst_path.io._resample import resize_area

    files = [(p, 0.5) for p in sorted((train / "endonuke" / "mixed").glob("*.png"))]
    files += [(p, 0.25) for p in sorted((train / "endonuke" / "staining_ds").glob("*.png"))]
    files += [(p, 0.5) for p in sorted((train / "kather_nct_crc_he").rglob("*"))
              if p.suffix.lower() in (".tif", ".png", ".jpg")]
    files += [(p, 0.5) for p in sorted((train / "brca_m2c" / "mixed").glob("*.png"))]
    for f, mpp in files:
        rgb = np.ascontiguousarray(np.asarray(Image.open(f).convert("RGB")))
        if mpp != 0.5:
            rgb = resize_area(rgb, (round(rgb.shape[0] * mpp / 0.5), round(rgb.shape[1] * mpp / 0.5)))
        yield str(f.relative_to(train)), rgb


def generated_rows(seeds: Iterable[int], settings: GateSettings, cache: Path | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(features, labels, true melanin pixels per row, tile names) of the generated tiles."""
    xs, ys, ws, names = [], [], [], []
    b = block_px(0.5, settings)
    for name, rgb, mask in generated_tiles(seeds, cache):
        x, where = gate_features(rgb, mpp=0.5, settings=settings)
        per, at = block_truth(mask, where, b)
        xs.append(x)
        ys.append((at > 0).astype(np.int64))
        ws.append(at)
        names.append(name)
        if int(per.sum()) != int(at.sum()):
            print(f"  {name}: {int(per.sum() - at.sum())} true melanin px in blocks below min_od")
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws), names


def pick_threshold(proba: np.ndarray, weight: np.ndarray, recall: float) -> float:
    """The largest threshold whose blocks at or above it hold ``recall`` of ``weight``."""
    order = np.argsort(proba)[::-1]
    kept = np.cumsum(weight[order]) / max(float(weight.sum()), 1.0)
    i = int(np.searchsorted(kept, recall))
    return float(proba[order][min(i, order.size - 1)])


def main(argv: list[str] | None = None) -> int:
    from mmnst_path.classify.train import train_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6, help="generated training seeds (3000, 3001, ...)")
    ap.add_argument("--train", type=Path, default=ROOT.parent / "shared" / "train")
    ap.add_argument("--out", type=Path, default=ROOT / "mmnst_path" / "models" / "pigment_gate.mmnst")
    ap.add_argument("--val-seeds", type=int, nargs="+", default=[3900, 3901],
                    help="generated seeds that set the block threshold (not trained on)")
    ap.add_argument("--real-rows", type=int, default=250_000,
                    help="real negative rows drawn (at random, fixed seed) from all blocks of the real tiles")
    ap.add_argument("--recall", type=float, default=0.999,
                    help="share of the validation seeds' true melanin pixels kept in open blocks")
    ap.add_argument("--trees", type=int, default=24)
    ap.add_argument("--version", default="1")
    ap.add_argument("--cache", type=Path, help="keep the rendered training tiles here (and read them back)")
    ap.add_argument("--add-evaluation", type=Path, default=None, metavar="JSON",
                    help="do not train: merge this JSON (benchmark figures) into the card of the model at --out "
                         "as card['evaluation'] and save it again")
    args = ap.parse_args(argv)
    if args.add_evaluation is not None:
        import json

        from mmnst_path.classify import load_model

        model = load_model(args.out, kind="tissue")
        model = replace(model, card={**model.card,
                                     "evaluation": json.loads(args.add_evaluation.read_text(encoding="utf-8"))})
        model.save(args.out)
        print(f"wrote {args.out} ({load_model(args.out).model_id})")
        return 0
    t0 = time.perf_counter()
    settings = GateSettings()
    xg, yg, _, tiles = generated_rows(range(3000, 3000 + args.seeds), settings, args.cache)
    xr, used = [], []
    for name, rgb in real_tiles(args.train):
        xr.append(gate_features(rgb, mpp=0.5, settings=settings)[0])
        used.append(name)
    xrn = np.concatenate(xr)
    xrn = xrn[np.sort(np.random.default_rng(0).choice(len(xrn), min(len(xrn), args.real_rows), replace=False))]
    xv, yv, wv, _ = generated_rows(args.val_seeds, settings, args.cache)
    print(f"rows: generated {len(yg)} ({int(yg.sum())} melanin) from {len(tiles)} tiles, real {len(xrn)} from "
          f"{len(used)} tiles, validation {len(yv)}; {time.perf_counter() - t0:.0f} s")
    x = np.concatenate([xg, xrn])
    y = np.concatenate([yg, np.zeros(len(xrn), np.int64)])
    card = {
        "name": "mmnst_path pigment gate (could this tile hold melanin?)",
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": ("per tile, before the pigment pixel model: a 2 µm block whose coarse colour, darkness and "
                         "granularity could be melanin opens the tile; tiles with no such block skip the pixel "
                         "model (no melanin). Tuned for recall: a false opening only costs time. H-DAB, H-AEC, "
                         "H-Fast Red and H&E at 0.25-0.5 µm/px analysis resolution"),
        "training_data": {
            "generated": (f"mmnst_path.synthetic.pigment_family_tile seeds 3000-{2999 + args.seeds}, families "
                          f"{list(PIGMENT_FAMILIES)} x chromogens {list(FAMILY_CHROMOGENS)} (default appearance), "
                          "DAB also 'plain', 'wide' and near_black=True; 384 px at 0.5 µm/px (generated by this "
                          "project); a block is melanin when the true melanin mask touches it"),
            "real_negatives": ("EndoNuke ER/PR IHC (Naumov et al., Data 2022, CC BY 4.0), Kather NCT-CRC-HE "
                               "(CC BY 4.0), BRCA-M2C H&E (BSD-3-Clause): every block other"),
            "n_real_images": len(used),
        },
        "not_trained_on": "the research-only Ki67 sets of ../shared/data/ki67 (validation only)",
        "script": "scripts/train_pigment_gate.py",
        "optical_density": "against 255, or the stain matrix's white point when the pipeline has one",
    }
    model = train_model(x, y, kind="tissue", classes=CLASSES, features=gate_feature_specs(),
                        settings=settings.to_mapping(), card=card, validation=(xv, yv), n_estimators=args.trees,
                        max_depth=12, min_samples_leaf=8, max_samples=0.3)
    proba = model.predict_proba(xv)[:, 1]
    thr = pick_threshold(proba, wv.astype(np.float64), args.recall)
    tuned = GateSettings(block_um=settings.block_um, min_od=settings.min_od, threshold=thr, min_blocks=1)
    model = replace(model, settings=tuned.to_mapping(), card={
        **model.card, "threshold": (f"{thr:.4f}: the largest block threshold keeping {args.recall:.1%} of the true "
                                    f"melanin pixels of the validation seeds {args.val_seeds} in open blocks")})
    path = model.save(args.out)
    kept = float(wv[model.predict_proba(xv)[:, 1] >= thr].sum() / max(wv.sum(), 1))
    print(f"threshold {thr:.4f}: validation melanin pixels kept {kept:.4%}; saved {path} "
          f"({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")
    print("top features:", model.card.get("top_features"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
