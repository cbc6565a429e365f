"""Session 42 H9 (H5's walk #2): how often the named-stains check warns on the real images of ../shared/data.

Every image is checked twice, named H-DAB and named H&E, with the run's own code path: tissue detection
(:func:`mmnst_path.tiling.detect_tissue` at the config's ``tissue_mpp``) and
:func:`mmnst_path.pipeline._stain_check.check_named_stains`. A warning on an IHC image named H-DAB, or on an H&E
image named H&E, is a false warning; one on the other name is the check doing its job. Validation only: the
threshold (:data:`~mmnst_path.pipeline._stain_check.CONTRADICTION_PROBABILITY`, 0.9) was fixed before this ran.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/named_stains_check_s42.py [DATA_DIR]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._stain_check import check_named_stains
from mmnst_path.stain import get_preset
from mmnst_path.tiling import detect_tissue


def _sets(data: Path) -> list[tuple[str, str, float, list[Path]]]:
    ki67 = data / "ki67"
    return [
        ("bcdata", "IHC", 0.25, sorted((ki67 / "bcdata").glob("*.png"))),
        ("shidc", "IHC", 0.21, sorted((ki67 / "shidc").glob("*.jpg"))),
        ("deepliif", "IHC", 0.31, sorted((ki67 / "deepliif").glob("*.png"))),
        ("skimage_ihc", "IHC", 0.5, [data / "ihc" / "skimage_ihc.png"]),
        ("necrosis (H&E)", "H&E", 1.0, sorted((data / "necrosis").glob("*.jpg"))),
    ]


def main(data: Path) -> None:
    config = AnalysisConfig()
    rows = []
    for name, truth, mpp, files in _sets(data):
        for f in files:
            rgb = np.asarray(Image.open(f).convert("RGB"))
            reader = ArrayReader(rgb, mpp=mpp)
            tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
            out = {}
            for named in ("H-DAB", "H&E"):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    check = check_named_stains(tissue, get_preset(named), source=f.name)
                said = any("stains named" in str(w.message) for w in caught)
                out[named] = (said, None if check is None else check["he_probability"], None if check is None else check["guess"])
            rows.append((name, truth, f.name, out))
            p = out["H-DAB"][1]
            print(f"{name:15s} {f.name:24s} truth {truth:4s} guess {out['H-DAB'][2]!s:8s} p_HE {p!s:7s} "
                  f"warns named H-DAB: {out['H-DAB'][0]!s:5s} named H&E: {out['H&E'][0]!s:5s}", flush=True)
    false = sum(1 for _, t, _, o in rows if (t == "IHC" and o["H-DAB"][0]) or (t == "H&E" and o["H&E"][0]))
    caught = sum(1 for _, t, _, o in rows if (t == "IHC" and o["H&E"][0]) or (t == "H&E" and o["H-DAB"][0]))
    print(f"images {len(rows)}; false warnings (the right stains named) {false} of {len(rows)}; "
          f"warnings on the wrong name {caught} of {len(rows)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "shared" / "data")
