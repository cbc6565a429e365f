"""Rewrite the decision rule of a fitted nucleus (cell) model, without refitting (session 36, the Ki67 ``keep`` stage).

The rule in ``settings["decision"]`` acts only on the forest's class probabilities
(:func:`mmnst_path.classify.cells.types_from_proba`), so a model that differs from a fitted one only in it reuses
the forest. ``--tumour-min-probability``: a nucleus is tumour unless P(tumour) is below it (kept from ``src`` when
left out); ``--lymphocyte-min-probability`` (and ``--lymphocyte-tumour-below``): a nucleus with P(lymphocyte) at
least the first and P(tumour) below the second is a lymphocyte (off when left out). The card's ``version`` and ``decision`` are rewritten (and ``--note`` appended to
its ``training_recipe``), so the new file has its own model id.

    .venv/bin/python scripts/set_nucleus_decision.py IN.mmnst OUT.mmnst --version 1.3.0 \
        [--tumour-min-probability P] [--lymphocyte-min-probability P [--lymphocyte-tumour-below P]] [--note TEXT]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from mmnst_path.classify import load_model
from mmnst_path.classify.cells import lymphocyte_rule, tumour_min_probability
from mmnst_path.errors import ConfigError


def decision_text(t_min: float | None, rule: tuple[float, float] | None) -> str:
    """The card's one-line statement of the rule."""
    text = ("the most probable class" if t_min is None else
            f"a nucleus is tumour unless P(tumour) < {t_min:g}; then the more probable of lymphocyte / stromal")
    if rule is not None:
        text += (f"; a nucleus with P(lymphocyte) >= {rule[0]:g} and P(tumour) < {rule[1]:g} is a lymphocyte "
                 "(left out of the index)")
    return text


def set_decision(src: Path, out: Path, *, version: str, tumour_min: float | None = None,
                 lymphocyte_min: float | None = None, lymphocyte_tumour_below: float | None = None,
                 note: str = "") -> Path:
    """Write ``src`` with the given decision rule and card ``version`` to ``out``; returns ``out``."""
    model = load_model(src, kind="nucleus")
    decision = dict(model.settings.get("decision", {}))
    if tumour_min is not None:
        decision["tumour_min_probability"] = float(tumour_min)
    decision.pop("lymphocyte_min_probability", None)
    decision.pop("lymphocyte_tumour_below", None)
    if lymphocyte_min is not None:
        decision["lymphocyte_min_probability"] = float(lymphocyte_min)
    if lymphocyte_tumour_below is not None:
        decision["lymphocyte_tumour_below"] = float(lymphocyte_tumour_below)
    new = replace(model, settings={**model.settings, "decision": decision})
    # the rule is checked (range, a lymphocyte class) before anything is written
    t_min, rule = tumour_min_probability(new), lymphocyte_rule(new)
    card = dict(model.card)
    card["version"] = version
    card["decision"] = decision_text(t_min, rule)
    if note:
        card["training_recipe"] = f"{card.get('training_recipe', '')}; {note}"
    new = replace(new, card=card)
    return new.save(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="a fitted nucleus model (.mmnst)")
    ap.add_argument("out", type=Path, help="where to write the model with the new rule")
    ap.add_argument("--version", required=True, help="the new model's card version")
    ap.add_argument("--tumour-min-probability", type=float, default=None, metavar="P",
                    help="tumour unless P(tumour) < P (default: kept from SRC)")
    ap.add_argument("--lymphocyte-min-probability", type=float, default=None, metavar="P",
                    help="a lymphocyte whenever P(lymphocyte) >= P (default: off)")
    ap.add_argument("--lymphocyte-tumour-below", type=float, default=None, metavar="P",
                    help="... and P(tumour) < P (default: any; needs --lymphocyte-min-probability)")
    ap.add_argument("--note", default="", help="text appended to the card's training_recipe")
    args = ap.parse_args(argv)
    try:
        path = set_decision(args.src, args.out, version=args.version, tumour_min=args.tumour_min_probability,
                            lymphocyte_min=args.lymphocyte_min_probability,
                            lymphocyte_tumour_below=args.lymphocyte_tumour_below, note=args.note)
    except ConfigError as exc:
        print(f"set_nucleus_decision: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
