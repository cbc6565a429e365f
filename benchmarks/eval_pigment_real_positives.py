"""Real annotated Ki67 positives read as ``pigment`` (unassessable) by the pipeline (issue #14).

The real Ki67 sets hold no melanin: every nucleus the pipeline classes ``pigment`` there is a
false unassessable, and an annotated positive classed ``pigment`` is a strong DAB nucleus taken
for melanin (for the near-black rules of ``PigmentParams.saturated_*`` and
``Ki67Params.pigment_saturated_*`` the share must stay ~0). Per dataset: annotated positives,
those matched (``accuracy.MATCH_UM``) to a detected nucleus classed ``pigment``, and all detected
nuclei classed ``pigment``. Research-only sets: validation only.

    PYTHONPATH=. .venv/bin/python benchmarks/eval_pigment_real_positives.py [DATASET_DIR ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accuracy import MATCH_UM, dataset_mpp, load_dataset, match_points, measure_pipeline  # noqa: E402

DEFAULT = [HERE.parent.parent / "shared" / "data" / "ki67" / name for name in ("bcdata", "shidc", "deepliif")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", type=Path, default=DEFAULT)
    args = ap.parse_args()
    print("| set | images | annotated positives | positives read `pigment` | detected nuclei `pigment` (of) |")
    print("|---|---:|---:|---:|---:|")
    for folder in args.datasets:
        mpp = dataset_mpp(folder)
        n_pos = pos_pig = n_pig = n_det = 0
        for item in load_dataset(folder):
            meas = measure_pipeline(item.rgb, mpp)
            m = match_points(meas.points, item.points, MATCH_UM / mpp)
            lab = item.labels[m[:, 1]]
            cls = meas.cls[m[:, 0]]
            n_pos += int((item.labels == "positive").sum())
            pos_pig += int(((lab == "positive") & (cls == "pigment")).sum())
            n_pig += int((meas.cls == "pigment").sum())
            n_det += len(meas.cls)
        print(f"| {folder.name} | {len(load_dataset(folder))} | {n_pos} | {pos_pig} ({100.0 * pos_pig / max(1, n_pos):.2f} %) "
              f"| {n_pig} ({n_det}) |")


if __name__ == "__main__":
    main()
