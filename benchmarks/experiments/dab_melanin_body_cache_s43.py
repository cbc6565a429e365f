"""Dev cache for the H-DAB drawn-melanin guard of session 43 H1 (#14; dev data only).

Per tile (generated H-DAB pigment families on dev seeds, EndoNuke DEV / VAL tiles), saves to ``OUT/<name>.npz``:
the pigment stage's mask, its brown-body labels, the body model's melanin probability of each body (the first
call in the stage's learned body veto), the drawn-melanin model's probability within ``DAB_MELANIN_REACH_UM`` of
the whole stage mask (no guard), and (generated) the tissue and drawn truth. The guards are then scored from the
cache by ``dab_melanin_body_dev_s43.py`` without running the models again.

    PYTHONPATH=. python benchmarks/experiments/dab_melanin_body_cache_s43.py /tmp/cache --seeds 7000 7001
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

DEV = set(range(7000, 7040)) | set(range(7140, 7148))


def _capture() -> dict:
    import mmnst_path.classify._pigment_bodies as B
    import mmnst_path.classify.pigment as P

    seen: dict = {}
    first = B.body_melanin_probability

    def body_p(x, model):
        p = first(x, model)
        seen.setdefault("body_p", np.asarray(p, np.float32).copy())
        return p

    def record(rgb, mask, *, mpp, params, background=None, stage=None, nuclei=None):
        from mmnst_path.detect._pigment_gate import brown_body_labels

        bodies, chans = nuclei
        labels = bodies.labels if bodies is not None else brown_body_labels(chans[0], chans[4], mpp, params)[0]
        seen.update(mask=mask, labels=labels, from_bodies=bodies is not None)
        return mask

    B.body_melanin_probability = body_p
    P._stage_melanin = record
    return seen


def _save(out: Path, name: str, rgb, mpp, seen, model, **extra) -> None:
    from mmnst_path.classify._pigment_dab_melanin import dab_melanin_mask

    stage = seen.get("mask")
    if stage is None:
        stage = np.zeros(rgb.shape[:2], bool)
    prob = np.zeros(rgb.shape[:2], np.float32)
    if stage.any():
        _, prob = dab_melanin_mask(rgb, stage, mpp=mpp, model=model, min_seed_um2=0.0)
    labels = seen.get("labels")
    p = seen.get("body_p")
    if labels is None or p is None or not seen.get("from_bodies") or len(p) != int(labels.max()):
        p = np.full(0 if labels is None else int(labels.max()), np.nan, np.float32)
    np.savez_compressed(out / f"{name}.npz", stage=stage, labels=np.zeros(stage.shape, np.int32) if labels is None
                        else labels.astype(np.int32), body_p=p, prob=prob.astype(np.float16), mpp=mpp, **extra)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seeds", type=int, nargs="*", default=[])
    ap.add_argument("--endonuke", nargs="*", default=[], choices=("dev", "val"))
    args = ap.parse_args()
    if not set(args.seeds) <= DEV:
        ap.error(f"dev seeds are 7000-7039 and 7140-7147, got {args.seeds}")
    args.out.mkdir(parents=True, exist_ok=True)
    from _pigment_endonuke import endonuke_files
    from mmnst_path.classify._pigment_dab_melanin import resolve_dab_melanin_model
    from PIL import Image

    from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.stain import get_preset
    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    seen = _capture()
    stage_model, model = resolve_pigment_model("default"), resolve_dab_melanin_model("default")
    params, stains = PigmentParams(), get_preset("H-DAB")
    for seed in args.seeds:
        for fam in PIGMENT_FAMILIES:
            tile = pigment_family_tile(seed, fam, chromogen="dab", size=384, drawn_melanin=True)
            seen.clear()
            classify_pigment(tile.rgb, mpp=tile.mpp, model=stage_model, stains=stains, params=params)
            _save(args.out, f"gen_{seed}_{fam}", tile.rgb, tile.mpp, seen, model, tissue=tile.masks["tissue"],
                  truth=tile.masks["melanin_drawn"])
        print(f"seed {seed} done", flush=True)
    for part in args.endonuke:
        for path, mpp in endonuke_files(Path("/work/shared/train"), (part,)):
            rgb = np.asarray(Image.open(path).convert("RGB"))
            seen.clear()
            classify_pigment(rgb, mpp=mpp, model=stage_model, stains=stains, params=params)
            _save(args.out, f"en{part}_{path.parent.name}_{path.stem}", rgb, mpp, seen, model)
        print(f"endonuke {part} done", flush=True)


if __name__ == "__main__":
    main()
