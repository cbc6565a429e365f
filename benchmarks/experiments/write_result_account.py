"""Experiment (#16, session 27 H6): the CPU of ``report.write_result`` per output file, on one slide.

The slide is analysed once (1 worker, Ki67 forced, H-DAB, read at the given µm/px) and the result
pickled to ``--cache`` (reused when there); then, in this process, ``write_result`` writes each
output key alone, ``result.json`` alone and all default outputs together, ``--repeats`` times each
after one untimed round (imports, fonts), timed with the process CPU clock. A key's row is its mean
less the mean of ``result.json`` alone (written by every call). "all" formats the cells table once
for cells.csv and cells.csv.gz, so it is less than the sum of the rows.

    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python benchmarks/experiments/write_result_account.py \\
        SLIDE[@MPP] --cache /tmp/slide.pkl [--repeats 4]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
from pathlib import Path

KEYS = ("cells", "cells_gz", "parquet", "geojson", "overlay", "tissue", "nuclei")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("slide", metavar="SLIDE[@MPP]")
    ap.add_argument("--cache", type=Path, required=True, help="pickle of the analysis result (written if absent)")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    from mmnst_path import report
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    if args.cache.is_file():
        with args.cache.open("rb") as fh:
            res = pickle.load(fh)  # a file this script wrote
    else:
        path, _, mpp = args.slide.partition("@")
        res = analyze_slide(path, AnalysisConfig(measures=("ki67",), stains="H-DAB"),
                            mpp=float(mpp) if mpp else None, workers=1)
        with args.cache.open("wb") as fh:
            pickle.dump(res, fh, protocol=5)
    runs: dict[str, list[float]] = {k: [] for k in ("result.json", *KEYS, "all")}
    for r in range(args.repeats + 1):
        for k in runs:
            outputs = () if k == "result.json" else KEYS if k == "all" else (k,)
            with tempfile.TemporaryDirectory() as out:
                c = time.process_time()
                report.write_result(res, out, outputs=outputs)
                c = time.process_time() - c
            if r:
                runs[k].append(c)
    base = statistics.mean(runs["result.json"])
    print(f"{args.slide}: {len(res.cells)} cells, {args.repeats} repeats, CPU s")
    print("| output | mean | min-max | share of all |\n|---|---:|---:|---:|")
    total = statistics.mean(runs["all"])
    for k, v in runs.items():
        m = statistics.mean(v) - (0.0 if k in ("result.json", "all") else base)
        print(f"| {k} | {m:.3f} | {min(v):.3f}-{max(v):.3f} | {100 * m / total:.0f} % |")


if __name__ == "__main__":
    main()
