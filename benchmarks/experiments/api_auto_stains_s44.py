"""Session 44 H6 gates (rule: api_auto_stains_rule_s44.md): the Python API's default stains against the CLI's, and
explicit ``stains="H-DAB"`` against START_HEAD.

    # gate 1 (on the branch): CLI default and API default on each input, compared
    PYTHONPATH=. python benchmarks/experiments/api_auto_stains_s44.py cli OUT/cli
    PYTHONPATH=. python benchmarks/experiments/api_auto_stains_s44.py api-default OUT/api_default.json
    python benchmarks/experiments/api_auto_stains_s44.py compare-cli OUT/cli OUT/api_default.json
    # gate 2 (run once with PYTHONPATH at the branch, once at a START_HEAD worktree)
    PYTHONPATH=. python benchmarks/experiments/api_auto_stains_s44.py api-hdab OUT/hdab_branch.json
    python benchmarks/experiments/api_auto_stains_s44.py compare OUT/hdab_head.json OUT/hdab_branch.json

Each input runs with one worker (``--workers 1`` / ``workers=1``); the inputs are fixed in the rule.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
DATA = HERE.parent / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
SAMPLES = Path("/work/wt_h6/sample_tiles")  # the same tiles for both trees (START_HEAD's are identical)

#: (input, µm/px or None: the file's own)
INPUTS: list[tuple[Path, float | None]] = [
    *[(p, None) for p in sorted(SAMPLES.glob("*.tif"))],
    (DATA / "wsi" / "CMU-1-Small-Region.svs", None),
    (DATA / "necrosis" / "Non-Viable-Tumor___Case-3-A12-16067-9053_104.jpg", 1.0),
    (DATA / "necrosis" / "Viable___Case-4-C21-25306-21689_120.jpg", 1.0),
    (DATA / "necrosis" / "Non-Tumor___Case-3-A15-2939-11262_112.jpg", 1.0),
    (DATA / "necrosis" / "Viable___Case-4-C22-39386-26786_108.jpg", 1.0),
    (DATA / "ki67" / "bcdata" / "0.png", 0.25),
    (DATA / "ki67" / "bcdata" / "1.png", 0.25),
    (DATA / "ki67" / "shidc" / "p1_0300_2.jpg", 0.21),
    (DATA / "ki67" / "deepliif" / "22_2.png", 0.31),
    (DATA / "ihc" / "skimage_ihc.png", 0.5),
]
SKIP = {"seconds"}  # the run's time


def _row(row: dict) -> dict:
    from mmnst_path.report import json_ready

    return {k: v for k, v in json_ready(row).items() if k not in SKIP}


def _cells_digest(cells) -> dict[str, str]:
    import numpy as np

    out = {}
    for name, arr in (("row", cells.row), ("col", cells.col), ("cls", cells.cls), *sorted(cells.columns.items())):
        a = np.ascontiguousarray(arr)
        out[name] = f"{a.dtype.str}:{hashlib.sha256(a.tobytes()).hexdigest()}"
    return out


def run_api(out: Path, config_kind: str) -> None:
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide
    from mmnst_path.report import json_ready, summary_row

    docs = {}
    for path, mpp in INPUTS:
        config = None if config_kind == "default" else AnalysisConfig(stains="H-DAB")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze_slide(str(path), config, mpp=mpp, workers=1)
        docs[path.name] = {"row": _row(summary_row(res)), "cells": _cells_digest(res.cells),
                           "stains": json_ready(res.stains), "warnings": list(res.warnings)}
        print(path.name, docs[path.name]["row"].get("stains"), flush=True)
    out.write_text(json.dumps(docs, indent=1, sort_keys=True))


def run_cli(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).with_name("mmnst-path"))
    for path, mpp in INPUTS:
        d = out / path.stem
        cmd = [exe, "quantify", str(path), "--out", str(d), "--workers", "1", "--quiet", "--overwrite"]
        if mpp is not None:
            cmd += ["--mpp", str(mpp)]
        subprocess.run(cmd, check=True)
        print(path.name, flush=True)


def compare_cli(cli_dir: Path, api_json: Path) -> int:
    api = json.loads(api_json.read_text())
    bad = 0
    for path, _mpp in INPUTS:
        d = cli_dir / path.stem
        summary = json.loads((d / "summary.json").read_text())
        (cli_row,) = summary["rows"]
        (result_json,) = list(d.glob("*/result.json"))
        doc = json.loads(result_json.read_text())
        a = api[path.name]
        keys = sorted(set(a["row"]) - SKIP)
        missing = [k for k in keys if k not in cli_row]
        diff = [k for k in keys if k in cli_row and json.dumps(a["row"][k], sort_keys=True)
                != json.dumps(cli_row[k], sort_keys=True)]
        same_stains = (doc["stains"]["name"] == a["stains"]["name"]
                       and (doc["stains"].get("detection") or {}).get("reason")
                       == (a["stains"].get("detection") or {}).get("reason"))
        ok = not missing and not diff and same_stains
        bad += not ok
        print(f"{'OK  ' if ok else 'DIFF'} {path.name}: {len(keys)} keys, stains {a['stains']['name']!r} "
              f"(CLI {doc['stains']['name']!r}), ki67 {a['row'].get('ki67_index_pct')} / {cli_row.get('ki67_index_pct')}"
              f"{'; missing ' + str(missing) if missing else ''}{'; differ ' + str(diff) if diff else ''}")
    print(f"gate 1: {len(INPUTS) - bad} of {len(INPUTS)} identical")
    return bad


#: summary_row's keys a batch fills after the analysis (where the µm/px came from, detected / chosen, the warnings
#: the batch caught): None from ``summary_row`` alone
BATCH_KEYS = {"mpp_source", "stains_source", "warnings"}


def compare_cli_detail(cli_dir: Path, api_json: Path) -> None:
    """After gate 1 (not the gate): the same comparison split by key kind, and against result.json's full row."""
    api = json.loads(api_json.read_text())
    n_ok = n_full = 0
    for path, _mpp in INPUTS:
        d = cli_dir / path.stem
        (cli_row,) = json.loads((d / "summary.json").read_text())["rows"]
        (result_json,) = list(d.glob("*/result.json"))
        full = json.loads(result_json.read_text())["summary_row"]
        a = api[path.name]["row"]
        keys = sorted(set(a) - SKIP - BATCH_KEYS)
        both = [k for k in keys if k in cli_row]
        diff = [k for k in both if json.dumps(a[k], sort_keys=True) != json.dumps(cli_row[k], sort_keys=True)]
        diff_full = [k for k in keys if json.dumps(a[k], sort_keys=True) != json.dumps(full.get(k), sort_keys=True)]
        extra = [w for w in full["warnings"] if w not in api[path.name]["warnings"]]
        n_ok += not diff
        n_full += not diff_full
        print(f"{path.name}: {len(both)} analysis keys in summary.json, {len(diff)} differ {diff or ''}; "
              f"{len(keys)} in result.json's row, {len(diff_full)} differ {diff_full or ''}; "
              f"batch-only warnings {extra}")
    print(f"analysis values: summary.json {n_ok} of {len(INPUTS)}, result.json row {n_full} of {len(INPUTS)} identical")


def compare(head_json: Path, branch_json: Path) -> int:
    head, branch = json.loads(head_json.read_text()), json.loads(branch_json.read_text())
    bad = 0
    for path, _mpp in INPUTS:
        h, b = head[path.name], branch[path.name]
        parts = [k for k in ("row", "cells", "stains", "warnings")
                 if json.dumps(h[k], sort_keys=True) != json.dumps(b[k], sort_keys=True)]
        bad += bool(parts)
        print(f"{'DIFF' if parts else 'OK  '} {path.name}: {len(b['row'])} summary keys, {len(b['cells'])} cell "
              f"columns, stains {b['stains']['name']!r}, ki67 {b['row'].get('ki67_index_pct')}"
              f"{'; differ ' + str(parts) if parts else ''}")
    print(f"gate 2: {len(INPUTS) - bad} of {len(INPUTS)} identical")
    return bad


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "api-default":
        run_api(Path(rest[0]), "default")
    elif mode == "api-hdab":
        run_api(Path(rest[0]), "hdab")
    elif mode == "cli":
        run_cli(Path(rest[0]))
    elif mode == "compare-cli":
        sys.exit(compare_cli(Path(rest[0]), Path(rest[1])))
    elif mode == "compare-cli-detail":
        compare_cli_detail(Path(rest[0]), Path(rest[1]))
    elif mode == "compare":
        sys.exit(compare(Path(rest[0]), Path(rest[1])))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
