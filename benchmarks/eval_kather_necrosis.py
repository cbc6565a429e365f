"""Necrosis read on the real Kather colorectal H&E tiles of the training pack, at 20x and finer.

The only real necrosis at <= 0.55 µm/px (where the intact-nucleus veto runs) in the project's data:
NCT-CRC-HE ``DEB`` (debris / necrosis, 224² at 0.5 µm/px), the one tile of group ``necrosis``. Kather 2016
``05_DEBRIS`` (224² at ~0.331 µm/px) mixes debris, mucus and blood; ``scripts/train_tissue_model.py``
(``K16_DEBRIS``) labels six of its tiles mucin and one blood, and the other five, looked at, are fibres and
collagen with a few fragments, not coagulative necrosis: they form the groups ``debris:mucin``,
``debris:blood`` and ``debris:unlabelled``, apart (a veto that removes the model's necrosis there is right, not
a loss). Every other class (tumour, stroma, lymphocytes, mucosa, muscle, NCT's mucus ``MUC``, ...) is viable
tissue: its necrosis is false. The tiles trained the shipped tissue model (see ``scripts/train_tissue_model.py``),
so the model's reading is not validation of the model; this script checks what the veto (and any variant of it,
through ``--param NAME=VALUE`` on :class:`~mmnst_path.quantify.necrosis.NecrosisParams`) does to it.

Prints one row per tile (group, class, necrosis % of tissue) and the means per group; ``--json FILE`` writes the
figures; ``--forced`` adds the share of each tile's tissue the veto removes when the model's necrosis is forced
onto the whole tile (the model reads the small Kather 2016 debris tiles as no necrosis at all, so without it they
check nothing); ``--out DIR`` writes overlays (tile | necrosis in green; with the membrane test, candidate nuclei ringed:
cyan = passes contrast / surround / fill, magenta = a membrane reaching ``intact_membrane_od``).

    PYTHONPATH=. .venv/bin/python benchmarks/eval_kather_necrosis.py --json /tmp/k.json
    PYTHONPATH=. .venv/bin/python benchmarks/eval_kather_necrosis.py --param intact_veto_density=0
    PYTHONPATH=. .venv/bin/python benchmarks/eval_kather_necrosis.py --forced --param intact_membrane_od=0.04
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mmnst_path.quantify.necrosis import NecrosisParams, mask_to_tile, measure_necrosis, necrosis_metrics

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / ".." / "shared" / "train"
#: (folder under the training pack, µm/px, classes holding real necrosis)
SOURCES = (("kather_nct_crc_he", 0.5, ("DEB",)), ("kather_texture_2016", 0.331, ("05_DEBRIS",)))
#: classes without tissue to speak of (glass, fat): not read as viable checks
SKIP = ("BACK", "08_EMPTY", "ADI", "07_ADIPOSE")
#: groups of :func:`tiles`, in the order they are summed up
GROUPS = ("necrosis", "debris:mucin", "debris:blood", "debris:unlabelled", "viable")


def tiles(train: Path):
    """(group, class, path, mpp): ``group`` is 'necrosis' for NCT's DEB, ``debris:<label>`` for a Kather 2016
    05_DEBRIS tile (its label in the tissue training script, or 'unlabelled'), 'viable' otherwise."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_tissue_model import K16_DEBRIS

    for folder, mpp, necrotic in SOURCES:
        for cls_dir in sorted(p for p in (train / folder).iterdir() if p.is_dir() and not p.name.startswith("_")):
            if cls_dir.name in SKIP:
                continue
            for path in sorted(cls_dir.iterdir()):
                if path.suffix.lower() not in (".tif", ".tiff", ".png", ".jpg", ".jpeg"):
                    continue
                if cls_dir.name == "05_DEBRIS":
                    group = f"debris:{K16_DEBRIS.get(path.name, 'unlabelled')}"
                else:
                    group = "necrosis" if cls_dir.name in necrotic else "viable"
                yield group, cls_dir.name, path, mpp


def _overlay(rgb: np.ndarray, mask: np.ndarray, mpp: float, mask_mpp: float, params: NecrosisParams) -> np.ndarray:
    big = mask_to_tile(mask, rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp)
    ov = rgb.copy()
    ov[big] = (0.5 * ov[big] + [0, 127, 0]).astype(np.uint8)
    thr = float(getattr(params, "intact_membrane_od", 0.0))
    if thr > 0:  # the candidates as the veto sees them on the whole tile
        from mmnst_path.quantify._intact_nuclei import nucleus_peaks

        nuc = nucleus_peaks(rgb, mpp=mpp, stains=params.stains if isinstance(params.stains, str) else "H&E",
                            membrane=True, membrane_h_to_e=params.intact_membrane_h_to_e)
        old = nuc.intact(contrast_od=params.intact_contrast_od, min_surround_tissue=params.intact_surround_tissue,
                         min_fill=params.intact_min_fill)
        mem = nuc.with_membrane(min_membrane_od=thr)
        yy, xx = np.mgrid[: rgb.shape[0], : rgb.shape[1]]
        rad = 3.0 / mpp
        for r, c, colour in [(r, c, (255, 0, 255)) for r, c in zip(nuc.row[mem], nuc.col[mem], strict=True)] + \
                [(r, c, (0, 255, 255)) for r, c in zip(nuc.row[old & ~mem], nuc.col[old & ~mem], strict=True)]:
            ring = np.abs(np.hypot(yy - r, xx - c) - rad) < 0.8
            ov[ring] = colour
    return np.concatenate([rgb, ov], 1)


def forced_veto_pct(rgb: np.ndarray, mpp: float, params: NecrosisParams) -> float:
    """% of the tile's tissue blocks the veto removes when the model's necrosis is forced onto all of its tissue:
    what the veto (and its variants) would do to a necrotic tile the model did call necrosis."""
    from mmnst_path.classify.tissue import classify_tissue
    from mmnst_path.classify.tissue_features import block_mean
    from mmnst_path.quantify._necrosis_model import _intact_veto
    from mmnst_path.quantify.necrosis import _tissue
    from mmnst_path.stain import load_stains, od_from_rgb

    tmap = classify_tissue(rgb, mpp=mpp, model=params.model(), stains=params.stains)
    od = od_from_rgb(rgb, background=load_stains(params.stains).background)
    shape = tmap.labels.shape
    tis = _tissue(block_mean(od, tmap.factor)[: shape[0], : shape[1]], tmap.mpp, params)
    if params.intact_veto_density <= 0 or mpp > params.intact_max_mpp_um or not tis.any():
        return 0.0
    veto = _intact_veto(rgb, od, mpp, params.stains, tis, tmap, params, tis)
    return 100.0 * float(veto.sum()) / float(tis.sum())


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=TRAIN.resolve())
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a NecrosisParams field (float), repeatable")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="folder for overlays")
    ap.add_argument("--forced", action="store_true",
                    help="also the %% of tissue vetoed with the model's necrosis forced onto the whole tile")
    ap.add_argument("--only", default=None, choices=GROUPS, help="one group only")
    args = ap.parse_args(argv)
    fields = {k: float(v) for k, v in (p.split("=", 1) for p in args.param)}
    params = NecrosisParams(**fields)
    rows = []
    for group, cls, path, mpp in tiles(args.train):
        if args.only and group != args.only:
            continue
        rgb = np.asarray(Image.open(path).convert("RGB"))
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp, params=params)
        pct = necrosis_metrics(counts)["necrosis_fraction_pct"]
        row = {"group": group, "class": cls, "tile": f"{path.parent.parent.name}/{cls}/{path.name}",
               "mpp": mpp, "necrosis_pct": float(pct)}
        if args.forced:
            row["forced_vetoed_pct"] = forced_veto_pct(rgb, mpp, params)
        rows.append(row)
        extra = f"  forced: {row['forced_vetoed_pct']:6.2f} % vetoed" if args.forced else ""
        print(f"{group:17s} {cls:10s} {pct:6.2f} %{extra}  {path.name}", flush=True)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            img = _overlay(rgb, mask, mpp, mask_mpp, params)
            h, w = img.shape[:2]
            Image.fromarray(img).resize((2 * 512, round(2 * 512 * h / w))).save(args.out / f"{cls}_{path.stem}.png")
    for group in GROUPS:
        p = [r["necrosis_pct"] for r in rows if r["group"] == group]
        if p:
            print(f"{group}: {len(p)} tiles, necrosis mean {np.mean(p):.2f} %, min {min(p):.2f}, max {max(p):.2f}")
            if args.forced:
                f = [r["forced_vetoed_pct"] for r in rows if r["group"] == group]
                print(f"{group}: forced necrosis, vetoed mean {np.mean(f):.2f} %, max {max(f):.2f} %")
    if args.json is not None:
        args.json.write_text(json.dumps({"params": fields, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
