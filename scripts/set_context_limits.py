"""Rewrite the inference limits of a fitted two-stage (auto-context) tissue model, without refitting (issue #13).

The limits of :class:`mmnst_path.classify.tissue_context.ContextSettings` (``keep_necrosis_p``,
``keep_confident_p``, ``band_um``, ``necrosis_only``, ``band_min_width_um``) act only when the two stages' probabilities are
combined, so a candidate that differs from a fitted model only in them reuses its second forest (session 27
H1). The flags given set the limits exactly (a flag left out is off); the scales ``sigmas_um`` and both
forests are kept. The card's ``version`` and ``auto_context.settings`` are rewritten, so the new file has its
own model id.

    .venv/bin/python scripts/set_context_limits.py IN.mmnst OUT.mmnst --version 1.2.0-cand.x \
        [--keep-necrosis P] [--keep-confident P] [--band-um B] [--band-min-width W] [--necrosis-only]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from mmnst_path.classify import load_model
from mmnst_path.classify.tissue_context import ContextSettings
from mmnst_path.errors import ConfigError


def set_limits(src: Path, out: Path, *, version: str, keep_necrosis_p: float = 0.0, keep_confident_p: float = 0.0,
               band_um: float = 0.0, necrosis_only: bool = False, band_min_width_um: float = 0.0) -> Path:
    """Write ``src`` with the given limits (the others off) and card ``version`` to ``out``; returns ``out``."""
    model = load_model(src, kind="tissue")
    if model.context is None:
        msg = f"{src}: a one-stage tissue model has no auto-context limits to set"
        raise ConfigError(msg)
    old = ContextSettings.from_mapping(model.context.settings)
    settings = ContextSettings(old.sigmas_um, keep_necrosis_p, keep_confident_p, band_um, necrosis_only,
                               band_min_width_um).to_mapping()
    card = dict(model.card)
    card["version"] = version
    card["auto_context"] = {**dict(card.get("auto_context", {})), "settings": settings}
    return replace(model, context=replace(model.context, settings=settings), card=card).save(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="a fitted two-stage tissue model (.mmnst)")
    ap.add_argument("out", type=Path, help="where to write the model with the new limits")
    ap.add_argument("--version", required=True, help="the new model's card version")
    ap.add_argument("--keep-necrosis", type=float, default=0.0, metavar="P", help="keep_necrosis_p (0 = off)")
    ap.add_argument("--keep-confident", type=float, default=0.0, metavar="P", help="keep_confident_p (0 = off)")
    ap.add_argument("--band-um", type=float, default=0.0, metavar="B", help="band_um (0 = off)")
    ap.add_argument("--band-min-width", type=float, default=0.0, metavar="W",
                    help="band_min_width_um (0 = off; needs --band-um): only first-stage necrosis this wide seeds the band")
    ap.add_argument("--necrosis-only", action="store_true", help="the second stage decides only necrosis")
    args = ap.parse_args(argv)
    try:
        path = set_limits(args.src, args.out, version=args.version, keep_necrosis_p=args.keep_necrosis,
                          keep_confident_p=args.keep_confident, band_um=args.band_um, necrosis_only=args.necrosis_only,
                          band_min_width_um=args.band_min_width)
    except ConfigError as exc:
        print(f"set_context_limits: {exc}", file=sys.stderr)
        return 2
    model = load_model(path, kind="tissue")
    assert model.context is not None
    print(f"wrote {path}: {model.card['version']} {model.model_id}, limits {model.context.settings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
