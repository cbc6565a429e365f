"""Session 43 H13 (H12's finding 1): named IHC stains checked when the thumbnail's guess is a close call.

Rule (fixed before this ran; /work/notes/s43/h13_report.md). Gates in this order (G1 is
``named_stains_check_s43.py`` on the real images: 0 false warnings of 95 on the right names):

* G2: the 8 sample tiles named as ``sample_tiles/truth.json`` says: 0 named-stains warnings;
* G3: ``ki67_mart1_fastred.tif`` named H-DAB and named H-FastRed: 2 of 2 warn;
* cost: CPU seconds (``time.process_time``) of the check on a whole slide (``wsi/CMU-1-Small-Region.svs``, 0.499
  µm/px) named H&E, and named H-DAB-FastRed (which takes the finer look when its thumbnail is not decisive), each
  ``--repeat`` times; run it with the HEAD tree and the branch interleaved (``--label``), an A/A pair of each.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/named_close_call_s43.py TILES_DIR [--slide SVS] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from mmnst_path.io import open_slide
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._stain_check import check_named_stains
from mmnst_path.stain import get_preset
from mmnst_path.tiling import detect_tissue


def _check(path: Path, named: str, mpp: float | None) -> tuple[dict | None, list[str], float]:
    config = AnalysisConfig()
    reader = open_slide(str(path), mpp=mpp)
    mpp0 = float(reader.mpp if mpp is None else mpp)
    tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = time.process_time()
        out = check_named_stains(tissue, get_preset(named), source=path.name, reader=reader, mpp0=mpp0)
        cpu = time.process_time() - t
    return out, [str(w.message) for w in caught if "stains named" in str(w.message)], cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tiles", type=Path)
    ap.add_argument("--slide", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    truth = json.loads((a.tiles / "truth.json").read_text())
    if a.slide is None:
        right = 0
        for name, t in truth.items():
            out, said, _ = _check(a.tiles / name, t["stains"], t["mpp"])
            right += bool(said)
            print(f"G2 {name} named {t['stains']}: {'WARNS' if said else 'silent'}; check {out}")
        print(f"G2 false warnings: {right} of {len(truth)}")
        warned = 0
        for named in ("H-DAB", "H-FastRed"):
            out, said, _ = _check(a.tiles / "ki67_mart1_fastred.tif", named, 0.5)
            warned += bool(said)
            print(f"G3 ki67_mart1_fastred.tif named {named}: {said[0] if said else 'silent'}")
        print(f"G3 warned: {warned} of 2")
        return
    for named in ("H&E", "H-DAB-FastRed"):
        for _ in range(a.repeat):
            out, said, cpu = _check(a.slide, named, None)
            print(f"cost {a.label} {a.slide.name} named {named}: check CPU {cpu:.4f} s; warns {bool(said)}; {out}")


if __name__ == "__main__":
    main()
