"""Session 39 H6 (#13 speed): the card of the retrained default H&E tissue model (features on a 2 µm micro grid).

``scripts/train_tissue_model.py --brca --tissue-tiles --trees 32 --depth 14 --osteo-rows 12 --micro-um 2 --out NEW
--version 1.2.0`` writes the card of the recipe (training data and licences, counts, validation); this adds what
1.1.0's card carried by hand (the known faults, the earlier evaluation kept as ``model_1_1_0``), the training
command, why the grids changed and, with ``--evaluation JSON``, the rule's figures, and saves the model to ``OUT``.

    python benchmarks/experiments/tissue_card_s39.py NEW OUT [--evaluation JSON]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

OLD = Path(__file__).resolve().parents[2] / "mmnst_path" / "models" / "tissue_default.mmnst"


def main() -> None:
    from mmnst_path.classify import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("new", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--old", type=Path, default=OLD, help="the model whose hand-written card entries are carried")
    ap.add_argument("--evaluation", type=Path, default=None, help="JSON of the rule's figures (card['evaluation'])")
    args = ap.parse_args()
    old = load_model(args.old, kind="tissue")
    new = load_model(args.new, kind="tissue")
    if new.settings["features"].get("micro_um") != 2.0:
        raise SystemExit(f"{args.new}: expected features on the 2 µm micro grid, got {new.settings['features']}")
    card = dict(new.card)
    card["training_command"] = ("scripts/train_tissue_model.py --brca --tissue-tiles --trees 32 --depth 14 "
                                "--osteo-rows 12 --micro-um 2")
    card["features_note"] = (
        "1.2.0: 1.1.0's 36 features and training recipe, with the micro grid (structure tensors of H and E, the "
        "micro-grid variation of H and E) at 2 µm instead of 1 µm, i.e. on the 2 µm fine grid itself; about 1.4 s "
        "of the 4.5 s the features cost on TCGA @1 µm/px (#13, session 39 H6). The halo is unchanged.")
    card["limitations"] = old.card["limitations"]
    evaluation = json.loads(args.evaluation.read_text()) if args.evaluation else {}
    evaluation["model_1_1_0"] = old.card.get("evaluation", {})
    card["evaluation"] = evaluation
    replace(new, card=card).save(args.out)
    print(f"wrote {args.out} ({load_model(args.out, kind='tissue').model_id})")


if __name__ == "__main__":
    main()
