"""Session 36 H2 gate 2: BRCA-M2C test split re-rendered as hematoxylin-DAB, what the nucleus model keeps.

Each image of BRCA-M2C's official **test** split (``_meta/brca_ds_test.txt``) is re-rendered ``--restain`` times
as hematoxylin-DAB with ``scripts/_nucleus_restain.restain_as_ihc`` (model 1.2.0's recipe: DAB painted into
tumour 40 % / lymphocyte 10 % / stromal 8 % of nuclei, chromogen core 0-1.5 µm; generator seed ``--seed``), its
nuclei detected and described as ``scripts/train_nucleus_model.py`` does (``image_rows``: one-to-one match within
4 µm, nuclei within 6 µm of the edge left out), and the model's decision (``types_from_proba`` of the tree on
``PYTHONPATH``) read per annotated class: the share of lymphocytes kept as tumour, of tumour nuclei excluded,
of stromal nuclei kept. The rows are cached in ``--rows`` (the feature code is the same in HEAD and candidate;
the decision is each tree's own).

    cd TREE && PYTHONPATH=. python benchmarks/experiments/keep_gate_brca_s36.py --rows /tmp/brca_test_rows.npz \
        [--cell-model FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

TU, LY, ST = 0, 1, 2


def test_rows(root: Path, restain: int, seed: int, settings) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and annotated class of the matched nuclei of the re-rendered test split."""
    here = Path(__file__).resolve().parents[2] / "scripts"
    sys.path.insert(0, str(here))
    import train_nucleus_model as tnm
    from _nucleus_restain import restain_as_ihc
    from _training_data import read_rgb

    from mmnst_path.classify import NucleusFeatureSettings

    settings = NucleusFeatureSettings() if settings is None else settings  # the model's (session 37: local_cues_um)
    test = {s.strip() for s in (root / "brca_m2c" / "_meta" / "brca_ds_test.txt").read_text().split() if s.strip()}
    mapping = {1: LY, 2: TU, 3: ST}
    rng = np.random.default_rng([seed, 36])
    xs, ys = [], []
    for txt in sorted((root / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt")):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        if not (img.stem in test or img.name in test) or not img.is_file():
            continue
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0:
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        rgb = read_rgb(img)
        for _ in range(restain):
            ihc = restain_as_ihc(rgb, pts[:, :2], cls, rng, None, 0.0, 1.5, "dab")
            x, y = tnm.image_rows(ihc, pts[:, :2], cls, ihc=True, settings=settings, preset="H-DAB")
            xs.append(x)
            ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    ap.add_argument("--rows", type=Path, required=True, help="npz cache of the test rows (written when absent)")
    ap.add_argument("--restain", type=int, default=4)
    ap.add_argument("--seed", type=int, default=36)
    ap.add_argument("--cell-model", type=Path, default=None, help="default: the tree's nucleus_default.mmnst")
    args = ap.parse_args()
    import mmnst_path
    from mmnst_path.classify import load_model
    from mmnst_path.classify.cells import feature_settings, types_from_proba

    path = args.cell_model or Path(mmnst_path.__file__).parent / "models" / "nucleus_default.mmnst"
    model = load_model(path, kind="nucleus")
    if args.rows.is_file():
        with np.load(args.rows) as z:
            x, y = z["x"], z["y"]
    else:
        x, y = test_rows(args.train, args.restain, args.seed, feature_settings(model))
        np.savez(args.rows, x=x, y=y)
    if x.shape[1] != len(model.feature_names):
        raise SystemExit(f"--rows {args.rows} has {x.shape[1]} columns, the model reads {len(model.feature_names)}: "
                         "write the rows with this model's feature settings (another --rows path)")
    types, _ = types_from_proba(model, model.predict_proba(x))
    kept = types == "tumour"
    print(f"tree {Path(mmnst_path.__file__).parent.parent}, model {path} {model.card.get('version')}")
    print(f"rows: tumour {int((y == TU).sum())}, lymphocyte {int((y == LY).sum())}, stromal {int((y == ST).sum())}")
    print(f"lymphocytes kept as tumour % {100 * float(np.mean(kept[y == LY])):.6f}")
    print(f"tumour nuclei excluded % {100 * float(np.mean(~kept[y == TU])):.6f}")
    print(f"stromal nuclei kept % {100 * float(np.mean(kept[y == ST])):.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
