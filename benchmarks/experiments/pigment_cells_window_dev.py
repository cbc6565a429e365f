"""Dev figures of the pigment-cell model kept off speck-only tissue by a window's mask evidence (session 34 H4, #14).

Session 33 (H1, H11) found that the pigment-cell model (``Ki67Params.pigment_cell_model``) fixes pigmented negatives
read positive but takes positivity from true positives of pigment-free tissue where the pigment mask marks a few
false specks; guards on each nucleus's own ring lost the gain. This reads the guard from a large window instead: the
share of the square of half-side ``pigment_prior_radius_um`` (150 µm) around each nucleus that is in the pigment
mask (the pigment prior's window, :func:`mmnst_path.quantify._ki67_pigment._local_pigment_share`): real melanin
covers percents of it, specks a few thousandths.

A configuration is ``LABEL:MODEL:FRACTION:SCOPE``: ``MODEL`` ``none`` / ``default`` / a ``.mmnst`` path;
``FRACTION`` the least share; ``SCOPE`` ``all`` (``Ki67Params.pigment_prior_fraction``: the near-black prior and
the model), ``model`` (the prior kept at its default, the model only where the share reaches ``FRACTION``) or
``out`` (the prior read from the mask outside every detected nucleus); ``model`` and ``out`` are set by wrapping
the module functions, for this measurement only. The dev tiles are those of ``pigment_cells_guard_dev.py``
(``ki67_pigment_tile`` 40-59; the saturated / EndoNuke-dark pigment-free proxies 7000-7007; with ``--families`` the
DAB families 40-43, plain and ``wide``); with ``--specks`` pigment-free tiles with DAB granules or meshwork beside
their positives (:func:`speck_tiles`). Each line prints the tile's errors and the largest window share of its
nuclei (all mask / outside nuclei); the end a table of mean / max |error| per set. Session 34's choice
(0.02, ``all``): /work/notes/s34/h4_report.md.

    PYTHONPATH=. python benchmarks/experiments/pigment_cells_window_dev.py --only k512 --json /tmp/dev.json \
        off:none:0.002:all C:default:0.002:all A2:default:0.02:all
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]


def speck_tiles() -> Iterator[tuple[str, int, np.ndarray, float, float]]:
    """(set, seed, rgb, mpp, true Ki67 index %) of pigment-free DAB tiles (the ``none`` family, ordinary positives,
    seeds 7000-7007, 512 px, plain and ``wide``) with brown DAB specks beside their positives that the pigment mask
    may take for melanin: ``gran_*`` granular cytoplasm, ``mesh_*`` meshwork cytoplasm
    (:mod:`mmnst_path._synthetic_pigment`; the truth is unchanged, the specks are DAB)."""
    from mmnst_path._synthetic_pigment import granular_cytoplasm_of, meshwork_cytoplasm_of
    from mmnst_path.synthetic import pigment_family_tile

    for app in ("plain", "wide"):
        for seed in range(7000, 7008):
            t = pigment_family_tile(seed, "none", chromogen="dab", size=512, appearance=None if app == "plain" else app)
            truth = float(t.truth["ki67_index_pct"])
            yield f"gran_{app}", seed, granular_cytoplasm_of(t, seed)[0], t.mpp, truth
            yield f"mesh_{app}", seed, meshwork_cytoplasm_of(t, seed)[0], t.mpp, truth


def parse_config(text: str) -> tuple[str, str, float, str]:
    """``LABEL:MODEL:FRACTION:SCOPE`` -> (label, model, fraction, scope)."""
    label, model, frac, scope = text.split(":")
    if scope not in ("all", "model", "out"):
        raise SystemExit(f"scope must be 'all', 'model' or 'out', got {scope!r}")
    return label, model, float(frac), scope


class _ModelOnly:
    """Wraps ``ki67._prior_holds`` / ``ki67._apply_pigment_cells`` so that the model reads only the nuclei whose
    window share reaches ``fraction`` (None: unchanged)."""

    def __init__(self) -> None:
        import mmnst_path.quantify.ki67 as k

        self.k, self.fraction, self.share = k, None, None
        self.outside: float | None = None
        self.stats: list[float] = []
        self._prior, self._apply = k._prior_holds, k._apply_pigment_cells
        k._prior_holds, k._apply_pigment_cells = self.prior, self.apply

    def prior(self, params: Any, mask: np.ndarray, nuclei: Any, *, mpp: float, always: bool,
              origin: tuple[int, int]) -> Any:
        from mmnst_path.quantify._ki67_pigment import _local_pigment_share

        radius = max(0, round(params.pigment_prior_radius_um / mpp))
        self.share = _local_pigment_share(mask, nuclei.row, nuclei.col, radius_px=radius, origin=origin)
        out = _local_pigment_share(mask & (nuclei.labels == 0), nuclei.row, nuclei.col, radius_px=radius,
                                   origin=origin)
        self.stats = [float(np.max(self.share, initial=0)), float(np.max(out, initial=0))]
        if self.outside is not None and not always:
            held = out >= self.outside
            return held if held.any() else None
        return self._prior(params, mask, nuclei, mpp=mpp, always=always, origin=origin)


    def apply(self, cells: Any, model: Any, rows: np.ndarray, prior: np.ndarray, params: Any) -> Any:
        if self.fraction is not None and self.share is not None:
            prior = np.asarray(prior, bool) & (self.share >= self.fraction)
        return self._apply(cells, model, rows, prior, params)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", help="LABEL:MODEL:FRACTION:SCOPE")
    ap.add_argument("--families", action="store_true", help="the DAB pigment families instead of the other sets")
    ap.add_argument("--specks", action="store_true",
                    help="the brown-speck proxies (speck_tiles) instead of the other sets")
    ap.add_argument("--only", default="", help="comma-separated set names to read (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many tiles of each set (0: all)")
    ap.add_argument("--json", type=Path, default=None, help="per tile: [set, seed, measured %%, truth %%] per label")
    args = ap.parse_args()

    from pigment_cells_guard_dev import dev_tiles

    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    wrap = _ModelOnly()
    only = {s for s in args.only.split(",") if s}
    configs = [parse_config(c) for c in args.configs]
    out: dict[str, list[list]] = {}
    tiles = speck_tiles() if args.specks else dev_tiles(args.families)
    for name, seed, rgb, mpp, truth in tiles:
        if only and name not in only:
            continue
        if args.limit and sum(r[0] == name for r in out.get(configs[0][0], [])) >= args.limit:
            continue
        for label, model, frac, scope in configs:
            ki67: dict[str, Any] = {"pigment_cell_model": model}
            if scope == "all":
                ki67["pigment_prior_fraction"] = frac
            wrap.fraction = frac if scope == "model" else None
            wrap.outside = frac if scope == "out" else None
            wrap.stats = []
            cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67", "melanin"], "ki67": ki67})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = analyze_region(rgb, cfg, mpp=mpp)
            out.setdefault(label, []).append([name, seed, float(res.metrics.get("ki67_index_pct", np.nan)), truth,
                                              float(res.metrics.get("melanin_fraction_pct", np.nan)),
                                              *(wrap.stats or [0.0, 0.0])])
        print(name, seed, " ".join(f"{lab}={rows[-1][2] - rows[-1][3]:+.4f}" for lab, rows in out.items()),
              f"melanin={out[configs[0][0]][-1][4]:.4f} max window share all/outside nuclei "
              f"{out[configs[0][0]][-1][5]:.4f}/{out[configs[0][0]][-1][6]:.4f}", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(out), encoding="utf-8")
    print(summary(out))


def summary(out: dict[str, list[list]]) -> str:
    """A markdown table: per configuration and set, the mean and max |measured - true| Ki67 index (pp)."""
    names = list(dict.fromkeys(r[0] for rows in out.values() for r in rows))
    lines = ["| config | " + " | ".join(f"{n} mean / max" for n in names) + " |", "|---|" + "---|" * len(names)]
    for label, rows in out.items():
        cells = []
        for n in names:
            e = np.abs([r[2] - r[3] for r in rows if r[0] == n])
            cells.append(f"{np.nanmean(e):.4f} / {np.nanmax(e):.4f}" if e.size else "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

if __name__ == "__main__":
    main()
