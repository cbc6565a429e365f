"""Train the Ki67 / SOX10 double-stain nucleus model (``mmnst_path/models/double_nuclear_marker.mmnst``, #14, s44).

Each index nucleus (``positive`` / ``negative``, not near-black) of a Ki67 double stain with a nuclear marker is
read by :func:`mmnst_path.quantify._ki67_double_model.nucleus_rows` (the rows ``measure_ki67`` computes, captured
where it hands them to the model) and labelled from the generator's truth (the drawn cell whose nucleus holds the
centroid: melanocyte or not, Ki67-positive or not; an unmatched detection is "other"). Tiles:
:func:`mmnst_path.synthetic_double.double_stain_tile`, marker ``nuclear``, Fast Red and AEC, training seeds
14500-14599 (session 44: dev seeds 14600-14649, gate seeds 14650-14657; the older evaluation seeds 1000-1011,
2000-2009, 11400-11407 and 42200-42209 are outside), each tile's generator ranges drawn wider than the defaults
from the seed (stain-vector rotation 0.5-6°, melanocyte fraction, Ki67 fractions, pigmented melanocytes 0-45 %,
JPEG 60-98 or none, tile side 320-512 px). Generated data only: never the research-only Ki67 sets.

    PYTHONPATH=. .venv/bin/python scripts/train_double_marker_model.py --rows /tmp/double_rows.npz \\
        --out mmnst_path/models/double_nuclear_marker.mmnst

``--dev`` writes the rows of the dev seeds with HEAD's calls (before the model) instead, for design.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import mmnst_path.quantify._ki67_double_model as dm
from mmnst_path.classify.train import train_model
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic_double import double_stain_tile, match_cells

FIRST_SEED, SEEDS = 14500, 100
DEV_FIRST_SEED = 14600
GATE_SEEDS = range(14650, 14658)
PRESET = {"fast_red": "H-DAB-FastRed", "aec": "H-DAB-AEC"}


def tile_kw(seed: int, wide: bool) -> dict[str, Any]:
    """The generator's keywords of a training tile (wide ranges drawn from the seed) or {} (defaults)."""
    if not wide:
        return {}
    rng = np.random.default_rng(seed + 777)
    lo = rng.uniform(0.1, 0.5)
    mk = rng.uniform(0.0, 0.4)
    return {
        "size": int(rng.choice([320, 384, 448, 512])),
        "angle_deg": (0.5, float(rng.uniform(2.0, 6.0))),
        "melanocyte_fraction": (lo, lo + rng.uniform(0.1, 0.45)),
        "melanocyte_ki67": (mk, mk + rng.uniform(0.1, 0.45)),
        "stroma_ki67": (0.0, float(rng.uniform(0.02, 0.3))),
        "pigmented_melanocytes": (0.0, float(rng.uniform(0.05, 0.45))),
        "jpeg_quality": None if rng.random() < 0.2 else (60, 98),
    }


def tile_rows(seed: int, chromogen: str, *, wide: bool) -> dict[str, np.ndarray]:
    """Feature rows, labels (-1 unmatched) and HEAD's calls of one generated tile's index nuclei."""
    kw = tile_kw(seed, wide)
    tile = double_stain_tile(seed, marker="nuclear", chromogen=chromogen, **kw)
    got: list[tuple[Any, np.ndarray]] = []
    real = dm.apply_double_model

    def capture(cells: Any, rows: np.ndarray, model: Any, **k: Any) -> Any:
        got.append((cells, rows))
        return real(cells, rows, model, **k) if model is not None else cells

    dm.apply_double_model = capture  # type: ignore[assignment]
    resolve = dm.resolve_double_model
    dm.resolve_double_model = lambda name="default": None  # type: ignore[assignment,misc,return-value]
    try:
        cfg = AnalysisConfig.from_mapping({"stains": PRESET[chromogen], "measures": ["ki67"],
                                           "ki67": {"melanocyte_marker": "nuclear"}})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
    finally:
        dm.apply_double_model = real  # type: ignore[assignment]
        dm.resolve_double_model = resolve  # type: ignore[assignment]
    cells, rows = got[0] if len(got) == 1 else (None, None)
    if cells is None:
        raise SystemExit(f"seed {seed} {chromogen}: {len(got)} Ki67 calls captured (expected 1)")
    final = res.cells  # the output's nuclei (after the cell model): the same nuclei, in the tile's frame
    shift = np.asarray(cells.row) - np.asarray(final.row) if len(final) == len(cells) else np.ones(1)
    if len(final) != len(cells) or np.ptp(shift) > 1e-6 or np.ptp(np.asarray(cells.col) - final.col) > 1e-6:
        raise SystemExit(f"seed {seed} {chromogen}: output nuclei are not the captured ones")
    idx = match_cells(tile, final.row, final.col)
    ok = idx >= 0
    y = np.full(len(cells), -1, np.int64)
    y[ok] = (2 * tile.cells[idx[ok], 3] + tile.cells[idx[ok], 4]).astype(np.int64)
    read = np.isin(cells.cls, ("positive", "negative")) & ~np.asarray(cells.near_black, bool)
    fin_cls = np.asarray(final.cls).astype(np.int64)
    n = len(cells)
    return {"x": rows, "y": y, "read": read, "head_pos": cells.cls == "positive",
            "head_mel": np.asarray(cells.melanocytic, bool), "final_cls": fin_cls,
            "cls": cells.cls.astype("<U10"), "tile": np.full(n, seed), "chrom": np.full(n, chromogen == "aec"),
            "truth_mel_index": np.full(n, tile.truth["melanocytic_index_pct"]),
            "truth_index": np.full(n, tile.truth["ki67_index_pct"]),
            "head_mel_index": np.full(n, res.metrics["ki67_melanocytic_index_pct"]),
            "head_index": np.full(n, res.metrics["ki67_index_pct"])}


def collect(seeds: range, *, wide: bool, parts_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Rows of ``seeds`` x both chromogens; ``parts_dir``: each tile's rows cached there (read if present)."""
    parts: list[dict[str, np.ndarray]] = []
    for seed in seeds:
        if seed in GATE_SEEDS:
            raise SystemExit(f"seed {seed} is a gate seed")
        for chromogen in ("fast_red", "aec"):
            t0 = time.perf_counter()
            part = None if parts_dir is None else parts_dir / f"{seed}_{chromogen}_{'wide' if wide else 'default'}.npz"
            if part is not None and part.is_file():
                with np.load(part, allow_pickle=False) as z:
                    parts.append({k: z[k] for k in z.files})
                continue
            parts.append(tile_rows(seed, chromogen, wide=wide))
            if part is not None:
                np.savez_compressed(part, **parts[-1])
            print(f"seed {seed} {chromogen}: {len(parts[-1]['y'])} nuclei, {time.perf_counter() - t0:.1f} s",
                  flush=True)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=FIRST_SEED)
    ap.add_argument("--seeds", type=int, default=SEEDS)
    ap.add_argument("--dev-first", type=int, default=DEV_FIRST_SEED)
    ap.add_argument("--dev", type=int, default=0, help=f"write the rows of this many dev seeds {DEV_FIRST_SEED}.. "
                                                       "(default generator ranges) to --rows and stop")
    ap.add_argument("--rows", type=Path, default=None, help="row cache (.npz): read if it exists, else written")
    ap.add_argument("--validation-rows", type=Path, default=None, help="dev row cache to report held-out figures on")
    ap.add_argument("--parts", type=Path, default=None, help="folder caching each tile's rows (resumable collection)")
    ap.add_argument("--trees", type=int, default=80)
    ap.add_argument("--random-state", type=int, default=0)
    ap.add_argument("--version", default="1")
    ap.add_argument("--dev-figures", default="", help="dev figures of the shipped use, for the card")
    ap.add_argument("--out", type=Path, default=Path("mmnst_path/models/double_nuclear_marker.mmnst"))
    args = ap.parse_args()
    if args.dev:
        data = collect(range(args.dev_first, args.dev_first + args.dev), wide=False)
        np.savez_compressed(args.rows, **data)
        return
    if args.rows is not None and args.rows.is_file():
        with np.load(args.rows, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    else:
        data = collect(range(args.first_seed, args.first_seed + args.seeds), wide=True, parts_dir=args.parts)
        if args.rows is not None:
            np.savez_compressed(args.rows, **data)
    keep = data["read"]  # an unmatched detection (no drawn nucleus holds its centroid) is "other"
    x, y = data["x"][keep], np.where(data["y"][keep] >= 0, data["y"][keep], 4)
    validation = None
    if args.validation_rows is not None:
        with np.load(args.validation_rows, allow_pickle=False) as z:
            vk = z["read"]
            validation = (z["x"][vk], np.where(z["y"][vk] >= 0, z["y"][vk], 4))
    last = args.first_seed + args.seeds - 1
    card = {
        "name": "mmnst_path double-stain nucleus model (Ki67 / SOX10: stromal or melanocytic, Ki67 negative or "
                "positive)",
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": ("reads each index nucleus (positive / negative, not near-black) of a Ki67 (DAB) double "
                         "stain with a nuclear melanocyte marker (SOX10; Fast Red or AEC, presets H-DAB-FastRed / "
                         "H-DAB-AEC) as one of four classes; measure_ki67 takes its Ki67 call and its marker call; "
                         "0.5 µm/px; not used with a cytoplasmic marker (MART-1) nor with single stains"),
        "training_data": [
            {"dataset": "generated (mmnst_path.synthetic_double.double_stain_tile)", "licence": "same as mmnst_path",
             "use": (f"seeds {args.first_seed}-{last}, marker nuclear, Fast Red and AEC, generator ranges drawn "
                     "wider than the defaults per seed (scripts/train_double_marker_model.py tile_kw); labels from "
                     "the drawn cell holding each detected centroid, 'other' where none does")},
        ],
        "validation_data": ("generated dev seeds 14600.. (default generator ranges, both chromogens)"
                            if validation is not None else "none"),
        "not_trained_on": ("the research-only Ki67 sets of ../shared/data, the dev seeds 14600-14649 and the gate "
                           "seeds 14650-14657"),
        "script": "scripts/train_double_marker_model.py",
    }
    if args.dev_figures:
        card["limitations"] = args.dev_figures
    settings = dict(dm.SETTINGS, task=dm.MODEL_TASK)
    model = train_model(x, y, kind="nucleus", classes=dm.CLASSES, features=dm.FEATURES, settings=settings,
                        card=card, validation=validation, n_estimators=args.trees, max_depth=16,
                        min_samples_leaf=3, class_weight=None, random_state=args.random_state)
    path = model.save(args.out)
    print(f"rows {len(y)} per class {np.bincount(y, minlength=5).tolist()}; saved {path} ({model.model_id}); "
          f"held-out {model.card.get('validation', {}).get('held_out')}; top {model.card['top_features']}")


if __name__ == "__main__":
    main()
