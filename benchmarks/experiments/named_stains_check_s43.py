"""Session 43 H8 (H7's walk #1): the named-stains check on both axes, on every real image of ../shared/data.

Extends ``named_stains_check_s42.py`` (the H&E-vs-IHC axis) to the IHC axis
(:func:`mmnst_path.pipeline._stain_check.check_named_stains` since session 43: another chromogen, counterstain or
double stain than the stains named, on a guess that is no close call). Every image is checked named by each preset of
its own protocol (IHC: H-DAB, H-DAB-melanin; H&E: H&E, H&E-QuPath, H&E-melanin: a warning there is a false warning)
and by each preset of another protocol (a warning there is the check doing its job), with the run's own code path:
tissue detection at the config's ``tissue_mpp``, then the check (with the image as its reader, as a run passes it).
Validation only: the rule was fixed before this ran (``/work/notes/s43/h8_report.md``): pass when no image
named by a preset of its own protocol warns (0 of 110); the warnings on the wrong names are reported, no threshold.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/named_stains_check_s43.py [DATA_DIR]
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

RIGHT = {"IHC": ("H-DAB", "H-DAB-melanin"), "H&E": ("H&E", "H&E-QuPath", "H&E-melanin")}
WRONG = {"IHC": ("H&E", "H-AEC", "H-FastRed", "AzureB-DAB", "H-DAB-FastRed", "H-DAB-AEC"),
         "H&E": ("H-DAB", "H-AEC", "H-FastRed", "AzureB-DAB", "H-DAB-FastRed")}


def _sets(data: Path) -> list[tuple[str, str, float, list[Path]]]:
    ki67 = data / "ki67"
    return [
        ("bcdata", "IHC", 0.25, sorted((ki67 / "bcdata").glob("*.png"))),
        ("shidc", "IHC", 0.21, sorted((ki67 / "shidc").glob("*.jpg"))),
        ("deepliif", "IHC", 0.31, sorted((ki67 / "deepliif").glob("*.png"))),
        ("skimage_ihc", "IHC", 0.5, [data / "ihc" / "skimage_ihc.png"]),
        ("necrosis (H&E)", "H&E", 1.0, sorted((data / "necrosis").glob("*.jpg"))),
    ]


def _check(tissue: object, reader: ArrayReader, mpp: float, named: str, source: str) -> tuple[bool, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check = check_named_stains(tissue, get_preset(named), source=source, reader=reader, mpp0=mpp)
    said = any("stains named" in str(w.message) for w in caught)
    guess = "-" if check is None else f"{check['guess']}{'?' if check['ambiguous'] else ''}"
    return said, guess


def main(data: Path) -> None:
    config = AnalysisConfig()
    false = right_total = caught = wrong_total = 0
    by_name: dict[str, list[int]] = {}
    for name, truth, mpp, files in _sets(data):
        for f in files:
            rgb = np.asarray(Image.open(f).convert("RGB"))
            reader = ArrayReader(rgb, mpp=mpp)
            tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
            said_right = []
            for named in RIGHT[truth]:
                said, guess = _check(tissue, reader, mpp, named, f.name)
                said_right.append(named) if said else None
                false += said
                right_total += 1
            said_wrong = []
            for named in WRONG[truth]:
                said, _ = _check(tissue, reader, mpp, named, f.name)
                said_wrong.append(named) if said else None
                caught += said
                wrong_total += 1
                by_name.setdefault(f"{truth} named {named}", [0, 0])
                by_name[f"{truth} named {named}"][0] += said
                by_name[f"{truth} named {named}"][1] += 1
            print(f"{name:15s} {f.name:24s} truth {truth:4s} guess {guess:15s} false warnings {said_right} "
                  f"warned on wrong names {said_wrong}", flush=True)
    print(f"named right: false warnings {false} of {right_total}; named wrong: warned {caught} of {wrong_total}")
    for k, (n, m) in by_name.items():
        print(f"  {k}: warned {n} of {m}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "shared" / "data")
